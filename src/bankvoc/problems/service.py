"""The problem library (投诉问题库): root causes traced at closure, problems and their cases,
the problems a new case resembles, recurring problems, and telling customers about a fix.
Never commits.

Tracing causes and fixing them (溯源整改) is what the regulator's consumer-protection
evaluation asks of complaint handling (NFRA complaint measures, 2020 No. 3, art. 8 ff.: banks
analyse complaints, find their causes and improve products, services and processes; see
../shared/reference/regulation.md). Problems are the bank's one library; the cases linked to
them, and every count of them, are read through the actor's org scope.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bankvoc.cases import retention
from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseKind, CaseStatus
from bankvoc.cases.events import append_event
from bankvoc.cases.models import Case
from bankvoc.cases.workflow import telling
from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import Customer
from bankvoc.nlp import pii
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.nlp.tokens import STOP_WORDS, chinese_words
from bankvoc.notify import service as notify
from bankvoc.notify.models import Notification
from bankvoc.notify.service import Outgoing, Recipient
from bankvoc.orgs.models import User
from bankvoc.orgs.service import Actor
from bankvoc.problems.enums import CauseCategory, ProblemStatus
from bankvoc.problems.models import CaseProblem, Problem, RootCause
from bankvoc.problems.schemas import ProblemCreate, ProblemUpdate, RootCauseIn

FIVE_W_ONE_H = ("what", "why", "where", "when", "who", "how")
# Statuses of a case whose handling is over: its cause should be traced.
FINISHED = (CaseStatus.resolved.value, CaseStatus.closed.value, CaseStatus.archived.value)
# Which status may follow which (a fixed problem that comes back is open again).
NEXT_STATUS: dict[ProblemStatus, frozenset[ProblemStatus]] = {
    ProblemStatus.open: frozenset({ProblemStatus.fixing, ProblemStatus.fixed,
                                   ProblemStatus.closed}),
    ProblemStatus.fixing: frozenset({ProblemStatus.open, ProblemStatus.fixed,
                                     ProblemStatus.closed}),
    ProblemStatus.fixed: frozenset({ProblemStatus.open, ProblemStatus.fixing,
                                    ProblemStatus.closed}),
    ProblemStatus.closed: frozenset({ProblemStatus.open}),
}


def _clean(text: str) -> str:
    return pii.mask_text(text) if text else text


# --- root causes --------------------------------------------------------------------------------

def record_root_cause(session: Session, *, actor: Actor, case: Case, data: RootCauseIn,
                      now: datetime | None = None) -> RootCause:
    """Record (or replace) the root cause of `case`, which the caller loaded through the
    actor's scope; the texts are kept masked and the step is appended to the case's
    hash-chained timeline, so who traced what cause when stays on its audit trail."""
    actor.require("case.work")
    if retention.is_anonymised(case):
        raise Conflict(f"case {case.reference} was anonymised at the end of its keeping period",
                       field="case")
    now = now or utcnow()
    texts = {name: _clean(getattr(data, name)) for name in FIVE_W_ONE_H}
    cause = session.scalar(select(RootCause).where(RootCause.case_id == case.id))
    replaced = cause is not None
    if cause is None:
        cause = RootCause(case_id=case.id)
        session.add(cause)
    cause.category = CauseCategory(data.category).value
    for name, value in texts.items():
        setattr(cause, name, value)
    cause.recorded_by, cause.recorded_at = actor.user_id, now
    session.flush()
    append_event(session, case=case, type="root_cause", actor_user_id=actor.user_id,
                 data={"category": cause.category, "replaced": replaced,
                       **{name: value for name, value in texts.items() if value}}, at=now)
    return cause


def has_root_cause(session: Session, *, case_id: int) -> bool:
    return session.scalar(select(RootCause.id).where(RootCause.case_id == case_id)) is not None


def forget_cases(session: Session, *, case_ids: Sequence[int]) -> int:
    """The retention purge of cases whose keeping period is over (cases/retention.py): the
    texts of their root causes (the 5W1H) are emptied, their cause category stays for the
    statistics (and a traced case does not become an untraced one); their links to the
    library's problems are removed. Returns how many rows were changed or removed."""
    if not case_ids:
        return 0
    ids = list(case_ids)
    changed = 0
    for stmt in (
        update(RootCause).where(RootCause.case_id.in_(ids))
        .values(**dict.fromkeys(FIVE_W_ONE_H, "")),
        delete(CaseProblem).where(CaseProblem.case_id.in_(ids)),
    ):
        result = cast(CursorResult[Any], session.execute(
            stmt.execution_options(synchronize_session=False)))
        changed += result.rowcount
    return changed


def get_root_cause(session: Session, *, actor: Actor, reference: str
                   ) -> tuple[RootCause | None, Case]:
    """The case's root cause, None while nobody has traced it (the case is found all the
    same: 404 is kept for a case the actor may not see)."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    return session.scalar(select(RootCause).where(RootCause.case_id == case.id)), case


def untraced(session: Session, *, actor: Actor, since: datetime | None = None,
             limit: int = 200) -> list[Case]:
    """Complaints of the actor's scope whose handling is over but whose cause nobody traced:
    the gap the workflow flags when a complaint is resolved without a root cause (the
    `root_cause` policy of workflow.yaml), oldest resolution first."""
    actor.require("case.read")
    stmt = (select(Case).outerjoin(RootCause, RootCause.case_id == Case.id)
            .where(cases_service.visible(actor), RootCause.id.is_(None),
                   Case.kind == CaseKind.complaint.value, Case.status.in_(FINISHED)))
    if since is not None:
        stmt = stmt.where(Case.resolved_at >= since)
    return list(session.scalars(stmt.order_by(Case.resolved_at, Case.id).limit(limit)))


# --- the library --------------------------------------------------------------------------------

def _check_taxonomy(product: str | None, category: str | None) -> None:
    taxonomy = load_taxonomy()
    if product is not None and taxonomy.product(product) is None:
        raise Invalid(f"unknown product code {product!r}", field="product")
    if category is not None and taxonomy.category(category) is None:
        raise Invalid(f"unknown category code {category!r}", field="category")


def create_problem(session: Session, *, actor: Actor, data: ProblemCreate,
                   now: datetime | None = None) -> Problem:
    actor.require("problem.manage")
    _check_taxonomy(data.product, data.category)
    if session.scalar(select(Problem.id).where(Problem.code == data.code)) is not None:
        raise Conflict(f"problem code {data.code!r} exists already", field="code")
    now = now or utcnow()
    problem = Problem(code=data.code, title_zh=_clean(data.title_zh),
                      title_en=_clean(data.title_en) if data.title_en else None,
                      description=_clean(data.description), product=data.product,
                      category=data.category,
                      cause_category=data.cause_category.value if data.cause_category else None,
                      status=ProblemStatus.open.value, created_by=actor.user_id,
                      created_at=now, updated_at=now)
    session.add(problem)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same code created at the same moment
        raise Conflict(f"problem code {data.code!r} exists already", field="code") from None
    return problem


def get_problem(session: Session, *, actor: Actor, problem_id: int) -> Problem:
    actor.require("problem.read")
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound(f"no problem {problem_id}", field="problem")
    return problem


def update_problem(session: Session, *, actor: Actor, problem_id: int, data: ProblemUpdate,
                   now: datetime | None = None) -> tuple[Problem, int]:
    """Change a problem; marking it fixed stamps `fixed_at` and queues a message to each
    customer of its cases (see `tell_customers_fixed`). Returns (problem, customers told)."""
    actor.require("problem.manage")
    problem = get_problem(session, actor=actor, problem_id=problem_id)
    now = now or utcnow()
    changes = data.model_dump(exclude_unset=True)
    _check_taxonomy(changes.get("product"), changes.get("category"))
    for name in ("title_zh", "title_en", "description"):
        if changes.get(name) is not None:
            setattr(problem, name, _clean(changes[name]))
    for name in ("product", "category"):
        if name in changes:
            setattr(problem, name, changes[name])
    if "cause_category" in changes:
        cause = data.cause_category
        problem.cause_category = cause.value if cause else None
    told = 0
    if data.status is not None and data.status != problem.status:
        current = ProblemStatus(problem.status)
        if data.status not in NEXT_STATUS[current]:
            raise Conflict(f"a {current} problem cannot become {data.status}", field="status")
        problem.status = data.status.value
        if data.status == ProblemStatus.fixed:
            problem.fixed_at = now
            told = tell_customers_fixed(session, problem=problem, now=now)
    problem.updated_at = now
    session.flush()
    return problem, told


def _linked_counts(session: Session, actor: Actor, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(CaseProblem.problem_id, func.count())
        .join(Case, Case.id == CaseProblem.case_id)
        .where(CaseProblem.problem_id.in_(list(ids)), cases_service.visible(actor))
        .group_by(CaseProblem.problem_id))
    return {problem_id: int(count) for problem_id, count in rows}


def linked_counts(session: Session, *, actor: Actor, problems: Sequence[Problem]
                  ) -> dict[int, int]:
    """How many cases of the actor's scope each problem has."""
    return _linked_counts(session, actor, [p.id for p in problems])


def list_problems(session: Session, *, actor: Actor, status: ProblemStatus | None = None,
                  q: str | None = None, limit: int = 50, offset: int = 0
                  ) -> tuple[list[Problem], int]:
    """Problems by code; (page, total)."""
    actor.require("problem.read")
    if not 1 <= limit <= 200:
        raise Invalid("limit must be between 1 and 200", field="limit")
    if offset < 0:
        raise Invalid("offset cannot be negative", field="offset")
    stmt: Select[Problem] = select(Problem)
    if status is not None:
        stmt = stmt.where(Problem.status == status.value)
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(Problem.code.like(pattern), Problem.title_zh.like(pattern),
                              Problem.title_en.like(pattern),
                              Problem.description.like(pattern)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = list(session.scalars(stmt.order_by(Problem.code).limit(limit).offset(offset)))
    return page, int(total)


# --- cases and problems -------------------------------------------------------------------------

def link_case(session: Session, *, actor: Actor, problem_id: int, reference: str,
              now: datetime | None = None) -> tuple[CaseProblem, Case]:
    """Link a case the actor may see to a problem; linking twice changes nothing. The link is
    on the case's timeline."""
    actor.require("problem.link")
    problem = get_problem(session, actor=actor, problem_id=problem_id)
    case = cases_service.get_case(session, actor=actor, reference=reference)
    found = session.scalar(select(CaseProblem).where(CaseProblem.case_id == case.id,
                                                     CaseProblem.problem_id == problem.id))
    if found is not None:
        return found, case
    now = now or utcnow()
    link = CaseProblem(case_id=case.id, problem_id=problem.id, linked_by=actor.user_id,
                       linked_at=now)
    session.add(link)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # linked by someone else at the same moment
        raise Conflict(f"case {reference} was just linked to {problem.code}",
                       field="case") from None
    append_event(session, case=case, type="problem_linked", actor_user_id=actor.user_id,
                 data={"problem": problem.code}, at=now)
    return link, case


def unlink_case(session: Session, *, actor: Actor, problem_id: int, reference: str,
                now: datetime | None = None) -> None:
    actor.require("problem.link")
    problem = get_problem(session, actor=actor, problem_id=problem_id)
    case = cases_service.get_case(session, actor=actor, reference=reference)
    link = session.scalar(select(CaseProblem).where(CaseProblem.case_id == case.id,
                                                    CaseProblem.problem_id == problem.id))
    if link is None:
        raise NotFound(f"case {reference} is not linked to {problem.code}", field="case")
    session.delete(link)
    session.flush()
    append_event(session, case=case, type="problem_unlinked", actor_user_id=actor.user_id,
                 data={"problem": problem.code}, at=now or utcnow())


def linked_cases(session: Session, *, actor: Actor, problem_id: int, limit: int = 200
                 ) -> list[tuple[CaseProblem, Case, str | None]]:
    """The problem's cases the actor may see, newest link first, with who linked them."""
    get_problem(session, actor=actor, problem_id=problem_id)
    rows = session.execute(
        select(CaseProblem, Case, User.username).join(Case, Case.id == CaseProblem.case_id)
        .outerjoin(User, User.id == CaseProblem.linked_by)
        .where(CaseProblem.problem_id == problem_id, cases_service.visible(actor))
        .order_by(CaseProblem.linked_at.desc(), CaseProblem.id.desc()).limit(limit))
    return [(link, case, name) for link, case, name in rows]


# --- the problems a case resembles --------------------------------------------------------------

# Linked case texts that describe a problem, at most, newest first.
CASE_TEXTS_PER_PROBLEM = 50
MIN_SCORE = 0.05


@dataclass(frozen=True)
class ProblemMatch:
    problem: Problem
    score: float
    shared_words: list[str]


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in chinese_words(text)
                   if w not in STOP_WORDS and len(w.strip()) > 0 and any(c.isalpha() for c in w)
                   and not set(w) <= {"*"})


def _vector(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vector = {t: (1.0 + math.log(c)) * idf[t] for t, c in counts.items() if t in idf}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {t: v / norm for t, v in vector.items()}


def suggest_problems(session: Session, *, case: Case, limit: int = 5,
                     min_score: float = MIN_SCORE) -> list[ProblemMatch]:
    """The known problems `case` most resembles, best first, each with its score and the
    words it shares with the case, so a handler sees why it was offered.

    Each problem (not closed, not linked to the case yet) is one document: its titles and
    description and the masked texts of its latest linked cases. Sublinear TF-IDF over their
    words (jieba words for Chinese, stop words left out; IDF over the library, so a word every
    problem uses counts little), cosine with the case's title and masked text. The caller has
    checked that the actor may see the case; the texts read are masked.
    """
    problems = list(session.scalars(
        select(Problem).where(Problem.status != ProblemStatus.closed.value,
                              Problem.id.not_in(select(CaseProblem.problem_id).where(
                                  CaseProblem.case_id == case.id)))
        .order_by(Problem.id)))
    if not problems:
        return []
    texts: dict[int, list[str]] = defaultdict(list)
    for problem_id, text in session.execute(
            select(CaseProblem.problem_id, Case.text_masked)
            .join(Case, Case.id == CaseProblem.case_id)
            .where(CaseProblem.problem_id.in_([p.id for p in problems]))
            .order_by(CaseProblem.problem_id, CaseProblem.linked_at.desc())):
        if len(texts[problem_id]) < CASE_TEXTS_PER_PROBLEM:
            texts[problem_id].append(text)
    documents = [_terms(" ".join([p.title_zh, p.title_en or "", p.description,
                                  *texts[p.id]])) for p in problems]
    frequency: Counter[str] = Counter()
    for document in documents:
        frequency.update(document.keys())
    n = len(documents)
    idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in frequency.items()}
    query = _vector(_terms(f"{case.title} {case.text_masked}"), idf)
    matches = []
    for problem, document in zip(problems, documents, strict=True):
        vector = _vector(document, idf)
        shared = {t: query[t] * vector[t] for t in query.keys() & vector.keys()}
        score = sum(shared.values())
        if score >= min_score:
            words = sorted(shared, key=lambda t: (-shared[t], t))[:8]
            matches.append(ProblemMatch(problem, round(min(score, 1.0), 4), words))
    matches.sort(key=lambda m: (-m.score, m.problem.id))
    return matches[:limit]


def suggestions_for_case(session: Session, *, actor: Actor, reference: str,
                         limit: int = 5) -> list[ProblemMatch]:
    actor.require("problem.read")
    case = cases_service.get_case(session, actor=actor, reference=reference)
    return suggest_problems(session, case=case, limit=limit)


# --- recurring problems -------------------------------------------------------------------------

RISING_FACTOR = 1.5
RISING_AT_LEAST = 3


@dataclass(frozen=True)
class Recurrence:
    problem: Problem
    reasons: list[str]
    cases_since_fixed: int
    monthly: list[tuple[date, int]]


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_edges(first: date, count: int) -> list[datetime]:
    """The UTC instants at which `count` + 1 local months from `first` begin."""
    tz = get_settings().tz
    return [datetime.combine(add_months(first, i), datetime.min.time(), tzinfo=tz)
            for i in range(count + 1)]


def recurring(session: Session, *, actor: Actor, now: datetime | None = None,
              months: int = 6) -> list[Recurrence]:
    """Problems whose cases keep coming, with the reasons: cases received after the problem
    was marked fixed (or closed), or a rising month (the last complete month at least
    RISING_FACTOR times the mean of the three before it, and at least RISING_AT_LEAST cases).
    Counted over the cases of the actor's scope."""
    actor.require("problem.read")
    now = now or utcnow()
    current = month_start(now.astimezone(get_settings().tz).date())
    first = add_months(current, -months)
    edges = month_edges(first, months + 1)  # the complete months and the current one
    problems = {p.id: p for p in session.scalars(select(Problem).order_by(Problem.code))}
    if not problems:
        return []
    monthly: dict[int, list[int]] = {pid: [0] * (months + 1) for pid in problems}
    for problem_id, received in session.execute(
            select(CaseProblem.problem_id, Case.received_at)
            .join(Case, Case.id == CaseProblem.case_id)
            .where(cases_service.visible(actor), Case.received_at >= edges[0])):
        index = _bucket(received, edges)
        if index is not None:
            monthly[problem_id][index] += 1
    since_fixed = _since_fixed(session, actor)
    found = []
    for problem_id, problem in problems.items():
        counts = monthly[problem_id]
        reasons = []
        after_fix = since_fixed.get(problem_id, 0)
        if after_fix and problem.fixed_at is not None:
            local = problem.fixed_at.astimezone(get_settings().tz).date()
            reasons.append(f"{after_fix} new case(s) since it was marked fixed on "
                           f"{local.isoformat()}")
        last, before = counts[months - 1], counts[max(0, months - 4):months - 1]
        baseline = sum(before) / len(before) if before else 0.0
        if last >= RISING_AT_LEAST and last >= RISING_FACTOR * max(baseline, 1e-9):
            reasons.append(f"rising: {last} case(s) in {add_months(first, months - 1):%Y-%m} "
                           f"against {baseline:.1f} a month in the three months before")
        if reasons:
            found.append(Recurrence(problem, reasons, after_fix,
                                    [(add_months(first, i), counts[i])
                                     for i in range(months + 1)]))
    return found


def _since_fixed(session: Session, actor: Actor) -> dict[int, int]:
    rows = session.execute(
        select(CaseProblem.problem_id, func.count())
        .join(Case, Case.id == CaseProblem.case_id)
        .join(Problem, Problem.id == CaseProblem.problem_id)
        .where(cases_service.visible(actor), Problem.fixed_at.is_not(None),
               Problem.status.in_([ProblemStatus.fixed.value, ProblemStatus.closed.value]),
               Case.received_at > Problem.fixed_at)
        .group_by(CaseProblem.problem_id))
    return {problem_id: int(count) for problem_id, count in rows}


def _bucket(moment: datetime, edges: Sequence[datetime]) -> int | None:
    for index in range(len(edges) - 1):
        if edges[index] <= moment < edges[index + 1]:
            return index
    return None


# --- telling customers about a fix --------------------------------------------------------------

def tell_customers_fixed(session: Session, *, problem: Problem, now: datetime) -> int:
    """Queue one message to each reachable customer of the problem's cases that the problem is
    fixed, once per customer and problem however often it is marked fixed; returns how many
    customers it was queued for (a customer told before is not counted again).

    About their latest linked case, in that case's language; the text names the problem's
    title (masked staff text) and the case reference, never the customer's details. Praise,
    and cases anonymised at the end of their keeping period, tell nobody."""
    rows = session.execute(
        select(Case, Customer).join(CaseProblem, CaseProblem.case_id == Case.id)
        .join(Customer, Customer.id == Case.customer_id)
        .where(CaseProblem.problem_id == problem.id, Case.kind != CaseKind.praise.value)
        .order_by(Case.customer_id, Case.received_at.desc(), Case.id.desc())).all()
    latest: dict[int, tuple[Case, Customer]] = {}
    for case, customer in rows:
        if customer.id not in latest and not retention.is_anonymised(case):
            latest[customer.id] = (case, customer)
    items = []
    for customer_id, (case, customer) in latest.items():
        address = telling.address_of(customer)  # the one address rule of customer messages
        if address is None:
            continue
        channel, to = address
        english = case.language == "en"
        title = problem.title_en if english and problem.title_en else problem.title_zh
        items.append(Outgoing(
            template="problem_fixed", channel=channel,
            recipient=Recipient.customer(to, ref=str(customer_id)),
            language="en" if english else "zh",
            context={"reference": case.reference, "problem_title": title, "fixed_at": now,
                     "customer_name": customer.name_masked},
            case_id=case.id, dedupe_key=f"problem:{problem.id}:customer:{customer_id}:fixed"))
    before = _queued(session, items)
    notify.enqueue_many(session, items, now=now)
    return _queued(session, items) - before


def _queued(session: Session, items: Iterable[Outgoing]) -> int:
    keys = [item.dedupe_key for item in items if item.dedupe_key]
    if not keys:
        return 0
    return int(session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.dedupe_key.in_(keys))) or 0)

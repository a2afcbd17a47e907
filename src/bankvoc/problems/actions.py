"""Improvement actions: what is changed to fix a problem, by whom, where it was piloted, from
when and at what cost; and their effect, measured from the cases, callbacks and imported org
numbers (the statistics are `problems.effect`'s). Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from bankvoc.analytics.models import OrgMonthStat
from bankvoc.cases.enums import CaseKind
from bankvoc.cases.models import Case
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp import pii
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.problems import effect
from bankvoc.problems import service as problems_service
from bankvoc.problems.enums import ActionStatus, ProblemStatus
from bankvoc.problems.models import ActionPilotOrg, CaseProblem, ImprovementAction, Problem
from bankvoc.problems.schemas import (
    ActionCreate,
    ActionRead,
    ActionUpdate,
    BenefitRead,
    EffectRead,
    OutcomeRead,
)
from bankvoc.problems.service import add_months, month_edges, month_start
from bankvoc.surveys.models import Callback

# Complaint rate is complaints per this many customers (the KPI's unit).
RATE_PER = 10_000
SATISFIED_CSAT = 4  # 4 and 5 of 5 are satisfied


def _owner(session: Session, username: str) -> User:
    try:
        return org_service.get_user(session, username=username)
    except NotFound:
        raise NotFound(f"no user {username!r}", field="owner") from None


def _pilots(session: Session, actor: Actor, codes: Sequence[str]) -> list[Org]:
    found = org_service.find_orgs_by_code(session, codes=codes)
    missing = sorted(set(codes) - set(found))
    if missing:
        raise NotFound(f"no org with code {', '.join(map(repr, missing))}", field="pilot_orgs")
    outside = sorted(code for code, org in found.items()
                     if not org_service.org_visible(actor, org))
    if outside:
        raise Invalid(f"org(s) {', '.join(outside)} are outside your scope", field="pilot_orgs")
    return [found[code] for code in dict.fromkeys(codes)]


def create_action(session: Session, *, actor: Actor, problem_id: int, data: ActionCreate,
                  now: datetime | None = None) -> ImprovementAction:
    actor.require("problem.manage")
    problem = problems_service.get_problem(session, actor=actor, problem_id=problem_id)
    owner = _owner(session, data.owner)
    pilots = _pilots(session, actor, data.pilot_orgs)
    now = now or utcnow()
    action = ImprovementAction(
        problem_id=problem.id, title=pii.mask_text(data.title), owner_id=owner.id,
        due_date=data.due_date, status=data.status.value, started_on=data.started_on,
        cost=data.cost, notes=pii.mask_text(data.notes) if data.notes else "",
        created_by=actor.user_id, created_at=now, updated_at=now)
    session.add(action)
    session.flush()
    session.add_all(ActionPilotOrg(action_id=action.id, org_id=org.id) for org in pilots)
    _problem_in_hand(problem, data.status)
    session.flush()
    return action


def _problem_in_hand(problem: Problem, status: ActionStatus) -> None:
    """An action under way puts an open problem in hand (fixing)."""
    if status == ActionStatus.in_progress and problem.status == ProblemStatus.open:
        problem.status = ProblemStatus.fixing.value


def get_action(session: Session, *, actor: Actor, action_id: int) -> ImprovementAction:
    actor.require("problem.read")
    action = session.get(ImprovementAction, action_id)
    if action is None:
        raise NotFound(f"no improvement action {action_id}", field="action")
    return action


# What the owner of an action may change without the library's curators.
OWNER_FIELDS = frozenset({"status", "started_on", "notes"})


def update_action(session: Session, *, actor: Actor, action_id: int, data: ActionUpdate,
                  now: datetime | None = None) -> ImprovementAction:
    """Change an action: the curators (problem.manage) anything, its owner its status, start
    and notes."""
    action = get_action(session, actor=actor, action_id=action_id)
    changes = data.model_dump(exclude_unset=True)
    owner_may = actor.user_id == action.owner_id and set(changes) <= OWNER_FIELDS
    if not (actor.can("problem.manage") or owner_may):
        raise Forbidden("only the action's owner (its status, start and notes) or "
                        "consumer protection may change it")
    for name in ("due_date", "started_on", "cost"):
        if name in changes:
            setattr(action, name, changes[name])
    for name in ("title", "notes"):
        if changes.get(name) is not None:
            setattr(action, name, pii.mask_text(changes[name]))
    if changes.get("owner") is not None:
        action.owner_id = _owner(session, changes["owner"]).id
    if data.status is not None:
        action.status = data.status.value
        _problem_in_hand(session.get_one(Problem, action.problem_id), data.status)
    if data.pilot_orgs is not None:
        pilots = _pilots(session, actor, data.pilot_orgs)
        for row in session.scalars(select(ActionPilotOrg).where(
                ActionPilotOrg.action_id == action.id)):
            session.delete(row)
        session.flush()
        session.add_all(ActionPilotOrg(action_id=action.id, org_id=org.id) for org in pilots)
    action.updated_at = now or utcnow()
    session.flush()
    return action


def list_actions(session: Session, *, actor: Actor, problem_id: int) -> list[ImprovementAction]:
    problems_service.get_problem(session, actor=actor, problem_id=problem_id)
    return list(session.scalars(select(ImprovementAction).where(
        ImprovementAction.problem_id == problem_id).order_by(ImprovementAction.id)))


def pilot_orgs(session: Session, *, action_id: int) -> list[Org]:
    return list(session.scalars(
        select(Org).join(ActionPilotOrg, ActionPilotOrg.org_id == Org.id)
        .where(ActionPilotOrg.action_id == action_id).order_by(Org.code)))


def to_read(session: Session, action: ImprovementAction) -> ActionRead:
    owner = session.get_one(User, action.owner_id)
    return ActionRead(id=action.id, problem_id=action.problem_id, title=action.title,
                      owner=owner.username, due_date=action.due_date,
                      status=ActionStatus(action.status), started_on=action.started_on,
                      cost=action.cost, notes=action.notes,
                      pilot_orgs=[o.code for o in pilot_orgs(session, action_id=action.id)],
                      created_at=action.created_at)


# --- the measured effect ------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """The months of the panel: `months` contiguous from the first before the start, the
    partial month of a start after the 1st left out (`keep`), `first_after` the index (among
    the kept months) of the first month with the change."""

    months: list[date]
    keep: list[int]
    first_after: int

    @property
    def kept(self) -> list[date]:
        return [self.months[i] for i in self.keep]


def _window(started_on: date, now: datetime, before: int, after: int) -> Window:
    start_month = month_start(started_on)
    first_after = start_month if started_on.day == 1 else add_months(start_month, 1)
    current = month_start(now.astimezone(get_settings().tz).date())
    complete_after = (current.year - first_after.year) * 12 + current.month - first_after.month
    after = min(after, complete_after)
    if after <= 0:
        raise Conflict(f"the action started on {started_on.isoformat()}: no complete month "
                       "after its start to measure yet", field="started_on")
    first = add_months(start_month, -before)
    months = [add_months(first, i) for i in range(before + (first_after != start_month)
                                                    + after)]
    keep = [i for i, m in enumerate(months) if m != start_month or started_on.day == 1]
    return Window(months, keep, before)


def _depth(org: Org) -> int:
    return len(org.path.strip("/").split("/"))


def _comparison(session: Session, actor: Actor, pilots: Sequence[Org]) -> list[Org]:
    """Orgs like the pilots (same kind, same level of the tree), active, not piloted, in the
    actor's scope."""
    like = {(o.kind, _depth(o)) for o in pilots}
    ids = {o.id for o in pilots}
    return [o for o in session.scalars(
        select(Org).where(org_service.in_scope(actor, Org.id), Org.active.is_(True))
        .order_by(Org.code))
        if (o.kind, _depth(o)) in like and o.id not in ids]


def _unit_of(session: Session, units: Sequence[Org]) -> dict[int, int]:
    """Each org id -> the panel unit whose subtree it is in (a branch counts its outlets)."""
    wanted = {o.id for o in units}
    mapping = {}
    for org_id, path in session.execute(select(Org.id, Org.path)):
        ancestors = [int(part) for part in path.strip("/").split("/") if part]
        inside = [a for a in ancestors if a in wanted]
        if inside:
            mapping[org_id] = inside[-1]
    return mapping


def _bucket(column: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    return case(*[(column < edges[i + 1], i) for i in range(len(edges) - 1)], else_=-1)


class _Cells:
    """Sums per (unit, month index), filled from grouped query rows."""

    def __init__(self, units: Sequence[Org], months: int, unit_of: dict[int, int]) -> None:
        self.index = {o.id: i for i, o in enumerate(units)}
        self.unit_of = unit_of
        self.values = np.zeros((len(units), months))

    def add(self, org_id: int, month: int, amount: float) -> None:
        unit = self.unit_of.get(org_id)
        if unit is not None and 0 <= month < self.values.shape[1]:
            self.values[self.index[unit], month] += amount


def _case_counts(session: Session, cells: _Cells, edges: Sequence[datetime],
                 *conditions: ColumnElement[bool], problem_id: int | None = None) -> None:
    bucket = _bucket(Case.received_at, edges).label("month")
    stmt = (select(Case.org_id, bucket, func.count())
            .where(Case.received_at >= edges[0], Case.received_at < edges[-1], *conditions)
            .group_by(Case.org_id, bucket))
    if problem_id is not None:
        stmt = stmt.join(CaseProblem, CaseProblem.case_id == Case.id).where(
            CaseProblem.problem_id == problem_id)
    for org_id, month, count in session.execute(stmt):
        cells.add(org_id, month, count)


Name = Literal["complaint_rate", "complaints", "csat", "problem_cases"]


def _outcome(name: Name, unit: str, values: np.ndarray[Any, Any], treated: np.ndarray[Any, Any],
             first_after: int, notes: list[str], permutations: int
             ) -> tuple[OutcomeRead, effect.DidEstimate | None]:
    try:
        found = effect.difference_in_differences(
            effect.Panel(values, treated, first_after), permutations=permutations)
    except effect.NotEstimable as exc:
        return OutcomeRead(name=name, unit=unit, measured=False, pilot_before=None,
                           pilot_after=None, comparison_before=None, comparison_after=None,
                           did=None, ci_low=None, ci_high=None, relative=None, p_value=None,
                           reliable=False, notes=[*notes, str(exc)]), None
    return OutcomeRead(
        name=name, unit=unit, measured=True, pilot_before=_num(found.pilot_before),
        pilot_after=_num(found.pilot_after), comparison_before=_num(found.comparison_before),
        comparison_after=_num(found.comparison_after), did=_num(found.effect),
        ci_low=_num(found.ci_low), ci_high=_num(found.ci_high),
        relative=_num(found.relative) if found.relative is not None else None,
        p_value=found.p_value, reliable=found.reliable,
        notes=[*notes, *found.warnings]), found


def _num(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 6)


def measure_effect(session: Session, *, actor: Actor, action_id: int,
                   now: datetime | None = None, months_before: int = 12,
                   months_after: int = 12, permutations: int = 999) -> EffectRead:
    """Before/after and difference in differences of an action's pilot orgs against
    comparable orgs on (a) the complaint rate (complaints per 10,000 customers, from the
    imported `org_month_stat`; complaint counts when none are imported, said in the notes),
    (b) CSAT (share of callbacks answered 4-5 of 5, in %) and (c) the problem's own cases,
    with the action's cost beside the complaints it avoided. An org's figures include its
    subtree; the months are the bank's (BANKVOC_TIMEZONE)."""
    actor.require("problem.read")
    if not (1 <= months_before <= 60 and 1 <= months_after <= 60):
        raise Invalid("measure 1 to 60 months on each side", field="months")
    action = get_action(session, actor=actor, action_id=action_id)
    problem = session.get_one(Problem, action.problem_id)
    if action.started_on is None:
        raise Conflict("the action has no start date: set started_on", field="started_on")
    pilots = pilot_orgs(session, action_id=action.id)
    if not pilots:
        raise Conflict("the action names no pilot orgs", field="pilot_orgs")
    if not all(org_service.org_visible(actor, o) for o in pilots):
        raise Forbidden("the action's pilot orgs lie outside your scope")
    comparison = _comparison(session, actor, pilots)
    if not comparison:
        raise Conflict("no comparable org (same kind and level, not piloted) in your scope",
                       field="pilot_orgs")
    now = now or utcnow()
    window = _window(action.started_on, now, months_before, months_after)
    units = [*pilots, *comparison]
    treated = np.array([True] * len(pilots) + [False] * len(comparison))
    edges = month_edges(window.months[0], len(window.months))
    unit_of = _unit_of(session, units)
    keep = window.keep

    complaints = _Cells(units, len(window.months), unit_of)
    _case_counts(session, complaints, edges, Case.kind == CaseKind.complaint.value)
    own = _Cells(units, len(window.months), unit_of)
    _case_counts(session, own, edges, problem_id=problem.id)
    answered = _Cells(units, len(window.months), unit_of)
    satisfied = _Cells(units, len(window.months), unit_of)
    bucket = _bucket(Callback.completed_at, edges).label("month")
    rows: list[Any] = list(session.execute(
            select(Case.org_id, bucket, func.count(),
                   func.sum(case((Callback.csat >= SATISFIED_CSAT, 1), else_=0)))
            .join(Case, Case.id == Callback.case_id)
            .where(Callback.csat.is_not(None), Callback.completed_at >= edges[0],
                   Callback.completed_at < edges[-1])
            .group_by(Case.org_id, bucket)))
    for org_id, month, count, happy in rows:
        answered.add(org_id, month, count)
        satisfied.add(org_id, month, happy or 0)
    customers = np.full((len(units), len(window.months)), np.nan)
    index = {o.id: i for i, o in enumerate(units)}
    month_index = {m: i for i, m in enumerate(window.months)}
    for org_id, month, count in session.execute(
            select(OrgMonthStat.org_id, OrgMonthStat.month, OrgMonthStat.customers)
            .where(OrgMonthStat.org_id.in_(list(index)),
                   OrgMonthStat.month.in_(window.months), OrgMonthStat.customers > 0)):
        customers[index[org_id], month_index[month]] = count

    counts = complaints.values[:, keep]
    outcomes: list[OutcomeRead] = []
    denominators = customers[:, keep]
    first = window.first_after
    if np.isnan(denominators).all():
        outcomes.append(_outcome(
            "complaints", "complaints per org and month", counts, treated, first,
            ["no customer numbers are imported for these orgs (org_month_stat): complaint "
             "counts are compared instead of the complaint rate"], permutations)[0])
    else:
        gaps = int(np.isnan(denominators).sum())
        notes = [f"{gaps} org-month(s) without imported customer numbers left out"] if gaps \
            else []
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = counts / denominators * RATE_PER
        outcomes.append(_outcome("complaint_rate", f"complaints per {RATE_PER:,} customers",
                                 rate, treated, first, notes, permutations)[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        csat = np.where(answered.values > 0, satisfied.values / answered.values * 100, np.nan)
    outcomes.append(_outcome("csat", "% of callbacks satisfied (4-5 of 5)", csat[:, keep],
                             treated, first, [], permutations)[0])
    outcomes.append(_outcome("problem_cases", "cases of this problem per org and month",
                             own.values[:, keep], treated, first, [], permutations)[0])
    count_effect = _outcome("complaints", "", counts, treated, first, [], 0)[1]
    kept = window.kept
    return EffectRead(
        action_id=action.id, problem=problem.code, started_on=action.started_on,
        pilot_orgs=[o.code for o in pilots], comparison_orgs=[o.code for o in comparison],
        months_before=kept[:first], months_after=kept[first:], outcomes=outcomes,
        benefit=_benefit(action.cost, count_effect, len(pilots), len(kept) - first),
        method="difference in differences: org and month fixed effects, standard errors "
               "clustered by org, 95% t interval (G-1 df); permutation p-value over orgs",
        notes=[] if started_on_first(action.started_on) else [
            f"{month_start(action.started_on):%Y-%m}, the month of the start, is left out: "
            "the change was in place for only part of it"])


def started_on_first(day: date) -> bool:
    return day.day == 1


def _benefit(cost: Decimal, found: effect.DidEstimate | None, pilots: int,
             months: int) -> BenefitRead:
    if found is None:
        return BenefitRead(cost=cost, complaints_avoided_per_month=None,
                           complaints_avoided_per_month_ci=None, complaints_avoided=None,
                           cost_per_complaint_avoided=None,
                           notes=["the complaint counts could not be compared"])
    per_month = -found.effect * pilots
    interval = (round(-found.ci_high * pilots, 4), round(-found.ci_low * pilots, 4))
    total = per_month * months
    notes = [f"complaints avoided across the {pilots} pilot org(s), from the difference in "
             "differences of their complaint counts"]
    cost_each = None
    if total > 0:
        cost_each = (cost / Decimal(str(round(total, 6)))).quantize(Decimal("0.01"),
                                                                   ROUND_HALF_UP)
        if interval[0] <= 0:
            notes.append("the interval includes no reduction: the cost per complaint avoided "
                         "is uncertain")
    else:
        notes.append("no reduction measured: no cost per complaint avoided")
    return BenefitRead(cost=cost, complaints_avoided_per_month=round(per_month, 4),
                       complaints_avoided_per_month_ci=interval,
                       complaints_avoided=round(total, 4),
                       cost_per_complaint_avoided=cost_each, notes=notes)

"""The callback queue (回访队列): the callbacks of the viewer's cases, and a form on each pending
one to record what the customer said.

Reading goes through the surveys service (org-scoped there, as the inbox is: a case of the
viewer's subtree, or handled by it) and the cases service; a result is recorded only through
`surveys.service.record_result`, inside a savepoint, so a refused one leaves nothing behind.
What the service decides about the case (close it, or reopen and escalate it) is then read back
from the case itself for the confirmation, never guessed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlencode

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.models import Case
from bankvoc.cases.schemas import EventRead
from bankvoc.core.errors import BankvocError, Conflict, Forbidden, NotFound
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.nlp import pii
from bankvoc.orgs.service import Actor
from bankvoc.surveys import service as surveys_service
from bankvoc.surveys.models import Callback
from bankvoc.surveys.schemas import CallbackResult
from bankvoc.web.forms import Posted
from bankvoc.web.i18n import has
from bankvoc.web.present import (
    Choice,
    Countdown,
    Labeller,
    Problem,
    decision_text,
    running_countdown,
)

STATUSES = (surveys_service.PENDING, surveys_service.DONE, surveys_service.UNREACHABLE,
            surveys_service.SKIPPED)
QUEUE_LIMIT = 200  # the surveys service's own page size
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
COMMENT_MAX = 5000  # as `CallbackResult.comment`
TOLD_MAX = 80
WHOLE_NUMBER = re.compile(r"[0-9０-９]{1,3}")  # full-width digits too, as Chinese input gives

# The reasons `surveys.service.decide` writes, in its own (English) words: (pattern, key).
# A reason in other words is shown as it is.
REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^every (?P<severity>[a-z_]+) case is called back$"), "severity"),
    (re.compile(r"^every regulator transfer \((?P<origin>[^)]+)\) is called back$"),
     "regulator"),
    (re.compile(r"^in the (?P<percent>\d+)% sample$"), "sample"),
    (re.compile(r"^not in the (?P<percent>\d+)% sample$"), "not_sampled"),
)


# --- the filters --------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueForm:
    """The queue's filters as typed: a callback status (pending by default), overdue only."""

    status: str = surveys_service.PENDING
    overdue: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> QueueForm:
        return cls(status=params.get("status", "").strip() or surveys_service.PENDING,
                   overdue=params.get("overdue", "").strip())

    def query(self) -> dict[str, str]:
        """The query string that reproduces these filters."""
        query = {} if self.status == surveys_service.PENDING else {"status": self.status}
        if self.overdue:
            query["overdue"] = self.overdue
        return query


def normal_query(query: Mapping[str, str]) -> str:
    """A queue query string as the queue itself would write it (anything else dropped)."""
    return urlencode(QueueForm.from_query(query).query())


def _filter_problem(form: QueueForm, lab: Labeller) -> Problem | None:
    if form.status not in STATUSES:
        return Problem("status", lab("field.callback_status"),
                       lab("error.choice", value=form.status))
    if form.overdue not in ("", "1"):
        return Problem("overdue", lab("field.overdue"), lab("error.choice", value=form.overdue))
    return None


# --- the result form ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ResultInput:
    """One input of a callback's result form; `error` says what to fix in it."""

    name: str
    id: str
    label: str
    kind: str  # choice (radios), score, textarea
    value: str
    choices: list[Choice] = field(default_factory=list)
    hint: str = ""
    error: str = ""
    max_length: int | None = None


@dataclass(frozen=True)
class ResultForm:
    callback_id: int
    url: str
    label: str
    inputs: list[ResultInput]
    errors: list[Problem]  # one per input to fix
    problem: Problem | None = None  # a refusal of the whole form

    @property
    def open(self) -> bool:
        return bool(self.errors or self.problem)


@dataclass(frozen=True)
class Attempt:
    """A result that was not recorded: the callback, what was typed, and why."""

    callback_id: int
    values: dict[str, str]
    errors: list[Problem]
    problem: Problem | None = None
    status: int = 422


def _score(raw: str, low: int, high: int, *, required: bool,
           lab: Labeller) -> tuple[int | None, str]:
    """(value, message): a whole number within [low, high], or what is wrong with `raw`."""
    if not raw:
        return None, lab("callback_error.required", low=low, high=high) if required else ""
    if not WHOLE_NUMBER.fullmatch(raw):
        return None, lab("callback_error.integer", value=raw, low=low, high=high)
    value = int(raw)
    if not low <= value <= high:
        return None, lab("callback_error.range", value=raw, low=low, high=high)
    return value, ""


def _input_label(name: str, lab: Labeller) -> str:
    return lab(f"callback_input.{name}")


def parse_result(values: Mapping[str, str], lab: Labeller) -> CallbackResult | list[Problem]:
    """The service's `CallbackResult`, or every input to fix, in form order."""
    raw = {name: values.get(name, "").strip()
           for name in ("reached", "csat", "nps", "solved", "comment")}
    errors: dict[str, str] = {}
    reached = raw["reached"] or "yes"
    if reached not in ("yes", "no"):
        errors["reached"] = lab("callback_error.choice")
    if reached == "no":
        if raw["csat"] or raw["nps"] or raw["solved"] or raw["comment"]:
            errors["reached"] = lab("callback_error.unreachable")
        data: dict[str, object] = {"reached": False}
    else:
        csat, errors["csat"] = _score(raw["csat"], *CSAT_RANGE, required=True, lab=lab)
        nps, errors["nps"] = _score(raw["nps"], *NPS_RANGE, required=False, lab=lab)
        solved = {"yes": True, "no": False}.get(raw["solved"])
        if solved is None:
            errors["solved"] = lab("callback_error.solved") if not raw["solved"] \
                else lab("callback_error.choice")
        if len(raw["comment"]) > COMMENT_MAX:
            errors["comment"] = lab("callback_error.too_long", max=COMMENT_MAX)
        data = {"reached": True, "csat": csat, "nps": nps, "solved": solved,
                "comment": raw["comment"]}
    problems = [Problem(name, _input_label(name, lab), message)
                for name, message in errors.items() if message]
    if problems:
        return problems
    try:
        return CallbackResult.model_validate(data)
    except ValidationError as exc:  # a rule added to CallbackResult later: still a field message
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "reached"
        name = name if name in raw else "reached"
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        return [Problem(name, _input_label(name, lab), message)]


def _result_form(callback_id: int, reference: str, lab: Labeller, *, root: str,
                 attempt: Attempt | None) -> ResultForm:
    mine = attempt if attempt and attempt.callback_id == callback_id else None
    values = mine.values if mine else {}
    errors = {e.field: e.message for e in mine.errors} if mine else {}
    prefix = f"cb-{callback_id}-"

    def make(name: str, kind: str, *, choices: Sequence[str] = (), default: str = "",
             max_length: int | None = None) -> ResultInput:
        hint_key = f"callback_hint.{name}"
        return ResultInput(
            name=name, id=prefix + name, label=_input_label(name, lab), kind=kind,
            value=values.get(name, default),
            choices=[Choice(c, lab(f"callback_input.{name}_{c}")) for c in choices],
            hint=lab(hint_key) if has(hint_key) else "",
            error=errors.get(name, ""), max_length=max_length)

    inputs = [
        make("reached", "choice", choices=("yes", "no"), default="yes"),
        make("csat", "score", max_length=2),
        make("nps", "score", max_length=2),
        make("solved", "choice", choices=("yes", "no")),
        make("comment", "textarea", max_length=COMMENT_MAX),
    ]
    return ResultForm(callback_id=callback_id, url=f"{root}/callbacks/{callback_id}/result",
                      label=lab("callbacks.record_for", reference=reference), inputs=inputs,
                      errors=mine.errors if mine else [], problem=mine.problem if mine else None)


# --- the queue ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CallbackRow:
    id: int
    reference: str
    case_url: str
    case_status: str
    case_status_label: str
    reopened: bool
    severity: str
    severity_label: str
    reason_code: str
    reason: str
    countdown: Countdown
    round: str
    customer: str
    decision: str
    told: str
    told_line: str
    status: str
    result: str
    completed: str
    form: ResultForm | None


@dataclass(frozen=True)
class Recorded:
    """What recording a callback did, read back from the callback and its case."""

    reference: str
    case_url: str
    outcome: str  # closed, reopened, unreachable or recorded
    text: str


@dataclass(frozen=True)
class CallbackQueue:
    form: QueueForm
    options: list[Choice]
    rows: list[CallbackRow]
    back: str
    capped: bool = False
    limit: int = QUEUE_LIMIT
    can_record: bool = False
    problem: Problem | None = None
    recorded: Recorded | None = None
    page_problem: Problem | None = None  # a refusal for a callback no longer in the list
    status_code: int = 200

    @property
    def show_results(self) -> bool:
        return self.form.status in (surveys_service.DONE, surveys_service.UNREACHABLE)


def reason_of(reason: str, lab: Labeller) -> tuple[str, str]:
    """(code, words) of why a callback was (not) scheduled; code: urgent, major (or another
    severity), regulator, sample, not_sampled, or other."""
    for pattern, key in REASONS:
        found = pattern.match(reason)
        if found is None:
            continue
        params = found.groupdict()
        if key == "severity":
            return params["severity"], lab("callback_reason.severity",
                                           severity=lab.enum("severity", params["severity"]))
        if key == "regulator":
            return key, lab("callback_reason.regulator",
                            origin=lab.enum("origin", params["origin"]))
        return key, lab(f"callback_reason.{key}", percent=params["percent"])
    return "other", reason


def callback_countdown(callback: Callback, case: Case, *, now: datetime,
                       lab: Labeller) -> Countdown:
    """The time left to call back, coloured as the inbox colours the decision deadline: the
    period runs from the decision told (the case resolved) to the callback's due time."""
    if callback.due_at is None:
        return Countdown("none", lab("none"), lab("none"))
    due_at = ensure_aware(callback.due_at)
    due = lab.when(due_at)
    if callback.status != surveys_service.PENDING:
        return Countdown("none", due, due)
    started = ensure_aware(case.resolved_at or callback.created_at)
    return running_countdown(due_at=due_at, started_at=started, now=now, lab=lab, due=due)


def is_late(callback: Callback, now: datetime) -> bool:
    """Past its due time while pending, or recorded after it."""
    if callback.due_at is None:
        return False
    due = ensure_aware(callback.due_at)
    if callback.status == surveys_service.PENDING:
        return due < now
    return callback.completed_at is not None and ensure_aware(callback.completed_at) > due


def _told(told: EventRead | None, lab: Labeller) -> tuple[str, str]:
    """(what the customer was told, masked and cut short; how and when) from the case's latest
    `resolve` event."""
    if told is None:
        return "", ""
    summary = pii.mask_text(str(told.data.get("summary") or ""))
    if len(summary) > TOLD_MAX:
        summary = summary[:TOLD_MAX - 1] + "…"
    via = str(told.data.get("told_via") or "")
    at_raw = told.data.get("told_at")
    try:
        at = datetime.fromisoformat(at_raw) if isinstance(at_raw, str) else told.at
    except ValueError:
        at = told.at
    line = lab("callbacks.told_line", via=lab(f"via.{via}") if via else lab("none"),
               at=lab.when(at))
    return summary, line


def _result(callback: Callback, lab: Labeller) -> str:
    if callback.status == surveys_service.UNREACHABLE:
        return lab("callbacks.unreachable_line")
    if callback.status != surveys_service.DONE:
        return ""
    solved = lab("callback_input.solved_yes") if callback.solved \
        else lab("callback_input.solved_no") if callback.solved is False else lab("none")
    line = lab("callbacks.result_line", csat=callback.csat if callback.csat is not None
               else lab("none"), nps=callback.nps if callback.nps is not None else lab("none"),
               solved=solved)
    return f"{line}{lab('colon')}{callback.comment_masked}" if callback.comment_masked else line


def _row(callback: Callback, case: Case, lab: Labeller, *, resolved: EventRead | None,
         now: datetime, root: str, can_record: bool, attempt: Attempt | None) -> CallbackRow:
    """`resolved`: the case's latest `resolve` event (what the customer was told)."""
    read = cases_service.to_read(case)
    code, reason = reason_of(callback.reason, lab)
    told, told_line = _told(resolved, lab)
    pending = callback.status == surveys_service.PENDING
    return CallbackRow(
        id=callback.id, reference=read.reference, case_url=f"{root}/cases/{read.reference}",
        case_status=read.status.value, case_status_label=lab.enum("status", read.status),
        reopened=read.reopen_count > callback.round,
        severity=read.severity.value, severity_label=lab.enum("severity", read.severity),
        reason_code=code, reason=reason,
        countdown=callback_countdown(callback, case, now=now, lab=lab),
        round=lab("callbacks.round_n", n=callback.round + 1),  # round 0 is the first
        customer=lab.customer(read.customer), decision=decision_text(read, lab), told=told,
        told_line=told_line, status=callback.status, result=_result(callback, lab),
        completed=lab("callbacks.completed", at=lab.when(callback.completed_at))
        if callback.completed_at else "",
        form=_result_form(callback.id, read.reference, lab, root=root, attempt=attempt)
        if pending and can_record else None,
    )


def recorded(session: Session, *, actor: Actor, callback_id: str, lab: Labeller,
             root: str = "") -> Recorded | None:
    """What recording callback `callback_id` did to its case, in words; None for a callback
    that is not the viewer's or not recorded."""
    if not callback_id.isdigit():
        return None
    try:
        callback, case = surveys_service.get_callback(session, actor=actor,
                                                      callback_id=int(callback_id))
    except NotFound:
        return None
    if callback.status == surveys_service.PENDING:
        return None
    status = lab.enum("status", case.status)
    if callback.status == surveys_service.UNREACHABLE:
        outcome = "unreachable"
    elif case.reopen_count > callback.round:
        outcome = "reopened"
    elif case.status == CaseStatus.closed:
        outcome = "closed"
    else:
        outcome = "recorded"
    text = lab(f"callback_done.{outcome}", reference=case.reference, status=status,
               level=case.escalation_level)
    return Recorded(case.reference, f"{root}/cases/{case.reference}", outcome, text)


def queue(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
          root: str = "", now: datetime | None = None,
          attempt: Attempt | None = None) -> CallbackQueue:
    """The viewer's callbacks of one status, soonest due first (overdue only if asked); a
    result form on each pending one when the viewer may record it; a refused `attempt` with
    its problems next to its form; the confirmation of the callback just `recorded`."""
    now = now or utcnow()
    form = QueueForm.from_query(params)
    view = CallbackQueue(
        form=form, options=[Choice(s, lab(f"callback_status.{s}")) for s in STATUSES],
        rows=[], back=urlencode(form.query()), can_record=actor.can("case.work"),
        recorded=recorded(session, actor=actor, callback_id=params.get("recorded", ""),
                          lab=lab, root=root),
        status_code=attempt.status if attempt else 200)
    problem = _filter_problem(form, lab)
    if problem is not None:
        return replace(view, problem=problem, status_code=422)
    found = surveys_service.callback_queue(session, actor=actor, status=form.status,
                                           limit=QUEUE_LIMIT)
    if form.overdue:
        found = [(c, case) for c, case in found if is_late(c, now)]
    resolves = cases_service.timelines(session, actor=actor, cases=[case for _, case in found],
                                       types=("resolve",))  # one query, not one a row
    last = {ident: events[-1] for ident, events in resolves.items() if events}
    rows = [_row(callback, case, lab, resolved=last.get(case.id), now=now, root=root,
                 can_record=view.can_record, attempt=attempt) for callback, case in found]
    return replace(view, rows=rows, capped=len(found) >= QUEUE_LIMIT,
                   page_problem=_lost_problem(attempt, rows))


def _lost_problem(attempt: Attempt | None, rows: Sequence[CallbackRow]) -> Problem | None:
    """A refusal whose form the list does not show (the callback is no longer pending, or
    filtered out): said at the top of the page instead."""
    if attempt is None or any(r.id == attempt.callback_id and r.form for r in rows):
        return None
    return attempt.problem if attempt.problem is not None else attempt.errors[0]


# --- recording a result -------------------------------------------------------------------------

def _callback_id(value: str) -> int:
    if not value.isdigit():
        raise NotFound(f"no callback {value!r}", field="callback")
    return int(value)


def record(session: Session, *, actor: Actor, callback_id: str, posted: Posted,
           lab: Labeller) -> tuple[int, Attempt | None]:
    """Record the result a queue form posted: (callback id, None) when recorded, else the
    refused `Attempt`. A callback the viewer may not see is a 404 page, a role that may not
    record one a 403 page (both raised)."""
    ident = _callback_id(callback_id)
    surveys_service.get_callback(session, actor=actor, callback_id=ident)  # 404 first
    values = posted.first()
    kept = {k: values.get(k, "") for k in ("reached", "csat", "nps", "solved", "comment")}
    parsed = parse_result(values, lab)
    if isinstance(parsed, list):
        return ident, Attempt(ident, kept, parsed)
    try:
        with session.begin_nested():  # a refusal undoes whatever recording had begun
            surveys_service.record_result(session, actor=actor, callback_id=ident,
                                          result=parsed)
    except (NotFound, Forbidden):
        raise
    except Conflict as exc:
        if exc.field != "callback":
            return ident, Attempt(ident, kept, [], _refused(exc, lab), exc.status)
        callback, _ = surveys_service.get_callback(session, actor=actor, callback_id=ident)
        message = lab("callback_error.done_already",
                      status=lab(f"callback_status.{callback.status}"))
        return ident, Attempt(ident, kept, [], Problem(None, "", message), exc.status)
    except BankvocError as exc:
        return ident, Attempt(ident, kept, [], _refused(exc, lab), exc.status)
    return ident, None


def _refused(exc: BankvocError, lab: Labeller) -> Problem:
    return Problem(None, "", lab("callback_error.refused"), exc.message)

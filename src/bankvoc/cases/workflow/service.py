"""One service call per workflow action: role, org scope, state and version are checked, the
action's rules applied, the case updated and the step appended to its timeline. Never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from bankvoc.cases import retention
from bankvoc.cases import service as cases_service
from bankvoc.cases.enums import OPEN_STATUSES, CaseKind
from bankvoc.cases.events import append_event
from bankvoc.cases.models import CASE_TABLE, Case
from bankvoc.cases.workflow import alarms, clock, schemas, telling
from bankvoc.cases.workflow.config import load_config
from bankvoc.cases.workflow.models import CaseComplainant, CaseParty
from bankvoc.cases.workflow.table import Action, actions_in, rule_for
from bankvoc.core.db import is_write_conflict
from bankvoc.core.errors import BankvocError, Conflict, Forbidden, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import service as customer_service
from bankvoc.nlp import pii
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org, User
from bankvoc.orgs.service import Actor
from bankvoc.problems import service as problems_service
from bankvoc.problems.schemas import RootCauseIn
from bankvoc.sla import clocks as sla
from bankvoc.sla.errors import ApproverNotAllowed, ExtensionRefused
from bankvoc.sla.policy import DECISION

# Roles that work cases in a queue: assignment by load picks among them.
HANDLING_ROLES = frozenset({"handler", "agent"})


class IllegalTransition(Conflict):
    code = "illegal_transition"


class StaleCase(Conflict):
    code = "stale_version"


@dataclass
class Step:
    session: Session
    actor: Actor
    case: Case
    now: dt.datetime


Handler = Callable[[Step, Any], dict[str, Any]]


def act(session: Session, *, actor: Actor, reference: str, step: schemas.Step,
        now: dt.datetime | None = None) -> Case:
    """Take one workflow step on the case `reference` (which the actor must be able to see)."""
    case = cases_service.get_case(session, actor=actor, reference=reference)
    return apply(session, actor=actor, case=case, step=step, now=now or utcnow())


def apply(session: Session, *, actor: Actor, case: Case, step: schemas.Step,
          now: dt.datetime) -> Case:
    action = Action(step.action)
    if step.version != case.version:
        raise StaleCase(f"case {case.reference} has changed since you loaded it (you saw "
                        f"version {step.version}, it is now {case.version}): reload it and "
                        "try again", field="version")
    if retention.is_anonymised(case):
        raise IllegalTransition(f"case {case.reference} was anonymised at the end of its keeping "
                                "period: no step can be taken on it", field="action")
    rule = rule_for(case.status, action)
    if rule is None:
        possible = ", ".join(actions_in(case.status)) or "none"
        raise IllegalTransition(f"cannot {action} case {case.reference} while it is "
                                f"{case.status}; possible now: {possible}", field="action")
    actor.require(rule.permission)
    before, reference = case.status, case.reference
    data = _HANDLERS[action](Step(session, actor, case, now), step)
    if rule.to is not None:
        case.status = rule.to
    case.updated_at = now  # every step is a new version of the case
    # ... even one that changes only other rows (a co-complainant) at the instant of the step
    # before: an unchanged row would not be written and its version not bumped (found by the
    # workflow's state-machine test, tests/cases/workflow/test_properties.py).
    flag_modified(case, "updated_at")
    try:
        session.flush()
    except (StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_write_conflict(exc):
            raise
        raise StaleCase(f"case {reference} was changed by someone else at the same time: "
                        "reload it and try again", field="version") from None
    # Steps set foreign keys; the related rows are read again when next asked for.
    session.expire(case, ["assignee", "handling_org", "first_responder"])
    event_data = {k: _masked(k, v) for k, v in data.items() if v is not None}
    if case.status != before:
        event_data.update({"from": before, "to": case.status})
    append_event(session, case=case, type=action.value, actor_user_id=actor.user_id,
                 data=event_data, at=now)
    telling.tell_customer(session, case=case, action=action, data=data, now=now)
    if action.value in clock.CLOCK_STEPS or case.status != before:
        alarms.replan(session, case, now)
    return case


# What staff type (notes, reasons, what the customer was told) is kept on the timeline masked,
# as the case's own text is: screens, exports and the dossier show the timeline. The customer's
# messages are sent from the words as typed.
FREE_TEXTS = frozenset({"text", "reason", "basis", "comment", "summary", "note"})


def _masked(key: str, value: Any) -> Any:
    return pii.mask_text(value) if key in FREE_TEXTS and isinstance(value, str) else value


# --- receipt -----------------------------------------------------------------------------------

def _accept(s: Step, p: schemas.Accept) -> dict[str, Any]:
    case = s.case
    if p.subject_user:
        case.subject_user_id = org_service.get_user(s.session, username=p.subject_user).id
    if p.subject_org:
        case.subject_org_id = org_service.get_org_by_code(s.session, code=p.subject_org).id
    case.accepted_at = s.now
    _take_first_response(s)
    if case.assignee_id is not None:
        _check_no_conflict_of_interest(s, s.session.get_one(User, case.assignee_id))
    return {"subject_user": p.subject_user, "subject_org": p.subject_org}


def _take_first_response(s: Step) -> None:
    """首问负责: whoever first takes the case in hand stays accountable through transfers."""
    if s.case.first_responder_id is None:
        s.case.first_responder_id = s.actor.user_id


def _refuse(s: Step, p: schemas.Refuse) -> dict[str, Any]:
    s.case.closed_at = s.now
    _take_first_response(s)
    return {"reason": p.reason}


# --- who works it --------------------------------------------------------------------------------

def _assign(s: Step, p: schemas.Assign) -> dict[str, Any]:
    queue = _handling_org(s)
    if p.user is None:
        user = _least_loaded(s.session, queue, exclude=_excluded(s.case))
        how = "by load"
    else:
        user = org_service.get_user(s.session, username=p.user)
        how = "by hand"
        if not _same_line(user.org, queue):
            raise Invalid(f"{user.username} does not work in {queue.code}, which handles the "
                          "case, nor above or below it", field="user")
    if not user.active:
        raise Invalid(f"{user.username} is not an active user", field="user")
    _check_no_conflict_of_interest(s, user)
    s.case.assignee_id = user.id
    _take_first_response(s)
    return {"assignee": user.username, "queue": queue.code, "how": how}


def _handling_org(s: Step) -> Org:
    org_id = s.case.handling_org_id or s.case.org_id
    return s.session.get_one(Org, org_id)


def _excluded(case: Case) -> tuple[int | None, int | None]:
    return case.subject_user_id, case.subject_org_id


def _same_line(org: Org, queue: Org) -> bool:
    """The org handling a case, one above it (a branch works its outlets' cases) or below."""
    return queue.path.startswith(org.path) or org.path.startswith(queue.path)


def _least_loaded(session: Session, queue: Org,
                  exclude: tuple[int | None, int | None]) -> User:
    """The handler with the fewest open cases (ties: the longest-serving account) in the
    queue, or, when it has none, in the nearest org above it that has."""
    candidates: list[User] = []
    org: Org | None = queue
    while org is not None and not candidates:
        candidates = [u for u in session.scalars(
            select(User).join(Org, Org.id == User.org_id)
            .where(Org.path.startswith(org.path, autoescape=True), User.active.is_(True))
            .order_by(User.id))
            if HANDLING_ROLES & set(u.roles) and u.id != exclude[0] and u.org_id != exclude[1]]
        org = session.get(Org, org.parent_id) if org.parent_id else None
    if not candidates:
        raise Conflict(f"nobody in or above {queue.code} can take the case: assign it by hand",
                       field="user")
    load = {assignee: count for assignee, count in session.execute(
        select(Case.assignee_id, func.count())
        .where(Case.assignee_id.in_([u.id for u in candidates]),
               Case.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Case.assignee_id))}
    return min(candidates, key=lambda u: (load.get(u.id, 0), u.id))


def _check_no_conflict_of_interest(s: Step, user: User) -> None:
    """回避: the employee complained about, or anyone of the outlet complained about, never
    handles the case."""
    if s.case.subject_user_id is not None and user.id == s.case.subject_user_id:
        raise Conflict(f"{user.username} is the employee complained about and may not handle "
                       "the case (回避)", field="user", code="conflict_of_interest")
    if s.case.subject_org_id is not None and user.org_id == s.case.subject_org_id:
        raise Conflict(f"{user.username} works at the outlet complained about and may not "
                       "handle the case (回避)", field="user", code="conflict_of_interest")


def _transfer(s: Step, p: schemas.Transfer) -> dict[str, Any]:
    target = org_service.get_org_by_code(s.session, code=p.to_org)
    current = _handling_org(s)
    if target.id == current.id:
        raise Invalid(f"the case is already handled by {target.code}", field="to_org")
    if s.case.subject_org_id == target.id:
        raise Conflict(f"{target.code} is the outlet complained about and may not handle the "
                       "case (回避)", field="to_org", code="conflict_of_interest")
    _take_first_response(s)
    s.case.handling_org_id = target.id
    s.case.assignee_id = None
    s.case.transfer_count += 1
    return {"from_org": current.code, "to_org": target.code, "reason": p.reason,
            "transfers": s.case.transfer_count}


def _add_cohandler(s: Step, p: schemas.AddCohandler) -> dict[str, Any]:
    org = org_service.get_org_by_code(s.session, code=p.org)
    user = org_service.get_user(s.session, username=p.user) if p.user else None
    if user is not None:
        if not user.org.path.startswith(org.path):
            raise Invalid(f"{user.username} does not work in {org.code}", field="user")
        _check_no_conflict_of_interest(s, user)
    due = p.due_at or s.case.due_at
    s.session.add(CaseParty(case_id=s.case.id, org_id=org.id,
                            user_id=user.id if user else None, due_at=due))
    return {"org": org.code, "user": user.username if user else None,
            "due_at": due.isoformat() if due else None}


def _add_complainant(s: Step, p: schemas.AddComplainant) -> dict[str, Any]:
    customer_id = customer_service.find_or_create(s.session, name=p.name, phone=p.phone,
                                                  id_number=p.id_number)
    known = s.session.scalar(select(CaseComplainant).where(
        CaseComplainant.case_id == s.case.id, CaseComplainant.customer_id == customer_id))
    if known is not None or customer_id == s.case.customer_id:
        raise Conflict("this complainant is on the case already", field="phone")
    limit = load_config().max_representatives
    if p.representative:
        count = s.session.scalar(select(func.count()).select_from(CaseComplainant).where(
            CaseComplainant.case_id == s.case.id, CaseComplainant.representative)) or 0
        if count >= limit:
            raise Conflict(f"a group complaint has at most {limit} representatives",
                           field="representative")
    s.session.add(CaseComplainant(case_id=s.case.id, customer_id=customer_id,
                                  representative=p.representative))
    return {"customer_id": customer_id, "representative": p.representative}


# --- investigation and decision ------------------------------------------------------------------

def _investigate(s: Step, p: schemas.Investigate) -> dict[str, Any]:
    if s.case.assignee_id is None:
        s.case.assignee_id = s.actor.user_id
    return {}


def _note(s: Step, p: schemas.Note) -> dict[str, Any]:
    return {"kind": p.kind, "text": p.text}


def _propose(s: Step, p: schemas.Propose) -> dict[str, Any]:
    limit = load_config().limit_of(s.actor.roles)
    amount = p.amount if p.decision in ("refund", "compensation") else None
    s.case.decision_type = p.decision.value
    s.case.decision_amount = amount
    s.case.decision_needs_approval = amount is not None and amount > limit
    s.case.decision_approved_by = None
    return {"decision": p.decision.value, "amount": str(amount) if amount else None,
            "basis": p.basis, "reason": p.reason,
            "needs_approval": s.case.decision_needs_approval, "authority": str(limit)}


def _approve(s: Step, p: schemas.Approve) -> dict[str, Any]:
    case = s.case
    if not case.decision_needs_approval:
        raise Conflict("the proposed decision is within the proposer's authority and needs no "
                       "approval", field="action")
    amount = case.decision_amount or Decimal(0)
    limit = load_config().limit_of(s.actor.roles)
    # Whoever proposed it lacked the authority, so an approver whose limit covers the amount
    # is always someone else.
    if amount > limit:
        raise Forbidden(f"approving {amount} CNY exceeds your authority ({limit} CNY)")
    case.decision_approved_by = s.actor.user_id
    return {"amount": str(amount), "comment": p.comment or None}


def _resolve(s: Step, p: schemas.Resolve) -> dict[str, Any]:
    case = s.case
    if case.decision_needs_approval and case.decision_approved_by is None:
        raise Conflict(f"the decision of {case.decision_amount} CNY needs an approval first",
                       field="action", code="approval_needed")
    cause = _trace_cause(s, p.root_cause)
    case.resolved_at = s.now
    told = p.told_at or s.now
    return {"told_via": p.told_via, "told_at": told.isoformat(), "summary": p.summary,
            "decision": case.decision_type, "root_cause": cause}


def _trace_cause(s: Step, given: RootCauseIn | None) -> str | None:
    """溯源整改: record the root cause given with the step (its own timeline event); a
    complaint concluded without any is refused or flagged, as workflow.yaml says. Returns the
    cause category, "missing" for the flag, None when nothing is owed (not a complaint)."""
    if given is not None:
        return problems_service.record_root_cause(s.session, actor=s.actor, case=s.case,
                                                  data=given, now=s.now).category
    if s.case.kind != CaseKind.complaint or problems_service.has_root_cause(
            s.session, case_id=s.case.id):
        return None
    if load_config().root_cause == "required":
        raise Invalid(f"complaint {s.case.reference} is concluded with its root cause "
                      "(category and 5W1H)", field="root_cause")
    return "missing"


def _tell(s: Step, p: schemas.Tell) -> dict[str, Any]:
    return {"via": p.via, "summary": p.summary}


def _customer_answer(s: Step, p: schemas.CustomerAnswer) -> dict[str, Any]:
    return {"satisfied": p.satisfied, "comment": p.comment or None}


def _close(s: Step, p: schemas.Close) -> dict[str, Any]:
    if p.root_cause is not None:
        _trace_cause(s, p.root_cause)
    s.case.closed_at = s.now
    return {"root_cause": p.root_cause.category.value if p.root_cause else None}


def _archive(s: Step, p: schemas.Archive) -> dict[str, Any]:
    return {}


def _reopen(s: Step, p: schemas.Reopen) -> dict[str, Any]:
    case = s.case
    case.reopen_count += 1
    case.resolved_at = case.closed_at = None
    return {"reason": p.reason, "reopened": case.reopen_count}


def _answer_regulator(s: Step, p: schemas.AnswerRegulator) -> dict[str, Any]:
    if s.case.origin == "direct":
        raise IllegalTransition(f"case {s.case.reference} came from the customer, not from a "
                                "regulator: there is no regulator to answer", field="action")
    return {"origin": s.case.origin, "origin_reference": s.case.origin_reference,
            "via": p.via, "summary": p.summary, "reference": p.reference}


def _escalate(s: Step, p: schemas.Escalate) -> dict[str, Any]:
    # From the row as it is (locked on PostgreSQL): the SLA sweep raises the level too.
    level = s.session.scalar(select(CASE_TABLE.c.escalation_level)
                             .where(CASE_TABLE.c.id == s.case.id).with_for_update())
    s.case.escalation_level = (level or 0) + 1
    return {"reason": p.reason, "level": s.case.escalation_level}


# --- the clock ---------------------------------------------------------------------------------

def _extend(s: Step, p: schemas.Extend) -> dict[str, Any]:
    """A complex case gets 30 days, an especially complex one 60 with an approval (the SLA
    policy says who may approve which step)."""
    events = clock.timeline_events(s.session, s.case)
    current = clock.compute(s.case, events, s.now)[DECISION]
    days = current.days or 0  # double the period: 15 -> 30 -> 60
    approver = org_service.get_user(s.session, username=p.approved_by) if p.approved_by else None
    titles = clock.approver_titles(s.session, approver, s.case) if approver else []
    refusal: BankvocError | None = None
    candidates: list[str | None] = [*titles] or [None]
    for title in candidates:
        extension = sla.ExtensionGranted(at=s.now, days=days, approver=title)
        try:
            clocks = clock.compute(s.case, [*events, extension], s.now)
        except (ApproverNotAllowed, ExtensionRefused) as exc:
            refusal = exc
            continue
        s.case.due_at = clock.decision_due(clocks)
        return {"days": days, "total_days": clocks[DECISION].days, "reason": p.reason,
                "approved_by": p.approved_by, "approver_title": title,
                "due_at": _iso(s.case.due_at),
                "tell_customer": clocks[DECISION].extensions[-1].tell_customer}
    assert refusal is not None
    if approver is None and isinstance(refusal, ApproverNotAllowed):
        raise Invalid(refusal.message, field="approved_by")
    raise refusal


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _pause(s: Step, p: schemas.Pause) -> dict[str, Any]:
    if s.case.paused_since is not None:
        raise Conflict("the clock is paused already", field="action", code="paused")
    events = clock.timeline_events(s.session, s.case)
    clocks = clock.compute(s.case, [*events, sla.PauseStarted(at=s.now, reason=p.reason)],
                           s.now)
    s.case.paused_since = s.now
    pauses = clocks[DECISION].pauses if DECISION in clocks else ()
    return {"reason": p.reason, "note": p.note or None,
            "tell_customer": pauses[-1].tell_customer if pauses else True}


def _resume(s: Step, p: schemas.Resume) -> dict[str, Any]:
    case = s.case
    if case.paused_since is None:
        raise Conflict("the clock is not paused", field="action", code="not_paused")
    events = clock.timeline_events(s.session, case)
    clocks = clock.compute(case, [*events, sla.PauseEnded(at=s.now)], s.now)
    case.paused_since = None
    case.due_at = clock.decision_due(clocks)
    pause = clocks[DECISION].pauses[-1] if DECISION in clocks and clocks[DECISION].pauses \
        else None
    return {"paused_days": pause.days if pause else 0, "due_at": _iso(case.due_at)}


# --- the end of a case ------------------------------------------------------------------------

def _merge(s: Step, p: schemas.Merge) -> dict[str, Any]:
    case = s.case
    try:
        target = cases_service.get_case(s.session, actor=s.actor, reference=p.into)
    except NotFound:
        raise NotFound(f"no case {p.into} you may see", field="into") from None
    if target.id == case.id or target.status not in OPEN_STATUSES:
        raise Conflict(f"case {p.into} is not another open case", field="into")
    target.merged_count += 1
    append_event(s.session, case=target, type="merged_in", actor_user_id=s.actor.user_id,
                 data={"case": case.reference}, at=s.now)
    # After the target's event, whose flush would otherwise write this case too: one step, one
    # new version (found by the workflow's state-machine test: a merge counted two).
    case.merged_into_id = target.id
    case.closed_at = s.now
    return {"into": target.reference}


def _withdraw(s: Step, p: schemas.Withdraw) -> dict[str, Any]:
    tz = get_settings().tz
    arrived = p.arrived_on or s.now.astimezone(tz).date()
    received = s.case.received_at.astimezone(tz).date()
    if arrived < received or arrived > s.now.astimezone(tz).date():
        raise Invalid("the withdrawal arrived between the receipt of the case and today",
                      field="arrived_on")
    # The clock stops the day the withdrawal arrives.
    s.case.withdrawn_at = dt.datetime.combine(arrived, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    s.case.closed_at = s.now
    return {"arrived_on": arrived.isoformat(), "reason": p.reason or None}


_HANDLERS: dict[Action, Handler] = {
    Action.accept: _accept, Action.refuse: _refuse, Action.assign: _assign,
    Action.investigate: _investigate, Action.note: _note, Action.propose: _propose,
    Action.approve: _approve, Action.resolve: _resolve, Action.tell: _tell,
    Action.customer_answer: _customer_answer, Action.close: _close, Action.archive: _archive,
    Action.reopen: _reopen, Action.transfer: _transfer, Action.add_cohandler: _add_cohandler,
    Action.add_complainant: _add_complainant, Action.escalate: _escalate,
    Action.extend: _extend, Action.pause: _pause, Action.resume: _resume, Action.merge: _merge,
    Action.withdraw: _withdraw, Action.answer_regulator: _answer_regulator,
}
assert set(_HANDLERS) == set(Action), "every action needs its handler"

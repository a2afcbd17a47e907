"""A case's clocks as its timeline has shaped them, computed by the SLA engine (bankvoc.sla).

The timeline is the record: extensions granted (with the approver's title), pauses for outside
appraisal, testing or evaluation, a withdrawal, the decision told. Before a step that touches a
clock is recorded, the clocks are computed with it included: a step the policy does not allow
(an extension beyond 60 days, an approver the policy does not name) is refused with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.timeutil import ensure_aware
from bankvoc.orgs.models import Org, User
from bankvoc.sla import clocks as sla
from bankvoc.sla import service as sla_service
from bankvoc.sla.policy import DECISION, load_policy

# Timeline steps that shape a clock, and the clocks each step meets (a clock the policy does not
# have is left out): accepting is the response and a first contact (the customer is told), any
# communication is a contact, a proposal is the solution, the decision told meets them all.
MEETS: dict[str, tuple[str, ...]] = {
    "accept": ("first_contact", "response"),
    "tell": ("first_contact",),
    "propose": ("solution",),
    "resolve": (DECISION, "solution", "feedback", "first_contact", "response"),
}
CLOCK_STEPS = ("extend", "pause", "resume", "withdraw", *MEETS)

EventRow = tuple[str, dt.datetime, dict[str, Any]]


def timeline_events(session: Session, case: Case) -> list[sla.ClockEvent]:
    """The clock events recorded on the case's timeline, oldest first."""
    return timelines(session, {case.id: case.withdrawn_at})[case.id]


def timelines(session: Session, cases: Mapping[int, dt.datetime | None]
              ) -> dict[int, list[sla.ClockEvent]]:
    """The clock events of many cases (case id → its withdrawal, if any), in one query per
    500 cases."""
    rows: dict[int, list[EventRow]] = {case_id: [] for case_id in cases}
    ids = list(cases)
    for start in range(0, len(ids), 500):
        for row in session.execute(
                select(CaseEvent.case_id, CaseEvent.type, CaseEvent.at, CaseEvent.data)
                .where(CaseEvent.case_id.in_(ids[start:start + 500]),
                       CaseEvent.type.in_(CLOCK_STEPS))
                .order_by(CaseEvent.case_id, CaseEvent.seq)):
            rows[row.case_id].append((row.type, row.at, row.data))
    return {case_id: clock_events(found, cases[case_id]) for case_id, found in rows.items()}


def clock_events(rows: Sequence[EventRow], withdrawn_at: dt.datetime | None
                 ) -> list[sla.ClockEvent]:
    policy = load_policy()
    clocks = {*policy.statutory, *policy.targets}
    found: list[sla.ClockEvent] = []
    for type_, moment, data in rows:
        at = ensure_aware(moment)
        if type_ == "extend":
            found.append(sla.ExtensionGranted(at=at, days=int(data["days"]),
                                              approver=data.get("approver_title")))
        elif type_ == "pause":
            found.append(sla.PauseStarted(at=at, reason=str(data["reason"])))
        elif type_ == "resume":
            found.append(sla.PauseEnded(at=at))
        elif type_ == "withdraw" and withdrawn_at is not None:
            found.append(sla.Withdrawn(at=ensure_aware(withdrawn_at)))
        else:
            found.extend(sla.ClockMet(at=at, clock=name)
                         for name in MEETS.get(type_, ()) if name in clocks)
    return found


class ClockFacts(Protocol):
    """What the clocks of a case depend on: a Case, or a row selected with these columns."""

    kind: str
    received_at: dt.datetime
    origin: str
    channel: str
    severity: str


def compute(case: ClockFacts, events: Sequence[sla.ClockEvent],
            now: dt.datetime) -> sla.CaseClocks:
    """Every clock of the case with `events`; raises the SLA engine's refusals."""
    return sla_service.case_clocks(kind=case.kind, received_at=ensure_aware(case.received_at),
                                   now=now, events=events, origin=case.origin,
                                   channel=case.channel, severity=case.severity)


def decision_due(clocks: sla.CaseClocks) -> dt.datetime | None:
    return clocks[DECISION].due_at if DECISION in clocks else None


def approver_titles(session: Session, user: User, case: Case) -> list[str]:
    """The titles the SLA policy names approvers by, that `user` holds for `case`: head-office
    consumer protection is a head-office senior manager and the complaint head; a manager or
    consumer protection officer of an org above the case's is its superior office."""
    titles = []
    roles = set(user.roles)
    org = session.get_one(Org, user.org_id)
    case_org = session.get_one(Org, case.org_id)
    at_head_office = org.parent_id is None
    if at_head_office and roles & {"cpo", "admin"}:
        titles += ["head_office_senior_manager", "complaint_head"]
    above = case_org.path.startswith(org.path) and case_org.path != org.path
    if above and roles & {"branch_manager", "cpo", "admin"}:
        titles.append("superior_office")
    if roles & {"cpo"} and "complaint_head" not in titles:
        titles.append("complaint_head")
    return titles

"""A case's clocks as its timeline has shaped them, computed by the SLA engine (bankvoc.sla).

The timeline is the record: extensions granted (with the approver's title), pauses for outside
appraisal, testing or evaluation, a withdrawal, the decision told. Before a step that touches a
clock is recorded, the clocks are computed with it included: a step the policy does not allow
(an extension beyond 60 days, an approver the policy does not name) is refused with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.orgs.models import Org, User
from bankvoc.sla import clocks as sla
from bankvoc.sla import service as sla_service
from bankvoc.sla.policy import DECISION

# Timeline events that shape a clock.
CLOCK_STEPS = ("extend", "pause", "resume", "withdraw", "resolve")


def timeline_events(session: Session, case: Case) -> list[sla.ClockEvent]:
    """The clock events recorded on the case's timeline, oldest first."""
    found: list[sla.ClockEvent] = []
    for event in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id,
                                    CaseEvent.type.in_(CLOCK_STEPS))
            .order_by(CaseEvent.seq)):
        data, at = event.data, event.at
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        if event.type == "extend":
            found.append(sla.ExtensionGranted(at=at, days=int(data["days"]),
                                              approver=data.get("approver_title")))
        elif event.type == "pause":
            found.append(sla.PauseStarted(at=at, reason=str(data["reason"])))
        elif event.type == "resume":
            found.append(sla.PauseEnded(at=at))
        elif event.type == "withdraw" and case.withdrawn_at is not None:
            found.append(sla.Withdrawn(at=_aware(case.withdrawn_at)))
        elif event.type == "resolve":
            found.append(sla.ClockMet(at=at, clock=DECISION))
    return found


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def compute(case: Case, events: Sequence[sla.ClockEvent], now: dt.datetime) -> sla.CaseClocks:
    """Every clock of the case with `events`; raises the SLA engine's refusals."""
    return sla_service.case_clocks(kind=case.kind, received_at=_aware(case.received_at),
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

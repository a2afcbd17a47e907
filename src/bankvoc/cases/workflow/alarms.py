"""Deadline alarms: the warnings and escalations a case's clocks will raise, planned ahead.

Each open case carries its plan (`case.sla_plan`) and the instant its next alarm is due
(`case.sla_next_at`, indexed), so the sweep (`sweep.py`) reads only the cases with something
due instead of computing a million cases' clocks every minute. The plan is rebuilt whenever a
step may change the clocks (`replan`), and by the sweep for a case planned under another policy
version (the job `cases.sla_replan` makes those cases due); a new case comes from intake with
no plan and `sla_next_at` at its receipt, and the sweep plans it first.

An alarm is identified by its clock, kind, step and the due instant it counts towards: an
extension moves the due instant, so its warnings are new alarms and fire again; an alarm whose
key has fired is never planned again. The keys fired are kept in the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bankvoc.cases.enums import OPEN_STATUSES
from bankvoc.cases.models import CASE_TABLE, Case
from bankvoc.cases.workflow import clock
from bankvoc.sla.clocks import CaseClocks
from bankvoc.sla.enums import ClockState
from bankvoc.sla.policy import Policy, load_policy

WARNING = "warning"
ESCALATION = "escalation"
# Fired keys kept per case: enough for every alarm of several re-planned clocks.
_FIRED_KEPT = 200


@dataclass(frozen=True)
class Alarm:
    at: dt.datetime  # UTC
    clock: str
    kind: str  # WARNING or ESCALATION
    step: int  # a warning: the percentage of the time gone; an escalation: its level (1 = breach)
    due_at: dt.datetime  # the clock's due instant it counts towards (UTC)

    @cached_property
    def key(self) -> str:
        return f"{self.clock}:{self.kind}:{self.step}:{self.due_at:%Y%m%dT%H%M%S}"

    def as_json(self) -> list[Any]:
        return [self.at.isoformat(), self.clock, self.kind, self.step, self.due_at.isoformat()]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> Alarm:
        at, name, kind, step, due = row
        return cls(dt.datetime.fromisoformat(at), name, kind, int(step),
                   dt.datetime.fromisoformat(due))


def alarms_of(clocks: CaseClocks, policy: Policy) -> list[Alarm]:
    """Every alarm of the running clocks: their warnings, the breach at the due instant and
    each further level of the escalation chain, in time order."""
    found: list[Alarm] = []
    for each in clocks:
        if each.state is not ClockState.running or each.due_at is None:
            continue
        due = each.due_at.astimezone(dt.UTC)
        for at, fraction in zip(each.warn_at, each.warn_fractions, strict=True):
            found.append(Alarm(at.astimezone(dt.UTC), each.name, WARNING,
                               round(fraction * 100), due))
        for level, step in enumerate(policy.escalation, start=1):
            found.append(Alarm(due + dt.timedelta(hours=step.after_hours), each.name,
                               ESCALATION, level, due))
    return sorted(found, key=lambda a: (a.at, a.clock, a.kind, a.step))


@dataclass(frozen=True)
class Plan:
    policy_version: str
    alarms: tuple[Alarm, ...]  # not yet fired, in time order
    fired: tuple[str, ...]

    @property
    def next_at(self) -> dt.datetime | None:
        return self.alarms[0].at if self.alarms else None

    def as_json(self) -> dict[str, Any]:
        return {"policy": self.policy_version, "alarms": [a.as_json() for a in self.alarms],
                "fired": list(self.fired[-_FIRED_KEPT:])}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Plan | None:
        if not data:
            return None
        return cls(str(data.get("policy", "")),
                   tuple(Alarm.from_json(row) for row in data.get("alarms", [])),
                   tuple(data.get("fired", [])))

    def due(self, now: dt.datetime) -> list[Alarm]:
        return [a for a in self.alarms if a.at <= now]

    def after_firing(self, keys: Iterable[str]) -> Plan:
        done = set(keys)
        return Plan(self.policy_version, tuple(a for a in self.alarms if a.key not in done),
                    (*self.fired, *sorted(done)))


def plan_for(clocks: CaseClocks, policy: Policy, *, fired: Sequence[str] = ()) -> Plan:
    """The plan of a case with `clocks` under `policy`, leaving out the alarms that have
    fired."""
    done = set(fired)
    return Plan(clocks.policy_version,
                tuple(a for a in alarms_of(clocks, policy) if a.key not in done),
                tuple(fired))


def replan(session: Session, case: Case, now: dt.datetime) -> None:
    """Rebuild the case's plan after a step changed its clocks; an ended case raises no alarm.

    Called after the step's own UPDATE, which holds the row: the alarms fired are read from
    the row as it is now, not as the request loaded it, so a sweep that fired meanwhile is
    not undone. Written past the ORM's version counter: a plan is bookkeeping, not a new
    version of the case a handler could be overwriting.
    """
    stored_now = session.scalar(select(CASE_TABLE.c.sla_plan)
                                .where(CASE_TABLE.c.id == case.id))
    old = Plan.from_json(stored_now)
    stored: dict[str, Any] | None
    if case.status in OPEN_STATUSES:
        plan = plan_for(clock.compute(case, clock.timeline_events(session, case), now),
                        load_policy(), fired=old.fired if old else ())
        stored, next_at = plan.as_json(), plan.next_at
    else:
        stored, next_at = (old.as_json() if old else None), None
    session.execute(update(CASE_TABLE).where(CASE_TABLE.c.id == case.id)
                    .values(sla_plan=stored, sla_next_at=next_at))
    set_committed_value(case, "sla_plan", stored)
    set_committed_value(case, "sla_next_at", next_at)

"""The SLA sweep: fire every deadline alarm that is due, exactly once.

Each batch is one transaction that claims the cases whose next alarm is due (see `claim`:
row locks with SKIP LOCKED on PostgreSQL, the write lock at once on SQLite), plans
the cases that have no plan yet, appends one event per alarm fired to each case's timeline,
queues the notifications in the outbox and stores what fired. A sweep killed half-way rolls its
batch back and the next sweep does it again: nothing fires twice, nothing is lost.

When several alarms of one clock are due together (the sweep was stopped for a while, or a case
was imported late), only the latest fires: a warning is superseded by a later warning or by the
breach, a level of the chain by a higher one; the event lists what it superseded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Integer, Row, bindparam, select, update
from sqlalchemy import case as when
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.cases.enums import OPEN_STATUSES
from bankvoc.cases.events import GENESIS_HASH, chain_tips, event_row
from bankvoc.cases.models import CASE_TABLE, Case, CaseEvent
from bankvoc.cases.workflow import clock
from bankvoc.cases.workflow.alarms import ESCALATION, WARNING, Alarm, Plan, plan_for
from bankvoc.cases.workflow.escalation import CaseParties, Directory, Person
from bankvoc.core.db import bulk_insert, session_factory, transaction
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.i18n import t
from bankvoc.notify import service as notify
from bankvoc.notify.service import Outgoing, Recipient
from bankvoc.sla.policy import Policy, load_policy

log = logging.getLogger(__name__)

BATCH = 1000

_CLAIMED = (Case.id, Case.reference, Case.kind, Case.origin, Case.channel, Case.severity,
            Case.status, Case.received_at, Case.withdrawn_at, Case.org_id, Case.handling_org_id,
            Case.assignee_id, Case.first_responder_id, Case.escalation_level, Case.sla_plan,
            Case.language)


@dataclass
class SweepResult:
    claimed: int = 0
    planned: int = 0
    warnings: int = 0
    escalations: int = 0
    superseded: int = 0
    notifications: int = 0
    unreachable: int = 0  # people to tell who have no e-mail address or mobile on file

    def add(self, other: SweepResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def claim(session: Session, *, now: dt.datetime, limit: int) -> list[Row[Any]]:
    """Take up to `limit` cases whose next alarm is due, oldest alarm first, for the rest of
    the transaction.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so sweeps at once take disjoint cases and a case a
    handler is saving is left for the next sweep, without writing the row twice. SQLite has
    no row locks: an UPDATE takes the database's write lock at once (a plain SELECT first
    would let two sweeps read the same cases and fail later on the stale snapshot).
    """
    table = CASE_TABLE
    due = table.c.sla_next_at <= now
    columns = [table.c[column.key] for column in _CLAIMED]
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(
            select(*columns).where(due).order_by(table.c.sla_next_at).limit(limit)
            .with_for_update(skip_locked=True)).all())
    chosen = select(table.c.id).where(due).order_by(table.c.sla_next_at).limit(limit)
    stmt = (update(table).where(table.c.id.in_(chosen), due)
            .values(sla_next_at=None, updated_at=table.c.updated_at).returning(*columns))
    return list(session.execute(stmt).all())


@dataclass(frozen=True)
class Firing:
    alarm: Alarm
    superseded: tuple[str, ...]


def choose(due: Sequence[Alarm]) -> list[Firing]:
    """Per clock, the latest alarm due, and the earlier ones it supersedes."""
    by_clock: dict[str, list[Alarm]] = defaultdict(list)
    for alarm in due:
        by_clock[alarm.clock].append(alarm)
    chosen = []
    for alarms in by_clock.values():
        latest = max(alarms, key=lambda a: (a.kind == ESCALATION, a.step, a.at))
        chosen.append(Firing(latest, tuple(a.key for a in alarms if a is not latest)))
    return sorted(chosen, key=lambda f: (f.alarm.at, f.alarm.clock))


class _Batch:
    def __init__(self, session: Session, now: dt.datetime, directory: Directory,
                 policy: Policy) -> None:
        self.session, self.now, self.directory, self.policy = session, now, directory, policy
        self.result = SweepResult()
        self.events: list[tuple[int, str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.outgoing: list[Outgoing] = []

    def run(self, rows: Sequence[Row[Any]]) -> SweepResult:
        self.result.claimed = len(rows)
        live = [row for row in rows if row.status in OPEN_STATUSES]
        self.updates += [{"b_id": row.id, "b_plan": row.sla_plan, "b_next": None,
                          "b_level": row.escalation_level}
                         for row in rows if row.status not in OPEN_STATUSES]
        plans = self._plans(live)
        for row in live:
            plan = plans.get(row.id)
            if plan is not None:
                self._fire(row, plan)
        self._write()
        return self.result

    def _plans(self, rows: Sequence[Row[Any]]) -> dict[int, Plan]:
        plans: dict[int, Plan] = {}
        stale: list[Row[Any]] = []
        for row in rows:
            plan = Plan.from_json(row.sla_plan)
            if plan is None or plan.policy_version != self.policy.version:
                stale.append(row)
            else:
                plans[row.id] = plan
        events = clock.timelines(self.session, {row.id: row.withdrawn_at for row in stale})
        for row in stale:
            old = Plan.from_json(row.sla_plan)
            fired = old.fired if old else ()
            try:
                clocks = clock.compute(row, events[row.id], self.now)
            except BankvocError as exc:  # a timeline the policy refuses: raise no alarm
                log.warning("case %s: no deadline alarms: %s", row.reference, exc)
                self.updates.append(self._update(row, Plan(self.policy.version, (), fired),
                                                 row.escalation_level))
                continue
            plans[row.id] = plan_for(clocks, self.policy, fired=fired)
            self.result.planned += 1
        return plans

    def _fire(self, row: Row[Any], plan: Plan) -> None:
        firings = choose(plan.due(self.now))
        level = row.escalation_level
        parties = CaseParties(row.org_id, row.handling_org_id, row.assignee_id,
                              row.first_responder_id)
        for firing in firings:
            alarm = firing.alarm
            to = (self.policy.escalation[alarm.step - 1].to if alarm.kind == ESCALATION
                  else "handler")
            people = self.directory.recipients(to, parties)
            told, unreachable = self._notify(row, alarm, people)
            data: dict[str, Any] = {"clock": alarm.clock, "due_at": alarm.due_at.isoformat(),
                                    "to": to, "notified": told}
            if unreachable:
                data["unreachable"] = unreachable
            if firing.superseded:
                data["superseded"] = list(firing.superseded)
            if alarm.kind == ESCALATION:
                data["level"] = alarm.step
                level = max(level, alarm.step)
                self.result.escalations += 1
            else:
                data["percent"] = alarm.step
                self.result.warnings += 1
            self.result.superseded += len(firing.superseded)
            self.events.append((row.id, f"sla_{alarm.kind}", data))
        fired = [f.alarm.key for f in firings] + [k for f in firings for k in f.superseded]
        self.updates.append(self._update(row, plan.after_firing(fired), level))

    def _notify(self, row: Row[Any], alarm: Alarm, people: Sequence[Person]
                ) -> tuple[list[str], list[str]]:
        told, unreachable = [], []
        for person in people:
            channel, address = (("email", person.email) if person.email else
                                ("sms", person.mobile) if person.mobile else (None, None))
            try:
                if channel is None or address is None:
                    raise Invalid("no work address on file", field="recipient")
                # Checked here, not by the outbox: one bad address must not fail the batch.
                notify.normalise_address(channel, address)
            except Invalid:
                unreachable.append(person.username)
                continue
            language = "en" if row.language == "en" else "zh"
            self.outgoing.append(Outgoing(
                template=_template(alarm), channel=channel,
                recipient=Recipient.user(address, ref=person.username), language=language,
                context=self._context(row, alarm, language), case_id=row.id,
                dedupe_key=f"sla:{row.id}:{alarm.key}:{person.id}"))
            told.append(person.username)
        self.result.notifications += len(told)
        self.result.unreachable += len(unreachable)
        return told, unreachable

    def _context(self, row: Row[Any], alarm: Alarm, language: str) -> dict[str, Any]:
        context: dict[str, Any] = {"reference": row.reference, "due_at": alarm.due_at}
        if alarm.kind == WARNING:
            context["hours_left"] = max(0, round((alarm.due_at - self.now).total_seconds()
                                                 / 3600))
        else:
            label = self.policy.label(alarm.clock, language)
            context.update(level=alarm.step, severity=t(f"severity.{row.severity}", language),
                           reason=(f"{label}已超时" if language == "zh"
                                   else f"the deadline for {label.lower()} passed"))
        return context

    def _update(self, row: Row[Any], plan: Plan, level: int) -> dict[str, Any]:
        return {"b_id": row.id, "b_plan": plan.as_json(), "b_next": plan.next_at,
                "b_level": level}

    def _write(self) -> None:
        notify.enqueue_many(self.session, self.outgoing, now=self.now)
        if self.events:
            tips = chain_tips(self.session, case_ids={case_id for case_id, _, _ in self.events})
            rows = []
            for case_id, type_, data in self.events:
                seq, prev = tips.get(case_id, (0, GENESIS_HASH))
                event = event_row(case_id=case_id, seq=seq + 1, type=type_, at=self.now,
                                  actor_user_id=None, data=data, prev_hash=prev)
                tips[case_id] = (seq + 1, event["hash"])
                rows.append(event)
            bulk_insert(self.session, CaseEvent, rows)
        if self.updates:
            table = CASE_TABLE
            level: Any = bindparam("b_level", type_=Integer)
            self.session.connection().execute(
                update(table).where(table.c.id == bindparam("b_id")).values(
                    sla_plan=bindparam("b_plan", type_=table.c.sla_plan.type),
                    sla_next_at=bindparam("b_next", type_=table.c.sla_next_at.type),
                    escalation_level=when((table.c.escalation_level < level, level),
                                          else_=table.c.escalation_level),
                    updated_at=table.c.updated_at),
                self.updates)


def _template(alarm: Alarm) -> str:
    return "escalated" if alarm.kind == ESCALATION else "deadline_warning"


def sweep_batch(session: Session, *, now: dt.datetime, limit: int = BATCH,
                directory: Directory | None = None) -> SweepResult:
    """Fire the alarms of up to `limit` due cases in the caller's transaction."""
    rows = claim(session, now=now, limit=limit)
    if not rows:
        return SweepResult()
    return _Batch(session, now, directory or Directory(session), load_policy()).run(rows)


def replan_for_policy(session: Session, *, now: dt.datetime, version: str) -> int:
    """Make every open case planned under another policy version due now, so the sweep plans
    it again under `version` (a bank tightened a target: its warnings must not wait for the
    old plan's next alarm). Returns how many cases."""
    table = CASE_TABLE
    result = session.execute(
        update(table).where(table.c.status.in_(sorted(OPEN_STATUSES)),
                            table.c.sla_plan.is_not(None),
                            table.c.sla_plan["policy"].as_string() != version)
        .values(sla_next_at=now, updated_at=table.c.updated_at))
    return int(getattr(result, "rowcount", 0) or 0)


# (database, policy version) pairs this process has re-planned for: a policy is loaded once
# per process, so once is enough; doing it again would only cost a scan of the open cases.
_replanned: set[tuple[str, str]] = set()


def replan_policy_change(now: dt.datetime, *,
                         sessions: sessionmaker[Session] | None = None) -> int:
    """`replan_for_policy` for the policy this process has loaded, once per process and
    database (the job `cases.sla_replan`: a scan of the open cases, kept out of the sweep)."""
    sessions = sessions or session_factory()
    version = load_policy().version
    with transaction(sessions) as session:
        key = (str(session.get_bind().engine.url), version)
        if key in _replanned:
            return 0
        found = replan_for_policy(session, now=now, version=version)
    _replanned.add(key)
    return found


def sweep(now: dt.datetime, *, sessions: sessionmaker[Session] | None = None,
          limit: int = BATCH) -> SweepResult:
    """Fire every alarm due at `now`, one transaction per batch of cases."""
    sessions = sessions or session_factory()
    with transaction(sessions) as session:
        directory = Directory(session)
    total = SweepResult()
    while True:
        with transaction(sessions) as session:
            done = sweep_batch(session, now=now, limit=limit, directory=directory)
        total.add(done)
        if done.claimed < limit:
            return total

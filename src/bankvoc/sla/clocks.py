"""A case's clocks, computed from the policy, the case's facts and what has happened to it.

Pure: the same policy, facts, events, `now`, time zone and calendar always give the same clocks.
Nothing here reads the wall clock or the database; the case workflow passes its events in.

Statutory clocks count days (see `calendar` for how the law counts them):

- the period starts at receipt; for rules that start on corrections (PBoC transfers), a request
  for corrections stops the clock and their completion starts a fresh period;
- an extension adds days, up to each step's `up_to` with one of that step's approvers, never
  beyond the rule's last step, and only while the period is still running;
- a pause for a reason the rule names (outside appraisal, testing, evaluation) is not counted:
  the days from the day it starts to the day it ends are added to the period (the day a pause
  ends is not counted, as the day of receipt is not);
- new facts in a repeat complaint restart the period from the day they arrive, without the
  extensions and pauses of the old one;
- a withdrawal stops every clock the day it arrives; no event may follow it.

The bank's targets run in calendar or working hours from receipt until met or withdrawn.

Warnings: each running clock carries the instants at which the policy's fractions of its time
have passed (`warn_at`); a paused, waiting, met or stopped clock warns of nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from bankvoc.sla.calendar import WorkCalendar
from bankvoc.sla.enums import ClockState, ClockUnit
from bankvoc.sla.errors import ApproverNotAllowed, ClockEventInvalid, ExtensionRefused
from bankvoc.sla.policy import DECISION, BusinessHours, CaseFacts, Policy, StatutoryRule, TargetRule

# --- what happens to a case ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ClockEvent:
    at: dt.datetime  # aware; stored as UTC


@dataclass(frozen=True, kw_only=True)
class ExtensionGranted(ClockEvent):
    """`days` more for a statutory clock, approved by someone in the role `approver`."""

    days: int
    approver: str | None = None
    clock: str = DECISION


@dataclass(frozen=True, kw_only=True)
class PauseStarted(ClockEvent):
    """Outside appraisal, testing or evaluation began (a reason from `pause_reasons`)."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class PauseEnded(ClockEvent):
    """The appraisal, testing or evaluation under way ended."""


@dataclass(frozen=True, kw_only=True)
class Withdrawn(ClockEvent):
    """The customer withdrew the complaint: handling ends the day the request arrives."""


@dataclass(frozen=True, kw_only=True)
class CorrectionsRequested(ClockEvent):
    """The customer was asked to complete the complaint."""


@dataclass(frozen=True, kw_only=True)
class CorrectionsCompleted(ClockEvent):
    """The customer's corrections are complete."""


@dataclass(frozen=True, kw_only=True)
class NewFacts(ClockEvent):
    """A repeat complaint brought new facts or reasons."""


@dataclass(frozen=True, kw_only=True)
class ClockMet(ClockEvent):
    """What `clock` asks for was done (the decision told, the customer contacted, ...)."""

    clock: str


# --- what the clocks say -------------------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    at: dt.datetime
    days: int
    total_days: int  # the period in days after it
    approver: str | None
    tell_customer: bool  # the policy says the customer is told of it


@dataclass(frozen=True)
class Pause:
    reason: str
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None: still under way
    days: int  # not counted (for one under way: until `now`)
    tell_customer: bool  # the policy says the customer is told of it


@dataclass(frozen=True)
class Clock:
    name: str
    rule: str  # the policy rule that set it
    statutory: bool
    unit: ClockUnit
    state: ClockState
    started_at: dt.datetime | None  # None while waiting for corrections
    last_day: dt.date | None  # local; for a paused clock, as if it resumed at `now`
    due_at: dt.datetime | None  # UTC, the instant the period ends
    warn_at: tuple[dt.datetime, ...] = ()
    warn_fractions: tuple[float, ...] = ()  # the fractions of its time `warn_at` marks
    days: int | None = None  # statutory: the period, extensions included
    max_days: int | None = None  # statutory: with every extension the rule allows
    paused_days: int = 0
    extensions: tuple[Extension, ...] = ()
    pauses: tuple[Pause, ...] = ()
    allowance: dt.timedelta | None = None  # targets: the time they give
    ended_at: dt.datetime | None = None  # when met or stopped

    def overdue(self, now: dt.datetime) -> bool:
        """Whether the clock has run out: still open at its due instant, or met after it."""
        if self.due_at is None or self.state in (ClockState.stopped, ClockState.waiting):
            return False
        if self.state is ClockState.met:
            return self.ended_at is not None and self.ended_at > self.due_at
        return now >= self.due_at


@dataclass(frozen=True)
class CaseClocks:
    policy_version: str
    received_at: dt.datetime
    clocks: Mapping[str, Clock]  # statutory first, then targets, in the policy's order
    warnings: tuple[str, ...] = field(default=())  # e.g. a year counted by weekends only

    def __getitem__(self, name: str) -> Clock:
        return self.clocks[name]

    def __contains__(self, name: object) -> bool:
        return name in self.clocks

    def __iter__(self) -> Iterator[Clock]:
        return iter(self.clocks.values())


# --- warnings ------------------------------------------------------------------------------------


def warn_at(clock: Clock, fractions: Sequence[float], *, calendar: WorkCalendar, tz: ZoneInfo,
            hours: BusinessHours) -> tuple[dt.datetime, ...]:
    """The instants (UTC) at which `fractions` of a running clock's time have passed.

    Days and calendar hours: that fraction of the time from the clock's start to its due
    instant; working hours: that fraction of its working time, counted in working hours. A
    paused, waiting, met or stopped clock warns of nothing.
    """
    if (clock.state is not ClockState.running or clock.started_at is None
            or clock.due_at is None):
        return ()
    start = clock.started_at
    if clock.unit is ClockUnit.working and clock.allowance is not None:
        return tuple(calendar.add_working_time(start, clock.allowance * f, tz=tz,
                                               opens=hours.start, closes=hours.end)
                     .replace(microsecond=0) for f in fractions)
    span = clock.due_at - start
    return tuple((start + span * f).replace(microsecond=0) for f in fractions)


# --- computing -----------------------------------------------------------------------------------


def _check_events(events: Sequence[ClockEvent], received_at: dt.datetime, now: dt.datetime,
                  policy: Policy) -> list[ClockEvent]:
    """The events in time order, once each is known to be possible."""
    for event in events:
        if event.at.tzinfo is None:
            raise ClockEventInvalid(f"{type(event).__name__} needs a time with its time zone",
                                    field="at")
        if event.at < received_at:
            raise ClockEventInvalid(f"{type(event).__name__} at {event.at.isoformat()} is before "
                                    "the case was received", field="at")
        if event.at > now:
            raise ClockEventInvalid(f"{type(event).__name__} at {event.at.isoformat()} has not "
                                    "happened yet", field="at")
    ordered = sorted(events, key=lambda e: e.at)
    pausing: PauseStarted | None = None
    withdrawn: Withdrawn | None = None
    for event in ordered:
        if withdrawn is not None:
            raise ClockEventInvalid(f"{type(event).__name__} follows the withdrawal at "
                                    f"{withdrawn.at.isoformat()}", field="events")
        if isinstance(event, Withdrawn):
            withdrawn = event
        elif isinstance(event, PauseStarted):
            if event.reason not in policy.pause_reasons:
                raise ClockEventInvalid(
                    f"{event.reason!r} is not a pause reason of the policy "
                    f"({', '.join(policy.pause_reasons) or 'none'})", field="reason")
            if pausing is not None:
                raise ClockEventInvalid("a pause started while another was under way (since "
                                        f"{pausing.at.isoformat()})", field="at")
            pausing = event
        elif isinstance(event, PauseEnded):
            if pausing is None:
                raise ClockEventInvalid("a pause ended that had not started", field="at")
            pausing = None
        elif isinstance(event, ExtensionGranted):
            if event.days <= 0:
                raise ExtensionRefused("an extension adds at least one day", field="days")
            if event.clock not in policy.statutory:
                raise ExtensionRefused(f"{event.clock!r} is not a statutory clock that may be "
                                       "extended", field="clock")
        elif isinstance(event, ClockMet) and (event.clock not in policy.statutory
                                              and event.clock not in policy.targets):
            raise ClockEventInvalid(f"{event.clock!r} is not a clock of the policy",
                                    field="clock")
    return ordered


class _Period:
    """A statutory period being worked out event by event."""

    def __init__(self, name: str, rule: StatutoryRule, received_at: dt.datetime, *,
                 calendar: WorkCalendar, tz: ZoneInfo) -> None:
        self.name, self.rule, self.calendar, self.tz = name, rule, calendar, tz
        self.state = ClockState.running
        self.ended_at: dt.datetime | None = None
        self._restart(received_at)
        self.skipping_pause = False  # a pause under way whose reason this clock does not heed

    def _restart(self, at: dt.datetime | None) -> None:
        self.start = at
        self.days = self.rule.days
        self.extensions: list[Extension] = []
        self.pauses: list[Pause] = []
        self.pausing: tuple[str, dt.datetime] | None = None

    def _local(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    def excluded_days(self, until: dt.datetime) -> int:
        done = sum(p.days for p in self.pauses)
        if self.pausing is not None:
            done += (self._local(until) - self._local(self.pausing[1])).days
        return done

    def last_day(self, until: dt.datetime) -> dt.date | None:
        """The last day as things stand at `until` (a pause under way counted until then)."""
        if self.start is None:
            return None
        return self.calendar.last_day(self._local(self.start),
                                      self.days + self.excluded_days(until))

    def due(self, until: dt.datetime) -> dt.datetime | None:
        day = self.last_day(until)
        return None if day is None else self.calendar.day_end(day, self.tz)

    def _must_be_running(self, event: ClockEvent, what: str,
                         error: type[ClockEventInvalid] | type[ExtensionRefused]) -> None:
        if self.state is ClockState.waiting:
            raise error(f"the {self.name} clock has not started: the customer's corrections "
                        f"are outstanding, so {what} cannot apply", field="at")
        if self.state is ClockState.met:
            raise error(f"the {self.name} clock was met at {self._when(self.ended_at)}, so "
                        f"{what} cannot apply", field="at")
        due = self.due(event.at)
        if due is not None and event.at >= due:
            raise error(f"the {self.name} period ran out at {self._when(due)}, before {what} "
                        f"at {self._when(event.at)}", field="at")

    def _when(self, at: dt.datetime | None) -> str:
        return "?" if at is None else at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def apply(self, event: ClockEvent) -> None:
        rule = self.rule
        if isinstance(event, Withdrawn):
            self.state, self.ended_at = ClockState.stopped, event.at
        elif isinstance(event, CorrectionsRequested):
            if rule.starts == "corrections_complete" and self.state is not ClockState.met:
                self._restart(None)
                self.state = ClockState.waiting
        elif isinstance(event, CorrectionsCompleted):
            if rule.starts == "corrections_complete" and self.state is not ClockState.met:
                self._restart(event.at)
                self.state = ClockState.running
        elif isinstance(event, NewFacts):
            if rule.restart_on_new_facts and self.state is not ClockState.waiting:
                pausing = self.pausing
                self._restart(event.at)
                self.ended_at = None
                if pausing is not None:  # an appraisal under way goes on; counted from now
                    self.pausing = (pausing[0], event.at)
                    self.state = ClockState.paused
                else:
                    self.state = ClockState.running
        elif isinstance(event, ExtensionGranted) and event.clock == self.name:
            self._extend(event)
        elif isinstance(event, PauseStarted):
            if event.reason not in rule.paused_by or self.state is not ClockState.running:
                self.skipping_pause = True
                return
            self._must_be_running(event, "the pause", ClockEventInvalid)
            self.pausing = (event.reason, event.at)
            self.state = ClockState.paused
        elif isinstance(event, PauseEnded):
            if self.skipping_pause or self.pausing is None:
                self.skipping_pause = False
                return
            reason, started = self.pausing
            self.pauses.append(Pause(reason, started, event.at,
                                     (self._local(event.at) - self._local(started)).days,
                                     rule.tell_customer_of_pause))
            self.pausing = None
            self.state = ClockState.running
        elif (isinstance(event, ClockMet) and event.clock == self.name
              and self.state in (ClockState.running, ClockState.paused)):
            self.state, self.ended_at = ClockState.met, event.at

    def _extend(self, event: ExtensionGranted) -> None:
        rule = self.rule
        self._must_be_running(event, "the extension", ExtensionRefused)
        total = self.days + event.days
        step = rule.extension_step(total)
        if step is None:
            raise ExtensionRefused(
                f"an extension of {event.days} days would make the {self.name} period "
                f"{total} days; rule {rule.id} allows {rule.max_days} days at most "
                f"({self.days} granted so far)", field="days")
        if step.approvers and event.approver not in step.approvers:
            who = f"; {event.approver!r} may not" if event.approver else ", and none is given"
            raise ApproverNotAllowed(
                f"extending the {self.name} period to {total} days needs the approval of "
                f"{' or '.join(step.approvers)} (rule {rule.id}){who}", field="approver")
        self.days = total
        self.extensions.append(Extension(event.at, event.days, total, event.approver,
                                         step.tell_customer))

    def clock(self, now: dt.datetime) -> Clock:
        # A pause under way counts until now, or until the clock was met or stopped.
        until = self.ended_at or now
        pauses = list(self.pauses)
        if self.pausing is not None:
            reason, started = self.pausing
            pauses.append(Pause(reason, started, None,
                                (self._local(until) - self._local(started)).days,
                                self.rule.tell_customer_of_pause))
        return Clock(
            name=self.name, rule=self.rule.id, statutory=True, unit=ClockUnit.days,
            state=self.state, started_at=self.start, last_day=self.last_day(until),
            due_at=self.due(until), days=self.days if self.start is not None else None,
            max_days=self.rule.max_days, paused_days=sum(p.days for p in pauses),
            extensions=tuple(self.extensions), pauses=tuple(pauses), ended_at=self.ended_at)



def _target(name: str, rule: TargetRule, received_at: dt.datetime,
            events: Sequence[ClockEvent], *, policy: Policy, calendar: WorkCalendar,
            tz: ZoneInfo) -> Clock:
    if rule.unit == "working":
        hours = policy.business_hours
        due = calendar.add_working_time(received_at, rule.allowance, tz=tz, opens=hours.start,
                                        closes=hours.end)
    else:
        due = calendar.add_calendar_time(received_at, rule.allowance)
    state, ended_at = ClockState.running, None
    for event in events:
        if isinstance(event, Withdrawn):
            state, ended_at = ClockState.stopped, event.at
        elif isinstance(event, ClockMet) and event.clock == name and state is ClockState.running:
            state, ended_at = ClockState.met, event.at
    # A period ending at midnight ends on the day before, as a day period ends at 24:00.
    last_day = (due.astimezone(tz) - dt.timedelta(microseconds=1)).date()
    return Clock(name=name, rule=rule.id, statutory=False, unit=ClockUnit(rule.unit),
                 state=state, started_at=received_at.astimezone(dt.UTC), last_day=last_day,
                 due_at=due, allowance=rule.allowance, ended_at=ended_at)


def compute_clocks(policy: Policy, facts: CaseFacts, received_at: dt.datetime,
                   events: Sequence[ClockEvent] = (), *, now: dt.datetime, tz: ZoneInfo,
                   calendar: WorkCalendar) -> CaseClocks:
    """Every clock of a case with `facts`, received at `received_at`, after `events`, at `now`.

    Raises ClockEventInvalid, ExtensionRefused or ApproverNotAllowed (each naming its field)
    for events the policy does not allow.
    """
    if received_at.tzinfo is None:
        raise ClockEventInvalid("the time of receipt needs its time zone", field="received_at")
    if now.tzinfo is None:
        raise ClockEventInvalid("now needs its time zone", field="now")
    received_at = received_at.astimezone(dt.UTC)
    ordered = _check_events(events, received_at, now, policy)
    found: list[tuple[Clock, StatutoryRule | TargetRule]] = []
    for name in policy.statutory:
        rule = policy.statutory_rule(name, facts)
        if rule is None:
            continue
        period = _Period(name, rule, received_at, calendar=calendar, tz=tz)
        for event in ordered:
            period.apply(event)
        found.append((period.clock(now), rule))
    for event in ordered:
        if isinstance(event, ExtensionGranted) and all(c.name != event.clock for c, _ in found):
            raise ExtensionRefused(f"this case has no {event.clock} clock to extend",
                                   field="clock")
    for name in policy.targets:
        target = policy.target_rule(name, facts)
        if target is not None:
            found.append((_target(name, target, received_at, ordered, policy=policy,
                                  calendar=calendar, tz=tz), target))
    clocks = {clock.name: _with_warnings(clock, policy.fractions(rule), policy, calendar, tz)
              for clock, rule in found}
    return CaseClocks(policy_version=policy.version, received_at=received_at, clocks=clocks,
                      warnings=_calendar_warnings(list(clocks.values()), received_at,
                                                  calendar, tz))


def _with_warnings(clock: Clock, fractions: Sequence[float], policy: Policy,
                   calendar: WorkCalendar, tz: ZoneInfo) -> Clock:
    instants = warn_at(clock, fractions, calendar=calendar, tz=tz, hours=policy.business_hours)
    return replace(clock, warn_at=instants, warn_fractions=tuple(fractions[:len(instants)]))


def _calendar_warnings(clocks: Sequence[Clock], received_at: dt.datetime,
                       calendar: WorkCalendar, tz: ZoneInfo) -> tuple[str, ...]:
    """What the calendar says of the years the day-counting clocks span."""
    counted = [c.last_day for c in clocks
               if c.last_day is not None and c.unit is not ClockUnit.calendar]
    if not counted:
        return ()
    first = received_at.astimezone(tz).year
    return tuple(message for year in range(first, max(counted).year + 1)
                 for message in calendar.warnings(year))

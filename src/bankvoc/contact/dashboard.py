"""What the contact-centre dashboard shows, computed once from the interactions of a period:
the headline KPIs against their targets and against the period before (as long, just before
it), one row per team, agent or queue, and the KPIs of every local day of the period.

Every figure is `contact.kpis` applied to the same facts its `report` reads (one query of the
actor's subtree, the same repeat contacts for first-contact resolution), so the dashboard and
`bankvoc contact kpis` agree to the last digit. Never writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.contact import kpis
from bankvoc.contact.kpis import Facts, Grouping, KpiRow
from bankvoc.core.errors import Invalid
from bankvoc.core.timeutil import to_local
from bankvoc.orgs.models import User
from bankvoc.orgs.service import Actor

MAX_DAYS = 366  # the longest period the dashboard reads at once
CUTS: tuple[Grouping, ...] = ("team", "agent", "queue")

Better = Literal["higher", "lower"]


@dataclass(frozen=True)
class Target:
    """The bank's threshold of a KPI: met when the value is at least (higher is better) or at
    most (lower is better) `value`. Rates are fractions 0-1, times are seconds."""

    kpi: str
    value: float
    better: Better

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.value if self.better == "higher" else value <= self.value


# The banking association's contact-centre standard gives the formulas and leaves the thresholds
# to the bank (DESIGN.md, "Rules of the trade"); these are the dashboard's defaults: the common
# "80% within 20 s" service level, and thresholds Chinese banks' phone centres usually set.
TARGETS: dict[str, Target] = {t.kpi: t for t in (
    Target("service_level", 0.80, "higher"),
    Target("connect_rate", 0.90, "higher"),
    Target("abandonment_rate", 0.05, "lower"),
    Target("asa_s", 20.0, "lower"),
    Target("aht_s", 300.0, "lower"),
    Target("fcr", 0.80, "higher"),
    Target("satisfied_rate", 0.90, "higher"),
    Target("transfer_rate", 0.10, "lower"),
)}
# The KPIs of the headline, in order (CSAT is the share of ratings 4-5, with the mean score).
HEADLINE = ("service_level", "connect_rate", "abandonment_rate", "asa_s", "aht_s", "fcr",
            "satisfied_rate")


@dataclass(frozen=True)
class Overview:
    start: date
    end: date
    previous_start: date
    previous_end: date
    by: Grouping
    service_level_s: int
    current: KpiRow
    previous: KpiRow
    groups: list[KpiRow]
    days: list[tuple[date, KpiRow]]
    targets: dict[str, Target]


def check_period(start: date, end: date) -> None:
    if end < start:
        raise Invalid("the period ends before it starts", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise Invalid(f"a period of at most {MAX_DAYS} days", field="from")


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period as long as [start, end] that ends the day before it starts."""
    length = end - start + timedelta(days=1)
    return start - length, start - timedelta(days=1)


def overview(session: Session, *, actor: Actor, start: date, end: date, by: Grouping = "team",
             org_code: str | None = None, tz: ZoneInfo,
             service_level_s: int = kpis.SERVICE_LEVEL_S) -> Overview:
    """The dashboard's figures of [start, end] (whole local days), cut by `by` (team, agent or
    queue), for the actor's subtree or `org_code`'s within it. Raises Invalid naming the field
    (`from`, `to`, `by`, `org`, `service_level_s`) of a bad request."""
    actor.require("kpi.read")
    check_period(start, end)
    if by not in CUTS:
        raise Invalid(f"cannot cut by {by!r}; use one of {', '.join(CUTS)}", field="by")
    kpis.check_threshold(service_level_s)
    before_start, before_end = previous_period(start, end)
    current = kpis.facts_of(session, actor=actor, by=by, start=start, end=end,
                            org_code=org_code, tz=tz)
    before = kpis.facts_of(session, actor=actor, start=before_start, end=before_end,
                           org_code=org_code, tz=tz)
    everything = [*before, *current]
    repeats = kpis.repeated([f for f in everything if f.answered],
                            kpis.later_contacts(session, facts=everything))

    def compute(facts: list[Facts], group: str | None = "all") -> KpiRow:
        return kpis.compute(facts, repeated_ids=repeats, service_level_s=service_level_s,
                            group=group)

    by_day: dict[date, list[Facts]] = defaultdict(list)
    for fact in current:
        by_day[to_local(fact.started_at, tz).date()].append(fact)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return Overview(
        start=start, end=end, previous_start=before_start, previous_end=before_end, by=by,
        service_level_s=service_level_s, current=compute(current), previous=compute(before),
        groups=kpis.compute_groups(current, repeated_ids=repeats,
                                   service_level_s=service_level_s),
        days=[(day, compute(by_day.get(day, []), day.isoformat())) for day in days],
        targets=TARGETS)


def agent_names(session: Session, *, usernames: list[str]) -> dict[str, str]:
    """The display names of the agents among `usernames` (staff names, shown as the case pages
    show an assignee's); a name the ACD wrote that is no user is left out."""
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.display_name)
                           .where(User.username.in_(usernames)))
    return {username: name for username, name in rows if name}

"""What the contact-centre dashboard shows, computed once from the interactions of a period:
the headline KPIs against their targets and against the period before (as long, just before
it), one row per team, agent or queue, and the KPIs of every local day of the period.

Every figure is `contact.kpis` applied to the same facts its `report` reads (one query of the
actor's subtree, the same repeat contacts for first-contact resolution), so the dashboard and
`bankvoc contact kpis` agree to the last digit. Never writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.contact import kpis
from bankvoc.contact import targets as contact_targets
from bankvoc.contact.kpis import Facts, Grouping, KpiRow
from bankvoc.contact.targets import Target
from bankvoc.core.errors import Invalid
from bankvoc.core.timeutil import to_local
from bankvoc.orgs.models import User
from bankvoc.orgs.service import Actor

MAX_DAYS = 366  # the longest period the dashboard reads at once
CUTS: tuple[Grouping, ...] = ("team", "agent", "queue")

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
    targets: dict[str, Target]  # of the scope, from the contact-centre targets in force
    # a queue's own targets where it has some (the rows of a cut by queue)
    queue_targets: dict[str, dict[str, Target]] = field(default_factory=dict)
    targets_version: int = 0  # the contact_targets version they come from (0: the file)

    def targets_of(self, group: str | None) -> dict[str, Target]:
        """The targets a row of the cut is held to: a queue's own, else the scope's."""
        if self.by == "queue" and group is not None:
            return self.queue_targets.get(group, self.targets)
        return self.targets


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
             service_level_s: int | None = None) -> Overview:
    """The dashboard's figures of [start, end] (whole local days), cut by `by` (team, agent or
    queue), for the actor's subtree or `org_code`'s within it, against the contact-centre
    targets in force for that scope (`contact.targets`: the nearest org's, a queue's own for
    the rows of a cut by queue); the service level within `service_level_s` seconds, by default
    the window in force. Raises Invalid naming the field (`from`, `to`, `by`, `org`,
    `service_level_s`) of a bad request."""
    actor.require("kpi.read")
    check_period(start, end)
    if by not in CUTS:
        raise Invalid(f"cannot cut by {by!r}; use one of {', '.join(CUTS)}", field="by")
    config = contact_targets.load_targets()
    version = contact_targets.version_in_force()
    codes = kpis.org_codes(session, org=kpis.scope_org(session, actor=actor, org_code=org_code))
    if service_level_s is None:
        service_level_s = config.window(codes)
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
        targets=config.targets(codes),
        queue_targets={queue: config.targets(codes, queue) for queue in config.queues},
        targets_version=version)


def agent_names(session: Session, *, usernames: list[str]) -> dict[str, str]:
    """The display names of the agents among `usernames` (staff names, shown as the case pages
    show an assignee's); a name the ACD wrote that is no user is left out."""
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.display_name)
                           .where(User.username.in_(usernames)))
    return {username: name for username, name in rows if name}

"""The operational service metrics of an org's subtree, month by month, against their targets.

Formulas (each month is the bank's local calendar month; an org's figure covers its subtree):

- Queue tickets, by the day they were issued, per business type and for all types together:
  average wait and handling (minutes); P90 wait and handling (nearest rank: the smallest value
  that at least 90% of the tickets do not exceed); the share of called tickets that waited
  longer than `wait_over_minutes` (15 by default). A ticket never called (the customer left)
  has no wait or handling time and counts in none of them.
- Channel days, per channel: availability is the mean of the days' availability (each day
  weighs the same: it is the same length); the average response is the days' averages weighted
  by their requests (a plain mean when a day has no request count); the P95 is the 95th
  percentile (nearest rank) of the days' own P95.
- Processes, by the day they finished, per process type: median (the middle value, or the mean
  of the two middle ones) and P90 (nearest rank) of start-to-finish durations, in hours.
  Processes still open are not counted.
- Digital usage, summed over the subtree's orgs: app monthly active users; self-service share =
  self-service transactions ÷ (self-service + counter transactions) of the orgs that report
  both; assistant resolution rate = resolved ÷ sessions.

A target is met when the latest month's figure is on its better side of it (at or below a
"lower is better" target, at or above a "higher is better" one); app users' target is their
month-on-month growth in percent. The month-on-month change is the latest month's figure minus
the month before's (in the metric's unit).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bankvoc.core.errors import Invalid, NotFound
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor
from bankvoc.servicedata.models import ChannelDay, DigitalUsage, ProcessRecord, QueueTicket
from bankvoc.servicedata.targets import METRICS, Metric, TargetsFile, load_targets

MAX_MONTHS = 36
ALL = ""  # the group of every business type together


# --- arithmetic ----------------------------------------------------------------------------------

def nearest_rank(values: Sequence[float], pct: float) -> float | None:
    """The `pct` percentile by nearest rank: the smallest value that at least `pct`% of the
    values do not exceed (P90 of 1..10 is 9, of 1..20 is 18)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return float(ordered[rank - 1])


def mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def ratio(numerator: float, denominator: float, scale: float = 100.0) -> float | None:
    return scale * numerator / denominator if denominator else None


# --- months --------------------------------------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of the months from `start`'s to `end`'s, both included."""
    first, last = month_start(start), month_start(end)
    if last < first:
        raise Invalid("the last month is before the first", field="to")
    found = []
    while first <= last:
        found.append(first)
        first = add_months(first, 1)
    if len(found) > MAX_MONTHS:
        raise Invalid(f"at most {MAX_MONTHS} months at a time", field="from")
    return found


def parse_month(text: str, *, field_name: str) -> date:
    """A month written 2026-10 (or 2026/10)."""
    parts = text.strip().replace("/", "-").split("-")
    try:
        if len(parts) != 2 or len(parts[0]) != 4:
            raise ValueError
        return date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        raise Invalid(f"{text!r} is not a month (write 2026-10)", field=field_name) from None


# --- the figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    month: date
    value: float | None
    n: int  # what the figure counts: tickets, days, processes, orgs reporting


@dataclass
class Series:
    """One metric for one group (a business type, channel or process type; "" for all)."""

    metric: Metric
    group: str
    points: list[Point]  # one per month shown, in order
    target: float | None
    before: Point | None = None  # the month before the first shown (for its change)

    def _previous(self, index: int) -> Point | None:
        return self.points[index - 1] if index > 0 else self.before

    def change(self, index: int = -1) -> float | None:
        """This month's figure minus the month before's (in the metric's unit)."""
        index = index % len(self.points)
        now, before = self.points[index], self._previous(index)
        if now.value is None or before is None or before.value is None:
            return None
        return now.value - before.value

    def growth(self, index: int = -1) -> float | None:
        """This month's figure against the month before's, in percent."""
        index = index % len(self.points)
        now, before = self.points[index], self._previous(index)
        if now.value is None or before is None or not before.value:
            return None
        return 100.0 * (now.value - before.value) / before.value

    def met(self, index: int = -1) -> bool | None:
        """Whether the month's figure meets the target (None: no figure or no target)."""
        if self.target is None:
            return None
        index = index % len(self.points)
        value = (self.growth(index) if self.metric.target_is_growth
                 else self.points[index].value)
        if value is None:
            return None
        return value <= self.target if self.metric.better == "lower" else value >= self.target

    @property
    def latest(self) -> Point:
        return self.points[-1]

    def as_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric.code, "group": self.group, "unit": self.metric.unit,
            "better": self.metric.better, "target": self.target,
            "target_is_growth": self.metric.target_is_growth,
            "months": [{"month": p.month.strftime("%Y-%m"), "value": _round(p.value),
                        "n": p.n, "met": self.met(i)} for i, p in enumerate(self.points)],
            "latest": _round(self.latest.value), "change": _round(self.change()),
            "growth_pct": _round(self.growth()), "met": self.met(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Report:
    org: Org
    months: list[date]
    wait_over_minutes: float
    series: list[Series] = field(default_factory=list)

    def of(self, metric: str) -> list[Series]:
        return [s for s in self.series if s.metric.code == metric]

    def as_dict(self) -> dict[str, object]:
        return {"org": self.org.code, "from": self.months[0].strftime("%Y-%m"),
                "to": self.months[-1].strftime("%Y-%m"),
                "wait_over_minutes": self.wait_over_minutes,
                "series": [s.as_dict() for s in self.series]}


Cells = dict[tuple[str, date], list[float]]


def _end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def _subtree(root: Org) -> Select[int]:
    return select(Org.id).where(Org.path.startswith(root.path, autoescape=True))


def _queue_cells(session: Session, root: Org, first: date, last: date,
                 over_s: float) -> dict[str, Cells]:
    rows = session.execute(
        select(QueueTicket.service_date, QueueTicket.business_type, QueueTicket.wait_s,
               QueueTicket.handle_s)
        .where(QueueTicket.org_id.in_(_subtree(root)),
               QueueTicket.service_date >= first, QueueTicket.service_date <= _end(last)))
    waits: Cells = defaultdict(list)
    handles: Cells = defaultdict(list)
    for day, business, wait_s, handle_s in rows:
        month = month_start(day)
        for group in (ALL, business):
            if wait_s is not None:
                waits[(group, month)].append(wait_s / 60)
            if handle_s is not None:
                handles[(group, month)].append(handle_s / 60)
    over: Cells = {key: [100.0 if v * 60 > over_s else 0.0 for v in values]
                   for key, values in waits.items()}
    return {"wait": waits, "handle": handles, "over": over}


def _channel_cells(session: Session, root: Org, first: date,
                   last: date) -> dict[tuple[str, date], list[ChannelDay]]:
    found: dict[tuple[str, date], list[ChannelDay]] = defaultdict(list)
    for day in session.scalars(select(ChannelDay).where(
            ChannelDay.org_id.in_(_subtree(root)), ChannelDay.day >= first,
            ChannelDay.day <= _end(last))):
        found[(day.channel, month_start(day.day))].append(day)
    return found


def _response_avg(days: Sequence[ChannelDay]) -> float | None:
    if days and all(d.requests is not None for d in days):
        served = sum(d.requests or 0 for d in days)
        if served:
            return sum(d.response_avg_ms * (d.requests or 0) for d in days) / served
    return mean([d.response_avg_ms for d in days])


def _process_cells(session: Session, root: Org, first: date, last: date) -> Cells:
    found: Cells = defaultdict(list)
    for kind, day, seconds in session.execute(
            select(ProcessRecord.process_type, ProcessRecord.finish_date,
                   ProcessRecord.duration_s)
            .where(ProcessRecord.org_id.in_(_subtree(root)),
                   ProcessRecord.duration_s.is_not(None),
                   ProcessRecord.finish_date >= first, ProcessRecord.finish_date <= _end(last))):
        if day is not None and seconds is not None:
            found[(kind, month_start(day))].append(seconds / 3600)
    return found


def _usage_points(session: Session, root: Org, first: date,
                  last: date) -> dict[str, dict[date, tuple[float | None, int]]]:
    rows = list(session.scalars(select(DigitalUsage).where(
        DigitalUsage.org_id.in_(_subtree(root)), DigitalUsage.month >= first,
        DigitalUsage.month <= last)))
    by_month: dict[date, list[DigitalUsage]] = defaultdict(list)
    for row in rows:
        by_month[row.month].append(row)
    found: dict[str, dict[date, tuple[float | None, int]]] = defaultdict(dict)
    for month, usage in by_month.items():
        mau = [u.app_mau for u in usage if u.app_mau is not None]
        found["app_mau"][month] = (float(sum(mau)) if mau else None, len(mau))
        both = [u for u in usage if u.self_service_txns is not None
                and u.counter_txns is not None]
        own = sum(u.self_service_txns or 0 for u in both)
        found["self_service_share"][month] = (
            ratio(own, own + sum(u.counter_txns or 0 for u in both)), len(both))
        asked = [u for u in usage if u.assistant_sessions is not None
                 and u.assistant_resolved is not None]
        found["assistant_resolution_rate"][month] = (
            ratio(sum(u.assistant_resolved or 0 for u in asked),
                  sum(u.assistant_sessions or 0 for u in asked)), len(asked))
    return found


def _org_codes(session: Session, org: Org) -> list[str]:
    """The codes of the org's ancestors and its own, from the top down."""
    ids = [int(part) for part in org.path.strip("/").split("/") if part]
    codes = {org_id: code for org_id, code in
             session.execute(select(Org.id, Org.code).where(Org.id.in_(ids)))}
    return [codes[i] for i in ids if i in codes]


def resolve_org(session: Session, *, actor: Actor, code: str | None) -> Org:
    """The org a figure is about: the actor's own by default; one outside their subtree is
    not found (as if it did not exist)."""
    if code is None or not code.strip():
        return org_service.get_org_by_id(session, org_id=actor.org_id)
    try:
        org = org_service.get_org_by_code(session, code=code.strip())
    except NotFound:
        org = None
    if org is None or not org_service.org_visible(actor, org):
        raise NotFound(f"no org {code.strip()!r} in your scope", field="org")
    return org


def report(session: Session, *, actor: Actor, start: date, end: date, org: str | None = None,
           metrics: Iterable[str] | None = None,
           targets: TargetsFile | None = None) -> Report:
    """Every metric (or those named) of the org's subtree (the actor's own org by default),
    month by month from `start`'s month to `end`'s, with its target."""
    actor.require("kpi.read")
    wanted = list(METRICS) if metrics is None else list(metrics)
    for code in wanted:
        if code not in METRICS:
            raise Invalid(f"unknown metric {code!r}; known: {', '.join(METRICS)}",
                          field="metric")
    months = months_between(start, end)
    root = resolve_org(session, actor=actor, code=org)
    targets = targets or load_targets()
    codes = _org_codes(session, root)
    found = Report(org=root, months=months, wait_over_minutes=targets.wait_over_minutes)
    before, last = add_months(months[0], -1), months[-1]
    families = {METRICS[c].family for c in wanted}

    def series(metric: str, group: str,
               figure: dict[date, tuple[float | None, int]]) -> Series:
        points = [Point(m, *figure.get(m, (None, 0))) for m in months]
        prior = figure.get(before)
        return Series(METRICS[metric], group, points, targets.target(metric, group, codes),
                      before=Point(before, *prior) if prior else None)

    def from_cells(metric: str, cells: Cells, how: object) -> None:
        for group in sorted({g for g, _ in cells}):
            figure = {m: (how(v), len(v))  # type: ignore[operator]
                      for (g, m), v in cells.items() if g == group}
            found.series.append(series(metric, group, figure))

    if "queue" in families:
        queue = _queue_cells(session, root, before, last, targets.wait_over_minutes * 60)
        for metric, cells, how in (
                ("queue_wait_avg", queue["wait"], mean),
                ("queue_wait_p90", queue["wait"], lambda v: nearest_rank(v, 90)),
                ("queue_wait_over_share", queue["over"], mean),
                ("queue_handle_avg", queue["handle"], mean),
                ("queue_handle_p90", queue["handle"], lambda v: nearest_rank(v, 90))):
            if metric in wanted:
                from_cells(metric, cells, how)
    if "channel" in families:
        days = _channel_cells(session, root, before, last)
        for metric, how in (
                ("channel_availability",
                 lambda d: mean([x.availability_pct for x in d])),
                ("channel_response_avg", _response_avg),
                ("channel_response_p95", lambda d: nearest_rank(
                    [x.response_p95_ms for x in d if x.response_p95_ms is not None], 95))):
            if metric in wanted:
                from_cells(metric, days, how)  # type: ignore[arg-type]
    if "process" in families:
        durations = _process_cells(session, root, before, last)
        for metric, how in (("process_median", median),
                            ("process_p90", lambda v: nearest_rank(v, 90))):
            if metric in wanted:
                from_cells(metric, durations, how)
    if "digital" in families:
        usage = _usage_points(session, root, before, last)
        for metric in ("app_mau", "self_service_share", "assistant_resolution_rate"):
            if metric in wanted and metric in usage:
                found.series.append(series(metric, ALL, usage[metric]))
    order = {code: i for i, code in enumerate(METRICS)}
    found.series.sort(key=lambda s: (order[s.metric.code], s.group != ALL, s.group))
    found.series = [s for s in found.series if any(p.value is not None for p in s.points)]
    return found


def latest_month(session: Session, *, actor: Actor, org: str | None = None) -> date | None:
    """The latest month with any service data in the org's subtree (the actor's by default)."""
    root = resolve_org(session, actor=actor, code=org)
    subtree = _subtree(root)
    found: list[date | None] = [
        session.scalar(select(func.max(QueueTicket.service_date))
                       .where(QueueTicket.org_id.in_(subtree))),
        session.scalar(select(func.max(ChannelDay.day)).where(ChannelDay.org_id.in_(subtree))),
        session.scalar(select(func.max(ProcessRecord.finish_date))
                       .where(ProcessRecord.org_id.in_(subtree))),
        session.scalar(select(func.max(DigitalUsage.month))
                       .where(DigitalUsage.org_id.in_(subtree)))]
    days = [d for d in found if d is not None]
    return month_start(max(days)) if days else None


# The figures compared across the orgs under one (the outlets of a sub-branch, the branches of
# the bank): for every business type, channel or process together where that makes sense.
COMPARED = ("queue_wait_avg", "queue_wait_over_share", "queue_handle_avg",
            "self_service_share", "assistant_resolution_rate")


@dataclass
class OrgRow:
    org: Org
    series: dict[str, Series]  # by metric: the group of all (""), the month asked and before


def by_org(session: Session, *, actor: Actor, month: date, org: str | None = None,
           metrics: Sequence[str] = COMPARED,
           targets: TargetsFile | None = None) -> list[OrgRow]:
    """The orgs directly under the org (the actor's own by default), each with its subtree's
    figures of `month` (metrics whose figure is for all groups together), by org code; orgs
    with none of them are left out."""
    actor.require("kpi.read")
    root = resolve_org(session, actor=actor, code=org)
    children = session.scalars(select(Org).where(Org.parent_id == root.id,
                                                 Org.active.is_(True)).order_by(Org.code))
    targets = targets or load_targets()
    rows = []
    for child in children:
        found = report(session, actor=actor, org=child.code, start=month, end=month,
                       metrics=metrics, targets=targets)
        series = {s.metric.code: s for s in found.series if s.group == ALL}
        if series:
            rows.append(OrgRow(org=child, series=series))
    return rows

"""The daily scan: the day's complaints counted per series against their seasonal baselines
(hot issues), the other findings added (`findings`), the new alerts stored once and their
officers told (`handling`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.orm import Session

from bankvoc.alerts import detection
from bankvoc.alerts.config import AlertRules, load_rules
from bankvoc.alerts.enums import AlertKind
from bankvoc.alerts.models import Alert
from bankvoc.alerts.service import findings, handling
from bankvoc.alerts.service.common import (
    Orgs,
    ScanReport,
    alert_row,
    counted,
    day_bounds,
    default_day,
    pick_typical,
)
from bankvoc.cases.models import Case
from bankvoc.core.db import insert_skipping_taken
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.notify import service as notify
from bankvoc.orgs.models import Org
from bankvoc.sla import calendar

log = logging.getLogger(__name__)

METHOD = "seasonal_overdispersed_poisson@1"
_TYPICAL_SCAN = 500  # cases of a day's series looked at to pick the typical ones


def _local_day(session: Session, tz: ZoneInfo, at: datetime) -> ColumnElement[Any]:
    """The local day of `case.received_at`, computed by the database. PostgreSQL converts with
    the zone itself; SQLite knows no zones and adds the zone's offset at `at` (exact for a zone
    without daylight saving, such as Asia/Shanghai)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(tz.key, Case.received_at), Date)
    offset = int((tz.utcoffset(at.replace(tzinfo=None)) or timedelta()).total_seconds())
    return func.date(Case.received_at, f"{offset:+d} seconds")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _key_label(dimension: str, key: str, orgs: Orgs, org_id: int | None) -> str:
    taxonomy = load_taxonomy()
    if dimension in ("category", "org_category"):
        term = taxonomy.category(key)
    elif dimension == "product":
        term = taxonomy.product(key)
    else:
        term = None
    what = term.label("zh") if term else key
    if dimension == "org":
        return orgs.name(org_id)
    return f"{what} · {orgs.name(org_id)}" if org_id is not None else what


def _typical_of(session: Session, where: Sequence[ColumnElement[bool]], count: int) -> list[int]:
    rows = session.execute(
        select(Case.id, Case.text_masked, Case.severity).where(*where)
        .order_by(Case.received_at, Case.id).limit(_TYPICAL_SCAN)).all()
    chosen = pick_typical([r.text_masked for r in rows], [r.severity for r in rows], count)
    return [int(rows[i].id) for i in chosen]


# --- hot issues ----------------------------------------------------------------------------------

SeriesKey = tuple[str, str, int | None]  # dimension, key, org id (None: the whole bank)


def daily_series(session: Session, *, day: date, days: int, orgs: Orgs, tz: ZoneInfo,
                 org_category: bool = True) -> dict[SeriesKey, np.ndarray]:
    """Daily counts of the `days` days ending with `day` (oldest first) per category, product,
    org (its subtree) and org × category, in one grouped query over `case.received_at`."""
    first = day - timedelta(days=days - 1)
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(day, tz)
    local = _local_day(session, tz, start).label("local_day")
    rows = session.execute(
        select(local, Case.org_id, Case.category, Case.product, func.count().label("n"))
        .where(*counted(start, end))
        .group_by(local, Case.org_id, Case.category, Case.product)).all()
    series: dict[SeriesKey, np.ndarray] = defaultdict(lambda: np.zeros(days, dtype=np.int64))
    for row in rows:
        index = (_as_date(row.local_day) - first).days
        if not 0 <= index < days:
            continue
        n = int(row.n)
        if row.category:
            series[("category", row.category, None)][index] += n
        if row.product:
            series[("product", row.product, None)][index] += n
        for org_id in orgs.ancestors(row.org_id):
            series[("org", orgs.by_id[org_id].code, org_id)][index] += n
            if org_category and row.category:
                series[("org_category", row.category, org_id)][index] += n
    return dict(series)


def _series_filter(dimension: str, key: str, org_id: int | None,
                   orgs: Orgs) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if dimension in ("category", "org_category"):
        where.append(Case.category == key)
    elif dimension == "product":
        where.append(Case.product == key)
    if org_id is not None:
        path = "/" + "/".join(str(o) for o in orgs.by_id[org_id].chain) + "/"
        where.append(Case.org_id.in_(select(Org.id).where(
            Org.path.startswith(path, autoescape=True))))
    return where


def _hot_issues(session: Session, day: date, rules: AlertRules, orgs: Orgs, tz: ZoneInfo,
                report: ScanReport) -> list[dict[str, Any]]:
    spikes = rules.spikes
    days = spikes.history_days + 1
    first = day - timedelta(days=spikes.history_days)
    types = detection.day_types(first, days, calendar.is_working_day)
    for year in sorted({first.year, day.year}):
        report.warnings += calendar.calendar_warnings(year)
    rule = detection.SpikeRule(alpha=spikes.alpha, min_count=spikes.min_count,
                               min_excess=spikes.min_excess, min_ratio=spikes.min_ratio,
                               min_history_days=spikes.min_history_days)
    series = daily_series(session, day=day, days=days, orgs=orgs, tz=tz,
                          org_category=spikes.org_category)
    start, end = day_bounds(day, tz)
    rows = []
    for (dimension, key, org_id), counts in sorted(series.items(), key=lambda i: (
            i[0][0], i[0][1], i[0][2] or 0)):
        report.series_tested += 1
        verdict = detection.scan_series(counts.tolist(), types, rule)
        if not verdict.alarm:
            continue
        typical = _typical_of(session, [*counted(start, end),
                                        *_series_filter(dimension, key, org_id, orgs)],
                              spikes.typical_cases)
        rows.append(alert_row(
            AlertKind.hot_issue, dimension, key, org_id, day, observed=verdict.observed,
            expected=verdict.expected, ratio=verdict.ratio, p_value=verdict.p_value,
            score=verdict.z, case_ids=typical,
            label=_key_label(dimension, key, orgs, org_id),
            detail={"method": METHOD, "rules": rules.version, "excess": round(verdict.excess, 2),
                    "dispersion": round(verdict.dispersion, 3), "reason": verdict.reason,
                    "history_days": spikes.history_days, "day_type": types[-1]}))
    return rows


# --- storing -------------------------------------------------------------------------------------

def _store(session: Session, rows: list[dict[str, Any]], now: datetime) -> set[str]:
    """Insert the alerts whose dedupe key is new; returns those keys."""
    if not rows:
        return set()
    stored: set[str] = set()
    for chunk in range(0, len(rows), 200):
        batch = [{**row, "created_at": now} for row in rows[chunk:chunk + 200]]
        statement = (insert_skipping_taken(session, Alert, ["dedupe_key"]).values(batch)
                     .returning(Alert.dedupe_key))
        keys: list[str] = list(session.execute(statement).scalars())
        stored.update(keys)
    return stored


# --- the scan ------------------------------------------------------------------------------------

def scan(session: Session, *, day: date | None = None, now: datetime,
         rules: AlertRules | None = None) -> ScanReport:
    """Raise the day's alerts (see the module), store the new ones and queue their
    notifications. `day` is a local day of the bank, yesterday by default; a day that has not
    begun is refused."""
    rules = rules or load_rules()
    tz = get_settings().tz
    today = ensure_aware(now).astimezone(tz).date()
    day = day or default_day(now, tz)
    if day > today:
        raise Invalid(f"{day.isoformat()} has not begun yet (today is {today.isoformat()})",
                      field="day")
    report = ScanReport(day)
    orgs = Orgs(session)
    rows = _hot_issues(session, day, rules, orgs, tz, report)
    rows += findings.emerging_topics(session, day, rules, orgs, tz)
    rows += findings.mass_complaints(session, day, rules, orgs, tz)
    rows += findings.regulator_risk_alerts(session, day, now, rules)
    for row in rows:
        report.found[AlertKind(row["kind"])] += 1
    existing = set(session.scalars(select(Alert.dedupe_key).where(
        Alert.dedupe_key.in_([row["dedupe_key"] for row in rows])))) if rows else set()
    fresh = [row for row in rows if row["dedupe_key"] not in existing]
    planned = handling.plan_notifications(session, fresh, orgs)
    stored = _store(session, fresh, now)
    report.stored = len(stored)
    outgoing = [item for key in sorted(stored) for item in planned.get(key, [])]
    notify.enqueue_many(session, outgoing, now=now)
    report.notifications = len(outgoing)
    report.unreachable = sum(len(row["detail"]["unreachable"]) for row in fresh
                             if row["dedupe_key"] in stored)
    log.info("alerts scan of %s: %d series, %d new alerts, %d notifications", day,
             report.series_tested, report.stored, report.notifications)
    return report

"""Keeping the roll-up (`case_rollup`) equal to what the cases say.

Triggers log the org and UTC day of every changed case, callback and survey answer in
`rollup_mark`. `refresh` takes the logged buckets, turns each into the local days and months it
touches, recomputes those rows from the cases (DELETE, then INSERT … SELECT … GROUP BY) and
removes exactly the marks it read, in one transaction. A change committed while it runs leaves
a mark it did not read, so the next refresh takes it: nothing is missed, and recomputing a
bucket twice gives the same rows. `rebuild` recomputes a whole range (first load, repair).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from bankvoc.analytics import measures
from bankvoc.analytics.models import CaseRollup, RollupMark
from bankvoc.cases.models import Case
from bankvoc.customers.models import Customer
from bankvoc.surveys.models import Callback, SurveyResponse

DAY, MONTH = "day", "month"
MARKS_PER_REFRESH = 200_000
_CHUNK = 900  # ids per IN list: under SQLite's bound-parameter limit


@dataclass
class RefreshReport:
    marks: int = 0
    days: int = 0
    months: int = 0
    rows: int = 0
    periods: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"marks": self.marks, "days": self.days, "months": self.months,
                "rows": self.rows}


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def utc_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [from, to) of local days start..end-1."""
    def at(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    return at(start), at(end)


def local_days_of_utc_day(day: date, tz: ZoneInfo) -> set[date]:
    first = datetime.combine(day, time(), tzinfo=UTC)
    last = first + timedelta(days=1) - timedelta(microseconds=1)
    return {first.astimezone(tz).date(), last.astimezone(tz).date()}


def refresh(session: Session, *, tz: ZoneInfo, limit: int = MARKS_PER_REFRESH) -> RefreshReport:
    """Rebuild the rows of every marked bucket (at most `limit` marks in one go)."""
    marks = session.execute(select(RollupMark.id, RollupMark.utc_day, RollupMark.org_id)
                            .order_by(RollupMark.id).limit(limit)).all()
    report = RefreshReport(marks=len(marks))
    if not marks:
        return report
    days_by_org: dict[int, set[date]] = defaultdict(set)
    for mark in marks:
        days_by_org[mark.org_id] |= local_days_of_utc_day(mark.utc_day, tz)
    orgs_by_day: dict[date, set[int]] = defaultdict(set)
    orgs_by_month: dict[date, set[int]] = defaultdict(set)
    for org_id, days in days_by_org.items():
        for day in days:
            orgs_by_day[day].add(org_id)
            orgs_by_month[month_start(day)].add(org_id)
    for day, org_ids in sorted(orgs_by_day.items()):
        report.rows += _recompute(session, grain=DAY, start=day, end=day + timedelta(days=1),
                                  org_ids=sorted(org_ids), tz=tz)
    for month, org_ids in sorted(orgs_by_month.items()):
        report.rows += _recompute(session, grain=MONTH, start=month, end=next_month(month),
                                  org_ids=sorted(org_ids), tz=tz)
    ids = [mark.id for mark in marks]
    for at in range(0, len(ids), _CHUNK):
        session.execute(delete(RollupMark).where(RollupMark.id.in_(ids[at:at + _CHUNK])))
    report.days, report.months = len(orgs_by_day), len(orgs_by_month)
    return report


def rebuild(session: Session, *, start: date, end: date, tz: ZoneInfo) -> RefreshReport:
    """Recompute every row of the months from `start`'s to `end`'s, for every org."""
    report = RefreshReport()
    month = month_start(start)
    while month <= end:
        following = next_month(month)
        report.rows += _recompute(session, grain=DAY, start=month, end=following, org_ids=None,
                                  tz=tz)
        report.days += (following - month).days
        report.rows += _recompute(session, grain=MONTH, start=month, end=following,
                                  org_ids=None, tz=tz)
        report.months += 1
        month = following
    return report


def pending_marks(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RollupMark)) or 0


def _recompute(session: Session, *, grain: str, start: date, end: date,
               org_ids: Sequence[int] | None, tz: ZoneInfo) -> int:
    """Replace the rows of the periods in [start, end) (for these orgs, or all) by what the
    cases say now: one month, or any run of days (grouped by local day in one statement)."""
    stale = delete(CaseRollup).where(CaseRollup.grain == grain, CaseRollup.period >= start,
                                     CaseRollup.period < end)
    if org_ids is not None:
        stale = stale.where(CaseRollup.org_id.in_(org_ids))
    session.execute(stale)
    since, until = utc_bounds(start, end, tz)
    dims = ("all",) if grain == DAY else ("all", *measures.DIMENSIONS)
    dialect = session.get_bind().dialect.name
    scope = Scope(since=since, until=until, org_ids=org_ids, dialect=dialect,
                  day_of=(lambda column: measures.local_period(column, DAY, tz, dialect))
                  if grain == DAY else None)
    rows: list[dict[str, Any]] = []
    for dim in dims:
        rows += _case_rows(session, dim=dim, scope=scope)
        if dim in ("all", "channel"):
            rows += _survey_rows(session, dim=dim, scope=scope)
    for row in rows:
        row["grain"] = grain
        period = row.pop("day", None)
        row["period"] = start if period is None else _as_date(period)
    for at in range(0, len(rows), 2_000):
        session.execute(insert(CaseRollup), rows[at:at + 2_000])
    return len(rows)


@dataclass(frozen=True)
class Scope:
    """Which cases a recompute reads, and how it tells their local day (day rows only)."""

    since: datetime
    until: datetime
    org_ids: Sequence[int] | None
    dialect: str
    day_of: Callable[[Any], Any] | None


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _key_columns(dim: str, scope: Scope, moment: Any) -> list[Any]:
    keys = [Case.org_id.label("org_id"), Case.kind.label("kind"),
            measures.dimension_value(dim).label("value")]
    if scope.day_of is not None:
        keys.append(scope.day_of(moment).label("day"))
    return keys


def _case_rows(session: Session, *, dim: str, scope: Scope) -> list[dict[str, Any]]:
    keys = _key_columns(dim, scope, Case.received_at)
    counted = select(*keys, *[expr.label(name) for name, expr
                              in measures.case_measures(scope.dialect).items()])
    answered = (select(*keys, *[expr.label(name) for name, expr
                                in measures.callback_measures().items()])
                .select_from(Callback).join(Case, Case.id == Callback.case_id)
                .where(measures.callback_done(scope.dialect)))
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for statement in (counted, answered):
        statement = _within(statement, scope)
        if dim == "segment":
            statement = statement.outerjoin(Customer, Customer.id == Case.customer_id)
        statement = statement.group_by(*keys)
        for row in session.execute(statement).mappings():
            key = (row["org_id"], row["kind"], row["value"], row.get("day"))
            target = by_key.setdefault(key, _empty(dim, *key[:3]))
            if "day" in row:
                target["day"] = row["day"]
            target.update({name: row[name] for name in row if name in measures.ALL_MEASURES})
    return list(by_key.values())


def _within(statement: Any, scope: Scope) -> Any:
    statement = statement.where(Case.received_at >= scope.since, Case.received_at < scope.until,
                                Case.merged_into_id.is_(None))
    if scope.org_ids is not None:
        statement = statement.where(Case.org_id.in_(scope.org_ids))
    return statement


def _survey_rows(session: Session, *, dim: str, scope: Scope) -> list[dict[str, Any]]:
    value = SurveyResponse.channel if dim == "channel" else literal(measures.UNSET)
    keys: list[Any] = [SurveyResponse.org_id.label("org_id"), value.label("value")]
    if scope.day_of is not None:
        keys.append(scope.day_of(SurveyResponse.answered_at).label("day"))
    statement = (select(*keys, *[expr.label(name) for name, expr
                                 in measures.survey_measures().items()])
                 .where(SurveyResponse.answered_at >= scope.since,
                        SurveyResponse.answered_at < scope.until)
                 .group_by(*keys))
    if scope.org_ids is not None:
        statement = statement.where(SurveyResponse.org_id.in_(scope.org_ids))
    rows = []
    for row in session.execute(statement).mappings():
        target = _empty(dim, row["org_id"], SURVEY_KIND, row["value"])
        if "day" in row:
            target["day"] = row["day"]
        target.update({name: row[name] for name in row if name in measures.ALL_MEASURES})
        rows.append(target)
    return rows


SURVEY_KIND = "survey"


def _empty(dim: str, org_id: int, kind: str, value: str) -> dict[str, Any]:
    row: dict[str, Any] = {name: 0 for name in measures.ALL_MEASURES}
    row.update(org_id=org_id, kind=kind, dim=dim, value=value, decision_days=0.0)
    return row


def marked_buckets(session: Session) -> Iterable[tuple[date, int]]:
    """The (UTC day, org) buckets waiting for a refresh (for tests and `bankvoc kpi status`)."""
    return session.execute(select(RollupMark.utc_day, RollupMark.org_id).distinct()).all()



"""Keeping the roll-up (`case_rollup`) equal to what the cases say.

Triggers log the org and UTC day of every changed or deleted case, callback and survey answer
in `rollup_mark`; a new case is logged by the code that inserts it (`mark_new_cases`: intake,
once per org and day of a batch, where a trigger per row halved the insert rate). `refresh`
takes the logged buckets, turns each into the local days and months it touches, recomputes
those rows from the cases (DELETE, then INSERT … SELECT … GROUP BY) and removes exactly the
marks it read, in one transaction. A change committed while it runs leaves a mark it did not
read, so the next refresh takes it: nothing is missed, and recomputing a bucket twice gives the
same rows. `rebuild` recomputes a whole range (first load, repair).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, literal, null, select, text, union_all
from sqlalchemy.orm import Session

from bankvoc.analytics import measures
from bankvoc.analytics.models import CaseRollup, RollupMark
from bankvoc.cases.models import Case
from bankvoc.core.db import bulk_insert
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


def mark_new_cases(session: Session, cases: Iterable[tuple[datetime, int]]) -> None:
    """Log the buckets of newly inserted cases, given as (receipt time, org id), in the
    inserting transaction; every insert of cases must call it."""
    buckets = {(received_at.astimezone(UTC).date(), org_id) for received_at, org_id in cases}
    bulk_insert(session, RollupMark, [{"utc_day": day, "org_id": org_id}
                                      for day, org_id in sorted(buckets)])


def refresh(session: Session, *, tz: ZoneInfo, limit: int = MARKS_PER_REFRESH) -> RefreshReport:
    """Rebuild the rows of every marked bucket (at most `limit` marks in one go): each marked
    org's month, day rows and month rows alike.

    Refreshes in several processes at once (workers) take turns: each recomputes months by
    deleting and re-inserting their rows, and two at once would store a month twice."""
    _one_at_a_time(session)
    marks = session.execute(select(RollupMark.id, RollupMark.utc_day, RollupMark.org_id)
                            .order_by(RollupMark.id).limit(limit)).all()
    report = RefreshReport(marks=len(marks))
    if not marks:
        return report
    orgs_by_month: dict[date, set[int]] = defaultdict(set)
    for mark in marks:
        for day in local_days_of_utc_day(mark.utc_day, tz):
            orgs_by_month[month_start(day)].add(mark.org_id)
    for month, org_ids in sorted(orgs_by_month.items()):
        report.rows += _recompute_month(session, month=month, org_ids=sorted(org_ids), tz=tz)
        report.days += (next_month(month) - month).days
    ids = [mark.id for mark in marks]
    for at in range(0, len(ids), _CHUNK):
        session.execute(delete(RollupMark).where(RollupMark.id.in_(ids[at:at + _CHUNK])))
    report.months = len(orgs_by_month)
    return report


# The key of the PostgreSQL advisory lock that refreshes and rebuilds take in turn.
_LOCK_KEY = 0x62766F63_726F6C6C  # "bvocroll"


def _one_at_a_time(session: Session) -> None:
    """Hold the roll-up's lock to the end of the transaction (PostgreSQL: an advisory lock,
    waited for; SQLite: its one writer at a time already does it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def rebuild(session: Session, *, start: date, end: date, tz: ZoneInfo) -> RefreshReport:
    """Recompute every row of the months from `start`'s to `end`'s, for every org."""
    _one_at_a_time(session)
    if session.get_bind().dialect.name == "postgresql":
        # A rebuild follows bulk loads, which autovacuum has not analysed yet: without
        # statistics the planner looks repeat complaints up through the 30-day range of
        # receipts instead of the customer's few cases (minutes a month instead of seconds).
        session.execute(text('ANALYZE "case", callback, customer, survey_response'))
    report = RefreshReport()
    month = month_start(start)
    while month <= end:
        report.rows += _recompute_month(session, month=month, org_ids=None, tz=tz)
        report.days += (next_month(month) - month).days
        report.months += 1
        month = next_month(month)
    return report


@dataclass(frozen=True)
class Scope:
    """Which cases a recompute reads."""

    since: datetime
    until: datetime
    org_ids: Sequence[int] | None
    dialect: str
    tz: ZoneInfo


def _recompute_month(session: Session, *, month: date, org_ids: Sequence[int] | None,
                     tz: ZoneInfo) -> int:
    """Replace a month's rows (its day rows and its month rows, for these orgs or all) by what
    the cases say now."""
    following = next_month(month)
    stale = delete(CaseRollup).where(CaseRollup.period >= month, CaseRollup.period < following)
    if org_ids is not None:
        stale = stale.where(CaseRollup.org_id.in_(org_ids))
    session.execute(stale)
    since, until = utc_bounds(month, following, tz)
    scope = Scope(since=since, until=until, org_ids=org_ids,
                  dialect=session.get_bind().dialect.name, tz=tz)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for statement in (_case_statement(scope), _callback_statement(scope)):
        for found in session.execute(statement).mappings():
            grain = found["grain"]
            period = month if grain == MONTH else _as_date(found["day"])
            key = (grain, period, found["org_id"], found["kind"], found["dim"], found["value"])
            row = rows.setdefault(key, _empty(found["dim"], found["org_id"], found["kind"],
                                              found["value"]) | {"grain": grain,
                                                                 "period": period})
            row.update({name: found[name] for name in found if name in measures.ALL_MEASURES})
    for grain, dims in ((DAY, ("all",)), (MONTH, ("all", "channel"))):
        for dim in dims:
            for row in _survey_rows(session, dim=dim, scope=scope, by_day=grain == DAY):
                row["grain"] = grain
                row["period"] = month if grain == MONTH else _as_date(row.pop("day"))
                row.pop("day", None)
                rows[(grain, row["period"], row["org_id"], SURVEY_KIND, dim,
                      row["value"])] = row
    values = list(rows.values())
    for at in range(0, len(values), 2_000):
        session.execute(insert(CaseRollup), values[at:at + 2_000])
    return len(values)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _within(statement: Any, scope: Scope) -> Any:
    statement = statement.where(Case.received_at >= scope.since, Case.received_at < scope.until,
                                Case.merged_into_id.is_(None))
    if scope.org_ids is not None:
        statement = statement.where(Case.org_id.in_(scope.org_ids))
    return statement


def _cuts(scope: Scope) -> list[Any]:
    """The columns every fact row carries: org, kind, each dimension's value, local day."""
    return [Case.org_id.label("org_id"), Case.kind.label("kind"),
            *[measures.dimension_value(dim).label(dim) for dim in measures.DIMENSIONS],
            measures.local_period(Case.received_at, DAY, scope.tz, scope.dialect).label("day")]


def _grouped(facts: Any, sums: dict[str, Any]) -> Any:
    """One UNION ALL over the facts: day rows (no cut) and month rows for every cut, so the
    facts (with their correlated look-ups) are computed once per month, not once per cut."""
    arms = [select(literal(DAY).label("grain"), literal("all").label("dim"), facts.c.org_id,
                   facts.c.kind, literal(measures.UNSET).label("value"),
                   facts.c.day.label("day"), *[e.label(n) for n, e in sums.items()])
            .group_by(facts.c.org_id, facts.c.kind, facts.c.day)]
    for dim in ("all", *measures.DIMENSIONS):
        value = literal(measures.UNSET) if dim == "all" else facts.c[dim]
        keys = [facts.c.org_id, facts.c.kind] + ([] if dim == "all" else [value])
        arms.append(select(literal(MONTH).label("grain"), literal(dim).label("dim"),
                           facts.c.org_id, facts.c.kind, value.label("value"),
                           null().label("day"), *[e.label(n) for n, e in sums.items()])
                    .group_by(*keys))
    return union_all(*arms)


def _case_statement(scope: Scope) -> Any:
    facts_of = measures.case_facts(scope.dialect)
    facts = _within(select(*_cuts(scope), Case.customer_id.label("customer_id"),
                           *[e.label(n) for n, e in facts_of.items()])
                    .outerjoin(Customer, Customer.id == Case.customer_id), scope
                    ).cte("facts").prefix_with("MATERIALIZED")
    return _grouped(facts, measures.sum_facts({n: facts.c[n] for n in facts_of},
                                              facts.c.customer_id))


def _callback_statement(scope: Scope) -> Any:
    answers = _within(select(*_cuts(scope), Callback.csat.label("csat"),
                             Callback.nps.label("nps"))
                      .select_from(Callback).join(Case, Case.id == Callback.case_id)
                      .outerjoin(Customer, Customer.id == Case.customer_id)
                      .where(measures.callback_done(scope.dialect)), scope
                      ).cte("answers").prefix_with("MATERIALIZED")
    return _grouped(answers, measures.answer_measures(answers.c.csat, answers.c.nps))


def _survey_rows(session: Session, *, dim: str, scope: Scope, by_day: bool
                 ) -> list[dict[str, Any]]:
    value = SurveyResponse.channel if dim == "channel" else literal(measures.UNSET)
    keys: list[Any] = [SurveyResponse.org_id.label("org_id"), value.label("value")]
    if by_day:
        keys.append(measures.local_period(SurveyResponse.answered_at, DAY, scope.tz,
                                          scope.dialect).label("day"))
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
        if by_day:
            target["day"] = row["day"]
        target.update({name: row[name] for name in row if name in measures.ALL_MEASURES})
        rows.append(target)
    return rows


SURVEY_KIND = "survey"


def _empty(dim: str, org_id: int, kind: str, value: str) -> dict[str, Any]:
    row: dict[str, Any] = {name: 0 for name in measures.ALL_MEASURES}
    row.update(org_id=org_id, kind=kind, dim=dim, value=value, decision_days=0.0)
    return row

"""Answering a KPI question: one KPI, one period, an org subtree, optional cuts, optionally broken
down by a dimension, by child org or over time.

The answer comes from the roll-up when its rows can give it: whole months with at most one cut
(month rows), or any days with no cut (day rows). Otherwise — a cut of two dimensions at once,
a product cut over a few days — it is summed from the cases themselves with the very same
measures, so both roads give the same figure (a test holds them equal). `source` says which
road was taken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bankvoc.analytics import measures
from bankvoc.analytics.kpis import Kpi
from bankvoc.analytics.models import CaseRollup, OrgMonthStat
from bankvoc.analytics.periods import Period
from bankvoc.analytics.rollup import DAY, MONTH, utc_bounds
from bankvoc.cases.models import Case
from bankvoc.core.errors import Invalid
from bankvoc.customers.models import Customer
from bankvoc.orgs.models import Org
from bankvoc.surveys.models import Callback, SurveyResponse

BREAKDOWNS = ("org", "month", "day", *measures.DIMENSIONS)


@dataclass(frozen=True)
class Cut:
    """What a figure is about: an org subtree and optional dimension values."""

    org: Org
    channel: str | None = None
    product: str | None = None
    category: str | None = None
    segment: str | None = None

    def dims(self) -> dict[str, str]:
        return {dim: value for dim in measures.DIMENSIONS
                if (value := getattr(self, dim)) is not None}


@dataclass
class Sums:
    """Summed measures and the figure they make."""

    values: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stat: float | None = None  # the imported denominator, when the KPI divides by one

    def add(self, row: Mapping[Any, Any], names: Iterable[str]) -> None:
        for name in names:
            self.values[name] += float(row[name] or 0)

    def figure(self, kpi: Kpi) -> tuple[float | None, float, float | None]:
        """(value, numerator, denominator); value None when the denominator is 0 or unknown."""
        numerator = sum(self.values[n] for n in kpi.numerator) - sum(
            self.values[n] for n in kpi.minus)
        if kpi.denominator is None:
            return numerator * kpi.scale, numerator, None
        denominator = self.stat if kpi.needs_stat else self.values[kpi.denominator]
        if not denominator:
            return None, numerator, denominator
        return kpi.scale * numerator / denominator, numerator, denominator


@dataclass
class Answer:
    source: str
    total: Sums
    groups: dict[Any, Sums]


@dataclass(frozen=True)
class Node:
    """An org of a subtree, as the sums need it."""

    id: int
    path: str


def subtree(session: Session, org: Org) -> list[Node]:
    # Two columns, not the ORM objects: a dashboard reads the subtree for each of its sums.
    return [Node(id, path) for id, path in session.execute(
        select(Org.id, Org.path).where(Org.path.startswith(org.path, autoescape=True)))]


_SHARED = "bankvoc.analytics.shared_reads"
_T = TypeVar("_T")


@contextmanager
def shared_reads(session: Session) -> Iterator[None]:
    """Within the block, the answers read through `session` share their reads: the subtree,
    the roll-up sums of a period and the imported denominators. A dashboard asks a dozen KPIs
    of three periods of the same rows (36 answers, ~100 queries otherwise). Only for blocks
    that write nothing the answers depend on."""
    if _SHARED in session.info:
        yield
        return
    session.info[_SHARED] = {}
    try:
        yield
    finally:
        session.info.pop(_SHARED, None)


def shared_read(session: Session, key: Hashable, read: Callable[[], _T]) -> _T:
    """`read()`, or what it gave for `key` earlier within the same `shared_reads` block."""
    memo: dict[Hashable, Any] | None = session.info.get(_SHARED)
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]  # type: ignore[no-any-return]


def subtree_and_count(session: Session, org: Org) -> tuple[list[Node], int]:
    """`subtree`, and how many orgs the bank has, in one round trip."""
    def read() -> tuple[list[Node], int]:
        everyone = select(func.count()).select_from(Org).scalar_subquery()
        rows = session.execute(select(Org.id, Org.path, everyone).where(
            Org.path.startswith(org.path, autoescape=True))).all()
        nodes = [Node(int(r[0]), str(r[1])) for r in rows]
        return nodes, int(rows[0][2]) if rows else 0

    return shared_read(session, ("subtree", org.path), read)


def among(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `column = ANY(:ids)`, one array parameter: hundreds of
    ids as as many parameters made a statement the driver (psycopg) parses afresh each time
    (it caches only short ones), ~10 ms each."""
    condition: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        condition = column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    else:
        condition = column.in_(ids)
    return condition


def scope_filter(session: Session, column: Any, orgs: Sequence[Node], whole: bool
                 ) -> ColumnElement[bool]:
    """`column` is one of `orgs`: nothing to check when they are `whole` tree (the head
    office's sums), else `among`. A generic plan compares each row with a long list one by
    one: 8 ms against 0.4 ms for a month's roll-up rows of a 437-org bank (bench/load)."""
    if whole:
        return true()
    return among(session, column, [o.id for o in orgs])


def answer(session: Session, *, kpi: Kpi, period: Period, cut: Cut, by: str | None,
           tz: ZoneInfo, from_cases: bool = False) -> Answer:
    """The sums behind a KPI; `from_cases` skips the roll-up (to check it against the cases)."""
    if by is not None and by not in BREAKDOWNS:
        raise Invalid(f"by: {by!r} is not one of {', '.join(BREAKDOWNS)}", field="by")
    orgs, everyone = subtree_and_count(session, cut.org)
    whole = len(orgs) == everyone  # the head office's: its sums need no org filter
    dims = cut.dims()
    wanted = set(dims) | ({by} if by in measures.DIMENSIONS else set())
    # Complainants are distinct per org and month in the rows: a longer period reads the cases.
    distinct_ok = "complainants" not in kpi.measures or period.months == 1
    if from_cases:
        rows, source = _from_cases(session, kpi=kpi, period=period, orgs=orgs, whole=whole,
                                   dims=dims, by=by, tz=tz), "cases"
    elif period.whole_months and len(wanted) <= 1 and by != "day" and distinct_ok:
        rows, source = _rollup(session, kpi=kpi, period=period, orgs=orgs, whole=whole,
                               dims=dims, by=by, grain=MONTH), "rollup:month"
    elif not wanted and by != "month" and "complainants" not in kpi.measures:
        rows, source = _rollup(session, kpi=kpi, period=period, orgs=orgs, whole=whole,
                               dims=dims, by=by, grain=DAY), "rollup:day"
    else:
        rows, source = _from_cases(session, kpi=kpi, period=period, orgs=orgs, whole=whole,
                                   dims=dims, by=by, tz=tz), "cases"
    total, groups = Sums(), defaultdict[Any, Sums](Sums)
    child_of = _child_of(cut.org, orgs) if by == "org" else {}
    for row in rows:
        total.add(row, kpi.measures)
        if by is not None:
            key = child_of.get(row["key"]) if by == "org" else row["key"]
            if key is not None:
                groups[key].add(row, kpi.measures)
    if kpi.needs_stat:
        stat_column = kpi.denominator.split(":", 1)[1] if kpi.denominator else ""
        total.stat = _stat(session, column=stat_column, period=period,
                           org_ids=[o.id for o in orgs])
        if by == "org":
            members: dict[int, list[int]] = defaultdict(list)
            for org_id, child in child_of.items():
                members[child].append(org_id)
            for child, org_ids in members.items():
                groups[child].stat = _stat(session, column=stat_column, period=period,
                                           org_ids=org_ids)
    # A group with nothing to count (cases of a product but no answers, for CSAT) is left out.
    return Answer(source=source, total=total,
                  groups={key: sums for key, sums in groups.items() if any(sums.values.values())})


def _child_of(root: Org, orgs: Sequence[Node]) -> dict[int, int]:
    """Each org of the subtree → the child of the root it lies under (the root → itself)."""
    prefix = len(root.path)
    mapping = {}
    for org in orgs:
        rest = org.path[prefix:].strip("/")
        mapping[org.id] = int(rest.split("/", 1)[0]) if rest else root.id
    return mapping


def _kinds_filter(kpi: Kpi, column: Any) -> Any:
    return None if kpi.kinds == ("*",) else column.in_(kpi.kinds)


def _rollup(session: Session, *, kpi: Kpi, period: Period, orgs: Sequence[Node], whole: bool,
            dims: Mapping[str, str], by: str | None, grain: str) -> list[Mapping[Any, Any]]:
    if _SHARED not in session.info:
        return _read_rollup(session, kpi=kpi, names=kpi.measures, period=period, orgs=orgs,
                            whole=whole, dims=dims, by=by, grain=grain)
    # Shared: every measure, for the other KPIs asking about the same rows.
    memo_key = ("rollup", kpi.kinds, period.start, period.end, whole,
                tuple(o.id for o in orgs), tuple(dims.items()), by, grain)
    return shared_read(session, memo_key, lambda: _read_rollup(
        session, kpi=kpi, names=measures.ALL_MEASURES, period=period, orgs=orgs, whole=whole,
        dims=dims, by=by, grain=grain))


def _read_rollup(session: Session, *, kpi: Kpi, names: Sequence[str], period: Period,
                 orgs: Sequence[Node], whole: bool, dims: Mapping[str, str], by: str | None,
                 grain: str) -> list[Mapping[Any, Any]]:
    dim = next(iter(dims), None) or (by if by in measures.DIMENSIONS else None) or "all"
    key = {"org": CaseRollup.org_id, "month": CaseRollup.period, "day": CaseRollup.period,
           None: literal(0)}.get(by, CaseRollup.value)
    statement = (select(key.label("key"),
                        *[func.sum(getattr(CaseRollup, m)).label(m) for m in names])
                 .where(CaseRollup.grain == grain, CaseRollup.dim == dim,
                        CaseRollup.period >= period.start, CaseRollup.period < period.end,
                        scope_filter(session, CaseRollup.org_id, orgs, whole))
                 .group_by(key))
    if (kinds := _kinds_filter(kpi, CaseRollup.kind)) is not None:
        statement = statement.where(kinds)
    if dims:
        statement = statement.where(CaseRollup.value == next(iter(dims.values())))
    return list(session.execute(statement).mappings())


def _case_key(by: str | None, tz: ZoneInfo, dialect: str) -> Any:
    if by == "org":
        return Case.org_id
    if by in measures.DIMENSIONS:
        return measures.dimension_value(by)
    if by in ("day", "month"):
        return measures.local_period(Case.received_at, by, tz, dialect)
    return literal(0)


def _from_cases(session: Session, *, kpi: Kpi, period: Period, orgs: Sequence[Node],
                whole: bool,
                dims: Mapping[str, str], by: str | None, tz: ZoneInfo
                ) -> list[Mapping[Any, Any]]:
    dialect = session.get_bind().dialect.name
    since, until = utc_bounds(period.start, period.end, tz)
    key = _case_key(by, tz, dialect)
    case_measures = measures.case_measures(dialect)
    wanted_case = [m for m in kpi.measures if m in case_measures]
    wanted_answers = [m for m in kpi.measures if m in measures.ANSWER_MEASURES]
    statements: list[Select[Any]] = []
    if wanted_case:
        statements.append(select(key.label("key"),
                                 *[case_measures[m].label(m) for m in wanted_case]))
    if wanted_answers:
        answer_measures = measures.callback_measures()
        statements.append(select(key.label("key"),
                                 *[answer_measures[m].label(m) for m in wanted_answers])
                          .select_from(Callback).join(Case, Case.id == Callback.case_id)
                          .where(measures.callback_done(dialect)))
    rows: list[Mapping[Any, Any]] = []
    org_ids = [o.id for o in orgs]
    for statement in statements:
        statement = statement.where(Case.received_at >= since, Case.received_at < until,
                                    Case.merged_into_id.is_(None),
                                    scope_filter(session, Case.org_id, orgs, whole))
        if (kinds := _kinds_filter(kpi, Case.kind)) is not None:
            statement = statement.where(kinds)
        if "segment" in dims or by == "segment":
            statement = statement.outerjoin(Customer, Customer.id == Case.customer_id)
        for dim, value in dims.items():
            statement = statement.where(measures.dimension_value(dim) == value)
        # Grouped by org too: complainants are distinct per org, as in the roll-up rows.
        rows += [_normalised(row, wanted_case + wanted_answers) for row in
                 session.execute(statement.group_by(key, Case.org_id)).mappings()]
    if wanted_answers and kpi.kinds == ("*",) and not set(dims) - {"channel"} \
            and by in (None, "org", "channel", "day", "month"):
        rows += _survey_rows(session, wanted=wanted_answers, since=since, until=until,
                             org_ids=org_ids, dims=dims, by=by, tz=tz, dialect=dialect)
    return rows


def _survey_rows(session: Session, *, wanted: Sequence[str], since: datetime, until: datetime,
                 org_ids: Sequence[int], dims: Mapping[str, str], by: str | None,
                 tz: ZoneInfo, dialect: str) -> list[Mapping[Any, Any]]:
    key: Any = {"org": SurveyResponse.org_id, "channel": SurveyResponse.channel}.get(
        by or "", literal(0))
    if by in ("day", "month"):
        key = measures.local_period(SurveyResponse.answered_at, by, tz, dialect)
    survey = measures.survey_measures()
    statement = (select(key.label("key"), *[survey[m].label(m) for m in wanted])
                 .where(SurveyResponse.answered_at >= since, SurveyResponse.answered_at < until,
                        among(session, SurveyResponse.org_id, org_ids)).group_by(key))
    if "channel" in dims:
        statement = statement.where(SurveyResponse.channel == dims["channel"])
    return [_normalised(row, wanted) for row in session.execute(statement).mappings()]


def _normalised(row: Mapping[Any, Any], names: Sequence[str]) -> dict[str, Any]:
    """A row with its period key as a date (SQLite gives text, PostgreSQL a timestamp)."""
    key = row["key"]
    if isinstance(key, str) and len(key) == 10 and key[4] == "-":
        key = date.fromisoformat(key)
    elif isinstance(key, datetime):
        key = key.date()
    return {"key": key, **{name: row[name] for name in names}}


def _stat(session: Session, *, column: str, period: Period, org_ids: Sequence[int]
          ) -> float | None:
    """The imported denominator: summed over the orgs, averaged over the period's months
    (customers and outlets are stocks). None when a month has none imported."""
    months = period.month_starts()
    per_month: dict[date, Any] = shared_read(
        session, ("stat", column, tuple(months), tuple(org_ids)),
        lambda: dict(session.execute(
            select(OrgMonthStat.month, func.sum(getattr(OrgMonthStat, column)))
            .where(OrgMonthStat.month.in_(months), among(session, OrgMonthStat.org_id, org_ids))
            .group_by(OrgMonthStat.month)).all()))
    values = [per_month.get(month) for month in months]
    if any(value is None for value in values):
        return None
    return sum(float(v) for v in values if v is not None) / len(values)


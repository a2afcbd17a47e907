"""Customer segments from RFM (recency, frequency, monetary value), and attrition per segment.

Each month the bank exports a customer-value file: per customer, the days since their last
transaction, how many transactions, how much money (the bank chooses the measure: assets under
management, spending, balance …) and, when they left, the day they closed their last account.
`import_rows` finds each customer by blind index (creating the unknown ones, identity encrypted
as `customers.service` stores it), and `store_month` keeps one `customer_value` row per
customer and month, scores R, F and M 1–5 by quintile over the whole of that month's customers
(`quintile_scores`), names the segment from the scores (`segments.yaml`, bank-editable) and
writes the segment of each customer's latest month onto `customer.segment`, which is what the
KPIs' segment cut reads (a trigger of migration 0017 marks their cases' roll-up buckets).

`attrition` answers the bank's question: of the customers in each segment at the start of a
period, how many left in it, and do those who complained leave more often than the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from bankvoc.analytics.periods import Period, add_months, parse_period
from bankvoc.cases.enums import CaseKind
from bankvoc.cases.models import Case
from bankvoc.core.db import bulk_insert
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.core.yamlfile import Problem, YamlFileError, problems_found, read_yaml
from bankvoc.core.yamlfile import parse_yaml as _parse_yaml
from bankvoc.customers import masking
from bankvoc.customers import service as customer_service
from bankvoc.customers.models import Customer, CustomerValue
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

DEFAULT_PATH = "segments.yaml"
SCORES = (1, 2, 3, 4, 5)
# Importing customer values sets the KPIs' segment cut: the people who set the KPIs'
# denominators and targets do it.
IMPORT_PERMISSION = "kpi.manage"
READ_PERMISSION = "kpi.read"
# Complaints that make a customer a complainer, and how far back before the period they count.
COMPLAINT_KINDS = (CaseKind.complaint.value, CaseKind.complaint_intent.value)
COMPLAINT_LOOKBACK_MONTHS = 12
NO_SEGMENT = ""
_CHUNK = 900  # ids per IN list: under SQLite's bound-parameter limit


# --- the segment map (segments.yaml) -------------------------------------------------------------

class SegmentsError(YamlFileError):
    """A segments file refused; `problems` holds every problem found, in the file's order."""

    code = "segments_invalid"
    default_field = "segments"


Condition = Literal["high", "low", "any"] | list[int]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Segment(_Model):
    """A segment: its code (stored on the customer), its names, and the R, F, M scores it
    takes (`high`, `low`, `any` or a list of scores)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    r: Condition = "any"
    f: Condition = "any"
    m: Condition = "any"

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def takes(self, dimension: str, score: int, high_from: int) -> bool:
        condition: Condition = getattr(self, dimension)
        if condition == "any":
            return True
        if condition == "high":
            return score >= high_from
        if condition == "low":
            return score < high_from
        return score in condition


class SegmentMap(_Model):
    """`segments.yaml`: the first segment whose conditions all hold names the customer."""

    version: str = Field(min_length=1)
    high_from: int = Field(ge=2, le=5)
    segments: list[Segment] = Field(min_length=1)
    _table: dict[tuple[int, int, int], str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SegmentMap:
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, segment in enumerate(self.segments):
            if segment.code in seen:
                problems.append(Problem(("segments", i, "code"),
                                        f"{segment.code!r} is given to two segments"))
            seen.add(segment.code)
            for dimension in "rfm":
                condition = getattr(segment, dimension)
                if isinstance(condition, list) and (
                        not condition or any(s not in SCORES for s in condition)):
                    problems.append(Problem(("segments", i, dimension),
                                            "a list of scores holds scores 1 to 5"))
        if problems:
            raise problems_found(problems)
        reached: set[int] = set()
        for scores in ((r, f, m) for r in SCORES for f in SCORES for m in SCORES):
            index = next((i for i, s in enumerate(self.segments)
                          if all(s.takes(d, v, self.high_from)
                                 for d, v in zip("rfm", scores, strict=True))), None)
            if index is None:
                problems.append(Problem(("segments",), f"no segment takes R{scores[0]} "
                                                       f"F{scores[1]} M{scores[2]}"))
                continue
            reached.add(index)
            self._table[scores] = self.segments[index].code
        problems += [Problem(("segments", i, "code"), "no score reaches this segment: the "
                                                      "segments above take all of its scores")
                     for i in range(len(self.segments)) if i not in reached]
        if problems:
            raise problems_found(problems[:5])
        return self

    def segment_of(self, r: int, f: int, m: int) -> str:
        return self._table[(r, f, m)]

    def label(self, code: str | None, lang: str = "zh") -> str:
        """A segment's name; a code the file does not know (an older map's) as it is."""
        if not code:
            return "No segment" if lang == "en" else "未分群"
        segment = next((s for s in self.segments if s.code == code), None)
        return segment.label(lang) if segment else code


def parse_segments(text: str, *, source: str = DEFAULT_PATH) -> SegmentMap:
    """The segment map in `text`, or a SegmentsError naming the line and reason of each
    problem."""
    return _parse_yaml(text, SegmentMap, source=source, error=SegmentsError)


def read_segments(path: Path) -> SegmentMap:
    return read_yaml(path, SegmentMap, error=SegmentsError)


@lru_cache(maxsize=4)
def load_segments(path: Path | None = None) -> SegmentMap:
    """The segment map in `path`, else the shipped one; each parsed once per process."""
    if path is not None:
        return read_segments(path)
    text = resources.files("bankvoc.customers").joinpath(DEFAULT_PATH).read_text("utf-8")
    return parse_segments(text)


# --- scores --------------------------------------------------------------------------------------

def quintile_scores(values: Sequence[Any]) -> list[int]:
    """1–5 by quintile of `values` (a higher value, a higher score), in their order.

    A value stands at the middle of the values equal to it: p = (values below it + half of
    those equal to it, itself included) ÷ n, and its score is 1 + ⌊5p⌋. So ties share one
    score whatever order the file lists them in; with distinct values the lowest fifth scores 1
    and the highest fifth 5; when every value is equal, all score 3.
    """
    n = len(values)
    scores = [0] * n
    order = sorted(range(n), key=values.__getitem__)
    start = 0
    while start < n:
        end = start
        while end < n and values[order[end]] == values[order[start]]:
            end += 1
        # p = (below + equal / 2) / n, in halves to stay in integers
        score = 1 + (5 * (2 * start + (end - start))) // (2 * n)
        for k in range(start, end):
            scores[order[k]] = score
        start = end
    return scores


@dataclass(frozen=True)
class ValueRow:
    """A customer's figures in a month's file."""

    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    attrited_on: date | None = None


@dataclass(frozen=True)
class Scored:
    recency_days: int
    frequency: int
    monetary: Decimal
    attrited_on: date | None
    r_score: int
    f_score: int
    m_score: int
    segment: str


def score_population(rows: Sequence[ValueRow], segments: SegmentMap) -> dict[int, Scored]:
    """Each customer's R, F, M scores and segment, over this population: recency scores 5 for
    the fewest days since the last transaction, frequency and monetary 5 for the most."""
    recency = quintile_scores([-row.recency_days for row in rows])
    frequency = quintile_scores([row.frequency for row in rows])
    monetary = quintile_scores([row.monetary for row in rows])
    return {row.customer_id: Scored(row.recency_days, row.frequency, row.monetary,
                                    row.attrited_on, r, f, m, segments.segment_of(r, f, m))
            for row, r, f, m in zip(rows, recency, frequency, monetary, strict=True)}


# --- storing a month -----------------------------------------------------------------------------

@dataclass
class MonthReport:
    month: date
    stored: int = 0  # new rows of the file
    updated: int = 0  # rows of the file whose figures, scores or segment changed
    unchanged: int = 0
    rescored: int = 0  # earlier rows of the month whose scores moved with the population
    segments_changed: int = 0  # customers whose current segment (`customer.segment`) changed
    by_segment: dict[str, int] = field(default_factory=dict)  # the month's customers


_SCORED_COLUMNS = ("recency_days", "frequency", "monetary", "attrited_on", "r_score", "f_score",
                   "m_score", "segment")


def store_month(session: Session, *, actor: Actor, month: date, rows: Sequence[ValueRow],
                segments: SegmentMap | None = None) -> MonthReport:
    """Store a month's customer values (one row per customer: `rows` replace those of the
    same customers) and rescore the whole month; storing the same rows again changes nothing.
    Each customer's segment of their latest month becomes `customer.segment`."""
    actor.require(IMPORT_PERMISSION)
    segments = segments or load_segments()
    month = month.replace(day=1)
    report = MonthReport(month=month)
    existing: dict[int, tuple[int, Scored]] = {}
    for row in session.execute(select(CustomerValue.id, CustomerValue.customer_id,
                                      *[getattr(CustomerValue, c) for c in _SCORED_COLUMNS])
                               .where(CustomerValue.as_of == month)):
        existing[row.customer_id] = (row.id, Scored(*[row[i + 2] for i in range(8)]))
    given = {row.customer_id: row for row in rows}
    population = [given.get(cid) or ValueRow(cid, s.recency_days, s.frequency, s.monetary,
                                             s.attrited_on)
                  for cid, (_, s) in existing.items()]
    population += [row for cid, row in given.items() if cid not in existing]
    scored = score_population(population, segments)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = utcnow()
    for cid, target in scored.items():
        before = existing.get(cid)
        if before is None:
            inserts.append({"customer_id": cid, "as_of": month, "imported_at": now,
                            **_columns(target)})
            report.stored += 1
        elif before[1] != target:
            updates.append({"row_id": before[0], "imported_at": now, **_columns(target)})
            if cid in given:
                report.updated += 1
            else:
                report.rescored += 1
        elif cid in given:
            report.unchanged += 1
        report.by_segment[target.segment] = report.by_segment.get(target.segment, 0) + 1
    bulk_insert(session, CustomerValue, inserts)
    if updates:
        values = cast(Table, CustomerValue.__table__)
        session.execute(update(values).where(values.c.id == bindparam("row_id")), updates)
    report.segments_changed = _set_current_segments(session, month=month, scored=scored)
    return report


def _columns(scored: Scored) -> dict[str, Any]:
    return {name: getattr(scored, name) for name in _SCORED_COLUMNS}


def _set_current_segments(session: Session, *, month: date,
                          scored: Mapping[int, Scored]) -> int:
    """Write the month's segment onto the customers for whom it is their latest month."""
    later = set(session.scalars(select(CustomerValue.customer_id).distinct()
                                .where(CustomerValue.as_of > month)))
    wanted = {cid: s.segment for cid, s in scored.items() if cid not in later}
    ids = list(wanted)
    changes: list[dict[str, Any]] = []
    for at in range(0, len(ids), _CHUNK):
        for cid, current in session.execute(select(Customer.id, Customer.segment)
                                            .where(Customer.id.in_(ids[at:at + _CHUNK]))):
            if current != wanted[cid]:
                changes.append({"customer": cid, "segment": wanted[cid]})
    if changes:
        table = cast(Table, Customer.__table__)
        session.execute(update(table).where(table.c.id == bindparam("customer"))
                        .values(segment=bindparam("segment")), changes)
    return len(changes)


# --- reading a file's rows -----------------------------------------------------------------------

# Header names bank exports use, Chinese or English, by field (compared without spaces,
# underscores or letter case).
HEADERS: dict[str, str] = {
    **dict.fromkeys(("手机号", "手机号码", "手机", "联系电话", "电话", "phone", "mobile",
                     "customerphone"), "phone"),
    **dict.fromkeys(("证件号码", "证件号", "身份证号", "身份证号码", "idnumber", "idno",
                     "customeridnumber"), "id_number"),
    **dict.fromkeys(("最近交易距今天数", "最近一次交易距今天数", "距今天数", "最近交易天数",
                     "r", "recency", "recencydays"), "recency_days"),
    **dict.fromkeys(("交易频次", "交易次数", "频次", "f", "frequency"), "frequency"),
    **dict.fromkeys(("交易金额", "资产金额", "金额", "贡献金额", "m", "monetary",
                     "monetaryvalue", "amount"), "monetary"),
    **dict.fromkeys(("流失日期", "销户日期", "attritedon", "attritiondate", "closedon"),
                    "attrited_on"),
    **dict.fromkeys(("月份", "数据月份", "统计月份", "month", "asof"), "month"),
}
FIELDS = ("phone", "id_number", "recency_days", "frequency", "monetary", "attrited_on", "month")
_MONEY_LIMIT = Decimal("1e16")
_CENT = Decimal("0.01")


@lru_cache(maxsize=1024)
def field_of(header: str) -> str | None:
    """The field a column header names (once per header: rows share their headers)."""
    key = str(header).strip().lower().replace(" ", "").replace("_", "").replace("-", "")
    return HEADERS.get(key)


class RowRefused(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class ParsedRow:
    """A row's values in their normal forms; the identity still in clear, never stored so."""

    number: int
    id_number: str | None
    phone: str | None
    recency_days: int
    frequency: int
    monetary: Decimal
    attrited_on: date | None
    month: date | None


def parse_row(number: int, values: Mapping[str, Any]) -> ParsedRow:
    """A row of the file as normal values, or RowRefused naming the field and the reason."""
    record: dict[str, Any] = {}
    for header, value in values.items():
        name = field_of(header)
        if name is not None and value not in (None, "") and name not in record:
            record[name] = value.strip() if isinstance(value, str) else value
    id_number = _identity(masking.clean_id_number, record.get("id_number"), "id_number")
    phone = _identity(masking.clean_phone, record.get("phone"), "phone")
    if id_number is None and phone is None:
        raise RowRefused("phone", "a phone or an ID number is needed to find the customer")
    return ParsedRow(
        number=number, id_number=id_number, phone=phone,
        recency_days=_count(record.get("recency_days"), "recency_days"),
        frequency=_count(record.get("frequency"), "frequency"),
        monetary=_money(record.get("monetary")),
        attrited_on=_day(record.get("attrited_on"), "attrited_on"),
        month=_month(record["month"], "month") if "month" in record else None)


def _identity(clean: Any, value: Any, name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(clean(str(value)))
    except ValueError as exc:
        # The reason names the rule, never the value: the file's identity stays out of rejects.
        raise RowRefused(name, str(exc)) from None


def _count(value: Any, name: str) -> int:
    if value is None:
        raise RowRefused(name, "is required")
    try:
        number = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise RowRefused(name, f"{_shown(value)} is not a whole number") from None
    if number != number.to_integral_value():
        raise RowRefused(name, f"{_shown(value)} is not a whole number")
    if number < 0:
        raise RowRefused(name, f"{_shown(value)} is negative")
    if number > 1_000_000_000:
        raise RowRefused(name, f"{_shown(value)} is too large")
    return int(number)


def _money(value: Any) -> Decimal:
    if value is None:
        raise RowRefused("monetary", "is required")
    text = str(value).replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RowRefused("monetary", f"{_shown(value)} is not an amount") from None
    if not amount.is_finite() or abs(amount) >= _MONEY_LIMIT:
        raise RowRefused("monetary", f"{_shown(value)} is not an amount")
    if amount < 0:
        raise RowRefused("monetary", f"{_shown(value)} is negative")
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%Y%m", "%Y.%m", "%Y年%m月")


def _day(value: Any, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text[:10] if pattern == "%Y-%m-%d" else text,
                                     pattern).date()
        except ValueError:
            continue
    raise RowRefused(name, f"{_shown(value)} is not a date (YYYY-MM-DD)")


def _month(value: Any, name: str) -> date:
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    text = str(value).strip()
    for pattern in _MONTH_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().replace(day=1)
        except ValueError:
            continue
    try:
        return _day(value, name or "month").replace(day=1)  # type: ignore[union-attr]
    except RowRefused:
        raise RowRefused(name, f"{_shown(value)} is not a month (YYYY-MM)") from None


def parse_month(text: str, *, field_name: str = "month") -> date:
    try:
        return _month(text, field_name)
    except RowRefused as exc:
        raise Invalid(exc.reason, field=field_name) from None


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 30 else text[:27] + "..."


# --- importing rows ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    rows: int = 0
    rejected: int = 0
    created_customers: int = 0
    months: list[MonthReport] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        total = {key: sum(getattr(m, key) for m in self.months)
                 for key in ("stored", "updated", "unchanged", "rescored", "segments_changed")}
        return {"rows": self.rows, **total, "rejected": self.rejected,
                "created_customers": self.created_customers,
                "months": [{"month": m.month.strftime("%Y-%m"), "stored": m.stored,
                            "updated": m.updated, "unchanged": m.unchanged,
                            "rescored": m.rescored, "segments_changed": m.segments_changed,
                            "by_segment": dict(sorted(m.by_segment.items()))}
                           for m in self.months]}


def import_rows(session: Session, *, actor: Actor, rows: Iterable[tuple[int, Mapping[str, Any]]],
                month: date | None = None, segments: SegmentMap | None = None,
                batch_size: int = 5_000) -> ImportReport:
    """Import a customer-value file's rows (row number, values): each row names a customer by
    phone or ID number and gives their month's figures. A row that cannot be used is reported
    in `rejects` with its row, field and reason and leaves the others alone; the same
    customer twice in one month keeps the first row. `month` (the first day is kept) applies
    to every row, else each row's month column does."""
    actor.require(IMPORT_PERMISSION)
    report = ImportReport()
    by_month: dict[date, dict[int, ValueRow]] = defaultdict(dict)
    first_row: dict[tuple[date, int], int] = {}
    for batch in _batches(rows, batch_size, report, month):
        ids = resolve_customers(session, [(r.id_number, r.phone) for r in batch], report)
        for parsed, customer_id in zip(batch, ids, strict=True):
            when = month or parsed.month
            assert when is not None
            seen = first_row.get((when, customer_id))
            if seen is not None:
                report.rejects.append((parsed.number, "phone" if parsed.phone else "id_number",
                                       f"the same customer as row {seen}"))
                continue
            first_row[(when, customer_id)] = parsed.number
            by_month[when][customer_id] = ValueRow(customer_id, parsed.recency_days,
                                                   parsed.frequency, parsed.monetary,
                                                   parsed.attrited_on)
    for when in sorted(by_month):
        report.months.append(store_month(session, actor=actor, month=when,
                                         rows=list(by_month[when].values()),
                                         segments=segments))
    report.rejects.sort()
    report.rejected = len(report.rejects)
    return report


def _batches(rows: Iterable[tuple[int, Mapping[str, Any]]], size: int, report: ImportReport,
             month: date | None) -> Iterator[list[ParsedRow]]:
    batch: list[ParsedRow] = []
    for number, values in rows:
        report.rows += 1
        try:
            parsed = parse_row(number, values)
            if month is None and parsed.month is None:
                raise RowRefused("month", "no month: give --month or a month column")
        except RowRefused as exc:
            report.rejects.append((number, exc.field, exc.reason))
            continue
        batch.append(parsed)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def resolve_customers(session: Session, identities: Sequence[tuple[str | None, str | None]],
                      report: ImportReport | None = None) -> list[int]:
    """The customer id of each (ID number, phone), both normalised: found by blind index under
    every key of the ring (the ID number first), else stored new, encrypted with masked forms,
    as `customers.service` stores a customer; identities of one batch that share an index
    become one customer."""
    ring = customer_service.current_keyring()
    indexes = [[*(ring.blind_indexes(i, field="id_number") if i else []),
                *(ring.blind_indexes(p, field="phone") if p else [])] for i, p in identities]
    found = customer_service.ids_by_blind_index(
        session, indexes=[index for row in indexes for index in row])
    result: list[int | None] = []
    new: list[customer_service.ProtectedIdentity] = []
    new_of_index: dict[str, int] = {}  # index -> position in `new`
    waiting: list[tuple[int, int]] = []  # (position in result, position in `new`)
    for (id_number, phone), row_indexes in zip(identities, indexes, strict=True):
        known = next((found[i] for i in row_indexes if i in found), None)
        if known is not None:
            result.append(known)
            continue
        pending = next((new_of_index[i] for i in row_indexes if i in new_of_index), None)
        if pending is None:
            pending = len(new)
            new.append(customer_service.protect_identity(ring, name=None, phone=phone,
                                                         id_number=id_number))
        for index in row_indexes:
            new_of_index.setdefault(index, pending)
        waiting.append((len(result), pending))
        result.append(None)
    if new:
        created = customer_service.create_customers(session, identities=new)
        for at, pending in waiting:
            result[at] = created[new[pending].key or ""]
        if report is not None:
            report.created_customers += len(new)
    return [cid for cid in result if cid is not None]


# --- attrition per segment -----------------------------------------------------------------------

@dataclass
class AttritionRow:
    segment: str
    label: str
    customers: int = 0
    attrited: int = 0
    complainers: int = 0
    complainers_attrited: int = 0

    @property
    def others(self) -> int:
        return self.customers - self.complainers

    @property
    def others_attrited(self) -> int:
        return self.attrited - self.complainers_attrited

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 4) if whole else None

    @property
    def rate(self) -> float | None:
        return self._rate(self.attrited, self.customers)

    @property
    def complainers_rate(self) -> float | None:
        return self._rate(self.complainers_attrited, self.complainers)

    @property
    def others_rate(self) -> float | None:
        return self._rate(self.others_attrited, self.others)

    def add(self, *, attrited: bool, complainer: bool) -> None:
        self.customers += 1
        self.attrited += attrited
        self.complainers += complainer
        self.complainers_attrited += attrited and complainer

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "label": self.label, "customers": self.customers,
                "attrited": self.attrited, "rate": self.rate,
                "complainers": self.complainers,
                "complainers_attrited": self.complainers_attrited,
                "complainers_rate": self.complainers_rate, "others": self.others,
                "others_attrited": self.others_attrited, "others_rate": self.others_rate}


@dataclass
class AttritionReport:
    period: Period
    org: Org
    whole_bank: bool
    segments: list[AttritionRow]
    total: AttritionRow

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.label, "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(), "org": self.org.code,
                "whole_bank": self.whole_bank, "unit": "percent",
                "segments": [row.as_dict() for row in self.segments],
                "total": self.total.as_dict()}


def attrition(session: Session, *, actor: Actor, period: str | Period, org: str | None = None,
              lang: str = "zh", segments: SegmentMap | None = None) -> AttritionReport:
    """Attrition per segment: customers who left in the period ÷ customers in the segment at
    its start (rates in percent), for complainers and for the rest.

    - A month's file is the customers as they stood in that month (`as_of`, its first day). The
      customers of a segment at the start of the period are those whose latest month on or
      before the period's first day puts them in it, unless that month says they had already
      left (`attrited_on` before the period).
    - They attrited when any of their months gives an `attrited_on` within the period.
    - A complainer made a complaint (投诉 or 投诉意向; merged duplicates not counted) received
      in the 12 months before the period, or within the period before the day they left (for
      those who stayed: before its end). A complaint after leaving does not count.
    - Orgs: the customer file carries no org, so customers belong to orgs through their cases.
      The whole bank (the root org) counts every customer of the files; an org below it counts
      the customers with a case (any kind, any time) at an org of its subtree — for a branch,
      the customers it has served through a case, not every account holder it has. The org
      must lie within the actor's scope, and the cases that tie a customer to it too.
    """
    actor.require(READ_PERMISSION)
    segments = segments or load_segments()
    when = parse_period(period) if isinstance(period, str) else period
    root = _resolve_org(session, actor=actor, code=org)
    whole_bank = root.parent_id is None
    latest = (select(CustomerValue.customer_id, func.max(CustomerValue.as_of).label("as_of"))
              .where(CustomerValue.as_of <= when.start).group_by(CustomerValue.customer_id)
              .subquery())
    opening = (select(CustomerValue.customer_id, CustomerValue.segment,
                      CustomerValue.attrited_on)
               .join(latest, (latest.c.customer_id == CustomerValue.customer_id)
                     & (latest.c.as_of == CustomerValue.as_of)))
    if not whole_bank:
        served = (select(Case.customer_id).where(
            Case.customer_id.is_not(None),
            Case.org_id.in_(select(Org.id).where(Org.path.startswith(root.path,
                                                                     autoescape=True))),
            org_service.in_scope(actor, Case.org_id)))
        opening = opening.where(CustomerValue.customer_id.in_(served))
    population: dict[int, str] = {}
    for cid, segment, attrited_on in session.execute(opening):
        if attrited_on is None or attrited_on >= when.start:
            population[cid] = segment
    left = _attrition_days(session, when, population)
    complained = _first_complaints(session, when)
    tz = get_settings().tz
    rows: dict[str, AttritionRow] = {}
    total = AttritionRow("*", "All" if lang == "en" else "全部")
    for cid, segment in population.items():
        gone = left.get(cid)
        cutoff = min(gone + timedelta(days=1), when.end) if gone else when.end
        first = complained.get(cid)
        complainer = first is not None and first < _utc_midnight(cutoff, tz)
        row = rows.setdefault(segment, AttritionRow(segment, segments.label(segment, lang)))
        row.add(attrited=gone is not None, complainer=complainer)
        total.add(attrited=gone is not None, complainer=complainer)
    order = {s.code: i for i, s in enumerate(segments.segments)}
    ordered = sorted(rows.values(), key=lambda r: (order.get(r.segment, len(order)), r.segment))
    return AttritionReport(period=when, org=root, whole_bank=whole_bank, segments=ordered,
                           total=total)


def _resolve_org(session: Session, *, actor: Actor, code: str | None) -> Org:
    org = (org_service.get_org_by_id(session, org_id=actor.org_id) if code is None
           else org_service.get_org_by_code(session, code=code))
    if not org_service.org_visible(actor, org):
        raise Forbidden(f"org {org.code} is outside your organisation", field="org")
    return org


def _attrition_days(session: Session, when: Period, population: Mapping[int, str]
                    ) -> dict[int, date]:
    """The first day within the period each customer of the population left on."""
    left: dict[int, date] = {}
    for cid, day in session.execute(
            select(CustomerValue.customer_id, func.min(CustomerValue.attrited_on))
            .where(CustomerValue.attrited_on >= when.start, CustomerValue.attrited_on < when.end)
            .group_by(CustomerValue.customer_id)):
        if cid in population and day is not None:
            left[cid] = day
    return left


def _first_complaints(session: Session, when: Period) -> dict[int, datetime]:
    """Each customer's first complaint received from 12 months before the period to its end."""
    tz = get_settings().tz
    since = _utc_midnight(_months_back(when.start, COMPLAINT_LOOKBACK_MONTHS), tz)
    until = _utc_midnight(when.end, tz)
    statement = (select(Case.customer_id, func.min(Case.received_at))
                 .where(Case.customer_id.is_not(None), Case.kind.in_(COMPLAINT_KINDS),
                        Case.merged_into_id.is_(None), Case.received_at >= since,
                        Case.received_at < until)
                 .group_by(Case.customer_id))
    return {cid: _aware(first) for cid, first in session.execute(statement) if cid is not None}


def _months_back(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has no such day)."""
    first = add_months(day.replace(day=1), -months)
    following = add_months(first, 1)
    return min(first.replace(day=1) + timedelta(days=day.day - 1),
               following - timedelta(days=1))


def _utc_midnight(day: date, tz: Any) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)

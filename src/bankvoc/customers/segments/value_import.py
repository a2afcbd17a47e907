"""Importing a customer-value file: its rows read into normal values (Chinese or English
headers), the customers found by blind index or created, each month stored (`rfm`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from bankvoc.core.errors import Invalid
from bankvoc.customers import masking
from bankvoc.customers import service as customer_service
from bankvoc.customers.segments.config import SegmentMap
from bankvoc.customers.segments.rfm import IMPORT_PERMISSION, MonthReport, ValueRow, store_month
from bankvoc.orgs.service import Actor

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

"""Lenient readers for the values bank files hold: dates in common forms, amounts, labels."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d%H%M%S",
    "%Y%m%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
)
_CN_DATE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?)?分?)?$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Serial numbers Excel shows as dates between 1955 and 2119: anything else is not a date.
_EXCEL_SERIAL_RANGE = (20_000.0, 80_000.0)


class ParseError(ValueError):
    """A value that cannot be read; the message says what was expected."""


def parse_datetime(value: object) -> datetime:
    """A point in time from a string, a spreadsheet date or an Excel serial number.

    Naive results are local times; the caller attaches the bank's zone.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_excel_serial(float(value))
    if not isinstance(value, str):
        raise ParseError(f"expected a date and time, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ParseError("is empty")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    match = _CN_DATE.match(text)
    if match:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(y, mo, d, h, mi, s)
        except ValueError as exc:
            raise ParseError(f"{text!r} is not a real date ({exc})") from None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_excel_serial(float(text))
    if re.fullmatch(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*", text):
        raise ParseError(f"{text!r} is not a real date")
    raise ParseError(f"{text!r} is not a date such as 2026-11-01 09:30:00")


def _from_excel_serial(serial: float) -> datetime:
    low, high = _EXCEL_SERIAL_RANGE
    if not low <= serial <= high:
        raise ParseError(f"{serial:g} is not a date")
    return _EXCEL_EPOCH + timedelta(days=serial)


_AMOUNT_NOISE = re.compile(r"[,，\s¥￥$]|CNY|RMB|人民币|元")
_MAX_AMOUNT = Decimal("1e16")


def parse_amount(value: object) -> Decimal:
    """Money as Decimal: "1,234.50", "¥1234.5", "1234.5元", "1.5万" (15,000), 1234.5."""
    if isinstance(value, bool):
        raise ParseError("expected an amount")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        amount = _amount_from_text(value)
    else:
        raise ParseError(f"expected an amount, got {type(value).__name__}")
    if not amount.is_finite():
        raise ParseError("is not a finite amount")
    if amount < 0:
        raise ParseError("must not be negative")
    if amount >= _MAX_AMOUNT:
        raise ParseError("is too large")
    quantised = amount.quantize(Decimal("0.01"))
    if quantised != amount:
        raise ParseError(f"{amount} has more than two decimal places")
    return quantised


def _amount_from_text(raw: str) -> Decimal:
    text = _AMOUNT_NOISE.sub("", raw.strip())
    factor = Decimal(1)
    if text.endswith("万"):
        factor, text = Decimal(10_000), text[:-1]
    elif text.endswith("亿"):
        factor, text = Decimal(100_000_000), text[:-1]
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ParseError(f"{raw.strip()!r} is not an amount such as 1234.50")
    try:
        return Decimal(text) * factor
    except InvalidOperation:
        raise ParseError(f"{raw.strip()!r} is not an amount") from None


def clean_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()

"""Periods a KPI is asked for: a month (2026-10), a quarter (2026-Q3), a year (2026) or a range of
days (2026-10-01..2026-10-15, both ends included), and the periods it is compared with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bankvoc.core.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local days [start, end): `end` is the first day after the period."""

    start: date
    end: date
    label: str

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def month_starts(self) -> list[date]:
        """The first days of the months the period overlaps."""
        starts, month = [], self.start.replace(day=1)
        while month < self.end:
            starts.append(month)
            month = add_months(month, 1)
        return starts

    def previous(self) -> Period:
        """The period just before, of the same shape (the month, quarter or days before)."""
        if self.whole_months:
            return Period(add_months(self.start, -self.months), self.start,
                          f"{self.label} (previous)")
        length = self.end - self.start
        return Period(self.start - length, self.start, f"{self.label} (previous)")

    def year_before(self) -> Period:
        def back(day: date) -> date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)
        return Period(back(self.start), back(self.end), f"{self.label} (year before)")


def parse_period(text: str, *, field: str = "period") -> Period:
    raw = text.strip()
    try:
        if match := _MONTH.match(raw):
            start = date(int(match[1]), int(match[2]), 1)
            return Period(start, add_months(start, 1), raw)
        if match := _QUARTER.match(raw):
            start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
            return Period(start, add_months(start, 3), raw.upper())
        if match := _YEAR.match(raw):
            start = date(int(match[1]), 1, 1)
            return Period(start, add_months(start, 12), raw)
        if match := _RANGE.match(raw):
            start, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if last < start:
                raise Invalid(f"{field}: the range ends before it starts", field=field)
            return Period(start, last + timedelta(days=1), raw)
    except ValueError as exc:
        raise Invalid(f"{field}: {raw!r} is not a date ({exc})", field=field) from None
    raise Invalid(f"{field}: {raw!r} is not a month (2026-10), quarter (2026-Q3), year (2026) "
                  "or range (2026-10-01..2026-10-15)", field=field)

"""Working days and periods counted as the law counts them, and working-hours arithmetic.

Civil Code art. 201: the day of receipt is not counted. Art. 203: when the last day is a rest day
it moves to the next working day, and the period ends at 24:00 of its last day. Rest and working
days follow the State Council's yearly holiday notice, adjusted working weekends (调休) included,
via the `chinese-calendar` package.

For a year the package does not cover yet, the days come from the bank's calendar file
(`BANKVOC_CALENDAR_FILE`, YAML, see `CalendarFile`); without that year in it, only weekends are
rest days, and the calendar says so: a warning logged once per year and `warnings(year)` that
commands print and include in their JSON.

Nothing here reads the wall clock: every instant is given.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import chinese_calendar
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bankvoc.core import configstore
from bankvoc.core.errors import ConfigurationError
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import Problem, parse_yaml, problems_found, read_text
from bankvoc.sla.errors import CalendarFileError

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "calendar.yaml"
KIND = "calendar"  # its kind of versioned configuration (bankvoc.core.configstore)
ONE_DAY = dt.timedelta(days=1)
# No calendar has a year without a working day; past this many days something is wrong.
_MAX_SEARCH_DAYS = 366

YearSource = Literal["package", "file", "weekends"]


# --- the bank's calendar file --------------------------------------------------------------------

def _span(value: object) -> object:
    """A day (2027-10-01) or an inclusive range written 2027-10-01..2027-10-07."""
    if isinstance(value, dt.datetime):
        raise ValueError("give a date without a time, e.g. 2027-10-01")
    if isinstance(value, dt.date):
        return (value, value)
    if isinstance(value, str):
        first, sep, last = value.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if sep else start
        except ValueError:
            raise ValueError("give a date (2027-10-01) or a range (2027-10-01..2027-10-07)"
                             ) from None
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        return (start, end)
    raise ValueError("give a date (2027-10-01) or a range (2027-10-01..2027-10-07)")


DaySpan = Annotated[tuple[dt.date, dt.date], BeforeValidator(_span)]
Year = Annotated[int, Field(ge=1949, le=2200)]


def _days(spans: list[tuple[dt.date, dt.date]]) -> Iterator[dt.date]:
    for start, end in spans:
        day = start
        while day <= end:
            yield day
            day += ONE_DAY


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CalendarYear(_Model):
    """A year's rest days beyond weekends, and its weekend days that are working days."""

    holidays: list[DaySpan] = []
    workdays: list[DaySpan] = []  # adjusted working weekend days (调休)


class CalendarFile(_Model):
    """The bank's own calendar, for years chinese-calendar does not cover yet.

    ```yaml
    version: "2027-1"
    years:
      2027:
        holidays: [2027-01-01, 2027-02-05..2027-02-11, 2027-10-01..2027-10-07]
        workdays: [2027-02-14, 2027-10-09]
    ```
    """

    version: str | None = None
    years: dict[Year, CalendarYear] = {}

    @model_validator(mode="after")
    def _consistent(self) -> CalendarFile:
        problems: list[Problem] = []
        for year, entry in self.years.items():
            holidays = set(_days(entry.holidays))
            for field in ("holidays", "workdays"):
                spans: list[tuple[dt.date, dt.date]] = getattr(entry, field)
                for i, span in enumerate(spans):
                    loc = ("years", year, field, i)
                    outside = [d for d in _days([span]) if d.year != year]
                    if outside:
                        problems.append(Problem(loc, f"{outside[0]} is not in {year}"))
                        continue
                    if field != "workdays":
                        continue
                    for day in _days([span]):
                        if day in holidays:
                            problems.append(Problem(loc, f"{day} is listed as a holiday too"))
                            break
                        if day.weekday() < 5:
                            problems.append(Problem(
                                loc, f"{day} is a weekday, a working day anyway: list only "
                                     "the weekend days that are working days (调休)"))
                            break
        if problems:
            raise problems_found(problems)
        return self


def parse_calendar(text: str, *, source: str = DEFAULT_SOURCE) -> CalendarFile:
    """The calendar in `text`, or a CalendarFileError naming each problem's line and reason."""
    return parse_yaml(text, CalendarFile, source=source, error=CalendarFileError)


def read_calendar(path: Path) -> CalendarFile:
    """The calendar in a file (UTF-8 YAML), or a CalendarFileError naming its problems' lines."""
    return parse_calendar(read_text(path, CalendarFileError), source=str(path))


# --- the calendar --------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def package_covers(year: int) -> bool:
    """Whether chinese-calendar holds the State Council's notice for `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    """Working and rest days, periods in days and working hours.

    The chinese-calendar package decides the years it covers; the bank's file the years it lists;
    other years count weekends only, with a warning.
    """

    def __init__(self, file: CalendarFile | None = None, *, source: str | None = None) -> None:
        self.file = file
        self.source = source
        self._holidays: dict[int, frozenset[dt.date]] = {}
        self._workdays: dict[int, frozenset[dt.date]] = {}
        for year, entry in (file.years.items() if file else ()):
            if package_covers(year):
                log.warning("calendar file %s: chinese-calendar covers %s; the file's entries "
                            "for it are not used", source, year)
                continue
            self._holidays[year] = frozenset(_days(entry.holidays))
            self._workdays[year] = frozenset(_days(entry.workdays))
        self._warned: set[int] = set()
        self._last_days: dict[tuple[dt.date, int], dt.date] = {}

    def year_source(self, year: int) -> YearSource:
        """Where a year's working days come from."""
        if package_covers(year):
            return "package"
        return "file" if year in self._holidays else "weekends"

    def warnings(self, year: int) -> list[str]:
        """What people should know about `year`: nothing, or that only weekends count."""
        if self.year_source(year) != "weekends":
            return []
        where = (f"{self.source} does not list it" if self.source
                 else "no calendar file is set (BANKVOC_CALENDAR_FILE)")
        return [f"{year}: chinese-calendar does not cover this year and {where}; counting "
                "weekends only as rest days, without public holidays or adjusted working days "
                f"(add {year} to the calendar file or upgrade chinese-calendar)"]

    def is_working_day(self, day: dt.date) -> bool:
        source = self.year_source(day.year)
        if source == "package":
            return bool(chinese_calendar.is_workday(day))
        if source == "file":
            if day in self._workdays[day.year]:
                return True
            return day.weekday() < 5 and day not in self._holidays[day.year]
        if day.year not in self._warned:
            self._warned.add(day.year)
            for message in self.warnings(day.year):
                log.warning("%s", message)
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the first working day after it."""
        for _ in range(_MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day += ONE_DAY
        raise ConfigurationError(f"no working day in the {_MAX_SEARCH_DAYS} days from {day}: "
                                 "check the calendar file", field="calendar")

    def last_day(self, start: dt.date, days: int) -> dt.date:
        """The last day of a period of `days` days counted from the day after `start`."""
        key = (start, days)
        found = self._last_days.get(key)
        if found is None:
            found = self._last_days[key] = self.next_working_day(start + dt.timedelta(days=days))
        return found

    @staticmethod
    def day_end(day: dt.date, tz: ZoneInfo) -> dt.datetime:
        """24:00 of `day` in `tz` (the next midnight), in UTC."""
        return dt.datetime.combine(day + ONE_DAY, dt.time(), tzinfo=tz).astimezone(dt.UTC)

    def period_end(self, received_at: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
        """The instant (UTC) a period of `days` days from `received_at` runs out: 24:00 local."""
        return self.day_end(self.last_day(received_at.astimezone(tz).date(), days), tz)

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta, *, tz: ZoneInfo,
                         opens: dt.time = dt.time(9), closes: dt.time = dt.time(17)
                         ) -> dt.datetime:
        """The instant (UTC) `amount` of working time after `start`.

        Working time runs from `opens` to `closes` (local) on working days. Time outside it does
        not count; an amount used up exactly at closing ends at closing, not the next opening.
        """
        if amount < dt.timedelta():
            raise ValueError("a working-time amount is not negative")
        cursor = start.astimezone(dt.UTC)
        remaining = amount
        day = start.astimezone(tz).date()
        for _ in range(_MAX_SEARCH_DAYS * 4):
            if self.is_working_day(day):
                opening = dt.datetime.combine(day, opens, tzinfo=tz).astimezone(dt.UTC)
                closing = dt.datetime.combine(day, closes, tzinfo=tz).astimezone(dt.UTC)
                begin = max(cursor, opening)
                if begin < closing or (begin == closing and not remaining):
                    if remaining <= closing - begin:
                        return begin + remaining
                    remaining -= closing - begin
            day += ONE_DAY
        raise ConfigurationError("too few working hours to count: check the calendar file and "
                                 "the business hours", field="calendar")

    @staticmethod
    def add_calendar_time(start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The instant (UTC) `amount` after `start`, around the clock."""
        return start.astimezone(dt.UTC) + amount


def get_calendar(path: Path | None = None) -> WorkCalendar:
    """The calendar with `path`, else the version activated on the admin screens, else the
    bank's file (BANKVOC_CALENDAR_FILE), else none; each built once per process."""
    if path is None:
        active = configstore.parsed(KIND, _build_version)
        if active is not None:
            return active
    return _calendar(path or get_settings().calendar_file)


def _build_version(text: str, source: str) -> WorkCalendar:
    return WorkCalendar(parse_calendar(text, source=source), source=source)


@lru_cache(maxsize=8)
def _calendar(path: Path | None) -> WorkCalendar:
    if path is None:
        return WorkCalendar()
    return WorkCalendar(read_calendar(path), source=str(path))


def clear_cache() -> None:
    """Forget built calendars (tests, or after a bank edits its file)."""
    _calendar.cache_clear()


def calendar_warnings(year: int) -> list[str]:
    """What the configured calendar says about `year` (see `WorkCalendar.warnings`)."""
    return get_calendar().warnings(year)


# The configured calendar's answers, for callers that need no other.

def is_working_day(day: dt.date) -> bool:
    return get_calendar().is_working_day(day)


def last_day(received: dt.date, days: int) -> dt.date:
    """The last day of a period of `days` days starting the day after `received`."""
    return get_calendar().last_day(received, days)


def period_end(received_at: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    """The instant (UTC) a period of `days` days from `received_at` runs out: 24:00 local."""
    return get_calendar().period_end(received_at, days, tz)

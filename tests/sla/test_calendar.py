"""Working days and periods as the law counts them; the bank's calendar file; working hours."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.sla import calendar as sla_calendar
from bankvoc.sla.calendar import (
    CalendarFile,
    WorkCalendar,
    calendar_warnings,
    get_calendar,
    last_day,
    package_covers,
    parse_calendar,
    period_end,
    read_calendar,
)
from bankvoc.sla.errors import CalendarFileError

SHANGHAI = ZoneInfo("Asia/Shanghai")
PACKAGE = WorkCalendar()  # chinese-calendar only, no bank file
# A year chinese-calendar does not cover (it covers up to 2026 at the time of writing).
UNCOVERED = 2027

BANK_FILE = """\
version: "2027-draft"
years:
  2027:
    holidays:
      - 2027-01-01
      - 2027-02-05..2027-02-11
    workdays:
      - 2027-02-14
"""


def at(text: str) -> dt.datetime:
    """A Shanghai wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def line_of(text: str, pattern: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if re.search(pattern, line))


def refusal(text: str) -> CalendarFileError:
    with pytest.raises(CalendarFileError) as caught:
        parse_calendar(text)
    return caught.value


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    """Each test builds what its environment names."""
    sla_calendar.clear_cache()
    yield
    sla_calendar.clear_cache()


def test_the_package_does_not_cover_the_uncovered_year() -> None:
    # If a newer chinese-calendar covers it, move UNCOVERED on: these tests need such a year.
    assert package_covers(2026)
    assert not package_covers(UNCOVERED)


class TestLastDay:
    def test_the_day_of_receipt_is_not_counted(self) -> None:
        # Civil Code art. 201: 15 days from Thursday 5 Nov 2026 end on Friday 20 Nov.
        assert PACKAGE.last_day(dt.date(2026, 11, 5), 15) == dt.date(2026, 11, 20)

    def test_a_15th_day_in_the_national_day_holiday_moves_to_the_first_working_day(self) -> None:
        # 22 Sep + 15 = 7 Oct, the last day of the holiday; work resumes on 8 Oct.
        assert PACKAGE.last_day(dt.date(2026, 9, 22), 15) == dt.date(2026, 10, 8)

    def test_an_adjusted_working_saturday_is_a_working_day(self) -> None:
        # 25 Sep + 15 = Saturday 10 Oct 2026, a working day (调休): the period ends on it.
        assert dt.date(2026, 10, 10).weekday() == 5
        assert PACKAGE.last_day(dt.date(2026, 9, 25), 15) == dt.date(2026, 10, 10)

    def test_an_ordinary_saturday_moves_to_monday(self) -> None:
        # 12 Jun + 15 = Saturday 27 Jun 2026: the period ends on Monday 29 Jun.
        assert PACKAGE.last_day(dt.date(2026, 6, 12), 15) == dt.date(2026, 6, 29)

    def test_a_working_last_day_stays(self) -> None:
        assert PACKAGE.last_day(dt.date(2026, 6, 11), 15) == dt.date(2026, 6, 26)

    def test_the_module_functions_use_the_configured_calendar(self) -> None:
        assert last_day(dt.date(2026, 9, 22), 15) == dt.date(2026, 10, 8)


class TestPeriodEnd:
    def test_ends_at_local_midnight_after_the_last_day(self) -> None:
        received = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
        assert PACKAGE.period_end(received, 15, SHANGHAI) == dt.datetime(
            2026, 11, 20, 16, 0, tzinfo=dt.UTC)

    def test_uses_the_local_date_of_receipt(self) -> None:
        # 20:00 UTC on 4 Nov is already 5 Nov in Shanghai.
        received = dt.datetime(2026, 11, 4, 20, 0, tzinfo=dt.UTC)
        assert period_end(received, 15, SHANGHAI) == at("2026-11-21 00:00")

    def test_a_day_ends_at_24_00_local_time(self) -> None:
        assert WorkCalendar.day_end(dt.date(2026, 10, 8), SHANGHAI) == at("2026-10-09 00:00")


class TestUncoveredYear:
    def test_counts_weekends_only_without_a_file(self) -> None:
        calendar = WorkCalendar()
        assert calendar.is_working_day(dt.date(2027, 1, 1))  # a Friday: a holiday in truth
        assert not calendar.is_working_day(dt.date(2027, 1, 2))
        assert calendar.year_source(UNCOVERED) == "weekends"

    def test_says_so_in_its_warnings(self) -> None:
        (message,) = WorkCalendar().warnings(UNCOVERED)
        assert message.startswith("2027: chinese-calendar does not cover this year")
        assert "counting weekends only" in message
        assert "BANKVOC_CALENDAR_FILE" in message

    def test_a_covered_year_has_no_warning(self) -> None:
        assert WorkCalendar().warnings(2026) == []

    def test_logs_the_warning_once_per_year(self, caplog: pytest.LogCaptureFixture) -> None:
        calendar = WorkCalendar()
        with caplog.at_level(logging.WARNING, logger="bankvoc.sla.calendar"):
            for day in range(1, 20):
                calendar.is_working_day(dt.date(UNCOVERED, 3, day))
            calendar.is_working_day(dt.date(UNCOVERED + 1, 3, 1))
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2
        assert messages[0].startswith("2027:")
        assert messages[1].startswith("2028:")

    def test_the_configured_calendar_answers_for_the_module(self) -> None:
        assert calendar_warnings(UNCOVERED) == WorkCalendar().warnings(UNCOVERED)


class TestBankCalendarFile:
    def test_decides_a_year_the_package_does_not_cover(self) -> None:
        calendar = WorkCalendar(parse_calendar(BANK_FILE), source="bank.yaml")
        assert calendar.year_source(UNCOVERED) == "file"
        assert not calendar.is_working_day(dt.date(2027, 1, 1))
        assert not calendar.is_working_day(dt.date(2027, 2, 8))  # inside the range
        assert calendar.is_working_day(dt.date(2027, 2, 14))  # an adjusted working Sunday
        assert calendar.is_working_day(dt.date(2027, 2, 12))
        assert calendar.warnings(UNCOVERED) == []

    def test_moves_a_last_day_off_its_holidays(self) -> None:
        # 17 Dec 2026 + 15 = Friday 1 Jan 2027: a holiday in the file, then a weekend.
        assert PACKAGE.last_day(dt.date(2026, 12, 17), 15) == dt.date(2027, 1, 1)
        calendar = WorkCalendar(parse_calendar(BANK_FILE))
        assert calendar.last_day(dt.date(2026, 12, 17), 15) == dt.date(2027, 1, 4)

    def test_a_year_missing_from_the_file_is_weekends_only_with_a_warning(self) -> None:
        calendar = WorkCalendar(parse_calendar(BANK_FILE), source="bank.yaml")
        (message,) = calendar.warnings(2028)
        assert "bank.yaml does not list it" in message

    def test_a_year_the_package_covers_is_not_taken_from_the_file(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        text = BANK_FILE + "  2026:\n    holidays: [2026-06-26]\n"
        with caplog.at_level(logging.WARNING, logger="bankvoc.sla.calendar"):
            calendar = WorkCalendar(parse_calendar(text), source="bank.yaml")
        assert calendar.is_working_day(dt.date(2026, 6, 26))
        assert "covers 2026" in caplog.text

    def test_is_read_from_bankvoc_calendar_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text(BANK_FILE, encoding="utf-8")
        monkeypatch.setenv("BANKVOC_CALENDAR_FILE", str(path))
        reset_settings()
        assert get_calendar().year_source(UNCOVERED) == "file"
        assert last_day(dt.date(2026, 12, 17), 15) == dt.date(2027, 1, 4)

    def test_an_empty_file_means_no_years(self) -> None:
        assert parse_calendar("years: {}\n") == CalendarFile()


class TestCalendarFileRefusals:
    def test_a_refusal_is_invalid_input(self) -> None:
        error = refusal(BANK_FILE.replace("2027-01-01", "2027-13-01"))
        assert isinstance(error, Invalid)
        assert (error.status, error.code, error.field) == (422, "calendar_invalid", "calendar")

    def test_a_bad_date_names_its_line(self) -> None:
        text = BANK_FILE.replace("- 2027-01-01", "- 2027-13-01")
        error = refusal(text)
        assert error.message == (
            f"calendar.yaml line {line_of(text, '2027-13-01')}: years[2027].holidays[0]: give a "
            "date (2027-10-01) or a range (2027-10-01..2027-10-07) (got '2027-13-01')")

    def test_a_range_that_ends_before_it_starts(self) -> None:
        text = BANK_FILE.replace("2027-02-05..2027-02-11", "2027-02-11..2027-02-05")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "2027-02-11..")
        assert "ends (2027-02-05) before it starts (2027-02-11)" in error.message

    def test_a_day_outside_its_year(self) -> None:
        text = BANK_FILE.replace("- 2027-02-14", "- 2028-02-13")
        error = refusal(text)
        assert error.message == (f"calendar.yaml line {line_of(text, '2028-02-13')}: "
                                 "years[2027].workdays[0]: 2028-02-13 is not in 2027")

    def test_a_weekday_is_no_adjusted_working_day(self) -> None:
        text = BANK_FILE.replace("- 2027-02-14", "- 2027-02-15")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "2027-02-15")
        assert "2027-02-15 is a weekday" in error.message

    def test_a_day_cannot_be_both_holiday_and_working_day(self) -> None:
        text = BANK_FILE.replace("- 2027-02-14", "- 2027-02-06")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "- 2027-02-06")
        assert "2027-02-06 is listed as a holiday too" in error.message

    def test_a_misspelt_field_is_refused_at_its_line(self) -> None:
        text = BANK_FILE.replace("workdays:", "workday:")
        error = refusal(text)
        assert error.message == (f"calendar.yaml line {line_of(text, 'workday:')}: "
                                 "years[2027].workday: is not a field here (check its spelling)")

    def test_a_year_given_twice(self) -> None:
        text = BANK_FILE + "  2027:\n    holidays: []\n"
        error = refusal(text)
        assert error.problems[0].line == len(text.splitlines()) - 1
        assert "is given twice" in error.message

    def test_bad_yaml_names_its_line(self) -> None:
        text = BANK_FILE.replace("      - 2027-02-14", "     - [2027-02-14")
        error = refusal(text)
        assert "not valid YAML" in error.message
        assert error.problems[0].line is not None

    def test_a_file_that_is_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_bytes(BANK_FILE.encode() + "# 元旦\n".encode("gb18030"))
        with pytest.raises(CalendarFileError) as caught:
            read_calendar(path)
        assert caught.value.message == (f"{path} line {len(BANK_FILE.splitlines()) + 1}: not "
                                        "UTF-8 text (save the file as UTF-8)")


class TestWorkingTime:
    def add(self, start: str, hours: float, calendar: WorkCalendar = PACKAGE,
            **opening: dt.time) -> dt.datetime:
        return calendar.add_working_time(at(start), dt.timedelta(hours=hours), tz=SHANGHAI,
                                         **opening).astimezone(SHANGHAI)

    def test_within_a_working_day(self) -> None:
        assert self.add("2026-06-22 10:00", 2) == at("2026-06-22 12:00")

    def test_the_evening_does_not_count(self) -> None:
        assert self.add("2026-06-22 16:00", 2) == at("2026-06-23 10:00")

    def test_across_a_weekend(self) -> None:
        assert self.add("2026-06-26 16:00", 2) == at("2026-06-29 10:00")

    def test_across_the_national_day_holiday(self) -> None:
        assert self.add("2026-09-30 16:00", 2) == at("2026-10-08 10:00")

    def test_an_adjusted_working_saturday_counts(self) -> None:
        assert self.add("2026-10-09 16:00", 2) == at("2026-10-10 10:00")

    def test_starting_on_a_rest_day_waits_for_the_next_opening(self) -> None:
        assert self.add("2026-06-27 11:00", 1) == at("2026-06-29 10:00")

    def test_starting_before_opening_waits_for_it(self) -> None:
        assert self.add("2026-06-22 07:30", 1) == at("2026-06-22 10:00")

    def test_used_up_at_closing_ends_at_closing(self) -> None:
        assert self.add("2026-06-26 15:00", 2) == at("2026-06-26 17:00")

    def test_24_working_hours_are_three_working_days(self) -> None:
        assert self.add("2026-06-22 10:00", 24) == at("2026-06-25 10:00")

    def test_business_hours_are_configurable(self) -> None:
        assert self.add("2026-06-22 17:00", 2, opens=dt.time(8, 30),
                        closes=dt.time(17, 30)) == at("2026-06-23 10:00")

    def test_an_uncovered_year_counts_weekdays(self) -> None:
        # Without the bank's file 1 Jan 2027 (a Friday) counts as a working day.
        assert self.add("2026-12-31 16:00", 2) == at("2027-01-01 10:00")
        with_file = WorkCalendar(parse_calendar(BANK_FILE))
        assert self.add("2026-12-31 16:00", 2, with_file) == at("2027-01-04 10:00")

    def test_calendar_time_runs_around_the_clock(self) -> None:
        assert WorkCalendar.add_calendar_time(at("2026-06-26 16:00"), dt.timedelta(hours=24)
                                              ) == at("2026-06-27 16:00")

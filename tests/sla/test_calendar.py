from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bankvoc.sla.calendar import last_day, period_end

SHANGHAI = ZoneInfo("Asia/Shanghai")


class TestLastDay:
    def test_the_day_of_receipt_is_not_counted(self) -> None:
        # Civil Code art. 201: 15 days from Thursday 5 Nov 2026 end on Friday 20 Nov.
        assert last_day(dt.date(2026, 11, 5), 15) == dt.date(2026, 11, 20)

    def test_a_last_day_in_a_holiday_moves_to_the_next_working_day(self) -> None:
        # 20 Sep + 15 = 5 Oct, inside the National Day holiday; work resumes 8 Oct.
        assert last_day(dt.date(2026, 9, 20), 15) == dt.date(2026, 10, 8)

    def test_an_adjusted_working_weekend_counts_as_a_working_day(self) -> None:
        # Saturday 10 Oct 2026 is a working day (调休): the period ends on it.
        assert last_day(dt.date(2026, 9, 25), 15) == dt.date(2026, 10, 10)

    def test_an_ordinary_weekend_moves_to_monday(self) -> None:
        assert last_day(dt.date(2026, 11, 6), 15) == dt.date(2026, 11, 23)


class TestPeriodEnd:
    def test_ends_at_local_midnight_after_the_last_day(self) -> None:
        received = dt.datetime(2026, 11, 5, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
        assert period_end(received, 15, SHANGHAI) == dt.datetime(2026, 11, 20, 16, 0,
                                                                  tzinfo=dt.UTC)

    def test_uses_the_local_date_of_receipt(self) -> None:
        # 20:00 UTC on 4 Nov is already 5 Nov in Shanghai.
        received = dt.datetime(2026, 11, 4, 20, 0, tzinfo=dt.UTC)
        assert period_end(received, 15, SHANGHAI).date() == dt.date(2026, 11, 20)

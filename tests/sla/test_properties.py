"""Properties of the deadline arithmetic, over generated dates, amounts and pauses.

The calendar is chinese-calendar's (the years it covers: 2020 to 2026 here), so holidays and
adjusted working weekends (调休) are in play. The budget is the hypothesis profile's
(tests/conftest.py): fixed and derandomized.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import assume, given
from hypothesis import strategies as st

from bankvoc.sla.calendar import WorkCalendar
from bankvoc.sla.clocks import PauseEnded, PauseStarted, compute_clocks
from bankvoc.sla.policy import CaseFacts, load_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()  # chinese-calendar only
OPENS, CLOSES = dt.time(9), dt.time(17)
ONE_DAY = dt.timedelta(days=1)

# Days whose periods stay inside the years chinese-calendar covers (60 days at most + slack).
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2026, 9, 30))
periods = st.integers(min_value=1, max_value=60)
instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2026, 9, 30),
                        timezones=st.just(SHANGHAI))
# Working time in whole minutes, up to three working weeks.
amounts = st.integers(min_value=0, max_value=15 * 8 * 60).map(lambda m: dt.timedelta(minutes=m))


class TestLastDay:
    @given(start=days, n=periods)
    def test_is_a_working_day_after_the_period_and_the_first_one(self, start: dt.date,
                                                                 n: int) -> None:
        last = CALENDAR.last_day(start, n)
        assert last >= start + dt.timedelta(days=n) > start
        assert CALENDAR.is_working_day(last)
        # Civil Code art. 203: a rest day at the end moves it to the next working day only.
        between = start + dt.timedelta(days=n)
        while between < last:
            assert not CALENDAR.is_working_day(between)
            between += ONE_DAY

    @given(first=days, second=days, n=periods)
    def test_is_monotone_in_the_day_of_receipt(self, first: dt.date, second: dt.date,
                                               n: int) -> None:
        early, late = sorted((first, second))
        assert CALENDAR.last_day(early, n) <= CALENDAR.last_day(late, n)

    @given(start=days, n=periods, more=st.integers(min_value=0, max_value=30))
    def test_is_monotone_in_the_period(self, start: dt.date, n: int, more: int) -> None:
        assert CALENDAR.last_day(start, n) <= CALENDAR.last_day(start, n + more)


class TestPeriodEnd:
    @given(received=instants, n=periods)
    def test_is_local_midnight_after_receipt(self, received: dt.datetime, n: int) -> None:
        end = CALENDAR.period_end(received, n, SHANGHAI)
        assert end > received
        local = end.astimezone(SHANGHAI)
        assert local.time() == dt.time(0)
        assert CALENDAR.is_working_day(local.date() - ONE_DAY)

    @given(first=instants, second=instants, n=periods)
    def test_is_monotone_in_the_time_of_receipt(self, first: dt.datetime,
                                                second: dt.datetime, n: int) -> None:
        early, late = sorted((first, second))
        assert (CALENDAR.period_end(early, n, SHANGHAI)
                <= CALENDAR.period_end(late, n, SHANGHAI))


def _add(start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    return CALENDAR.add_working_time(start, amount, tz=SHANGHAI, opens=OPENS, closes=CLOSES)


class TestAddWorkingTime:
    @given(start=instants, amount=amounts)
    def test_ends_in_working_hours_of_a_working_day_not_before_the_start(
        self, start: dt.datetime, amount: dt.timedelta
    ) -> None:
        end = _add(start, amount)
        assert end >= start
        local = end.astimezone(SHANGHAI)
        assert CALENDAR.is_working_day(local.date())
        assert OPENS <= local.time() <= CLOSES

    @given(start=instants, first=amounts, second=amounts)
    def test_adding_n_then_m_is_adding_n_plus_m(self, start: dt.datetime,
                                                first: dt.timedelta,
                                                second: dt.timedelta) -> None:
        assert _add(_add(start, first), second) == _add(start, first + second)

    @given(start=instants, n=st.integers(0, 15), m=st.integers(0, 15))
    def test_whole_working_days_add_up(self, start: dt.datetime, n: int, m: int) -> None:
        day = dt.timedelta(hours=8)  # 09:00 to 17:00
        assert _add(_add(start, n * day), m * day) == _add(start, (n + m) * day)

    @given(first=instants, second=instants, amount=amounts)
    def test_is_monotone_in_the_start(self, first: dt.datetime, second: dt.datetime,
                                      amount: dt.timedelta) -> None:
        early, late = sorted((first, second))
        assert _add(early, amount) <= _add(late, amount)

    @given(start=instants, first=amounts, second=amounts)
    def test_is_monotone_in_the_amount(self, start: dt.datetime, first: dt.timedelta,
                                       second: dt.timedelta) -> None:
        small, big = sorted((first, second))
        assert _add(start, small) <= _add(start, big)


class TestPausesExtend:
    @given(received=instants, start_after=st.integers(0, 10 * 24 * 60),
           length=st.integers(1, 20 * 24 * 60),
           reason=st.sampled_from(["appraisal", "testing", "evaluation"]))
    def test_a_finished_pause_never_brings_the_decision_forward(
        self, received: dt.datetime, start_after: int, length: int, reason: str
    ) -> None:
        assume(received.fold == 0)
        pause_at = received + dt.timedelta(minutes=start_after)
        resume_at = pause_at + dt.timedelta(minutes=length)
        facts = CaseFacts("complaint", "direct", severity="general")
        policy = load_policy()
        plain = compute_clocks(policy, facts, received, now=resume_at, tz=SHANGHAI,
                               calendar=CALENDAR)["decision"]
        assume(pause_at < plain.due_at if plain.due_at else False)  # paused while running
        paused = compute_clocks(
            policy, facts, received,
            [PauseStarted(at=pause_at, reason=reason), PauseEnded(at=resume_at)],
            now=resume_at, tz=SHANGHAI, calendar=CALENDAR)["decision"]
        assert plain.due_at is not None
        assert paused.due_at is not None
        assert paused.due_at >= plain.due_at
        # The days from the pause's first day to the day it ended are added (not counted).
        local = (pause_at.astimezone(SHANGHAI).date(), resume_at.astimezone(SHANGHAI).date())
        assert paused.paused_days == (local[1] - local[0]).days
        assert paused.days == plain.days

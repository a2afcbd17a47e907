"""Spike detection against a series' own seasonal baseline."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import numpy as np
import pytest

from bankvoc.alerts import detection
from bankvoc.alerts.detection import SpikeRule

LAST = date(2026, 11, 10)  # a Tuesday, 8 weeks after the National Day holiday began
DAYS = 57  # 8 weeks of history and the day itself
RATES = {"mon": 16.0, "tue": 10.0, "wed": 10.0, "thu": 10.0, "fri": 11.0, "rest": 3.0,
         "workday": 10.0}


def types_until(last: date, days: int = DAYS) -> list[str]:
    return detection.day_types(last - timedelta(days=days - 1), days, chinese_calendar.is_workday)


def quiet(seed: int, types: list[str], rates: dict[str, float] = RATES) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(c) for c in rng.poisson([rates[t] for t in types])]


class TestDayType:
    def test_working_weekdays_keep_their_name(self) -> None:
        assert detection.day_type(date(2026, 11, 9), True) == "mon"

    def test_weekends_and_public_holidays_are_rest_days(self) -> None:
        national_day_thursday = date(2026, 10, 1)
        assert not chinese_calendar.is_workday(national_day_thursday)
        assert detection.day_types(national_day_thursday, 1, chinese_calendar.is_workday) == [
            "rest"]
        assert detection.day_type(date(2026, 11, 7), False) == "rest"

    def test_a_weekend_worked_by_adjustment_is_a_workday(self) -> None:
        adjusted_sunday = date(2026, 9, 20)  # worked for the National Day holiday (调休)
        assert chinese_calendar.is_workday(adjusted_sunday)
        assert detection.day_type(adjusted_sunday, True) == "workday"


class TestScanSeries:
    def test_a_planted_spike_is_found_with_its_size(self) -> None:
        types = types_until(LAST)
        series = quiet(1, types)
        usual = series[-1]
        series[-1] += 30
        verdict = detection.scan_series(series, types)
        assert verdict.alarm, verdict.reason
        assert verdict.observed == usual + 30
        assert verdict.expected == pytest.approx(RATES["tue"], rel=0.25)
        assert verdict.excess == pytest.approx(usual + 30 - verdict.expected)
        assert verdict.ratio is not None
        assert verdict.ratio > 3
        assert verdict.p_value < 1e-6

    def test_a_spike_on_a_rest_day_is_judged_against_rest_days(self) -> None:
        last = date(2026, 11, 8)  # a Sunday: 3 expected, 12 is four times that
        types = types_until(last)
        series = quiet(2, types)
        series[-1] = 12
        verdict = detection.scan_series(series, types)
        assert verdict.alarm, verdict.reason
        assert verdict.expected < 5

    @pytest.mark.parametrize("seed", range(10))
    def test_a_quiet_series_with_a_weekly_pattern_raises_nothing_on_any_day(
        self, seed: int
    ) -> None:
        types = types_until(LAST, DAYS + 27)
        series = quiet(seed, types)
        for end in range(DAYS, len(series) + 1):  # the last four weeks, each day in turn
            verdict = detection.scan_series(series[end - DAYS:end], types[end - DAYS:end])
            assert not verdict.alarm, (end, verdict.reason)

    def test_monday_peaks_alone_raise_nothing(self) -> None:
        rates = {**RATES, "mon": 30.0}
        types = types_until(date(2026, 11, 9), DAYS + 21)  # ends on a Monday
        mondays = 0
        for seed in range(5):
            series = quiet(seed, types, rates)
            for end in range(DAYS, len(series) + 1):
                if types[end - 1] != "mon":
                    continue
                mondays += 1
                window, kinds = series[end - DAYS:end], types[end - DAYS:end]
                verdict = detection.scan_series(window, kinds)
                assert not verdict.alarm, verdict.reason
                # It is the learned Monday level that keeps them quiet: without the weekly
                # pattern (every day one type) a Monday is expected at the average day.
                flat = detection.scan_series(window, ["tue"] * DAYS)
                assert verdict.expected == pytest.approx(30.0, rel=0.25)
                assert verdict.expected > 2 * flat.expected
        assert mondays == 20

    def test_an_earlier_spike_does_not_hide_the_next_one(self) -> None:
        types = types_until(LAST)
        series = quiet(3, types)
        series[-8] += 60  # last Tuesday
        series[-1] += 30
        assert detection.scan_series(series, types).alarm

    def test_a_small_count_is_never_a_spike_however_unlikely(self) -> None:
        types = types_until(LAST)
        series = [0] * (DAYS - 1) + [4]
        verdict = detection.scan_series(series, types)
        assert not verdict.alarm
        assert verdict.reason == "fewer than 5 cases"

    def test_a_short_history_raises_nothing(self) -> None:
        types = types_until(LAST, 10)
        verdict = detection.scan_series([1] * 9 + [50], types)
        assert not verdict.alarm
        assert "days of history" in verdict.reason

    def test_noisy_series_need_a_bigger_rise(self) -> None:
        types = types_until(LAST)
        rng = np.random.default_rng(4)
        calm = [int(c) for c in rng.poisson([RATES[t] for t in types])]
        bursty = [int(c) for c in rng.poisson(
            np.array([RATES[t] for t in types]) * rng.gamma(2.0, 0.5, size=DAYS))]
        calm[-1] = bursty[-1] = 24
        calm_verdict = detection.scan_series(calm, types)
        bursty_verdict = detection.scan_series(bursty, types)
        assert bursty_verdict.dispersion > calm_verdict.dispersion
        assert bursty_verdict.p_value > calm_verdict.p_value

    def test_a_rule_can_ask_for_more(self) -> None:
        types = types_until(LAST)
        series = quiet(1, types)
        series[-1] += 30
        strict = SpikeRule(min_ratio=10.0)
        assert not detection.scan_series(series, types, strict).alarm

    def test_series_and_types_must_match(self) -> None:
        with pytest.raises(ValueError, match="one length"):
            detection.scan_series([1, 2, 3], ["mon", "tue"])


class TestTailProbability:
    def test_is_poisson_without_overdispersion(self) -> None:
        assert detection.tail_probability(3, 1.0, 1.0) == pytest.approx(0.0803, abs=1e-4)

    def test_overdispersion_makes_a_high_count_likelier(self) -> None:
        assert detection.tail_probability(20, 10.0, 30.0) > detection.tail_probability(
            20, 10.0, 10.0)

"""bench/load.py and bench/soak.py without running them: arguments, the stepping of the rate,
the memory slope and the keys of the last line (the benchmarks themselves are not tests)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
load: Any = importlib.import_module("load")
soak: Any = importlib.import_module("soak")


def result(rps: float, p99_ms: float, errors: int = 0) -> dict[str, Any]:
    return {"rps": rps, "achieved_rps": rps, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": p99_ms,
            "max_ms": p99_ms, "errors": errors, "late": 0, "requests": int(rps * 60)}


class TestArguments:
    def test_load_defaults_are_200_requests_a_second_for_60_seconds(self) -> None:
        args = load.parse_args([])
        assert (args.rps, args.seconds) == (200, 60)

    def test_soak_runs_10_minutes_by_default(self) -> None:
        assert soak.parse_args([]).minutes == 10

    def test_a_rate_of_zero_is_refused(self) -> None:
        with pytest.raises(SystemExit):
            load.parse_args(["--rps", "0"])


class TestStepRates:
    @staticmethod
    def server(capacity: float) -> Any:
        """A fake run: p99 under the goal up to `capacity` requests a second."""
        tried: list[float] = []

        def run(rate: float) -> dict[str, Any]:
            tried.append(rate)
            return result(rate, 50.0 if rate <= capacity else 900.0)
        run.tried = tried  # type: ignore[attr-defined]
        return run

    def test_steps_up_while_the_goal_is_met(self) -> None:
        run = self.server(capacity=500)
        assert load.step_rates(result(200, 50.0), run, steps=6) == 450
        assert run.tried == [300, 450, 675]

    def test_steps_down_until_the_goal_is_met(self) -> None:
        run = self.server(capacity=100)
        assert load.step_rates(result(200, 900.0), run, steps=6) == 90
        assert run.tried == [134, 90]

    def test_errors_fail_the_goal_whatever_the_latency(self) -> None:
        assert not load.meets(result(200, 10.0, errors=1))

    def test_a_rate_not_achieved_fails_the_goal(self) -> None:
        assert not load.meets({**result(200, 10.0), "achieved_rps": 120.0})


class TestLastLine:
    def test_starts_with_the_issue_s_keys_in_order(self) -> None:
        line = load.summary(load.parse_args([]), result(200, 120.0), best=300.0, setup_s=None)
        assert list(line)[:6] == ["rps", "p50_ms", "p95_ms", "p99_ms", "errors",
                                  "max_rps_meeting_p99"]
        assert line["max_rps_meeting_p99"] == 300.0


class TestSlope:
    def test_flat_memory_has_no_slope(self) -> None:
        assert soak.slope([(1.0, 300.0), (2.0, 300.0), (3.0, 300.0)]) == 0

    def test_a_leak_of_2_mb_a_minute(self) -> None:
        assert soak.slope([(1.0, 300.0), (2.0, 302.0), (3.0, 304.0)]) == pytest.approx(2.0)


class TestWhatTheCreatedCasesSay:
    def test_complaints_of_the_demo_generator_many_of_them_different(self) -> None:
        texts = load.complaint_texts()
        assert len(texts) == load.COMPLAINT_TEXTS
        assert len(set(texts)) > len(texts) // 2

    def test_each_goes_into_the_script_as_a_json_string(self) -> None:
        table = load.texts_table()
        literals = [line.removeprefix("[==[").removesuffix("]==],").removesuffix("]==]")
                    for line in table.splitlines()[1:-1]]
        assert [json.loads(literal) for literal in literals] == load.complaint_texts()

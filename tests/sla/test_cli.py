"""`bankvoc sla due` as people and scripts use it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.settings import reset_settings
from bankvoc.sla import calendar as sla_calendar
from bankvoc.sla import policy as sla_policy
from bankvoc.sla.cli import sla_app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_configuration() -> Iterator[None]:
    """Each test reads the policy and calendar its environment names."""
    sla_policy.clear_cache()
    sla_calendar.clear_cache()
    yield
    sla_policy.clear_cache()
    sla_calendar.clear_cache()


def use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"BANKVOC_{name.upper()}", value)
    reset_settings()


def due(*args: str) -> dict[str, Any]:
    result = runner.invoke(sla_app, ["due", *args, "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    payload: dict[str, Any] = json.loads(lines[-1])
    return payload


class TestDueJson:
    def test_the_last_line_is_one_json_object_with_the_decision_period(self) -> None:
        payload = due("--received", "2026-09-22 15:30")
        assert payload["decision_last_day"] == "2026-10-08"
        assert payload["decision_due"] == "2026-10-09T00:00:00+08:00"
        assert (payload["kind"], payload["origin"], payload["received"]) == (
            "complaint", "direct", "2026-09-22T15:30:00+08:00")
        assert payload["warnings"] == []

    @pytest.mark.parametrize(("received", "last_day"), [
        ("2026-09-22 15:30", "2026-10-08"),  # the 15th day is in the National Day holiday
        ("2026-09-25 09:00", "2026-10-10"),  # the adjusted working Saturday
        ("2026-06-12 11:00", "2026-06-29"),  # the 15th day is an ordinary Saturday
    ])
    def test_the_three_dates_of_the_issue(self, received: str, last_day: str) -> None:
        assert due("--received", received)["decision_last_day"] == last_day

    def test_every_clock_has_its_last_day_due_and_warnings(self) -> None:
        payload = due("--received", "2026-09-22 15:30", "--channel", "hotline")
        assert payload["clocks"] == ["decision", "first_contact", "response", "solution"]
        assert (payload["first_contact_last_day"], payload["first_contact_due"]) == (
            "2026-09-22", "2026-09-22T15:40:00+08:00")
        assert payload["response_due"] == "2026-09-22T16:30:00+08:00"
        assert payload["solution_due"] == "2026-09-23T15:30:00+08:00"
        assert payload["decision_warn_at"] == ["2026-09-30T19:45:00+08:00",
                                               "2026-10-05T17:30:00+08:00"]
        assert (payload["decision_days"], payload["decision_max_days"]) == (15, 60)

    @pytest.mark.parametrize("origin", ["direct", "nfra", "pboc", "12378", "12345"])
    def test_every_origin_has_a_15_day_decision(self, origin: str) -> None:
        payload = due("--received", "2026-09-22 15:30", "--origin", origin)
        assert (payload["origin"], payload["decision_last_day"]) == (origin, "2026-10-08")

    def test_praise_has_no_clock(self) -> None:
        payload = due("--received", "2026-09-22 15:30", "--kind", "praise")
        assert payload["clocks"] == []
        assert "decision_due" not in payload

    def test_a_suggestion_has_its_feedback_target(self) -> None:
        payload = due("--received", "2026-09-22 15:30", "--kind", "suggestion")
        assert payload["clocks"] == ["decision", "feedback"]

    def test_received_is_local_time_in_bankvoc_timezone(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        use(monkeypatch, timezone="UTC")
        payload = due("--received", "2026-09-22 15:30")
        assert payload["decision_due"] == "2026-10-09T00:00:00+00:00"
        assert payload["timezone"] == "UTC"

    def test_an_uncovered_year_is_counted_by_weekends_with_a_warning(self) -> None:
        payload = due("--received", "2026-12-20 10:00")
        assert payload["decision_last_day"] == "2027-01-04"
        (warning,) = payload["warnings"]
        assert warning.startswith("2027: chinese-calendar does not cover this year")

    def test_the_banks_calendar_file_decides_an_uncovered_year(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text('version: "2027-1"\nyears:\n  2027:\n    holidays: [2027-01-01]\n',
                        encoding="utf-8")
        use(monkeypatch, calendar_file=str(path))
        payload = due("--received", "2026-12-17 10:00")
        assert (payload["decision_last_day"], payload["warnings"]) == ("2027-01-04", [])

    def test_the_banks_policy_file_decides_the_periods(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        shipped = (Path(sla_policy.__file__).parent / "policy.yaml").read_text("utf-8")
        path = tmp_path / "policy.yaml"
        path.write_text(shipped.replace('version: "2026.1"', 'version: "bank-7"')
                        .replace("days: 15\n        starts: received",
                                 "days: 10\n        starts: received"), encoding="utf-8")
        use(monkeypatch, sla_policy_file=str(path))
        payload = due("--received", "2026-06-01 10:00")
        assert (payload["policy_version"], payload["decision_last_day"]) == ("bank-7",
                                                                             "2026-06-11")


class TestDueForPeople:
    def test_prints_each_clock_with_its_last_day_and_due_time(self) -> None:
        result = runner.invoke(app, ["sla", "due", "--received", "2026-09-22 15:30",
                                     "--channel", "hotline"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("received 2026-09-22 15:30 Asia/Shanghai: complaint")
        decision = next(line for line in lines if line.startswith("decision"))
        assert "last day 2026-10-08" in decision
        assert "due 2026-10-09 00:00" in decision
        assert "15 days (up to 60 with extensions)" in decision
        contact = next(line for line in lines if line.startswith("first_contact"))
        assert "due 2026-09-22 15:40" in contact
        assert "10 min (calendar hours)" in contact

    def test_prints_the_calendar_warning(self) -> None:
        result = runner.invoke(sla_app, ["due", "--received", "2026-12-20 10:00"])
        assert result.exit_code == 0, result.output
        assert "warning: 2027: chinese-calendar does not cover this year" in result.stdout

    def test_says_when_no_clock_runs(self) -> None:
        result = runner.invoke(sla_app, ["due", "--received", "2026-09-22 15:30",
                                         "--kind", "praise"])
        assert "no clock runs for a praise" in result.stdout


class TestDueRefusals:
    @pytest.mark.parametrize(("args", "option"), [
        (["--received", "2026-13-22 15:30"], "--received"),
        (["--received", "22/09/2026"], "--received"),
        (["--received", "2026-09-22 15:30", "--kind", "grumble"], "--kind"),
        (["--received", "2026-09-22 15:30", "--origin", "12315"], "--origin"),
        ([], "--received"),
    ])
    def test_a_bad_option_exits_2_naming_it(self, args: list[str], option: str) -> None:
        result = runner.invoke(sla_app, ["due", *args, "--json"])
        assert result.exit_code == 2
        assert option in result.output
        assert "Traceback" not in result.output

    def test_a_bad_policy_file_is_refused_with_its_line(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text('version: "x"\nwarn_at: [0.5, 1.5]\n', encoding="utf-8")
        use(monkeypatch, sla_policy_file=str(path))
        result = runner.invoke(sla_app, ["due", "--received", "2026-09-22 15:30"])
        assert result.exit_code == 2
        assert f"error: {path} line 2: warn_at: each fraction is between 0 and 1" in (
            result.stderr)

    def test_a_bad_calendar_file_is_refused_with_its_line(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        path = tmp_path / "calendar.yaml"
        path.write_text("years:\n  2027:\n    holidays: [2027-02-30]\n", encoding="utf-8")
        use(monkeypatch, calendar_file=str(path))
        result = runner.invoke(sla_app, ["due", "--received", "2026-09-22 15:30"])
        assert result.exit_code == 2
        assert f"error: {path} line 3: years[2027].holidays[0]: give a date" in result.stderr

    def test_a_missing_policy_file_is_named(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        use(monkeypatch, sla_policy_file=str(tmp_path / "absent.yaml"))
        result = runner.invoke(sla_app, ["due", "--received", "2026-09-22 15:30"])
        assert result.exit_code == 2
        assert "no such file" in result.stderr

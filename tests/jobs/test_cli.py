"""`bankvoc jobs list|run` and `bankvoc scheduler` as operators and scripts use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.jobs.cli import jobs_app, scheduler_command
from bankvoc.notify import service as notify_service
from bankvoc.notify.service import Recipient
from tests.notify.conftest import CONTEXT

runner = CliRunner()


def last_json(output: str) -> dict[str, object]:
    lines = output.strip().splitlines()
    assert lines, "no output"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.fixture
def due_sms(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh database with one SMS due; returns the file the demo adapter writes."""
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    reset_settings()
    with unit_of_work() as session:
        notify_service.enqueue(session, template="accepted", channel="sms",
                               recipient=Recipient.customer("13812345678"), language="zh",
                               context=CONTEXT, dedupe_key="case:1:accepted")
    return tmp_path / "notify" / "sms.jsonl"


class TestList:
    def test_lists_jobs_with_their_schedules(self) -> None:
        result = runner.invoke(jobs_app, ["list", "--json"])
        assert result.exit_code == 0, result.output
        jobs = {job["name"]: job for job in last_json(result.stdout)["jobs"]}  # type: ignore[attr-defined]
        assert jobs["notify.dispatch"]["every_seconds"] == 30
        text = runner.invoke(jobs_app, ["list"]).stdout
        assert "notify.dispatch" in text
        assert "every 30s" in text


class TestRun:
    def test_runs_a_job_now_and_prints_its_result(self, due_sms: Path) -> None:
        result = runner.invoke(jobs_app, ["run", "notify.dispatch", "--json"])
        assert result.exit_code == 0, result.output
        report = last_json(result.stdout)
        assert (report["job"], report["sent"]) == ("notify.dispatch", 1)
        assert len(due_sms.read_text(encoding="utf-8").splitlines()) == 1
        again = last_json(runner.invoke(jobs_app, ["run", "notify.dispatch", "--json"]).stdout)
        assert again["claimed"] == 0  # idempotent: nothing is sent twice

    def test_runs_for_a_given_time(self, due_sms: Path) -> None:
        result = runner.invoke(jobs_app, ["run", "notify.dispatch", "--now",
                                          "2000-01-01T00:00:00+00:00", "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout)["claimed"] == 0  # not due yet in 2000

    def test_an_unknown_job_is_a_clear_error(self) -> None:
        result = runner.invoke(jobs_app, ["run", "notify.nothing"])
        assert result.exit_code == 2
        assert "unknown job 'notify.nothing'" in result.stderr
        assert "Traceback" not in result.output

    def test_a_bad_time_is_a_clear_error(self) -> None:
        result = runner.invoke(jobs_app, ["run", "notify.dispatch", "--now", "tomorrow"])
        assert result.exit_code == 2
        assert "--now is an ISO-8601 time" in result.stderr


class TestScheduler:
    def test_runs_the_periodic_jobs_in_the_foreground(self, due_sms: Path) -> None:
        app = typer.Typer()
        app.command()(scheduler_command)
        result = runner.invoke(app, ["--stop-after", "1.5"])
        assert result.exit_code == 0, result.output
        assert "notify.dispatch (every 30s)" in result.stderr
        assert "scheduler stopped" in result.stderr
        assert len(due_sms.read_text(encoding="utf-8").splitlines()) == 1

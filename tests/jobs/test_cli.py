"""`bankvoc jobs list|run` and `bankvoc scheduler` as operators and scripts use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.jobs import engine
from bankvoc.jobs.cli import jobs_app, scheduler_command, worker_command
from bankvoc.notify import service as notify_service
from bankvoc.notify.service import Recipient
from tests.jobs.brokers import REDIS_URL, delete_queue, queue_name, reachable
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

    def test_with_a_broker_celery_beat_sends_the_periodic_jobs_to_the_queue(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        if not reachable(REDIS_URL):
            pytest.skip("redis not reachable")
        queue = queue_name()
        for name, value in {"BANKVOC_BROKER_URL": REDIS_URL, "BANKVOC_BROKER_QUEUE": queue,
                            "BANKVOC_DATA_DIR": str(tmp_path),
                            "BANKVOC_JOB_INTERVALS": '{"notify.dispatch": 0.5}'}.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        app = typer.Typer()
        app.command()(scheduler_command)
        try:
            result = runner.invoke(app, ["--stop-after", "6"])
            assert result.exit_code == 0, result.output
            assert f"Celery beat, queue {queue}" in result.stderr
            assert "notify.dispatch (every 0.5s)" in result.stderr
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            sent = [json.loads(m) for m in client.lrange(queue, 0, -1)]
            client.close()
        finally:
            engine.reset()
            delete_queue(REDIS_URL, queue)
        jobs = [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in sent]
        assert len(jobs) >= 2  # every half second for 6 s: at least twice even on a loaded machine
        assert set(jobs) == {(engine.TASK_NAME, "['notify.dispatch', None]")}
        assert list(tmp_path.glob("celerybeat-schedule*"))  # beat's state, in the data dir


class TestWorker:
    def test_without_a_broker_it_says_what_to_set(self) -> None:
        app = typer.Typer()
        app.command()(worker_command)
        result = runner.invoke(app, [])
        assert result.exit_code == 2
        assert "BANKVOC_BROKER_URL" in result.stderr
        assert "Traceback" not in result.output

    def test_an_unknown_pool_is_a_clear_error(self) -> None:
        app = typer.Typer()
        app.command()(worker_command)
        result = runner.invoke(app, ["--pool", "gevent"])
        assert result.exit_code == 2
        assert "--pool is prefork, threads or solo" in result.stderr


class TestIntervals:
    def test_the_operators_interval_replaces_the_jobs_own(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_JOB_INTERVALS", '{"notify.dispatch": 10}')
        reset_settings()
        jobs = {job["name"]: job for job in last_json(  # type: ignore[attr-defined]
            runner.invoke(jobs_app, ["list", "--json"]).stdout)["jobs"]}
        assert jobs["notify.dispatch"]["every_seconds"] == 10
        assert jobs["cases.sla_sweep"]["every_seconds"] == 60

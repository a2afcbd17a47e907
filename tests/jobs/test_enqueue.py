"""Follow-up jobs of a transaction: sent after it commits, dropped when it rolls back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import transaction, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.jobs import engine, runner
from bankvoc.jobs.enqueue import enqueue_job, pending_jobs, wait_local_jobs
from bankvoc.jobs.registry import UnknownJob, registry
from bankvoc.notify import service as notify_service
from bankvoc.notify.models import Notification
from bankvoc.notify.service import Recipient
from tests.notify.conftest import CONTEXT

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)

Unit = Callable[[], AbstractContextManager[Session]]


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[datetime, dict[str, Any], str]] = []
        self.lock = threading.Lock()

    def record(self, now: datetime, **args: Any) -> dict[str, Any]:
        with self.lock:
            self.seen.append((now, args, threading.current_thread().name))
        return {"ok": True}


@pytest.fixture
def calls() -> Iterator[Calls]:
    """Job `test.record` records its calls (registered for the test only)."""
    recorded = Calls()
    registry.job("test.record")(recorded.record)
    yield recorded
    registry.remove("test.record")


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Follow-ups run in this process's thread pool (the default)."""
    monkeypatch.setenv("BANKVOC_JOBS_LOCAL", "thread")
    reset_settings()
    yield
    assert wait_local_jobs(timeout=30)


@pytest.fixture
def unit(sessions: sessionmaker[Session]) -> Unit:
    """A unit of work of the test's database (its commits are savepoints rolled back at the
    end of the test, as a real commit does, they fire the session's after_commit)."""
    return lambda: transaction(sessions)


def fail_after(unit: Unit, work: Callable[[Session], object]) -> None:
    """A unit of work that does `work` and then fails (so it rolls back)."""
    with unit() as session:
        work(session)
        raise RuntimeError("the change fails")


def mode(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BANKVOC_JOBS_LOCAL", value)
    reset_settings()


class TestEnqueueJob:
    def test_runs_after_the_commit_and_not_before(
            self, local: None, calls: Calls, unit: Unit) -> None:
        with unit() as session:
            enqueue_job(session, "test.record", case_id=7, now=NOW)
            assert [p.name for p in pending_jobs(session)] == ["test.record"]
            assert wait_local_jobs(timeout=5)
            assert calls.seen == []
        assert wait_local_jobs(timeout=30)
        assert [(now, args) for now, args, _ in calls.seen] == [(NOW, {"case_id": 7})]
        assert calls.seen[0][2].startswith("bankvoc-job")  # not the committing thread

    def test_is_dropped_when_the_transaction_rolls_back(
            self, local: None, calls: Calls, unit: Unit) -> None:
        with pytest.raises(RuntimeError):
            fail_after(unit, lambda session: enqueue_job(session, "test.record", case_id=7))
        with unit():
            pass  # a later commit of another transaction sends nothing either
        assert wait_local_jobs(timeout=30)
        assert calls.seen == []

    def test_the_same_job_enqueued_twice_in_a_transaction_runs_once(
            self, local: None, calls: Calls, unit: Unit) -> None:
        with unit() as session:
            enqueue_job(session, "test.record", case_id=7)
            enqueue_job(session, "test.record", case_id=7)
            enqueue_job(session, "test.record", case_id=8)
        assert wait_local_jobs(timeout=30)
        assert sorted(args["case_id"] for _, args, _ in calls.seen) == [7, 8]

    def test_each_commit_of_a_session_sends_its_own(
            self, local: None, calls: Calls, unit: Unit) -> None:
        with unit() as session:
            enqueue_job(session, "test.record", case_id=1)
            session.commit()
            enqueue_job(session, "test.record", case_id=2)
            session.rollback()
            enqueue_job(session, "test.record", case_id=3)
        assert wait_local_jobs(timeout=30)
        assert sorted(args["case_id"] for _, args, _ in calls.seen) == [1, 3]

    def test_inline_runs_in_the_committing_thread_before_the_block_returns(
            self, local: None, calls: Calls, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
        mode(monkeypatch, "inline")
        with unit() as session:
            enqueue_job(session, "test.record")
        assert [name for _, _, name in calls.seen] == [threading.current_thread().name]

    def test_off_leaves_the_work_to_the_periodic_run(
            self, local: None, calls: Calls, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
        mode(monkeypatch, "off")
        with unit() as session:
            enqueue_job(session, "test.record")
        assert wait_local_jobs(timeout=30)
        assert calls.seen == []

    def test_an_unknown_job_is_refused_at_once(self, local: None, unit: Unit) -> None:
        with pytest.raises(UnknownJob) as caught, unit() as session:
            enqueue_job(session, "no.such_job")
        assert caught.value.field == "name"

    def test_arguments_must_be_json_values(self, local: None, calls: Calls, unit: Unit) -> None:
        with pytest.raises(Invalid) as caught, unit() as session:
            enqueue_job(session, "test.record", path=Path("/tmp"))
        assert caught.value.field == "args"

    def test_a_job_that_fails_after_the_commit_is_logged_and_the_commit_stands(
            self, local: None, unit: Unit, monkeypatch: pytest.MonkeyPatch,
            caplog: pytest.LogCaptureFixture) -> None:
        def fails(now: datetime) -> dict[str, Any]:
            raise ValueError("boom 13812345678")

        registry.job("test.fails")(fails)
        mode(monkeypatch, "inline")
        try:
            with caplog.at_level(logging.ERROR), unit() as session:
                enqueue_job(session, "test.fails")
        finally:
            registry.remove("test.fails")
        assert "job test.fails failed: ValueError" in caplog.text
        assert "13812345678" not in caplog.text  # the kind only, never the message's data

    def test_with_an_unreachable_broker_the_commit_stands_and_the_loss_is_logged(
            self, local: None, calls: Calls, unit: Unit, monkeypatch: pytest.MonkeyPatch,
            caplog: pytest.LogCaptureFixture) -> None:
        monkeypatch.setenv("BANKVOC_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens
        reset_settings()
        try:
            with caplog.at_level(logging.ERROR), unit() as session:
                notify_service.enqueue(
                    session, template="accepted", channel="sms",
                    recipient=Recipient.customer("13812345678"), language="zh",
                    context=CONTEXT, dedupe_key="case:1:accepted")
        finally:
            engine.reset()
        assert "job notify.dispatch not sent after commit: broker unreachable" in caplog.text
        with unit() as session:
            assert session.scalar(select(func.count()).select_from(Notification)) == 1
        assert calls.seen == []


class TestNotificationsAfterCommit:
    """The outbox's follow-up: what a transaction queued is sent once it commits, without
    waiting for the dispatcher's next periodic run."""

    def queue(self, key: str) -> None:
        with unit_of_work() as session:
            notify_service.enqueue(session, template="accepted", channel="sms",
                                   recipient=Recipient.customer("13812345678"),
                                   language="zh", context=CONTEXT, dedupe_key=key)

    def test_a_committed_notification_is_sent_after_the_commit(
            self, local: None, database: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
        mode(monkeypatch, "inline")
        self.queue("case:1:accepted")
        sent = (tmp_path / "notify" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(sent) == 1
        self.queue("case:1:accepted")  # the same key: nothing new, nothing sent again
        assert len((tmp_path / "notify" / "sms.jsonl").read_text().splitlines()) == 1

    def test_a_rolled_back_notification_is_neither_stored_nor_sent(
            self, local: None, database: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
        mode(monkeypatch, "inline")
        with pytest.raises(RuntimeError):
            fail_after(unit_of_work, lambda session: notify_service.enqueue(
                session, template="accepted", channel="sms",
                recipient=Recipient.customer("13812345678"), language="zh", context=CONTEXT,
                dedupe_key="case:2"))
        assert not (tmp_path / "notify" / "sms.jsonl").exists()
        with unit_of_work() as session:
            assert session.scalar(select(func.count()).select_from(Notification)) == 0


class TestLocalPool:
    def test_a_job_already_waiting_in_the_pool_is_not_queued_again(
            self, local: None, unit: Unit) -> None:
        started, release = threading.Event(), threading.Event()
        runs: list[int] = []

        def slow(now: datetime, **args: Any) -> dict[str, Any]:
            runs.append(args["n"])
            started.set()
            release.wait(10)
            return {}

        registry.job("test.slow")(slow)
        registry.job("test.blocked")(slow)
        try:
            with unit() as session:  # occupies both threads of the pool
                enqueue_job(session, "test.slow", n=1)
                enqueue_job(session, "test.slow", n=2)
            assert started.wait(10)
            for _ in range(3):  # three commits while the pool is busy: one run waits
                with unit() as session:
                    enqueue_job(session, "test.blocked", n=3)
            release.set()
            assert wait_local_jobs(timeout=30)
        finally:
            release.set()
            registry.remove("test.slow")
            registry.remove("test.blocked")
        assert sorted(runs) == [1, 2, 3]

    def test_auto_runs_them_only_where_the_in_process_scheduler_runs(
            self, calls: Calls, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
        mode(monkeypatch, "auto")
        with unit() as session:  # a one-shot command: left to the scheduler
            enqueue_job(session, "test.record", case_id=1)
        assert wait_local_jobs(timeout=30)
        assert calls.seen == []
        runner.start_scheduler(names=[])  # `bankvoc serve` / `bankvoc scheduler`
        try:
            with unit() as session:
                enqueue_job(session, "test.record", case_id=2)
            assert wait_local_jobs(timeout=30)
        finally:
            runner.stop_scheduler()
        assert [args for _, args, _ in calls.seen] == [{"case_id": 2}]

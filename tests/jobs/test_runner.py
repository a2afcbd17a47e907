"""Running jobs once and on schedule in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bankvoc.core.errors import Invalid
from bankvoc.jobs import runner
from bankvoc.jobs.registry import JobRegistry

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


@pytest.fixture
def registry() -> JobRegistry:
    return JobRegistry()


@pytest.fixture
def stopped() -> Iterator[None]:
    yield
    runner.stop_scheduler(wait=True)


class TestRunJob:
    def test_runs_the_job_for_the_given_time(self, registry: JobRegistry) -> None:
        seen: list[datetime] = []

        @registry.job("demo.seen")
        def seen_at(now: datetime) -> dict[str, Any]:
            seen.append(now)
            return {"ok": True}

        assert runner.run_job("demo.seen", NOW, registry=registry) == {"ok": True}
        runner.run_job("demo.seen", datetime(2026, 11, 27, 9, 0), registry=registry)
        assert seen == [NOW, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]  # naive means UTC

    def test_defaults_to_the_time(self, registry: JobRegistry) -> None:
        registry.job("demo.now")(lambda now: {"now": now})
        before = datetime.now(UTC)
        ran_at = runner.run_job("demo.now", registry=registry)["now"]
        assert before <= ran_at <= datetime.now(UTC)


class TestScheduler:
    def test_runs_periodic_jobs_until_stopped(self, registry: JobRegistry,
                                              stopped: None) -> None:
        runs: list[datetime] = []
        twice = threading.Event()

        @registry.job("demo.tick", every=timedelta(milliseconds=100))
        def tick(now: datetime) -> dict[str, Any]:
            runs.append(now)
            if len(runs) >= 2:
                twice.set()
            return {}

        registry.job("demo.manual")(lambda now: pytest.fail("on-demand jobs are not scheduled"))
        scheduler = runner.start_scheduler(registry=registry)
        assert runner.start_scheduler(registry=registry) is scheduler  # one per process
        assert [job.id for job in scheduler.get_jobs()] == ["demo.tick"]
        assert twice.wait(10)
        runner.stop_scheduler()
        assert not runner.scheduler_running()
        count = len(runs)
        time.sleep(0.3)
        assert len(runs) == count

    def test_a_failing_run_does_not_stop_the_schedule(self, registry: JobRegistry,
                                                      stopped: None) -> None:
        calls: list[int] = []
        again = threading.Event()

        @registry.job("demo.flaky", every=timedelta(milliseconds=100))
        def flaky(now: datetime) -> dict[str, Any]:
            calls.append(1)
            if len(calls) == 1:
                raise Invalid("first run fails")
            again.set()
            return {}

        runner.start_scheduler(registry=registry)
        assert again.wait(10)

    def test_can_run_only_some_jobs(self, registry: JobRegistry, stopped: None) -> None:
        registry.job("demo.a", every=timedelta(hours=1))(lambda now: {})
        registry.job("demo.b", every=timedelta(hours=1))(lambda now: {})
        scheduler = runner.start_scheduler(registry=registry, names=["demo.b"], run_now=False)
        assert [job.id for job in scheduler.get_jobs()] == ["demo.b"]

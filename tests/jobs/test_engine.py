"""Jobs on Celery against the machine's real Redis and RabbitMQ, run by real `bankvoc worker`
processes: after commit and never on rollback, a worker SIGKILLed mid-job, the broker down
for a while. Counts afterwards prove nothing was lost or duplicated and every notification
went out exactly once (by its delivery id at the SMS channel)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.jobs import engine
from bankvoc.jobs.enqueue import enqueue_job
from bankvoc.notify import service as notify_service
from bankvoc.notify.enums import Status
from bankvoc.notify.models import Notification
from bankvoc.notify.service import Recipient
from tests.conftest import _pg_reachable as pg_reachable
from tests.jobs.brokers import (
    AMQP_URL,
    REDIS_URL,
    Probe,
    Process,
    RedisServer,
    delete_queue,
    queue_name,
    reachable,
    wait_for,
)
from tests.notify.conftest import CONTEXT

POOL = os.environ.get("BANKVOC_TEST_POOL", "prefork")
# How long the broker stays down in the outage test (seconds).
OUTAGE_SECONDS = float(os.environ.get("BANKVOC_TEST_OUTAGE_SECONDS", "3"))


class Deployment:
    """One installation: this test process (committing like an API process would), and the
    `bankvoc worker` / `bankvoc scheduler` processes it starts, on one database and broker."""

    def __init__(self, broker_url: str, database_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
        self.queue = queue_name()
        self.broker_url, self.tmp_path = broker_url, tmp_path
        self.data_dir = tmp_path / "data"
        env = {"BANKVOC_DATABASE_URL": database_url, "BANKVOC_BROKER_URL": broker_url,
               "BANKVOC_BROKER_QUEUE": self.queue, "BANKVOC_DATA_DIR": str(self.data_dir),
               "BANKVOC_JOB_MODULES": "tests.jobs.probe_tasks",
               # Redis: a dead worker's jobs go back to the queue after 3 s, not an hour.
               "BANKVOC_BROKER_VISIBILITY_TIMEOUT_SECONDS": "3", **settings}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        engine.reset()
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[2] / "src"),
             str(Path(__file__).resolve().parents[2])])}
        self.processes: list[Process] = []
        self.probe = Probe(self.data_dir)

    def worker(self, concurrency: int = 2, pool: str = "prefork") -> Process:
        return self._start(["worker", "--concurrency", str(concurrency), "--pool", pool,
                            "--loglevel", "WARNING"], "worker")

    def scheduler(self) -> Process:
        return self._start(["scheduler"], "scheduler")

    def _start(self, args: list[str], kind: str) -> Process:
        process = Process(args, self.env,
                          self.tmp_path / f"{kind}-{len(self.processes)}.log").start()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.log.read_text(errors="replace")[-3000:] for p in self.processes
                         if p.log.exists())

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        engine.reset()
        delete_queue(self.broker_url, self.queue)


@pytest.fixture(scope="session")
def backend() -> str:
    """One database for these slow tests: PostgreSQL, the production database of a deployment
    with a broker (row locks with SKIP LOCKED), when reachable; else SQLite."""
    return "postgresql" if pg_reachable() else "sqlite"


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    url = REDIS_URL if request.param == "redis" else AMQP_URL
    if not reachable(url):
        pytest.skip(f"{request.param} not reachable at {url.split('@')[-1]}")
    return url


@pytest.fixture
def deployment(broker_url: str, database: str, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    made = Deployment(broker_url, database, tmp_path, monkeypatch)
    yield made
    made.close()


def notifications() -> tuple[int, int]:
    """(rows in the outbox, rows sent)."""
    with unit_of_work() as session:
        total = session.scalar(select(func.count()).select_from(Notification))
        sent = session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.status == Status.sent))
    return int(total or 0), int(sent or 0)


def mark(keys: list[str], pause: float = 0.0) -> None:
    """One committed transaction that enqueues probe.mark for each key."""
    with unit_of_work() as session:
        for key in keys:
            enqueue_job(session, "probe.mark", key=key, pause=pause)


def fail_after_marking(key: str) -> None:
    with unit_of_work() as session:
        enqueue_job(session, "probe.mark", key=key)
        raise RuntimeError("the change fails")


class TestBeatSchedule:
    def test_every_periodic_job_on_its_interval_or_the_operators(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_JOB_INTERVALS", '{"notify.dispatch": 5}')
        reset_settings()
        schedule = engine.beat_schedule()
        assert schedule["notify.dispatch"] == {"task": engine.TASK_NAME, "schedule": 5.0,
                                               "args": ("notify.dispatch", None)}
        assert schedule["cases.sla_sweep"]["schedule"] == 60.0
        assert "probe.mark" not in schedule  # on demand only

    def test_a_non_positive_interval_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_JOB_INTERVALS", '{"notify.dispatch": 0}')
        reset_settings()
        with pytest.raises(ValueError, match="positive number of seconds"):
            engine.beat_schedule()


class TestBuildApp:
    def test_jobs_are_acknowledged_after_they_ran_and_handed_back_by_a_dead_worker(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_BROKER_URL", "redis://127.0.0.1:6379/0")
        monkeypatch.setenv("BANKVOC_BROKER_QUEUE", "bankvoc-x")
        reset_settings()
        conf = engine.celery_app().conf
        assert conf.task_acks_late
        assert conf.task_reject_on_worker_lost
        assert conf.worker_prefetch_multiplier == 1
        assert (conf.task_default_queue, conf.task_default_exchange) == ("bankvoc-x",) * 2
        assert conf.broker_transport_options["visibility_timeout"] == 3600
        assert engine.TASK_NAME in engine.celery_app().tasks
        # Redis: the transport whose acknowledgements cannot jam a worker (redis_transport.py).
        assert conf.broker_transport == "bankvoc.jobs.redis_transport:Transport"

    def test_without_a_broker_it_says_what_to_set(self) -> None:
        from bankvoc.core.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="BANKVOC_BROKER_URL"):
            engine.celery_app()


@pytest.mark.slow
class TestWorker:
    def test_jobs_run_once_after_commit_and_never_on_rollback(
            self, deployment: Deployment) -> None:
        worker = deployment.worker()
        probe = deployment.probe
        with unit_of_work() as session:
            enqueue_job(session, "probe.mark", key="a")
            enqueue_job(session, "probe.mark", key="a")  # the same job twice: sent once
            enqueue_job(session, "probe.mark", key="b")
            time.sleep(1.5)  # a worker is up: had anything been sent, it would run now
            assert probe.started() == {}
        with pytest.raises(RuntimeError):
            fail_after_marking("rolled-back")
        wait_for(lambda: len(probe.sms_deliveries()) == 2, 60,
                 lambda: "jobs did not run:\n" + deployment.logs())
        time.sleep(1.0)  # time for a stray repeat to show
        assert worker.alive()
        assert set(probe.started()) == {"a", "b"}  # (SQLite may re-run a write conflict)
        assert probe.done() == {"a": 1, "b": 1}
        # Each probe's commit enqueued notify.dispatch, which the worker ran: sent once each.
        assert sorted(probe.sms_deliveries().values()) == [1, 1]
        assert notifications() == (2, 2)

    def test_a_worker_killed_mid_job_loses_nothing_and_sends_each_notification_once(
            self, deployment: Deployment) -> None:
        keys = [f"k{i}" for i in range(8)]
        probe = deployment.probe
        first = deployment.worker(concurrency=2)
        mark(keys, pause=1.0)
        wait_for(lambda: sum(probe.started().values()) >= 2, 60,
                 lambda: "no job started:\n" + deployment.logs())
        first.kill()  # SIGKILL, the pool's processes with it, mid-job
        in_flight = set(probe.started()) - set(probe.done())
        assert in_flight, "the kill must land while jobs run"
        deployment.worker(concurrency=2)
        wait_for(lambda: notifications() == (8, 8), 90,
                 lambda: "jobs lost after the kill:\n" + deployment.logs())
        time.sleep(1.0)
        assert set(probe.done()) == set(keys)
        # What the dead worker was running ran again on the new one (redelivered) ...
        assert all(probe.started()[key] >= 2 for key in in_flight)
        # ... and its repeat changed nothing: one notification per key, each sent once.
        deliveries = probe.sms_deliveries()
        assert len(deliveries) == 8
        assert set(deliveries.values()) == {1}
        assert notifications() == (8, 8)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.mark.slow
class TestBrokerOutage:
    def test_the_broker_down_for_a_while_loses_nothing_and_duplicates_nothing(
            self, own_redis: RedisServer, database: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
        # The scheduler sends notify.dispatch every second (its periodic run is what finds
        # the notifications committed while the broker was down).
        deployment = Deployment(own_redis.url, database, tmp_path, monkeypatch,
                                BANKVOC_JOB_INTERVALS='{"notify.dispatch": 1}')
        try:
            worker, scheduler = deployment.worker(pool=POOL), deployment.scheduler()
            probe = deployment.probe
            counter = iter(range(1000))

            def commit_notifications(count: int) -> None:
                with unit_of_work() as session:
                    for _ in range(count):
                        notify_service.enqueue(
                            session, template="accepted", channel="sms",
                            recipient=Recipient.customer("13812345678"), language="zh",
                            context=CONTEXT, dedupe_key=f"outage:{next(counter)}")

            for _ in range(5):
                commit_notifications(4)
            wait_for(lambda: notifications() == (20, 20), 60,
                     lambda: "not sent before the outage:\n" + deployment.logs())
            # Two jobs are running when the broker goes down: they finish during the outage,
            # when their acknowledgement cannot reach it.
            mark(["slow-1", "slow-2"], pause=1.5)
            wait_for(lambda: len(probe.started()) == 2, 60,
                     lambda: "the slow jobs did not start:\n" + deployment.logs())
            own_redis.kill()
            down_at = time.monotonic()
            with caplog.at_level(logging.ERROR):
                for _ in range(3):  # committed while the broker is down: the commits stand
                    commit_notifications(5)
            wait_for(lambda: len(probe.done()) == 2, 30, "the slow jobs did not finish")
            assert notifications()[0] == 37  # (a dispatch the worker held may have sent some)
            # Their follow-up could not be sent: the scheduler's periodic run must do it.
            assert caplog.text.count("job notify.dispatch not sent after commit") == 3
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
            own_redis.start()
            wait_for(lambda: notifications() == (37, 37), 90,
                     lambda: "not sent after the outage:\n" + deployment.logs())
            time.sleep(2.0)  # time for a stray repeat to show
            assert worker.alive(), deployment.logs()  # both rode the outage out
            assert scheduler.alive(), deployment.logs()
            deliveries = probe.sms_deliveries()
            assert len(deliveries) == 37
            assert set(deliveries.values()) == {1}
        finally:
            deployment.close()

"""PostgreSQL restarted under load (a throwaway cluster of the test's own: `pg_ctl stop -m fast`,
down BANKVOC_TEST_OUTAGE_SECONDS, started again): requests during the outage are answered 503
"unavailable", never 500; the API and the dispatcher carry on once it is back; and afterwards
every case is stored once and every notification was sent exactly once."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bankvoc.core.cliutil import DATABASE_UNAVAILABLE_EXIT
from bankvoc.core.db import unit_of_work
from bankvoc.core.timeutil import utcnow
from bankvoc.notify import service as notify_service
from bankvoc.notify.adapters import Adapter, FileAdapter, Message
from bankvoc.notify.enums import Channel
from bankvoc.notify.service import DispatchPolicy, Recipient
from tests.faults.api import ApiProcess, Caller, Callers, token_of
from tests.faults.checks import (
    assert_queued_once,
    assert_registered_once,
    assert_sent_once,
    dispatch_all,
)
from tests.faults.conftest import command_env
from tests.faults.servers import ThrowawayPostgres, free_port, outage_seconds
from tests.faults.test_import_killed import (
    ROWS,
    assert_imported_once,
    import_command,
    source_file,
    stored_records,
)
from tests.notify.conftest import CONTEXT

pytestmark = pytest.mark.slow

CASES = 60
CALLERS = 3


class Dispatcher:
    """The dispatcher as the scheduler runs it: again and again, a failed run logged and the
    next one tried (here every 0.1 s, in a thread of its own)."""

    def __init__(self, engine: Engine, directory: Path) -> None:
        files = FileAdapter(directory)
        self.adapters: dict[str, Adapter] = {channel: files for channel in Channel}
        self.engine = engine
        self.failed_runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatcher")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                notify_service.dispatch_due(self.engine, adapters=self.adapters)
            except Exception:
                self.failed_runs += 1
            self._stop.wait(0.1)

    def __enter__(self) -> Dispatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


class TestApiAndDispatcherDuringRestart:
    def test_requests_in_the_outage_are_503_and_nothing_is_lost_or_doubled(
        self, pg_cluster: ThrowawayPostgres, pg_db: str, pg_engine: Engine, tmp_path: Path,
        caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="bankvoc.notify.service")
        port = free_port()
        api = ApiProcess(command_env(pg_db), port, tmp_path / "api.log")
        api.start()
        caller = Caller(port=port, token=token_of(pg_engine, "hq_admin"))
        callers = Callers(caller, cases=CASES, count=CALLERS)
        done = callers.done
        outbox = tmp_path / "notify"
        try:
            with Dispatcher(pg_engine, outbox) as dispatcher:
                callers.start()
                callers.wait_until_done(CASES // 3)
                restarted_at = len(done)
                pg_cluster.restart(down_seconds=outage_seconds())
                callers.join()
                time.sleep(0.5)  # the dispatcher's last rounds
            log = (tmp_path / "api.log").read_text(errors="replace")
        finally:
            api.stop()

        assert restarted_at < CASES, "the restart must land mid-stream"
        assert sorted(done) == list(range(CASES))
        assert caller.statuses[503] > 0, "no request met the outage"
        assert caller.bad == []  # every failure was a clean 503 "unavailable"
        assert "Traceback" not in log
        # The dispatcher met the outage: a run that could not claim failed (and the next one
        # went on), or a result it could not record was recorded once the database was back.
        retried = [r for r in caplog.records if "recording its result again" in r.message]
        assert dispatcher.failed_runs > 0 or retried, "the dispatcher never met the outage"
        assert_registered_once(pg_engine, range(CASES))
        assert_queued_once(pg_engine, CASES)
        # What the dispatcher had not sent yet; and, once every lease has run out, anything a
        # claim lost in the outage left "sending".
        dispatch_all(pg_engine, outbox)
        later = utcnow() + DispatchPolicy.from_settings().sending_timeout + timedelta(seconds=1)
        dispatch_all(pg_engine, outbox, now=later)
        assert_sent_once(pg_engine, outbox, CASES)


class OutageOnFirstSend:
    """A channel that takes the database down as it sends the first message (so the result
    cannot be recorded) and has it started again `down_seconds` later."""

    def __init__(self, cluster: ThrowawayPostgres, directory: Path, down_seconds: float) -> None:
        self.cluster, self.files, self.down_seconds = cluster, FileAdapter(directory), down_seconds
        self.restarter: threading.Thread | None = None

    def send(self, message: Message) -> None:
        self.files.send(message)
        if self.restarter is None:
            self.cluster.stop()
            self.restarter = threading.Thread(target=self._start_later)
            self.restarter.start()

    def _start_later(self) -> None:
        time.sleep(self.down_seconds)
        self.cluster.start()


class TestDispatcherRecordsThroughARestart:
    def test_a_sent_message_whose_result_could_not_be_recorded_is_not_sent_again(
        self, pg_cluster: ThrowawayPostgres, pg_engine: Engine, tmp_path: Path
    ) -> None:
        with unit_of_work(pg_engine) as session:
            for number in range(5):
                notify_service.enqueue(session, template="accepted", channel="sms",
                                       recipient=Recipient.customer(f"1381234567{number}"),
                                       language="zh", context=CONTEXT,
                                       dedupe_key=f"restart:{number}")
        outbox = tmp_path / "notify"
        channel = OutageOnFirstSend(pg_cluster, outbox, outage_seconds())
        adapters: dict[str, Adapter] = {c: channel for c in Channel}
        report = notify_service.dispatch_due(pg_engine, adapters=adapters)
        assert channel.restarter is not None
        channel.restarter.join()
        assert (report.claimed, report.sent) == (5, 5)
        assert_sent_once(pg_engine, outbox, 5)
        # Nothing is left to send, even once every lease has run out.
        later = utcnow() + DispatchPolicy.from_settings().sending_timeout + timedelta(seconds=1)
        assert notify_service.dispatch_due(pg_engine, adapters=adapters, now=later).claimed == 0


class TestImportDuringRestart:
    def test_the_import_stops_cleanly_and_a_second_run_stores_every_row_once(
        self, pg_cluster: ThrowawayPostgres, pg_db: str, pg_engine: Engine, tmp_path: Path
    ) -> None:
        source = source_file(tmp_path / "cases.csv")
        # Small batches: many transactions, so that the outage lands while the import runs
        # however fast storing a batch becomes.
        command = import_command(source.path, batch=20)
        env = command_env(pg_db)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while stored_records(pg_engine) < ROWS // 10 and process.poll() is None:
            assert time.monotonic() < deadline, "the import made no progress"
            time.sleep(0.02)
        pg_cluster.restart(down_seconds=outage_seconds())
        _, stderr = process.communicate(timeout=300)
        assert "Traceback" not in stderr
        # A batch that met the outage was rolled back whole; the command says why and stops.
        assert process.returncode == DATABASE_UNAVAILABLE_EXIT, stderr[-2000:]
        assert ("error: the database is unavailable; run the command again once it is back"
                in stderr)
        before = stored_records(pg_engine)
        assert ROWS // 10 <= before < len(source.good)

        finished = subprocess.run(import_command(source.path), env=env, capture_output=True,
                                  text=True, timeout=300, check=False)
        assert finished.returncode == 0, finished.stderr[-2000:]
        report = json.loads(finished.stdout.strip().splitlines()[-1])
        assert_imported_once(pg_engine, report, source, unchanged=before)

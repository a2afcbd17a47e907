"""SIGKILL of the API in the middle of a stream of registrations: restarted, and the callers
sending again what went unanswered, no case is lost or stored twice, and every customer's
notification is queued once and sent once by the dispatcher."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.faults.api import ApiProcess, Caller, Callers, token_of
from tests.faults.checks import (
    assert_queued_once,
    assert_registered_once,
    assert_sent_once,
    dispatch_all,
)
from tests.faults.conftest import command_env
from tests.faults.servers import free_port

pytestmark = pytest.mark.slow

CASES = 60
CALLERS = 3


class TestApiKilled:
    def test_killed_mid_stream_and_restarted_nothing_is_lost_or_doubled(
        self, fault_db: str, engine: Engine, tmp_path: Path
    ) -> None:
        port = free_port()
        api = ApiProcess(command_env(fault_db), port, tmp_path / "api.log")
        api.start()
        caller = Caller(port=port, token=token_of(engine, "hq_admin"))
        callers = Callers(caller, cases=CASES, count=CALLERS)
        done = callers.done
        try:
            callers.start()
            callers.wait_until_done(CASES // 3)
            api.kill()  # while the callers keep sending
            killed_at = len(done)
            time.sleep(0.5)
            api.start()
            callers.join()
        finally:
            api.stop()

        assert killed_at < CASES, "the kill must land mid-stream"
        assert sorted(done) == list(range(CASES))
        assert caller.unanswered + caller.refused > 0, "no request met the dead server"
        assert caller.bad == []
        assert_registered_once(engine, range(CASES))
        assert_queued_once(engine, CASES)
        outbox = tmp_path / "notify"
        assert dispatch_all(engine, outbox) == CASES
        assert_sent_once(engine, outbox, CASES)

"""SIGKILL of the API in the middle of a stream of registrations: restarted, and the callers
sending again what went unanswered, no case is lost or stored twice, and every customer's
notification is queued once and sent once by the dispatcher."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bankvoc.core.db import unit_of_work
from bankvoc.orgs import service as org_service
from tests.faults.api import ApiProcess, Caller
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


def token_of(engine: Engine, username: str) -> str:
    with unit_of_work(engine) as session:
        return org_service.issue_token(session, user=org_service.get_user(session,
                                                                          username=username))


class TestApiKilled:
    def test_killed_mid_stream_and_restarted_nothing_is_lost_or_doubled(
        self, fault_db: str, engine: Engine, tmp_path: Path
    ) -> None:
        port = free_port()
        api = ApiProcess(command_env(fault_db), port, tmp_path / "api.log")
        api.start()
        caller = Caller(port=port, token=token_of(engine, "hq_admin"))
        done: list[int] = []
        threads = [threading.Thread(target=caller.run, args=(list(range(i, CASES, CALLERS)),
                                                             done)) for i in range(CALLERS)]
        try:
            for thread in threads:
                thread.start()
            while len(done) < CASES // 3:
                assert all(t.is_alive() for t in threads), "a caller stopped"
                time.sleep(0.01)
            api.kill()  # while the callers keep sending
            killed_at = len(done)
            time.sleep(0.5)
            api.start()
            for thread in threads:
                thread.join(timeout=240)
            assert not any(t.is_alive() for t in threads)
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

"""The throwaway servers the fault tests take down: each starts on a port of its own, keeps
what it held across a restart, and is gone at the end."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import create_engine, text

from tests.faults import servers
from tests.faults.servers import (
    DEFAULT_OUTAGE_SECONDS,
    OUTAGE_ENV,
    outage_seconds,
    port_open,
    throwaway_postgres,
    throwaway_redis,
)

pytestmark = pytest.mark.slow


def redis_command(port: int, *args: str) -> bytes:
    """One command in the Redis protocol; its raw reply."""
    request = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(arg.encode())}\r\n{arg}\r\n".encode() for arg in args)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        return sock.recv(4096)


class TestOutageSeconds:
    def test_defaults_to_two_seconds(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(OUTAGE_ENV, raising=False)
        assert outage_seconds() == DEFAULT_OUTAGE_SECONDS == 2.0

    def test_is_configurable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(OUTAGE_ENV, "0.5")
        assert outage_seconds() == 0.5


class TestThrowawayPostgres:
    def test_keeps_committed_rows_across_a_restart_and_is_removed_at_the_end(self) -> None:
        with throwaway_postgres() as pg:
            url = pg.create_database("faults").replace("postgresql://", "postgresql+psycopg://")
            engine = create_engine(url, pool_pre_ping=True)
            with engine.begin() as connection:
                connection.execute(text("CREATE TABLE t (n int)"))
                connection.execute(text("INSERT INTO t VALUES (1), (2)"))
            started = time.monotonic()
            pg.restart(down_seconds=0.3)
            assert time.monotonic() - started >= 0.3
            with engine.connect() as connection:  # the stale pooled connection is replaced
                assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
            engine.dispose()
            port, directory = pg.port, pg.directory
        assert not port_open(port)
        assert not directory.exists()

    def test_is_unreachable_while_stopped(self) -> None:
        with throwaway_postgres() as pg:
            pg.stop()
            assert not port_open(pg.port)
            pg.start()
            assert port_open(pg.port)


class TestThrowawayRedis:
    def test_keeps_what_it_held_across_a_restart_and_is_removed_at_the_end(self) -> None:
        with throwaway_redis() as redis:
            assert redis.url == f"redis://127.0.0.1:{redis.port}/0"
            assert redis_command(redis.port, "RPUSH", "queue", "job-1") == b":1\r\n"
            redis.restart(down_seconds=0.2)
            assert redis_command(redis.port, "LLEN", "queue") == b":1\r\n"
            redis.stop()
            assert not port_open(redis.port)
            redis.start()
            assert redis.running
            port, directory = redis.port, redis.directory
        assert not port_open(port)
        assert not directory.exists()


class TestWithoutTheServerPrograms:
    def test_postgres_tests_are_skipped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(servers, "_postgres_bin", lambda name: None)
        with pytest.raises(pytest.skip.Exception, match="initdb"), throwaway_postgres():
            pytest.fail("no server without initdb")

    def test_redis_tests_are_skipped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("tests.faults.servers.shutil.which", lambda name: None)
        with pytest.raises(pytest.skip.Exception, match="redis-server"), throwaway_redis():
            pytest.fail("no server without redis-server")

"""Throwaway PostgreSQL and Redis servers for fault tests: started on free loopback ports in a
temporary directory of their own, stopped and restarted at will, and removed at the end.

The machine's shared services are never touched: a test that takes a database or a broker down
takes down its own. Each context manager skips the test (`pytest.skip`) when the server's
programs are not installed.

    with throwaway_postgres() as pg:
        url = pg.create_database("bankvoc")   # or pg.url, the `postgres` database
        ...
        pg.restart(down_seconds=outage_seconds())

    with throwaway_redis() as redis:
        broker = redis.url                    # redis://127.0.0.1:PORT/0
        redis.restart(down_seconds=outage_seconds())

How long an outage lasts in the tests is `BANKVOC_TEST_OUTAGE_SECONDS` (default 2 s); a
benchmark may set it longer.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

OUTAGE_ENV = "BANKVOC_TEST_OUTAGE_SECONDS"
DEFAULT_OUTAGE_SECONDS = 2.0
_START_TIMEOUT_S = 30.0


def outage_seconds() -> float:
    """How long a fault test keeps a server down (`BANKVOC_TEST_OUTAGE_SECONDS`, default 2)."""
    value = os.environ.get(OUTAGE_ENV, "")
    return float(value) if value.strip() else DEFAULT_OUTAGE_SECONDS


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, timeout: float = _START_TIMEOUT_S, open_: bool = True) -> None:
    """Wait until `port` accepts connections (or, with `open_=False`, until it no longer does)."""
    deadline = time.monotonic() + timeout
    while port_open(port) != open_:
        if time.monotonic() > deadline:
            state = "accept" if open_ else "stop accepting"
            raise TimeoutError(f"port {port} did not {state} connections in {timeout:.0f} s")
        time.sleep(0.05)


# --- PostgreSQL ------------------------------------------------------------------------------

def _postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def postgres_available() -> bool:
    """Whether initdb and pg_ctl are installed (and, as root, runuser to drop to `postgres`)."""
    if _postgres_bin("initdb") is None or _postgres_bin("pg_ctl") is None:
        return False
    if os.geteuid() != 0:
        return True
    return shutil.which("runuser") is not None and _postgres_uid() is not None


def _postgres_uid() -> tuple[int, int] | None:
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own: `url` is its `postgres` database (trust auth, user
    `postgres`); `stop`, `start` and `restart` take it down and up on the same port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "postgres.log"
        self.port = port
        self.url = self.url_of("postgres")
        self.running = False

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}"
                               f"\n{tail}")

    def init(self) -> None:
        initdb = _postgres_bin("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")

    def start(self) -> None:
        pg_ctl = _postgres_bin("pg_ctl")
        assert pg_ctl is not None
        # fsync off: a throwaway cluster need not survive the machine, only its own processes
        # (what the operating system was given outlives a killed server). synchronous_commit
        # stays on, so a commit the client saw is never lost by a restart.
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=100 "
                   "-c shared_buffers=32MB")
        self._run(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", str(int(_START_TIMEOUT_S)), "start")
        self.running = True

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server: `fast` (clients disconnected, clean shutdown) or `immediate`
        (as a crash: recovery on the next start)."""
        pg_ctl = _postgres_bin("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def restart(self, down_seconds: float = 0.0, *, mode: str = "fast") -> None:
        """Stop the server, keep it down `down_seconds`, and start it again on the same port."""
        self.stop(mode=mode)
        time.sleep(down_seconds)
        self.start()

    def create_database(self, name: str) -> str:
        """A new empty database in this cluster; returns its URL."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"),
                               isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url_of(name)


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A fresh PostgreSQL cluster on a free port for the block; skips when not installed."""
    if not postgres_available():
        pytest.skip("PostgreSQL server programs (initdb, pg_ctl) are not installed")
    directory = Path(tempfile.mkdtemp(prefix="bankvoc-pg-"))
    ids = _postgres_uid() if os.geteuid() == 0 else None
    if ids is not None:
        os.chown(directory, *ids)
    server = ThrowawayPostgres(directory, free_port())
    try:
        server.init()
        for _attempt in range(3):  # the free port may have been taken meanwhile
            try:
                server.start()
                break
            except RuntimeError:
                server.port = free_port()
                server.url = server.url_of("postgres")
        else:
            server.start()
        yield server
    finally:
        if server.running or (server.data / "postmaster.pid").exists():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                server.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


# --- Redis -----------------------------------------------------------------------------------

def redis_available() -> bool:
    return shutil.which("redis-server") is not None


class ThrowawayRedis:
    """A redis-server of its own: `url` is its database 0. With `persistent` (the default) it
    keeps an append-only file, so what it held survives `restart` as a broker's queue must."""

    def __init__(self, directory: Path, port: int, *, persistent: bool = True) -> None:
        self.directory = directory
        self.port = port
        self.persistent = persistent
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = directory / "redis.log"

    def start(self) -> None:
        redis = shutil.which("redis-server")
        assert redis is not None
        command = [redis, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", str(self.directory), "--save", "", "--logfile", str(self.log),
                   "--appendonly", "yes" if self.persistent else "no",
                   "--appendfsync", "always"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._ping():
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise RuntimeError(f"redis-server exited ({self.process.returncode})\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.05)

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM (it writes what it holds and exits) or, with `kill`,
        SIGKILL (as a crash)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        wait_for_port(self.port, open_=False)

    def restart(self, down_seconds: float = 0.0, *, kill: bool = False) -> None:
        """Stop the server, keep it down `down_seconds`, and start it again on the same port."""
        self.stop(kill=kill)
        time.sleep(down_seconds)
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@contextmanager
def throwaway_redis(*, persistent: bool = True) -> Iterator[ThrowawayRedis]:
    """A fresh redis-server on a free port for the block; skips when not installed."""
    if not redis_available():
        pytest.skip("redis-server is not installed")
    directory = Path(tempfile.mkdtemp(prefix="bankvoc-redis-"))
    server = ThrowawayRedis(directory, free_port(), persistent=persistent)
    try:
        for _attempt in range(3):  # the free port may have been taken meanwhile
            try:
                server.start()
                break
            except RuntimeError:
                server.port = free_port()
                server.url = f"redis://127.0.0.1:{server.port}/0"
        else:
            server.start()
        yield server
    finally:
        try:
            server.stop(kill=True)
        finally:
            shutil.rmtree(directory, ignore_errors=True)

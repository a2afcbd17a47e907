"""Real brokers and real `bankvoc worker` / `bankvoc scheduler` processes for the engine tests.

The machine's Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672, guest) are used with a queue
of each test's own, deleted at the end, so runs that overlap never share messages; a test that
stops its broker starts a throwaway redis-server of its own on a free port instead. A broker
that cannot be reached skips the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("BANKVOC_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
AMQP_URL = os.environ.get("BANKVOC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
RUN_ID = os.environ.get("BANKVOC_TEST_RUN_ID", "main")


def reachable(url: str) -> bool:
    from kombu.connection import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def queue_name() -> str:
    return f"bankvoc-test-{RUN_ID}-{uuid.uuid4().hex[:8]}"


def delete_queue(url: str, queue: str) -> None:
    """Remove the test's queue (and, on Redis, its keys) from a shared broker."""
    from kombu.connection import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:  # type: ignore[no-untyped-call]
            channel = connection.default_channel
            if url.startswith("redis"):
                client = channel.client
                client.delete(queue, f"_kombu.binding.{queue}",
                              f"_kombu.binding_permanent.{queue}")
                for priority in range(1, 10):
                    client.delete(f"{queue}\x06\x16{priority}")
            else:
                channel.queue_delete(queue)
                channel.exchange_delete(queue)
    except Exception:  # cleanup of a shared broker is best effort: never fail the test here
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A `bankvoc …` command in its own process group, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bankvoc", *self.args], env=self.env, cwd=ROOT,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (the main process and its pool) at once."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a warm stop), then SIGKILL whatever is left."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        self.kill()


class RedisServer:
    """A throwaway redis-server on a free port with its data in `directory` (append-only file,
    so what it held survives its restart, as a production broker's does)."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.binary, self.directory, self.port = binary, directory, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "redis.log").open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.directory), "--appendonly", "yes", "--save", "",
                 "--protected-mode", "no"], stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: _accepts(self.port), 10, "redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], seconds: float,
             message: str | Callable[[], str]) -> None:
    """Wait until `condition()` holds; else fail with `message` (or what it returns then)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(0.1)


class Probe:
    """What the probe job (tests/jobs/probe_tasks.py) and the SMS file adapter left behind."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def _keys(self, log: str) -> Counter[str]:
        path = self.data_dir / "probe" / log
        if not path.exists():
            return Counter()
        return Counter(line.split()[0] for line in path.read_text().splitlines() if line)

    def started(self) -> Counter[str]:
        return self._keys("started.log")

    def done(self) -> Counter[str]:
        return self._keys("done.log")

    def sms_deliveries(self) -> Counter[str]:
        """How many times each notification (by its delivery id) reached the SMS channel."""
        import json

        path = self.data_dir / "notify" / "sms.jsonl"
        if not path.exists():
            return Counter()
        return Counter(json.loads(line)["delivery_id"]
                       for line in path.read_text(encoding="utf-8").splitlines() if line)

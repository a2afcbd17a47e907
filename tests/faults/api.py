"""An API process for fault tests (`bankvoc serve` on a free port, killed at will) and a client
that does what a careful caller does: each registration carries an Idempotency-Key, each step
the case version it saw, and a request without an answer (a reset, a refused connection, a 503)
is sent again until it has one."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bankvoc.core.db import unit_of_work
from bankvoc.orgs import service as org_service
from tests.faults.servers import wait_for_port


class ApiProcess:
    """`bankvoc serve --no-jobs` on `port` (jobs off: the test runs the dispatcher itself)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bankvoc", "serve", "--port", str(self.port),
                 "--no-jobs"], env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not self._healthy():
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            status, _ = request(self.port, "GET", "/healthz", timeout=2)
        except OSError:
            return False
        return status == 200

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback but the database's own."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        wait_for_port(self.port, open_=False)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def request(port: int, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None, timeout: float = 30
            ) -> tuple[int, Any]:
    """One HTTP request on a new connection; (status, JSON body or text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=payload, headers={
            "Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read().decode()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data
    finally:
        connection.close()


@dataclass
class Caller:
    """Registers and accepts cases through the API, retrying what went unanswered."""

    port: int
    token: str
    # Requests sent whose answer never came (the server died, or reset the connection).
    unanswered: int = 0
    # Connections refused: the server was down.
    refused: int = 0
    # Answers by status, of every attempt.
    statuses: Counter[int] = field(default_factory=Counter)
    # Answers that were neither a success nor a clean 503 (a 500, a stack trace): must stay empty.
    bad: list[tuple[int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    deadline: float = field(default_factory=lambda: time.monotonic() + 240)

    def _send(self, method: str, path: str, body: Any = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Send until answered with something other than 503."""
        while True:
            assert time.monotonic() < self.deadline, "requests went unanswered for too long"
            try:
                status, data = request(self.port, method, path, body, headers={
                    "Authorization": f"Bearer {self.token}", **(headers or {})})
            except ConnectionRefusedError:
                with self.lock:
                    self.refused += 1
                time.sleep(0.05)
                continue
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.unanswered += 1
                time.sleep(0.05)
                continue
            with self.lock:
                self.statuses[status] += 1
                if status == 503:
                    if not (isinstance(data, dict) and data.get("code") == "unavailable"):
                        self.bad.append((status, data))
                elif status >= 500:
                    self.bad.append((status, data))
            if status == 503:
                time.sleep(0.05)
                continue
            return status, data

    def register(self, number: int) -> str:
        """Register case `number` (its Idempotency-Key is its number); its reference."""
        body = {"text": f"第{number}号投诉：信用卡年费被多扣了，请尽快退还", "channel": "网点",
                "customer_phone": f"137{number:08d}", "org": "BJ"}
        status, data = self._send("POST", "/api/v1/cases", body,
                                  {"Idempotency-Key": f"fault-{number}"})
        assert status in (200, 201), (status, data)
        return str(data["reference"])

    def accept(self, reference: str) -> None:
        """Accept the case (which queues the customer's "accepted" SMS); a retry of an accept
        that was stored already finds the case accepted."""
        while True:
            status, case = self._send("GET", f"/api/v1/cases/{reference}")
            assert status == 200, (status, case)
            if case["status"] != "received":
                return  # an earlier attempt was stored; its answer was lost
            status, data = self._send("POST", f"/api/v1/cases/{reference}/steps",
                                      {"action": "accept", "version": case["version"]})
            if status == 200:
                return
            assert status == 409, (status, data)  # changed meanwhile: look again

    def run(self, numbers: list[int], done: list[int]) -> None:
        for number in numbers:
            self.accept(self.register(number))
            with self.lock:
                done.append(number)


def token_of(engine: Engine, username: str) -> str:
    with unit_of_work(engine) as session:
        return org_service.issue_token(session, user=org_service.get_user(session,
                                                                          username=username))


class Callers:
    """`count` threads of one caller, sharing the case numbers 0 … `cases` - 1 between them;
    `done` lists the numbers registered and accepted so far."""

    def __init__(self, caller: Caller, *, cases: int, count: int) -> None:
        self.done: list[int] = []
        self.threads = [threading.Thread(target=caller.run,
                                         args=(list(range(i, cases, count)), self.done))
                        for i in range(count)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_until_done(self, at_least: int) -> None:
        while len(self.done) < at_least:
            assert all(t.is_alive() for t in self.threads), "a caller stopped"
            time.sleep(0.01)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=240)
        assert not any(t.is_alive() for t in self.threads)

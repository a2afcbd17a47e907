"""Fakes and a committed outbox for the notification tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import build_engine
from bankvoc.notify.adapters import Message
from bankvoc.notify.errors import DeliveryError

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)

CONTEXT: dict[str, Any] = {
    "reference": "TS202611270001",
    "customer_name": "张三丰",
    "received_at": datetime(2026, 11, 26, 18, 30, tzinfo=UTC),  # 27 Nov in Shanghai
    "due_date": datetime(2026, 12, 14, 15, 0, tzinfo=UTC).date(),
}


class RecordingAdapter:
    """A fake channel: keeps what it was given; fails as `outcome` says (thread-safe)."""

    def __init__(self, outcome: Callable[[Message], None] | None = None) -> None:
        self.sent: list[Message] = []
        self.calls = 0
        self.outcome = outcome
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self.calls += 1
        if self.outcome is not None:
            self.outcome(message)
        with self._lock:
            self.sent.append(message)


def failing(*, retryable: bool, text: str = "gateway busy") -> Callable[[Message], None]:
    def outcome(_message: Message) -> None:
        raise DeliveryError(text, retryable=retryable)

    return outcome


@pytest.fixture
def outbox(fresh_db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh database of their own: the dispatcher commits for real."""
    engine = build_engine(fresh_db_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()

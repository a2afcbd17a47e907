"""Fixtures of the web tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bankvoc.core.settings import reset_settings
from tests.conftest import World, log_in
from tests.web.live import chromium, screenshots_dir


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (browser test modules skip where it is missing)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def shots() -> Path:
    """The directory for screenshots (`$BANKVOC_TEST_ARTIFACTS/screenshots`, default
    `<repo>/test-artifacts/screenshots`), created on demand; see `live.screenshot`."""
    return screenshots_dir()


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, client: TestClient, world: World) -> str:
    """Demo mode, and `client` logged in to the pages as the head office's administrator
    (`admin`) through the log-in form; returns the session's CSRF token for posted forms."""
    monkeypatch.setenv("BANKVOC_DEMO", "1")
    reset_settings()
    return log_in(client, world.session, "admin")

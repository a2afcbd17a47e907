"""What the browser tests share: a real server on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine

CHROMIUM = Path("/usr/bin/chromium")
# The marks of a module of browser tests: `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium "
                              "(apt-get install chromium fonts-noto-cjk)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Where a page may send requests: the test server only (no CDN, nothing leaves the machine).
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """The app on `engine`, served by uvicorn in a thread; yields its base URL."""
    import uvicorn

    from bankvoc.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine=engine), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class LiveServer:
    url: str
    references: dict[str, str]


@contextmanager
def seeded_server(database: Path, monkeypatch: pytest.MonkeyPatch,
                  seed: Callable[[str], dict[str, str]]) -> Iterator[LiveServer]:
    """A fresh SQLite database at `database`, migrated and filled by `seed` (which returns the
    references the test needs), served in demo mode."""
    from bankvoc.core import migrate
    from bankvoc.core.db import build_engine
    from bankvoc.core.settings import reset_settings

    url = f"sqlite:///{database}"
    migrate_engine = build_engine(url)
    migrate.upgrade(migrate_engine)
    migrate_engine.dispose()
    references = seed(url)
    monkeypatch.setenv("BANKVOC_DEMO", "1")
    monkeypatch.setenv("BANKVOC_DATABASE_URL", url)
    reset_settings()
    engine = build_engine(url)
    try:
        with serving(engine) as base:
            yield LiveServer(url=base, references=references)
    finally:
        engine.dispose()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watched_page(browser: Any) -> tuple[Any, set[str]]:
    """A new desktop-sized page in Chinese, and the set of hosts it sends requests to (which
    the test compares with `LOCAL_HOSTS` at the end)."""
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or "?"))
    return page, hosts

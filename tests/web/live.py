"""What the browser tests share: a real server on a free loopback port, and Debian's Chromium."""

from __future__ import annotations

import os
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
# Where screenshots go: `$BANKVOC_TEST_ARTIFACTS/screenshots`, else
# `<repo>/test-artifacts/screenshots`.
ARTIFACTS_ENV = "BANKVOC_TEST_ARTIFACTS"
REPO = Path(__file__).resolve().parents[2]


def screenshots_dir() -> Path:
    """The directory of the browser tests' screenshots (test artifacts, not committed), created
    on demand. Name a screenshot by what it shows and how: `<screen>.<zh|en|tablet>.png`
    (`inbox.zh.png`, `case.en.png`, `dashboard.tablet.png`)."""
    root = os.environ.get(ARTIFACTS_ENV)
    directory = (Path(root) if root else REPO / "test-artifacts") / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of `page` as `name` (e.g. `"case.zh.png"`) in
    `screenshots_dir()`; returns its path."""
    path = screenshots_dir() / name
    page.screenshot(path=str(path), full_page=True)
    return path


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
    references the test needs), served in demo mode; every user logs in with the demo's
    password (`log_in`)."""
    from bankvoc.core import migrate
    from bankvoc.core.db import build_engine
    from bankvoc.core.settings import reset_settings

    url = f"sqlite:///{database}"
    migrate_engine = build_engine(url)
    migrate.upgrade(migrate_engine)
    migrate_engine.dispose()
    references = seed(url)
    _demo_passwords(url)
    monkeypatch.setenv("BANKVOC_DEMO", "1")
    monkeypatch.setenv("BANKVOC_DATABASE_URL", url)
    reset_settings()
    engine = build_engine(url)
    try:
        with serving(engine) as base:
            yield LiveServer(url=base, references=references)
    finally:
        engine.dispose()


def _demo_passwords(url: str) -> None:
    from sqlalchemy import select

    from bankvoc.core.db import build_engine, unit_of_work
    from bankvoc.demo.service import DEMO_PASSWORD
    from bankvoc.orgs import auth
    from bankvoc.orgs.models import User

    engine = build_engine(url)
    try:
        with unit_of_work(engine) as session:
            auth.set_missing_passwords(session, users=list(session.scalars(select(User))),
                                       password=DEMO_PASSWORD, by="test")
    finally:
        engine.dispose()


def log_in(page: Any, base_url: str, username: str = "admin", *,
           password: str | None = None) -> None:
    """Log `page` in through the real log-in form, as a person would (Chinese labels)."""
    from playwright import sync_api

    from bankvoc.demo.service import DEMO_PASSWORD

    page.goto(f"{base_url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    sync_api.expect(page).not_to_have_url(f"{base_url}/login")


def logged_in_page(browser: Any, server: LiveServer,
                   username: str = "admin") -> tuple[Any, set[str]]:
    """`watched_page`, logged in as `username`."""
    page, hosts = watched_page(browser)
    log_in(page, server.url, username)
    return page, hosts


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


def take_step(page: Any, action: str, events: int) -> None:
    """Send the case page's form of workflow `action`, then wait until the page says it is
    done and its timeline has `events` rows."""
    from playwright import sync_api

    page.locator(f'form[data-action="{action}"]').get_by_role("button").click()
    sync_api.expect(page.locator("#step-done")).to_be_visible()
    sync_api.expect(page.locator("table.timeline tbody tr")).to_have_count(events)

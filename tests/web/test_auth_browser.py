"""Log-in, log-out and the forced change of an initial password in a real browser: Debian's
Chromium driven by Playwright (SQLite only, demo mode). Never runs `playwright install`; skips
without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.demo.service import DEMO_PASSWORD
from tests.web.live import BROWSER_TEST, LOCAL_HOSTS, LiveServer, seeded_server, watched_page

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

INITIAL = "Initial-pass-2026"
CHOSEN = "My-own-pass-2026"


def _seed(url: str) -> dict[str, str]:
    """A new handler at head office whose initial password an administrator set."""
    from bankvoc.orgs import auth
    from bankvoc.orgs import service as orgs

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        user = orgs.create_user(session, username="new_handler", display_name="新处理人",
                                org=root, roles=["handler"])
        auth.set_password(session, user=user, password=INITIAL, initial=True)
    engine.dispose()
    return {}


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "auth.db", monkeypatch, _seed) as server:
        yield server


def submit_login(page: Any, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def test_log_in_and_out_with_a_session_cookie(live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = watched_page(browser)
    base = live_server.url

    # Nobody sees a page without logging in, in demo mode too; the page asked for comes back.
    page.goto(f"{base}/dashboard")
    expect(page).to_have_url(f"{base}/login?next=%2Fdashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    expect(page.locator("[data-demo-password]")).to_contain_text(DEMO_PASSWORD)
    expect(page.locator("nav.mainnav")).to_have_count(0)

    submit_login(page, "admin", "not-the-password-1")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("admin")

    page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/dashboard")
    expect(page.locator(".who")).to_contain_text("admin")
    cookie = next(c for c in page.context.cookies() if c["name"] == "bankvoc_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"

    # Log out with the button in the top bar (a form with the session's CSRF token).
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{base}/login")
    assert not [c for c in page.context.cookies() if c["name"] == "bankvoc_session"]
    page.goto(f"{base}/cases")
    expect(page).to_have_url(f"{base}/login?next=%2Fcases")
    assert hosts <= LOCAL_HOSTS


def test_an_initial_password_is_changed_first(live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = watched_page(browser)
    base = live_server.url

    page.goto(f"{base}/callbacks")
    submit_login(page, "new_handler", INITIAL)
    expect(page).to_have_url(f"{base}/password?next=%2Fcallbacks")
    expect(page.locator("#password-forced")).to_be_visible()
    page.goto(f"{base}/cases")
    expect(page).to_have_url(f"{base}/password?next=%2Fcases")

    # A mistake is explained by its field, then the change goes through to the page asked for.
    page.get_by_label("当前密码").fill(INITIAL)
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#f-new_password-error")).to_contain_text("至少需要 10 个字符")
    expect(page.get_by_label("新密码", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("当前密码").fill(INITIAL)
    page.get_by_label("新密码", exact=True).fill(CHOSEN)
    page.get_by_label("再次输入新密码").fill(CHOSEN)
    page.get_by_role("button", name="修改密码").click()
    expect(page).to_have_url(f"{base}/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉工单")
    assert hosts <= LOCAL_HOSTS

"""The administration screens in a real browser (Debian's Chromium driven by Playwright, SQLite,
demo mode): an administrator creates a user with an initial password, the user logs in and is
made to change it. Never runs `playwright install`; skips without Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bankvoc.core.db import build_engine, unit_of_work
from tests.web.live import (
    BROWSER_TEST,
    LOCAL_HOSTS,
    LiveServer,
    log_in,
    screenshot,
    seeded_server,
    watched_page,
)

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

INITIAL = "Initial-pass-2026"
CHOSEN = "Chosen-pass-2026"


def _seed(url: str) -> dict[str, str]:
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        bj = orgs.create_org(session, code="BJ", name="北京分行", name_en="Beijing branch",
                             kind=OrgKind.branch,
                             parent=orgs.get_org_by_code(session, code="HQ"))
        found = {"bj": str(bj.id)}
    engine.dispose()
    return found


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "admin.db", monkeypatch, _seed) as server:
        yield server


def test_an_admin_creates_a_user_who_must_change_the_initial_password(
        live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = watched_page(browser)
    base = live_server.url
    log_in(page, base, "admin")

    # From the main navigation to the users, and the form for a new one.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="管理").click()
    expect(page).to_have_url(f"{base}/admin")
    page.get_by_role("link", name="用户", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("用户")
    page.get_by_role("link", name="新建用户").click()

    page.get_by_label("用户名").fill("wang.fang")
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("所属机构").select_option(live_server.references["bj"])
    page.get_by_label("工作手机").fill("13900001111")
    page.get_by_label("投诉处理人").check()
    page.get_by_label("初始密码").fill("short")
    page.get_by_role("button", name="创建用户").click()

    # A weak password is explained next to its field; nothing else is lost.
    expect(page.locator("#f-password-error")).to_contain_text("至少需要 10 个字符")
    expect(page.get_by_label("初始密码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("用户名")).to_have_value("wang.fang")
    expect(page.get_by_label("投诉处理人")).to_be_checked()
    screenshot(page, "admin_new_user_error.zh.png")

    page.get_by_label("初始密码").fill(INITIAL)
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator("#done")).to_have_text("已创建。")
    expect(page.locator("#history tr[data-change='create']")).to_have_count(1)
    screenshot(page, "admin_user.zh.png")
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{base}/admin/users")
    expect(page.locator("tr[data-user='wang.fang']")).to_contain_text("北京分行")
    screenshot(page, "admin_users.tablet.png")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{base}/login")

    # The new user logs in with the initial password and must choose their own first.
    page.get_by_label("用户名").fill("wang.fang")
    page.get_by_label("密码", exact=True).fill(INITIAL)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/password")
    expect(page.locator("#password-forced")).to_be_visible()
    expect(page.get_by_role("link", name="管理")).to_have_count(0)
    page.get_by_label("当前密码").fill(INITIAL)
    page.get_by_label("新密码", exact=True).fill(CHOSEN)
    page.get_by_label("再次输入新密码").fill(CHOSEN)
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#password-done")).to_be_visible()
    page.goto(f"{base}/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉工单")
    assert hosts <= LOCAL_HOSTS


def test_an_admin_sets_a_kpi_target_and_sees_it_recorded(live_server: LiveServer,
                                                         browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = watched_page(browser)
    base = live_server.url
    log_in(page, base, "admin")
    page.goto(f"{base}/admin")
    page.get_by_role("link", name="KPI 目标").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("KPI 目标")

    # A month written the wrong way is explained next to its field.
    page.get_by_label("指标").select_option("on_time_rate")
    page.get_by_label("适用机构").select_option(live_server.references["bj"])
    page.get_by_label("目标值").fill("95")
    page.get_by_label("起始月份").evaluate("field => field.type = 'text'")
    page.get_by_label("起始月份").fill("2026/01")
    page.get_by_role("button", name="保存目标").click()
    expect(page.locator("#f-valid_from-error")).to_contain_text("YYYY-MM")
    expect(page.get_by_label("目标值")).to_have_value("95")

    page.get_by_label("起始月份").evaluate("field => field.type = 'text'")
    page.get_by_label("起始月份").fill("2026-01")
    page.get_by_role("button", name="保存目标").click()
    expect(page.locator("#done")).to_have_text("目标已保存。")
    expect(page.locator("tr[data-kpi='on_time_rate']")).to_contain_text("北京分行")
    expect(page.locator("#history tr[data-change='kpi-target']")).to_have_count(1)
    screenshot(page, "admin_kpi_targets.zh.png")
    assert hosts <= LOCAL_HOSTS

"""The staff journey of issue 7, in a real browser on a real server: a Beijing handler logs in,
registers a complaint on the new-case page (finding the customer by phone), sees it classified
and graded, assigns it, proposes a decision, resolves it, records the callback and sees the
dashboard change; a Shanghai handler then cannot see it at all.

Debian's Chromium driven by Playwright (SQLite only); never runs `playwright install`; skips
without Chromium. The background jobs a running bank has on its scheduler (the callback
planner, the dashboard's roll-up, each every minute) are run by the test where the story waits
for them. Screenshots go to the test artifacts (`live.screenshots_dir()`).

The smaller browser tests stay: each covers what this story does not (the inbox's bulk
assignment and saved views, refused steps, an unhappy callback reopening a case, log-in
throttling, the dashboard's charts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.timeutil import to_local, utcnow
from tests.web.live import (
    BROWSER_TEST,
    LOCAL_HOSTS,
    LiveServer,
    log_in,
    screenshot,
    seeded_server,
    take_step,
    watched_page,
)

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

PHONE = "13812345678"
COMPLAINT = "信用卡年费被重复扣收两次，要求退还年费，否则投诉到银保监"
TABLET = {"width": 768, "height": 1024}


def _seed(url: str) -> dict[str, str]:
    """Two branches with a handler each, and a customer (张三, 138…5678) with a case in each
    branch, registered through intake 3 days ago; the roll-up brought up to date."""
    from bankvoc.intake.schemas import CaseCreate
    from bankvoc.intake.service import register_case
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    references: dict[str, str] = {}
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
        sh = orgs.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=root)
        orgs.create_user(session, username="bj_handler", display_name="北京处理员", org=bj,
                         roles=["handler"])
        orgs.create_user(session, username="sh_handler", display_name="上海处理员", org=sh,
                         roles=["handler"])
    with unit_of_work(engine) as session:
        admin = orgs.actor_for(orgs.get_user(session, username=orgs.ADMIN_USERNAME))
        earlier = utcnow() - timedelta(days=3)
        for org, text in (("BJ", "手机银行转账失败，钱被扣了没到账"),
                          ("SH", "理财产品到期没有按时兑付本金")):
            draft = register_case(session, actor=admin, data=CaseCreate(
                text=text, org=org, channel="hotline", received_at=earlier,
                customer_name="张三", customer_phone=PHONE))
            assert draft.error is None, draft.error
            assert draft.reference is not None
            references[org] = draft.reference
    engine.dispose()
    _scheduled_jobs(url)
    return {**references, "database": url}


def _scheduled_jobs(url: str) -> None:
    """What the scheduler runs every minute: plan the callbacks of resolved cases, bring the
    dashboard's roll-up up to date."""
    from bankvoc.analytics import service as analytics
    from bankvoc.surveys import service as surveys

    engine = build_engine(url)
    try:
        with unit_of_work(engine) as session:
            surveys.schedule_due(session, now=utcnow())
            analytics.refresh_rollup(session)
    finally:
        engine.dispose()


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "journey.db", monkeypatch, _seed) as server:
        yield server


def _this_month() -> str:
    from bankvoc.core.settings import get_settings

    return to_local(utcnow(), get_settings().tz).strftime("%Y-%m")


def _complaints(page: Any, base: str) -> int:
    page.goto(f"{base}/dashboard?period={_this_month()}")
    return int(page.locator('[data-kpi="complaints"] .kpi-figure').inner_text().strip())


def test_a_handler_registers_works_and_closes_a_complaint_another_branch_never_sees_it(
        live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    base, earlier = live_server.url, live_server.references
    page, hosts = watched_page(browser)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    nav = page.get_by_role("navigation", name="主导航")

    # A handler of the Beijing branch logs in; the dashboard counts this month's complaints.
    page.goto(f"{base}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    screenshot(page, "login.zh.png")
    log_in(page, base, "bj_handler")
    before = _complaints(page, base)

    # A customer at the counter: the handler finds them by phone, masked, with the Beijing case
    # (and not the Shanghai one).
    nav.get_by_role("link", name="登记").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记投诉")
    expect(page.get_by_label("所属机构")).to_have_value("BJ")
    screenshot(page, "new_case.zh.png")
    page.get_by_label("手机号或身份证号").fill(PHONE)
    page.get_by_role("button", name="查找客户").click()
    found = page.locator("#lookup-result")
    expect(found).to_have_attribute("data-found", "yes")
    expect(found.locator('[data-masked="name"]')).to_have_text("张*")
    expect(found.locator('[data-masked="phone"]')).to_have_text("138****5678")
    expect(found.get_by_role("link", name=earlier["BJ"])).to_be_visible()
    expect(found).not_to_contain_text(earlier["SH"])
    expect(page.get_by_label("联系电话")).to_have_value(PHONE)
    screenshot(page, "new_case_lookup.zh.png")

    # The complaint, registered: the text pipeline classifies and grades it.
    page.get_by_label("投诉内容").fill(COMPLAINT)
    page.get_by_label("涉及金额（元，可不填）").fill("200")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r".*/cases/TS\d+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.locator(".eyebrow")).to_contain_text(reference)
    expect(page.locator(".head-badges .pill")).to_have_text("已登记")
    expect(page.locator(".head-badges .badge")).to_have_text("紧急")
    decisions = page.locator("section[aria-labelledby=decisions-title]")
    expect(decisions).to_contain_text("收费争议")
    expect(decisions).to_contain_text("信用卡")
    screenshot(page, "case.zh.png")

    # Worked to a decision told to the customer; the timeline grows with each step.
    timeline = page.locator("table.timeline tbody tr")
    expect(timeline).to_have_count(1)

    take_step(page, "accept", 2)
    page.locator("#s-assign-user").select_option("bj_handler")
    take_step(page, "assign", 3)
    take_step(page, "investigate", 4)
    propose = page.locator('form[data-action="propose"]')
    propose.get_by_label("处理决定").select_option("refund")
    propose.get_by_label("金额（元）").fill("200")
    propose.get_by_label("处理依据").fill("年费重复扣收属我行差错，退还多收的年费")
    take_step(page, "propose", 5)
    resolve = page.locator('form[data-action="resolve"]')
    resolve.get_by_label("告知方式").select_option("phone")
    resolve.get_by_label("告知内容").fill("已电话告知客户退还多收年费 200 元")
    take_step(page, "resolve", 6)
    expect(page.locator(".head-badges .pill")).to_have_text("已解决")
    expect(page.locator("[data-chain=ok]")).to_contain_text("哈希链校验通过（6 个事件）")

    # The case page in English too.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".head-badges .pill")).to_have_text("Resolved")
    screenshot(page, "case.en.png")
    page.get_by_role("link", name="中文").click()

    # The planner queues the callback; the handler records a satisfied customer.
    _scheduled_jobs(earlier["database"])
    nav.get_by_role("link", name="回访队列").click()
    callback = page.locator(f'tbody.callback[data-reference="{reference}"]')
    expect(callback).to_contain_text("张* · 138****5678")
    callback.get_by_text("记录回访结果").click()
    form = callback.locator("form.callback-form")
    form.get_by_label("满意度（1–5）").fill("5")
    form.get_by_label("是，已解决").check()
    form.get_by_role("button", name="提交回访结果").click()
    expect(page.locator("#callback-done")).to_have_attribute("data-outcome", "closed")
    screenshot(page, "callbacks_recorded.zh.png")

    # The dashboard, once the roll-up has run: one complaint more this month.
    _scheduled_jobs(earlier["database"])
    assert _complaints(page, base) == before + 1
    screenshot(page, "dashboard_after_case.zh.png")

    # The new-case page in English, and on a tablet held upright.
    page.goto(f"{base}/cases/new?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a case")
    screenshot(page, "new_case.en.png")
    page.set_viewport_size(TABLET)
    page.goto(f"{base}/cases/new?lang=zh")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the new-case page is {overflow}px wider than a tablet"
    screenshot(page, "new_case.tablet.png")
    page.goto(f"{base}/cases/{reference}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the case page is {overflow}px wider than a tablet"
    page.set_viewport_size({"width": 1366, "height": 900})

    # A handler of the Shanghai branch: not in their list, and its address is not found.
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r".*/login.*"))
    log_in(page, base, "sh_handler")
    page.goto(f"{base}/cases")
    expect(page.locator(".who strong")).to_have_text("sh_handler")
    expect(page.locator("table.cases")).to_contain_text(earlier["SH"])
    expect(page.locator("table.cases")).not_to_contain_text(reference)
    assert not errors, errors
    response = page.goto(f"{base}/cases/{reference}")  # the browser logs the 404 itself
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(page.locator("main")).not_to_contain_text(COMPLAINT)
    screenshot(page, "case_not_found.zh.png")

    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()

"""The handler's workflow in a real browser on a real server: Debian's Chromium driven by
Playwright (SQLite only, demo mode). Never runs `playwright install`; skips without Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bankvoc.core.db import build_engine, unit_of_work
from tests.web.live import (
    BROWSER_TEST,
    LOCAL_HOSTS,
    LiveServer,
    logged_in_page,
    screenshot,
    seeded_server,
    take_step,
)

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")


@dataclass(frozen=True)
class Seed:
    """(text, org, origin, days since receipt, days to the deadline, accepted?)"""

    text: str
    org: str
    received_days_ago: float
    due_in_days: float
    accepted: bool
    origin: str = "direct"
    origin_reference: str | None = None


SEEDS = {
    "late": Seed("信用卡年费被重复扣收，多次投诉无人处理", "BJ", 20, -3, True),
    "half": Seed("网点排队两个小时，叫号系统混乱", "BJ", 10, 4, True),
    "fresh": Seed("手机银行转账失败但是钱被扣了", "BJ", 1, 14, True),
    "new": Seed("理财到期后本金迟迟没有到账", "BJ", 0.5, 14.5, False),
    "pboc": Seed("人民银行转来：贷款提前还款违约金不合理", "SH", 3, 12, False, "pboc",
                 "PBC-SH-2026-0107"),
}



def _seed(url: str) -> dict[str, str]:
    """Orgs, two Beijing handlers and the cases, through the services, committed for real;
    then each case's clock set so that the inbox shows every colour."""
    from bankvoc.cases.models import Case
    from bankvoc.cases.workflow import schemas
    from bankvoc.cases.workflow import service as workflow
    from bankvoc.intake.schemas import CaseCreate
    from bankvoc.intake.service import register_case
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
        orgs.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=root)
        for name in ("bj_handler", "bj_handler2"):
            orgs.create_user(session, username=name, display_name=f"北京处理员 {name[-1]}",
                             org=bj, roles=["handler"])
    references: dict[str, str] = {}
    now = datetime.now(UTC)
    step = schemas.STEP_ADAPTER
    with unit_of_work(engine) as session:
        admin = orgs.actor_for(orgs.get_user(session, username=orgs.ADMIN_USERNAME))
        for key, seed in SEEDS.items():
            received = now - timedelta(days=seed.received_days_ago)
            draft = register_case(session, actor=admin, data=CaseCreate(
                text=seed.text, org=seed.org, origin=seed.origin,
                origin_reference=seed.origin_reference, received_at=received))
            assert draft.error is None, draft.error
            assert draft.reference is not None
            references[key] = draft.reference
            case = session.scalar(select(Case).where(Case.reference == draft.reference))
            assert case is not None
            case.due_at = now + timedelta(days=seed.due_in_days)
            session.flush()
            if seed.accepted:
                workflow.act(session, actor=admin, reference=draft.reference,
                             step=step.validate_python({"action": "accept",
                                                        "version": case.version}))
    engine.dispose()
    return references


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "workflow.db", monkeypatch, _seed) as server:
        yield server


def _row(page: Any, reference: str) -> Any:
    return page.locator("table.cases tbody tr").filter(
        has=page.locator(f'a[href$="/cases/{reference}"]'))


def test_a_handler_works_the_inbox_and_a_case_through_the_forms(live_server: LiveServer,
                                                                browser: Any) -> None:
    expect = sync_api.expect
    refs = live_server.references
    page, hosts = logged_in_page(browser, live_server)

    # The inbox, in Chinese, each deadline in words and colour.
    page.goto(f"{live_server.url}/cases")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉工单")
    for key, level, words in (("late", "overdue", "已超期"), ("half", "warn", "过半"),
                              ("fresh", "ok", "充裕"), ("new", "ok", "充裕")):
        badge = _row(page, refs[key]).locator(".due")
        expect(badge).to_have_class(f"due due-{level}")
        expect(badge).to_contain_text(words)

    # Bulk-assign two cases: one ticked by mouse, one by keyboard.
    _row(page, refs["late"]).get_by_role("checkbox").check()
    box = _row(page, refs["half"]).get_by_role("checkbox")
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.get_by_label("分派给").select_option("bj_handler2")
    page.get_by_role("button", name="分派所选工单").click()
    report = page.locator("#bulk-report")
    expect(report).to_contain_text("批量分派结果：成功 2 件，未分派 0 件")
    expect(report.locator(".bulk-ok")).to_have_count(2)
    expect(_row(page, refs["late"])).to_contain_text("bj_handler2")
    expect(_row(page, refs["half"])).to_contain_text("已分派")
    screenshot(page, "inbox_bulk_assigned.zh.png")

    # A saved view: the cases assigned to nobody yet.
    page.get_by_label("处理人", exact=True).select_option("none")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("textbox", name="把当前筛选条件保存为视图").fill("待我分派")
    page.get_by_role("button", name="保存视图").click()
    expect(page.get_by_role("link", name="待我分派")).to_have_attribute("aria-current", "page")
    expect(_row(page, refs["late"])).to_have_count(0)
    expect(_row(page, refs["new"])).to_have_count(1)

    # Open a new case and work it through the forms; the timeline grows with each step.
    _row(page, refs["new"]).locator("td.ref a").click()
    expect(page.locator(".eyebrow")).to_contain_text(refs["new"])
    timeline = page.locator("table.timeline tbody tr")
    expect(timeline).to_have_count(1)

    take_step(page, "accept", 2)
    expect(page.locator("#step-done")).to_have_text("已完成“受理”。")
    page.locator("#s-assign-user").select_option("bj_handler")
    take_step(page, "assign", 3)
    take_step(page, "investigate", 4)

    # A refund without its amount is refused, next to the form, naming the field.
    propose = page.locator('form[data-action="propose"]')
    propose.get_by_label("处理决定").select_option("refund")
    propose.get_by_label("处理依据").fill("理财到期资金应于次日到账，延迟属我行差错")
    propose.get_by_role("button").click()
    expect(propose.get_by_role("alert")).to_contain_text("金额（元）")
    expect(propose.get_by_role("alert")).to_contain_text("退款或赔偿须填写大于 0 的金额")
    expect(propose.get_by_label("金额（元）")).to_have_attribute("aria-invalid", "true")
    expect(propose.get_by_label("处理依据")).to_have_value(
        "理财到期资金应于次日到账，延迟属我行差错")
    expect(timeline).to_have_count(4)
    propose.get_by_label("金额（元）").fill("200")
    take_step(page, "propose", 5)

    resolve = page.locator('form[data-action="resolve"]')
    resolve.get_by_label("告知方式").select_option("phone")
    resolve.get_by_label("告知内容").fill("已电话告知客户退还延迟利息 200 元")
    take_step(page, "resolve", 6)
    expect(page.locator(".head-badges .pill")).to_have_text("已解决")
    expect(timeline.last).to_contain_text("告知处理决定")
    facts = page.locator("section[aria-labelledby=handling-title]")
    expect(facts).to_contain_text("bj_handler")
    expect(facts).to_contain_text("退款 · 200.00 元")
    expect(facts).to_contain_text("无需审批")
    expect(page.locator("[data-chain=ok]")).to_contain_text("哈希链校验通过（6 个事件）")
    screenshot(page, "case_resolved.zh.png")

    # English, on this page and back in the inbox.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(timeline.last).to_contain_text("Decision told")
    expect(facts).to_contain_text("Refund · CNY 200.00")
    page.get_by_role("link", name="Cases", exact=True).click()
    late = _row(page, refs["late"]).locator(".due")
    expect(late).to_have_class("due due-overdue")
    expect(late).to_contain_text("Overdue by 3 d")

    # The regulator transfers, with the regulator's reference.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Regulator transfers").click()
    expect(page.locator("table.regulator tbody tr")).to_have_count(1)
    expect(page.locator("table.regulator")).to_contain_text("PBC-SH-2026-0107")
    expect(page.locator("table.regulator")).to_contain_text("PBoC transfer")
    screenshot(page, "regulator.en.png")

    # A tablet: the inbox still fits its frame, the table scrolls inside it.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.get_by_role("link", name="中文").click()
    page.get_by_role("link", name="投诉工单", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉工单")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a tablet"
    screenshot(page, "inbox.tablet.png")
    _row(page, refs["fresh"]).locator("td.ref a").click()
    expect(page.locator('form[data-action="assign"]')).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the case page is {overflow}px wider than a tablet"
    screenshot(page, "case.tablet.png")

    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()

"""A real browser on a real server: Debian's Chromium driven by Playwright (SQLite only).

Never runs `playwright install`: it uses /usr/bin/chromium, and skips when that is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bankvoc.core.db import build_engine, unit_of_work
from tests.web.live import (
    BROWSER_TEST,
    LOCAL_HOSTS,
    LiveServer,
    logged_in_page,
    screenshot,
    seeded_server,
)

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

# (text, channel, org, customer name, phone, amount): 12 cases, 4 of them about credit cards.
CASES: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    ("信用卡年费未经同意被扣收，要求退还", "hotline", "BJ01", "张三", "13812345678", "300"),
    ("房贷提前还款违约金计算不清楚", "branch", "SH", "李四", "13900001111", None),
    ("手机银行登录后闪退，无法转账", "mobile_app", "BJ", None, None, None),
    ("网点排队时间太长，取号后等了两个小时", "branch", "SH01", "王五", None, None),
    ("理财产品亏损，销售时没有做风险评估", "branch", "BJ01", "赵六", "13700002222", "50000"),
    ("信用卡分期手续费没有提前告知", "wechat", "SH", None, "13600003333", "1280.50"),
    ("跨行转账两天未到账，客服说不清原因", "hotline", "BJ", "钱七", None, "8000"),
    ("信用卡额度被无故降低", "mobile_app", "SH01", None, None, None),
    ("建议手机银行增加大字版", "mobile_app", "HQ", None, None, None),
    ("ATM 吞卡后网点不给处理", "self_service", "BJ01", "孙八", None, None),
    ("外币兑换汇率和牌价不一致", "branch", "SH", None, None, "2000"),
    ("信用卡逾期催收电话打给我的家人", "hotline", "BJ", "周九", "13500004444", None),
]
CARD_CASES = 4



def _seed(url: str) -> dict[str, str]:
    """Orgs and cases through the services, committed for real (the test needs no
    references: it finds its cases through the list)."""
    from bankvoc.intake.schemas import CaseCreate
    from bankvoc.intake.service import register_case
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
        orgs.create_org(session, code="BJ01", name="北京海淀支行", kind=OrgKind.outlet, parent=bj)
        sh = orgs.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=root)
        orgs.create_org(session, code="SH01", name="上海浦东支行", kind=OrgKind.outlet, parent=sh)
    start = datetime.now() - timedelta(days=20)
    with unit_of_work(engine) as session:
        actor = orgs.actor_for(orgs.get_user(session, username=orgs.ADMIN_USERNAME))
        for i, (text, channel, org, name, phone, amount) in enumerate(CASES):
            kind = "suggestion" if text.startswith("建议") else "complaint"
            data = CaseCreate(text=text, kind=kind, channel=channel, org=org, customer_name=name,
                              customer_phone=phone, amount=amount,
                              received_at=start + timedelta(days=i, hours=i))
            draft = register_case(session, actor=actor, data=data)
            assert draft.error is None, draft.error
    engine.dispose()
    return {}


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "browser.db", monkeypatch, _seed) as server:
        yield server


def test_a_handler_browses_filters_pages_and_opens_a_case(live_server: LiveServer,
                                                          browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = logged_in_page(browser, live_server)
    rows = page.locator("table.cases tbody tr")

    # The list, in Chinese, newest first.
    page.goto(f"{live_server.url}/cases")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉工单")
    expect(rows).to_have_count(len(CASES))
    expect(rows.first).to_contain_text("信用卡逾期催收")
    expect(page.locator("table.cases")).to_contain_text("周* · 135****4444")
    screenshot(page, "inbox.zh.png")

    # Keyboard first: the skip link is the first stop.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()

    # Filter by product, then by a status nobody is in.
    page.get_by_label("产品").select_option("credit_card")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(CARD_CASES)
    for i in range(CARD_CASES):
        expect(rows.nth(i)).to_contain_text("信用卡")
    expect(page.get_by_label("产品")).to_have_value("credit_card")
    page.get_by_label("状态").select_option("closed")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("td.empty")).to_have_text("没有符合条件的工单。")

    # Ten a page: the next page holds the rest, the first page link goes back.
    page.get_by_role("link", name="清除条件").click()
    page.get_by_label("状态").select_option("received")
    page.get_by_label("每页条数").select_option("10")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(10)
    page.get_by_role("link", name="下一页").click()
    expect(rows).to_have_count(len(CASES) - 10)
    assert "cursor=" in page.url
    assert "status=received" in page.url
    expect(page.get_by_text("已是最后一页")).to_be_visible()
    page.get_by_role("link", name="第一页").click()
    expect(rows).to_have_count(10)

    # A case: facts, timeline, and the verified audit chain.
    reference = rows.first.locator("td.ref a").inner_text()
    rows.first.locator("td.ref a").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{reference}")
    expect(page.locator(".eyebrow")).to_contain_text(reference)
    timeline = page.locator("table.timeline tbody tr")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text("登记")
    expect(page.locator("[data-chain=ok]")).to_contain_text("哈希链校验通过")

    # English, on this page and the next.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.locator("[data-chain=ok]")).to_contain_text("Chain ok")
    page.get_by_role("link", name="Back to the case list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    expect(page.locator("table.cases")).to_contain_text("Hotline")
    expect(page.locator("table.cases")).to_contain_text("Received")

    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()

"""A QA inspector works the review queue in Chromium (Debian's, driven by Playwright; SQLite,
demo mode): opens the queue from the navigation, opens the call a forbidden phrase sent there,
sees the flagged turn highlighted with its rule, category and evidence (the customer's phone
masked), is told the reason is missing, overrides the score with a reason and sees it recorded
beside the machine's score; an inspector of another branch sees nothing of the call. Never runs
`playwright install`; skips without Chromium."""

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
    logged_in_page,
    screenshot,
    seeded_server,
)

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

PHONE = "13812345678"
TURNS = [
    ("agent", 0, 6000, "您好，工号1234为您服务，请问有什么可以帮您？"),
    ("customer", 7000, 10000, "你好，我想查一下卡里的余额。"),
    ("agent", 11000, 17000, "好的，需要先核实一下您的身份，请提供身份证后四位。"),
    ("customer", 18000, 19500, f"手机号{PHONE}。"),
    ("agent", 20000, 28000, "这个我也不知道，你自己去查吧。"),
    ("customer", 29000, 31000, "好吧。"),
    ("agent", 32000, 37000, "不客气，感谢您的来电，祝您生活愉快，再见！"),
]


def _seed(url: str) -> dict[str, str]:
    from bankvoc.contact import interactions, reviews
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        hq = orgs.get_org_by_code(session, code="HQ")
        pbc = orgs.create_org(session, code="PBC", name="电话银行中心", kind=OrgKind.centre,
                              parent=hq)
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=hq)
        orgs.create_user(session, username="A1001", display_name="坐席小王", org=pbc,
                         roles=["agent"])
        orgs.create_user(session, username="li.zhijian", display_name="质检员李", org=pbc,
                         roles=["qa_inspector"])
        orgs.create_user(session, username="bj.zhijian", display_name="北京质检员", org=bj,
                         roles=["qa_inspector"])
        admin = orgs.actor_for(orgs.get_user(session, username="admin"))
        data = interactions.parse({
            "id": "CALL-7", "agent": "A1001", "team": "一组", "queue": "借记卡",
            "started_at": "2026-03-02T09:00:00",
            "turns": [{"speaker": s, "start_ms": a, "end_ms": b, "text": t}
                      for s, a, b, t in TURNS]}, source_system="asr")
        interactions.store(session, actor=admin, data=data)
        rows, _ = reviews.list_results(session, actor=admin)
        found = {"result": str(rows[0].result.id), "machine": str(rows[0].result.machine_score)}
    engine.dispose()
    return found


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "qa.db", monkeypatch, _seed) as server:
        yield server


def test_an_inspector_overrides_a_queued_call(live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = logged_in_page(browser, live_server, "li.zhijian")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="质检复核").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("质检复核")
    row = page.locator(f'tr[data-result="{live_server.references["result"]}"]')
    expect(row).to_contain_text("CALL-7")
    expect(row).to_contain_text("待复核")
    expect(row).to_contain_text("风险类：服务禁语")
    screenshot(page, "qa_reviews.zh.png")
    row.get_by_role("link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("通话 CALL-7")
    flagged = page.locator('li.qa-turn[data-turn="4"]')
    expect(flagged).to_have_class("qa-turn qa-agent is-hit")
    evidence = flagged.locator("mark.qa-evidence")
    expect(evidence.first).to_have_text("这个我也不知道")
    expect(evidence.first).to_have_css("background-color", "rgb(255, 224, 138)")  # styled
    expect(flagged.locator(".qa-turn-hits")).to_contain_text("服务禁语")
    expect(flagged.locator(".qa-turn-hits .qa-cat-forbidden_phrase").first).to_be_visible()
    expect(flagged).to_contain_text("00:20–00:28")
    expect(page.locator('li.qa-turn[data-turn="0"]')).not_to_have_class("is-hit")
    expect(page.locator("#transcript")).not_to_contain_text(PHONE)  # masked for an inspector
    expect(page.locator('li.qa-turn[data-turn="3"]')).to_contain_text("手机号138")

    # Without a reason the review is refused, naming the field.
    page.get_by_label("改分或剔除违规项").check()
    page.get_by_label("得分", exact=True).fill("72")
    page.get_by_role("button", name="提交复核").click()
    alert = page.locator("#qa-error")
    expect(alert).to_contain_text("请填写复核理由")
    expect(alert.get_by_role("link", name="复核理由")).to_be_visible()
    expect(page.get_by_label("复核理由")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("得分", exact=True)).to_have_value("72")

    page.get_by_label("复核理由").fill("客户要求自助查询，坐席已给出指引")
    page.get_by_role("button", name="提交复核").click()
    expect(page.locator("#reviewed")).to_have_text("复核已记录。")
    expect(page.locator("#qa-human-score strong")).to_have_text("72")
    expect(page.locator("#qa-machine-score strong")).to_have_text(
        live_server.references["machine"])
    expect(page.locator("#qa-status")).to_have_text("已改分")
    latest = page.locator("table.qa-trail tbody tr").first
    expect(latest).to_contain_text("人工改分")
    expect(latest).to_contain_text("li.zhijian")
    expect(latest).to_contain_text("客户要求自助查询，坐席已给出指引")
    screenshot(page, "qa_review.zh.png")
    assert hosts <= LOCAL_HOSTS
    page.close()

    # An inspector of another branch: not in the queue, and no such call.
    other, _ = logged_in_page(browser, live_server, "bj.zhijian")
    other.goto(f"{live_server.url}/qa/reviews?status=all")
    expect(other.locator("table.qa-reviews tbody")).to_contain_text("没有符合条件的通话。")
    response = other.goto(f"{live_server.url}/qa/reviews/{live_server.references['result']}")
    assert response is not None
    assert response.status == 404
    other.close()

"""The callback queue in a real browser on a real server: Debian's Chromium driven by Playwright
(SQLite only, demo mode). Never runs `playwright install`; skips without Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.timeutil import utcnow
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

# (text, severity, customer phone)
CASES = {
    "happy": ("信用卡年费被重复扣收，要求退还年费", "urgent", "13812345678"),
    "unhappy": ("理财到期后本金迟迟没有到账，多次催促无果", "major", "13900001111"),
}
TOLD = {"happy": "已电话告知客户退还年费 200 元", "unhappy": "已电话告知客户到账延迟的原因"}


def _seed(url: str) -> dict[str, str]:
    """A Beijing branch and handler; two cases worked through the workflow to a decision told
    to the customer, their callbacks queued by the surveys service. All committed for real."""
    from bankvoc.cases.models import Case
    from bankvoc.cases.workflow import schemas
    from bankvoc.cases.workflow import service as workflow
    from bankvoc.intake.schemas import CaseCreate
    from bankvoc.intake.service import register_case
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind
    from bankvoc.surveys import service as surveys

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
        orgs.create_user(session, username="bj_handler", display_name="北京处理员", org=bj,
                         roles=["handler"])
    references: dict[str, str] = {}
    with unit_of_work(engine) as session:
        handler = orgs.actor_for(orgs.get_user(session, username="bj_handler"))
        for key, (text, severity, phone) in CASES.items():
            draft = register_case(session, actor=handler, data=CaseCreate(
                text=text, org="BJ", channel="hotline", severity=severity,
                customer_name="张三", customer_phone=phone))
            assert draft.error is None, draft.error
            assert draft.reference is not None
            references[key] = draft.reference
            for payload in ({"action": "accept"}, {"action": "assign", "user": "bj_handler"},
                            {"action": "investigate"},
                            {"action": "propose", "decision": "explanation",
                             "basis": "按业务规定向客户解释"},
                            {"action": "resolve", "told_via": "phone", "summary": TOLD[key]}):
                case = session.scalar(select(Case).where(Case.reference == draft.reference))
                assert case is not None
                workflow.act(session, actor=handler, reference=draft.reference,
                             step=schemas.STEP_ADAPTER.validate_python(
                                 {**payload, "version": case.version}))
    with unit_of_work(engine) as session:
        report = surveys.schedule_due(session, now=utcnow())
        assert report.scheduled == len(CASES)
    engine.dispose()
    return references


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "callbacks.db", monkeypatch, _seed) as server:
        yield server


def _callback(page: Any, reference: str) -> Any:
    return page.locator(f'tbody.callback[data-reference="{reference}"]')


def test_a_handler_works_the_callback_queue(live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    refs = live_server.references
    page, hosts = logged_in_page(browser, live_server)

    # From the inbox to the queue through the main navigation.
    page.goto(f"{live_server.url}/cases")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="回访队列").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("回访队列")
    expect(page.locator("tbody.callback")).to_have_count(2)
    happy, unhappy = _callback(page, refs["happy"]), _callback(page, refs["unhappy"])
    expect(happy.locator(".reason")).to_contain_text("紧急工单：逐一回访")
    expect(unhappy.locator(".reason")).to_contain_text("重大工单：逐一回访")
    expect(happy.locator(".due")).to_have_class("due due-ok")
    expect(happy.locator(".due")).to_contain_text("充裕")
    expect(happy).to_contain_text("第 1 轮")
    expect(happy).to_contain_text("张* · 138****5678")
    expect(happy).not_to_contain_text("13812345678")
    expect(happy.locator(".told")).to_contain_text("解释说明")
    expect(happy.locator(".told")).to_contain_text("已电话告知客户退还年费 200 元")

    # A satisfied customer: the case is closed, and the queue says so.
    happy.get_by_text("记录回访结果").click()
    form = happy.locator("form.callback-form")
    form.get_by_label("满意度（1–5）").fill("5")
    form.get_by_label("推荐意愿（0–10，可不填）").fill("9")
    form.get_by_label("是，已解决").check()
    form.get_by_label("客户意见（可不填）").fill("处理很及时，谢谢")
    form.get_by_role("button", name="提交回访结果").click()
    done = page.locator("#callback-done")
    expect(done).to_have_text(
        f"已记录工单 {refs['happy']} 的回访：客户满意，工单已办结。 查看工单 {refs['happy']}")
    expect(done).to_have_attribute("data-outcome", "closed")
    expect(page.locator("tbody.callback")).to_have_count(1)

    # An unhappy one, typed by keyboard: first a satisfaction score out of range.
    summary = unhappy.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    form = unhappy.locator("form.callback-form")
    csat = form.get_by_label("满意度（1–5）")
    expect(csat).to_be_visible()
    csat.focus()
    page.keyboard.type("7")
    form.get_by_label("否，未解决").focus()
    page.keyboard.press("Space")
    form.get_by_label("客户意见（可不填）").fill("钱还是没到账，很不满意")
    csat.press("Enter")  # Enter in a text input submits its form
    unhappy = _callback(page, refs["unhappy"])
    form = unhappy.locator("form.callback-form")
    csat = form.get_by_label("满意度（1–5）")
    expect(unhappy.locator("details")).to_have_attribute("open", "")
    error = csat.locator("xpath=following-sibling::p[contains(@class, 'field-error')]")
    expect(error).to_have_text("“7”超出范围：请填 1 到 5 的整数")
    expect(csat).to_have_attribute("aria-invalid", "true")
    expect(csat).to_have_value("7")
    expect(form.get_by_role("alert")).to_contain_text("满意度（1–5）：“7”超出范围")
    expect(form.get_by_label("否，未解决")).to_be_checked()
    expect(form.get_by_label("客户意见（可不填）")).to_have_value("钱还是没到账，很不满意")
    screenshot(page, "callbacks_error.zh.png")

    # Fixed through the alert's link to the field: the case is reopened and escalated.
    form.get_by_role("alert").get_by_role("link", name="满意度（1–5）").click()
    expect(csat).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    done = page.locator("#callback-done")
    expect(done).to_have_attribute("data-outcome", "reopened")
    expect(done).to_contain_text("客户不满意或问题未解决，工单已重新处理并升级")
    expect(done).to_contain_text("现为“调查中”，升级级别 1")
    expect(page.locator("tbody.callback")).to_have_count(0)
    expect(page.get_by_text("没有符合条件的回访。")).to_be_visible()

    # The recorded callbacks, with what the customers said and what became of the cases.
    page.get_by_label("回访状态").select_option("done")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tbody.callback")).to_have_count(2)
    unhappy = _callback(page, refs["unhappy"])
    expect(unhappy.locator(".pill")).to_have_text("调查中")
    expect(unhappy.locator(".tag-reopened")).to_have_text("已重新处理")
    expect(unhappy.locator(".result")).to_contain_text("满意度 1 · 推荐 — · 否，未解决")
    expect(_callback(page, refs["happy"]).locator(".pill")).to_have_text("已办结")
    screenshot(page, "callbacks.zh.png")

    # The reopened case itself: back under investigation, escalated, on its timeline.
    unhappy.get_by_role("link", name=refs["unhappy"]).click()
    expect(page.locator(".head-badges .pill")).to_have_text("调查中")
    timeline = page.locator("table.timeline tbody")
    expect(timeline).to_contain_text("客户反馈")
    expect(timeline).to_contain_text("重新处理")
    expect(timeline).to_contain_text("升级")
    handling = page.locator("section[aria-labelledby=handling-title]")
    expect(handling.locator(".fact").filter(has_text="升级级别")).to_contain_text("1")

    # In English, on a tablet: the page still fits its frame, the table scrolls inside it.
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/callbacks?status=done&lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Callback queue")
    expect(_callback(page, refs["happy"])).to_contain_text("Urgent case: always called back")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the queue is {overflow}px wider than a tablet"

    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()

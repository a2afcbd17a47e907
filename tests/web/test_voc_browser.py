"""The VOC screens in a real browser on a real server: the dashboard with its charts and
drill-down, alerts and cases at risk; a branch's view of it; a problem's measured effect; the
reports page. Debian's Chromium driven by Playwright (SQLite only, demo mode or a token).
Never runs `playwright install`; skips without Chromium. The charts need ECharts copied from
npm by `make setup`.

Screenshots are kept as test artifacts (`live.screenshots_dir()`): dashboard*.png,
dashboard_drill.zh.png, problems.zh.png, problem.zh.png, reports.zh.png.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bankvoc.analytics.periods import add_months
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.web.rendering import STATIC_DIR
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

ECHARTS = STATIC_DIR / "vendor" / "echarts.min.js"
# A month before the planted improvement's panel (which covers the last 12 months).
MONTH_START = add_months(date.today().replace(day=1), -14)
MONTH = f"{MONTH_START:%Y-%m}"
# (text, org, category, day of MONTH): fee disputes are the biggest slice (half of them).
CASES = [
    ("信用卡年费被重复扣收两次，要求退还年费", "BJ01", "fee_dispute", 2),
    ("信用卡分期手续费没有提前告知", "BJ", "fee_dispute", 4),
    ("账户管理费莫名其妙被扣", "SH", "fee_dispute", 6),
    ("手机银行登录一直闪退", "BJ", "system_failure", 9),
    ("柜员态度冷漠，问了几遍都不理睬", "SH01", "service_attitude", 12),
    ("网点排队时间太长", "SH", "process_waiting", 20),
]
FEE_CASES = 3
ALERT_LABEL = "热点问题 · 收费争议 · 全行"


def _seed(url: str) -> dict[str, str]:
    """Orgs, a branch handler with a token, the cases of MONTH, an overdue case, an open
    alert, a problem whose action has a measurable effect; and, for the test to compare, what
    the services say of them. All committed for real."""
    from bankvoc.alerts.models import Alert
    from bankvoc.analytics import service as analytics
    from bankvoc.intake.schemas import CaseCreate
    from bankvoc.intake.service import register_case
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind
    from bankvoc.problems import actions
    from tests.web.voc_data import plant_effect

    engine = build_engine(url)
    found: dict[str, str] = {}
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
        orgs.create_org(session, code="BJ01", name="北京海淀支行", kind=OrgKind.outlet, parent=bj)
        sh = orgs.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=root)
        orgs.create_org(session, code="SH01", name="上海浦东支行", kind=OrgKind.outlet, parent=sh)
        handler = orgs.create_user(session, username="bj_handler", display_name="北京处理员",
                                   org=bj, roles=["handler"])
        found["bj_token"] = orgs.issue_token(session, user=handler)
    with unit_of_work(engine) as session:
        admin = orgs.actor_for(orgs.get_user(session, username=orgs.ADMIN_USERNAME))
        for i, (text, org, category, day) in enumerate(CASES):
            draft = register_case(session, actor=admin, data=CaseCreate(
                text=text, org=org, category=category, channel="hotline",
                received_at=datetime.combine(MONTH_START.replace(day=day),
                                             datetime.min.time()).replace(hour=10),
                customer_name="张三", customer_phone=f"1381234{i:04d}"))
            assert draft.error is None, draft.error
        overdue = register_case(session, actor=admin, data=CaseCreate(
            text="理财到期本金迟迟没有到账", org="BJ01",
            received_at=datetime.now() - timedelta(days=40)))
        found["overdue"] = str(overdue.reference)
        session.add(Alert(kind="hot_issue", dimension="category", key="fee_dispute",
                          org_id=None, day=MONTH_START.replace(day=20), observed=9,
                          expected=2.0, ratio=4.5, p_value=0.0004, score=4.2, case_ids=[],
                          words=["年费", "扣收"], label=ALERT_LABEL, detail={},
                          status="open", dedupe_key="browser:fee"))
        planted = plant_effect(session, curator=admin, owner="bj_handler", parent_code="SH",
                               pilots=2, comparisons=4, today=date.today())
        found["problem"] = str(planted.problem_id)
        analytics.refresh_rollup(session)
    with unit_of_work(engine) as session:
        admin = orgs.actor_for(orgs.get_user(session, username=orgs.ADMIN_USERNAME))
        branch = orgs.actor_for(orgs.get_user(session, username="bj_handler"))
        for who, actor in (("hq", admin), ("bj", branch)):
            for report in analytics.headline(session, actor=actor, period=MONTH):
                value = report.figure.value
                found[f"{who}:{report.kpi.code}"] = "" if value is None else repr(value)
        effect = actions.measure_effect(session, actor=admin, action_id=planted.action_id,
                                        permutations=0)
        rate = next(o for o in effect.outcomes if o.name == "complaint_rate")
        found["did"] = f"{rate.did:+,.2f}"
        found["ci"] = f"{rate.ci_low:+,.2f} 至 {rate.ci_high:+,.2f}"
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not ECHARTS.exists():
        pytest.fail(f"{ECHARTS} is missing: run `make setup` (it copies ECharts from npm)")
    with pytest.MonkeyPatch.context() as monkeypatch, seeded_server(
            tmp_path_factory.mktemp("voc") / "voc.db", monkeypatch, _seed) as server:
        yield server


def _watch_console(page: Any) -> list[str]:
    """Errors the page logs (a script failing, a refused inline style or script)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _figures(page: Any) -> dict[str, str]:
    """Each headline card's KPI code and the raw value behind its figure."""
    found: dict[str, str] = page.eval_on_selector_all(
        "[data-kpi]", "cards => Object.fromEntries(cards.map(c => [c.dataset.kpi, "
                      "c.querySelector('.kpi-figure').dataset.value]))")
    assert len(found) == 12, found
    return found


def _same(shown: str, expected: str) -> bool:
    if not expected:
        return shown == ""
    return abs(float(shown) - float(expected)) < 1e-6


def test_head_office_dashboard_drills_down_exports_and_acknowledges(
        live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    seeded = live_server.references
    page, hosts = logged_in_page(browser, live_server)
    errors = _watch_console(page)

    # Through the main navigation; then a month picked with the picker.
    page.goto(f"{live_server.url}/cases")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="看板").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("客户之声看板")
    expect(page.get_by_label("期间类型")).to_have_value("month")
    expect(page.get_by_label("季度")).to_be_hidden()  # the picker shows the chosen kind's field
    page.get_by_label("月份").fill(MONTH)
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#dash-scope")).to_contain_text(MONTH_START.isoformat())

    # The headline figures are the service's.
    shown = _figures(page)
    for code, value in shown.items():
        assert _same(value, seeded[f"hq:{code}"]), (code, value, seeded[f"hq:{code}"])
    expect(page.locator('[data-kpi="complaints"] .kpi-figure')).to_have_text(str(len(CASES)))

    # The charts are drawn; the alert and the case at risk are there.
    share = page.locator('[data-chart="share"]')
    expect(share).to_have_attribute("data-drawn", "true")
    expect(page.locator('[data-chart="trend"]')).to_have_attribute("data-drawn", "true")
    expect(page.locator("#alerts")).to_contain_text(ALERT_LABEL)
    risky = page.locator("#at-risk tbody tr").filter(has_text=seeded["overdue"])
    expect(risky.locator(".due-overdue")).to_have_count(1)
    expect(risky.get_by_role("link", name=seeded["overdue"])).to_have_attribute(
        "href", f"/cases/{seeded['overdue']}")
    screenshot(page, "dashboard.zh.png")

    # On a tablet the dashboard fits its frame.
    page.set_viewport_size({"width": 1024, "height": 768})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the dashboard is {overflow}px wider than a tablet"
    screenshot(page, "dashboard.tablet.png")
    page.set_viewport_size({"width": 1366, "height": 768})

    # A click on the biggest slice (fee disputes, half the donut: the right half, drawn
    # clockwise from the top) opens the cases behind it.
    share.scroll_into_view_if_needed()
    box = share.bounding_box()
    assert box is not None
    radius = min(box["width"], box["height"]) / 2 * 0.56  # between the 42% and 70% rings
    page.mouse.click(box["x"] + box["width"] * 0.35 + radius, box["y"] + box["height"] / 2)
    page.wait_for_url("**/dashboard/cases?**category=fee_dispute**")
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉量：明细工单")
    rows = page.locator("table.drill tbody tr")
    expect(rows).to_have_count(FEE_CASES)
    expect(page.locator("#drill-figure")).to_have_text(str(FEE_CASES))
    expect(page.locator("table.drill")).to_contain_text("张* · 138****0000")
    expect(page.locator("table.drill")).not_to_contain_text("13812340000")
    screenshot(page, "dashboard_drill.zh.png")

    # Exported as CSV: one row per case, masked.
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 CSV").click()
    saved = download.value.path()
    assert saved is not None
    text = Path(saved).read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 1 + FEE_CASES
    assert "13812340000" not in text

    # Back, and the same by the accessible table: keyboard only.
    page.get_by_role("link", name="← 返回看板").click()
    link = page.locator("table.shares").get_by_role("link", name="收费争议")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("table.drill tbody tr")).to_have_count(FEE_CASES)
    page.go_back()

    # The alert acknowledged with a note: it leaves the open list.
    alert = page.locator(".hot-alert").filter(has_text=ALERT_LABEL)
    alert.get_by_label("处理说明（可选）").fill("已通知信用卡中心排查")
    alert.get_by_role("button", name="确认预警").click()
    expect(page.locator("#ack-done")).to_contain_text("已确认")
    expect(page.locator("#alerts")).not_to_contain_text(ALERT_LABEL)
    expect(page.locator("#dash-scope")).to_contain_text(MONTH_START.isoformat())

    # English, the same figures.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("VOC dashboard")
    expect(page.locator('[data-kpi="complaints"] .kpi-figure')).to_have_text(str(len(CASES)))

    assert not errors, errors
    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()


def test_a_branch_user_sees_only_their_subtree(live_server: LiveServer, browser: Any) -> None:
    expect = sync_api.expect
    seeded = live_server.references
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN",
        extra_http_headers={"Authorization": f"Bearer {seeded['bj_token']}"})
    page = context.new_page()
    errors = _watch_console(page)
    page.goto(f"{live_server.url}/dashboard?period={MONTH}")
    expect(page.locator(".who strong")).to_have_text("bj_handler")
    shown = _figures(page)
    for code, value in shown.items():
        assert _same(value, seeded[f"bj:{code}"]), (code, value, seeded[f"bj:{code}"])
    expect(page.locator('[data-kpi="complaints"] .kpi-figure')).to_have_text("3")
    expect(page.locator("table.shares tbody")).not_to_contain_text("服务态度")  # Shanghai's
    options = page.locator("#f-org option").all_inner_texts()
    assert not [o for o in options if "上海" in o], options
    expect(page.locator("#alerts")).not_to_contain_text(ALERT_LABEL)  # a whole-bank alert
    expect(page.locator('[data-chart="share"]')).to_have_attribute("data-drawn", "true")
    screenshot(page, "dashboard_branch.zh.png")
    assert not errors, errors
    context.close()


def test_a_problem_shows_its_actions_effect_chart_and_interval(live_server: LiveServer,
                                                               browser: Any) -> None:
    expect = sync_api.expect
    seeded = live_server.references
    page, hosts = logged_in_page(browser, live_server)
    errors = _watch_console(page)
    page.goto(f"{live_server.url}/dashboard")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="问题库").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉问题库")
    screenshot(page, "problems.zh.png")
    page.get_by_role("link", name="P-CC-FEE-01").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信用卡年费重复扣收")
    action = page.locator("article.action").filter(has_text="年费减免标记自动校验")
    expect(action).to_contain_text("30,000.00 元")
    outcome = action.locator('[data-outcome="complaint_rate"]')
    expect(outcome).to_contain_text(f"双重差分估计 {seeded['did']}")
    expect(outcome).to_contain_text(f"95% 置信区间 {seeded['ci']}")
    expect(outcome.locator(".unreliable")).to_contain_text("结果不可靠")  # two pilots only
    chart = outcome.locator('[data-chart="effect"]')
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    screenshot(page, "problem.zh.png")
    assert not errors, errors
    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()


def test_the_reports_page_downloads_the_monthly_report(live_server: LiveServer,
                                                       browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = logged_in_page(browser, live_server)
    page.goto(f"{live_server.url}/reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("客户之声报告")
    page.get_by_label("月份").fill(MONTH)
    page.get_by_label("机构（含下级）").select_option("BJ")
    page.get_by_label("格式").select_option("xlsx")
    screenshot(page, "reports.zh.png")
    with page.expect_download() as download:
        page.get_by_role("button", name="生成并下载").click()
    assert download.value.suggested_filename == f"voc-monthly-{MONTH}-BJ.xlsx"
    saved = download.value.path()
    assert saved is not None
    assert Path(saved).read_bytes()[:2] == b"PK"
    assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
    page.close()

"""A branch manager opens the service-data screen (Debian's Chromium driven by Playwright,
SQLite, demo mode): finds it in the main navigation, reads their outlet's queue figures against
the targets (met and missed), sees the trend charts drawn by ECharts from the page's own data,
and nothing of another branch. Never runs `playwright install`; skips without Chromium."""

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


def _ticket(org: str, number: str, day: str, wait_min: int, handle_min: int,
            business: str = "cash") -> dict[str, str]:
    return {"org": org, "ticket_id": number, "business_type": business,
            "issued_at": f"{day} 09:00", "called_at": f"{day} 09:{wait_min:02d}",
            "finished_at": f"{day} {9 + (wait_min + handle_min) // 60:02d}:"
                           f"{(wait_min + handle_min) % 60:02d}"}


def _seed(url: str) -> dict[str, str]:
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind
    from bankvoc.servicedata import imports

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        hq = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=hq)
        bj1 = orgs.create_org(session, code="BJ01", name="北京海淀网点", kind=OrgKind.outlet,
                              parent=bj)
        sh = orgs.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=hq)
        orgs.create_org(session, code="SH01", name="上海浦东网点", kind=OrgKind.outlet, parent=sh)
        orgs.create_user(session, username="wang.zhu", display_name="王主任", org=bj1,
                         roles=["branch_manager"])
        admin = orgs.actor_for(orgs.get_user(session, username="admin"))
        # BJ01, cash: September waits 4 and 6 min, October 20 min (the target is 10);
        # personal: 3 min each month. SH01 (another branch): wealth, 50 min.
        rows = [_ticket("BJ01", "A1", "2026-09-10", 4, 5),
                _ticket("BJ01", "A2", "2026-09-11", 6, 5),
                _ticket("BJ01", "A1", "2026-10-12", 20, 5),
                _ticket("BJ01", "P1", "2026-09-10", 3, 6, "personal"),
                _ticket("BJ01", "P1", "2026-10-12", 3, 6, "personal"),
                _ticket("SH01", "W1", "2026-10-12", 50, 9, "wealth")]
        for row in rows:
            imports.store(session, actor=admin, kind="queue", data=imports.parse("queue", row))
        usage = [{"org": "BJ01", "month": month, "app_mau": mau, "self_service_txns": 800,
                  "counter_txns": 200, "assistant_sessions": 100, "assistant_resolved": 85}
                 for month, mau in (("2026-09", 1000), ("2026-10", 1100))]
        for values in usage:
            imports.store(session, actor=admin, kind="usage",
                          data=imports.parse("usage", values))
    engine.dispose()
    return {}


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "servicedata.db", monkeypatch, _seed) as server:
        yield server


def test_a_branch_manager_reads_the_service_data(live_server: LiveServer,
                                                 browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = logged_in_page(browser, live_server, "wang.zhu")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="运营数据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("运营服务数据")
    # Their own outlet, the months up to the latest with data.
    expect(page.locator("#sd-scope")).to_have_text("北京海淀网点 (BJ01) · 2026-05 至 2026-10")

    queue = page.locator('section[data-section="queue"]')
    cash = queue.locator('tr[data-metric="queue_wait_avg"][data-group="cash"]')
    expect(cash).to_contain_text("20.0 分钟")
    expect(cash).to_contain_text("≤ 10.0 分钟")
    expect(cash.locator("[data-met]")).to_have_text("未达标")
    expect(cash).to_contain_text("+15.0 分钟")
    personal = queue.locator('tr[data-metric="queue_wait_avg"][data-group="personal"]')
    expect(personal.locator("[data-met]")).to_have_text("达标")
    expect(queue.locator('tr[data-group="wealth"]')).to_have_count(0)  # SH01's, not theirs
    digital = page.locator('section[data-section="digital"]')
    expect(digital.locator('tr[data-metric="app_mau"]')).to_contain_text("+10.0%")

    # The charts are drawn (a canvas each) from the page's own figures, no other site asked.
    for family in ("queue", "digital"):
        chart = page.locator(f"#sd-chart-{family}")
        expect(chart).to_have_attribute("data-drawn", "true")
        expect(chart.locator("canvas").first).to_be_visible()
    box = page.locator("#sd-chart-queue").bounding_box()
    assert box is not None
    assert box["height"] > 200
    queue.locator("details summary").first.click()
    expect(queue.locator("details table")).to_contain_text("20.0 分钟")
    screenshot(page, "service_data.zh.png")

    # A month typed wrong is named, and what was typed is kept.
    page.get_by_label("起始月份").fill("2026-11")
    page.get_by_label("截止月份").fill("2026-10")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#filter-error")).to_contain_text("截止月份")
    expect(page.get_by_label("截止月份")).to_have_attribute("aria-invalid", "true")

    page.goto(f"{live_server.url}/service-data?lang=en&to=2026-10")
    expect(page.get_by_role("heading", level=1)).to_have_text("Operational service data")
    expect(page.locator("#sd-chart-queue")).to_have_attribute("data-drawn", "true")
    screenshot(page, "service_data.en.png")
    assert hosts <= LOCAL_HOSTS
    page.context.close()

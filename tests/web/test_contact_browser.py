"""A team lead reads the contact-centre dashboard (Debian's Chromium driven by Playwright,
SQLite, demo mode, the demo's centre with 600 calls of half a year): opens it from the main
navigation, picks a month and the cut by agent, then by queue ranked by abandonment, and each
time sees the figures of `contact.kpis` for the same period and the drawn trend chart; then the
page in English and on a tablet. Screenshots: contact.zh.png, contact_queue.zh.png,
contact.en.png, contact.tablet.png. Never runs `playwright install`; skips without Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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

TODAY = date(2026, 9, 1)  # the demo's half year ends on 2026-08-31
FIRST, LAST = date(2026, 8, 1), date(2026, 8, 31)
CALLS = 600
SHANGHAI = ZoneInfo("Asia/Shanghai")
KPIS = ("interactions", "service_level", "abandonment_rate", "asa_s", "fcr", "satisfied_rate")


def _seed(url: str) -> dict[str, str]:
    """The demo's orgs, users and contact centre; and `contact.kpis`' figures of August as the
    team lead sees them (headline `all:<kpi>`, per agent `agent:<name>:<kpi>`, per queue
    `queue:<name>:<kpi>`), and the queues ranked by abandonment."""
    from bankvoc.contact import kpis
    from bankvoc.demo import contact, service
    from bankvoc.demo.generator import DEFAULT_SEED
    from bankvoc.orgs import service as orgs

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        service.ensure_orgs(session)
        service.ensure_users(session, secret_key="a-secret-key-for-these-tests-only-0123456789")
    contact.seed_contact_centre(engine, today=TODAY, seed=DEFAULT_SEED, calls=CALLS)
    found: dict[str, str] = {}
    with unit_of_work(engine) as session:
        lead = orgs.actor_for(orgs.get_user(session, username="demo_team_lead"))
        for by in (None, "agent", "queue"):
            rows = kpis.report(session, actor=lead, by=by, start=FIRST, end=LAST, tz=SHANGHAI)
            for row in rows:
                values = row.as_dict()
                prefix = "all" if by is None else f"{by}:{row.group or ''}"
                for kpi in KPIS:
                    found[f"{prefix}:{kpi}"] = "" if values[kpi] is None else str(values[kpi])
            if by == "queue":
                ranked = sorted((r for r in rows if r.abandonment_rate is not None),
                                key=lambda r: (r.abandonment_rate, r.group))
                found["queues_by_abandonment"] = json.dumps([r.group for r in ranked])
    engine.dispose()
    return found


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "contact.db", monkeypatch, _seed) as server:
        yield server


def _tiles(page: Any) -> dict[str, str]:
    """Each headline tile's KPI and the raw value behind its figure."""
    found: dict[str, str] = page.eval_on_selector_all(
        ".kpi-card[data-kpi]", "cards => Object.fromEntries(cards.map(c => [c.dataset.kpi, "
                               "c.querySelector('.kpi-figure').dataset.value]))")
    return found


def _rows(page: Any) -> dict[str, dict[str, str]]:
    """The ranking's rows: group -> KPI -> raw value, and their order under `__order__`."""
    found: dict[str, dict[str, str]] = page.eval_on_selector_all(
        "table.cc-ranking tbody tr", "rows => Object.fromEntries(rows.map(r => [r.dataset.group, "
        "Object.fromEntries(Array.from(r.querySelectorAll('td[data-kpi]')).map("
        "c => [c.dataset.kpi, c.dataset.value]))]))")
    return found


def _order(page: Any) -> list[str]:
    found: list[str] = page.eval_on_selector_all(
        "table.cc-ranking tbody tr", "rows => rows.map(r => r.dataset.group)")
    return found


def test_a_team_lead_reads_the_contact_centre_dashboard(live_server: LiveServer,
                                                        browser: Any) -> None:
    expect = sync_api.expect
    seeded = live_server.references
    page, hosts = logged_in_page(browser, live_server, "demo_team_lead")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="呼叫中心").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("呼叫中心看板")
    expect(page.get_by_label("比较维度")).to_have_value("team")

    # August, by agent.
    page.get_by_label("起始日期").fill(FIRST.isoformat())
    page.get_by_label("截止日期").fill(LAST.isoformat())
    page.get_by_label("比较维度").select_option("agent")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#cc-scope")).to_contain_text("2026-08-01 至 2026-08-31")
    expect(page.get_by_role("heading", name="分坐席指标排名")).to_be_visible()
    tiles = _tiles(page)
    for kpi in KPIS:
        assert tiles[kpi] == seeded[f"all:{kpi}"], (kpi, tiles[kpi], seeded[f"all:{kpi}"])
    assert int(tiles["interactions"]) > 50
    rows = _rows(page)
    agents = {key.split(":")[1] for key in seeded if key.startswith("agent:")}
    assert set(rows) == agents
    for agent, cells in rows.items():
        for kpi in KPIS:
            assert cells[kpi] == seeded[f"agent:{agent}:{kpi}"], (agent, kpi)
    # The service level is met or missed on its tile; the trend chart is drawn.
    expect(page.locator('.kpi-card[data-kpi="service_level"] [data-met]')).to_have_count(1)
    chart = page.locator('[data-chart="contact-trend"]')
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    screenshot(page, "contact.zh.png")

    # The same month by queue, ranked by abandonment (the lowest first).
    page.get_by_label("比较维度").select_option("queue")
    page.get_by_label("排序指标").select_option("abandonment_rate")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", name="分队列指标排名")).to_be_visible()
    assert _order(page) == json.loads(seeded["queues_by_abandonment"])
    for queue, cells in _rows(page).items():
        for kpi in KPIS:
            assert cells[kpi] == seeded[f"queue:{queue}:{kpi}"], (queue, kpi)
    assert _tiles(page) == tiles  # the cut changes the table, not the headline
    screenshot(page, "contact_queue.zh.png")

    # A column's name sorts by it.
    page.locator("table.cc-ranking thead").get_by_role("link", name="服务水平").click()
    expect(page.get_by_label("排序指标")).to_have_value("service_level")

    # In English.
    page.locator(".lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact-centre dashboard")
    expect(page.get_by_role("heading", name="Ranking by Queue")).to_be_visible()
    expect(page.locator('[data-chart="contact-trend"]')).to_have_attribute("data-drawn", "true")
    screenshot(page, "contact.en.png")

    # On a tablet the page fits its frame.
    page.set_viewport_size({"width": 820, "height": 1180})
    # The chart redraws itself on the window's resize event, which comes a moment later.
    try:
        page.wait_for_function(
            "document.documentElement.scrollWidth <= window.innerWidth", timeout=5_000)
    except sync_api.TimeoutError:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        pytest.fail(f"the dashboard is {overflow}px wider than a tablet")
    screenshot(page, "contact.tablet.png")

    assert not errors, errors
    assert hosts <= LOCAL_HOSTS, hosts

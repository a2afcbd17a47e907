"""A contact-centre team lead opens the scorecards (Debian's Chromium driven by Playwright,
SQLite, demo mode): finds them in the main navigation, picks October, reads the agents' ranking
within their teams, opens one agent's card with its components and training needs, then the
training pass rate against its target. Never runs `playwright install`; skips without
Chromium."""

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


def _seed(url: str) -> dict[str, str]:
    from bankvoc.people import training
    from tests.conftest import build_world
    from tests.people.conftest import build_centre

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        world = build_world(session)
        build_centre(world, session)  # the calls of tests/people/conftest.py; lead pbc_lead
        actor = world.actor("hq_admin")
        base = {"session": "TR-1", "topic": "开场白与结束语规范", "date": "2026-10-09",
                "trainer": "王老师", "org": "PBC", "categories": "greeting;closing"}
        for attendee, score in (("a1", "75"), ("a2", "95"), ("a3", "55")):
            training.store(session, actor=actor, row=training.parse(
                {**base, "attendee": attendee, "score": score}))
    engine.dispose()
    return {}


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(tmp_path / "people.db", monkeypatch, _seed) as server:
        yield server


def test_a_team_lead_reads_the_agents_scorecards(live_server: LiveServer,
                                                 browser: Any) -> None:
    expect = sync_api.expect
    page, hosts = logged_in_page(browser, live_server, "pbc_lead")
    page.get_by_role("navigation", name="主导航").get_by_role("link",
                                                           name="计分卡与培训").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效计分卡")
    page.get_by_label("月份", exact=True).fill("2026-10")
    page.get_by_role("button", name="查看").click()

    # Ranked within their team: a2 before a1 in T1; a3 alone in T2.
    rows = page.locator("#pp-ranking tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_attribute("data-key", "a2")
    expect(rows.nth(1)).to_have_attribute("data-key", "a1")
    expect(page.locator('#pp-ranking tr[data-key="a1"]')).to_contain_text("54.3")

    page.locator('#pp-ranking tr[data-key="a1"]').get_by_role("link", name="a1").click()
    card = page.locator("#pp-card")
    expect(card.get_by_role("heading", level=2)).to_have_text("a1 的计分卡")
    expect(page.locator("#pp-card-total")).to_have_text("54.3")
    expect(card).to_contain_text("质检得分")
    expect(card).to_contain_text("73.3")
    expect(page.locator("#pp-needs tbody tr").first).to_have_attribute("data-category",
                                                                       "greeting")
    screenshot(page, "people_scorecard.zh.png")

    # The training pass rate: 2 of 3 passed (55 is under the pass mark 60), under 90%.
    page.get_by_role("link", name="培训记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("培训记录")
    page.get_by_label("月份", exact=True).fill("2026-10")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#tr-rate-value")).to_have_text("66.7%（2 / 3 人通过）")
    expect(page.locator("#tr-rate [data-met]")).to_have_text("未达标")
    expect(page.locator('tr[data-session="TR-1"]')).to_contain_text("开场白与结束语规范")
    screenshot(page, "people_training.zh.png")
    assert hosts <= LOCAL_HOSTS
    page.context.close()

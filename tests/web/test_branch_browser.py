"""An inspector records an outlet visit on a tablet (Debian's Chromium driven by Playwright,
820×1180 with touch, SQLite, demo mode): answers every checklist item by touch and one by
keyboard, is told which item was left out, then sees the score and the finding the failed
item became. Never runs `playwright install`; skips without Chromium."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bankvoc.branches.checklist import load_checklist
from bankvoc.core.db import build_engine, unit_of_work
from tests.web.live import BROWSER_TEST, LOCAL_HOSTS, LiveServer, log_in, screenshot, seeded_server

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

TABLET = {"width": 820, "height": 1180}


def _png() -> bytes:
    """A 1×1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def _seed(url: str) -> dict[str, str]:
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        hq = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=hq)
        bj1 = orgs.create_org(session, code="BJ01", name="北京海淀网点", kind=OrgKind.outlet,
                              parent=bj)
        orgs.create_user(session, username="li.jian", display_name="李检", org=hq,
                         roles=["qa_inspector"])
        orgs.create_user(session, username="wang.zhu", display_name="王主任", org=bj1,
                         roles=["branch_manager"])
        found = {"bj1": str(bj1.id)}
    engine.dispose()
    return found


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path / "data"))
    with seeded_server(tmp_path / "branches.db", monkeypatch, _seed) as server:
        yield server


def test_an_inspector_records_a_visit_on_a_tablet(live_server: LiveServer, browser: Any,
                                                  tmp_path: Path) -> None:
    expect = sync_api.expect
    context = browser.new_context(viewport=TABLET, has_touch=True, locale="zh-CN")
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or "?"))
    base = live_server.url
    log_in(page, base, "li.jian")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="网点检查").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("网点检查与暗访")
    page.get_by_role("link", name="新建检查").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建检查")

    # One column on a tablet held upright; answers are large touch targets.
    org_box = page.get_by_role("combobox", name="网点").bounding_box()
    time_box = page.locator("#f-visited_at").bounding_box()
    assert time_box["y"] > org_box["y"] + org_box["height"] - 1
    choice = page.locator("label.insp-choice").first.bounding_box()
    assert choice["height"] >= 44

    page.get_by_role("combobox", name="网点").select_option(live_server.references["bj1"])
    page.get_by_label("神秘客户暗访").tap()
    checklist = load_checklist()
    codes = checklist.codes()
    left_out, failed, by_keyboard = "env_accessibility", "greeting_words", "farewell_words"
    for code in codes:
        item = page.locator(f'fieldset[data-item="{code}"]')
        if code in (left_out, by_keyboard):
            continue
        item.get_by_label("不合格" if code == failed else "合格", exact=True).tap()
    # By keyboard: the item's group, found by its question, answered with Space.
    keyboard_item = checklist.item(by_keyboard)
    assert keyboard_item is not None
    group = page.get_by_role("group", name=keyboard_item.zh)
    group.get_by_label("合格", exact=True).focus()
    page.keyboard.press("Space")
    expect(group.get_by_label("合格", exact=True)).to_be_checked()
    remark = page.get_by_label(f"{checklist.item(failed).zh} 的备注")  # type: ignore[union-attr]
    remark.tap()
    page.keyboard.type("员工未使用规范问候语")
    screenshot(page, "inspection_new.tablet.png")
    page.get_by_role("button", name="提交检查结果").tap()

    # The item left out is named, and what was answered is kept.
    alert = page.locator("#insp-error")
    expect(alert).to_contain_text("请为此项选择")
    missing = checklist.item(left_out)
    assert missing is not None
    expect(alert.get_by_role("link", name=missing.zh)).to_be_visible()
    expect(page.locator(f'fieldset[data-item="{left_out}"]')).to_have_attribute(
        "aria-invalid", "true")
    expect(page.locator(f'fieldset[data-item="{failed}"]').get_by_label(
        "不合格", exact=True)).to_be_checked()
    expect(remark).to_have_value("员工未使用规范问候语")

    page.locator(f'fieldset[data-item="{left_out}"]').get_by_label("不适用").tap()
    photo = tmp_path / "hall.png"
    photo.write_bytes(_png())
    page.get_by_label("现场照片").set_input_files(str(photo))
    page.get_by_role("button", name="提交检查结果").tap()

    expect(page.locator("#recorded")).to_have_text("检查结果已提交。")
    item = checklist.item(failed)
    assert item is not None
    applicable = sum(i.weight for _, i in checklist.items() if i.code != left_out)
    expected = 100 * (applicable - item.weight) / applicable
    expect(page.locator("#insp-score strong")).to_have_text(f"{expected:.1f}")
    finding = page.locator("table.insp-findings tbody tr")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("员工未使用规范问候语")
    expect(finding).to_contain_text("王主任")
    expect(finding).to_contain_text("待整改")
    expect(page.get_by_role("img", name="检查照片 1")).to_be_visible()
    screenshot(page, "inspection.tablet.png")

    finding.get_by_role("button", name=f"关闭整改事项：{item.zh}").tap()
    expect(page.locator("#closed")).to_have_text("整改事项已关闭。")
    expect(finding).to_contain_text("已整改")
    assert hosts <= LOCAL_HOSTS
    context.close()

"""A customer files and follows a complaint on the public page in a real browser (Debian's
Chromium driven by Playwright, a phone-sized screen, SQLite, demo mode): the form with an
evidence file, the reference, a one-time code read from the fake SMS gateway, the status page,
a supplement; and a second customer with another phone cannot see the first one's case.
Never runs `playwright install`; skips without Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.notify import service as notify
from tests.notify.conftest import RecordingAdapter
from tests.portal.helpers import OTHER_PHONE, PDF, PHONE, TEXT
from tests.web.live import BROWSER_TEST, LOCAL_HOSTS, LiveServer, screenshot, seeded_server

pytestmark = BROWSER_TEST

sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

PHONE_SCREEN = {"width": 390, "height": 844}


def _seed(url: str) -> dict[str, str]:
    """A branch and its outlet for the customer to choose."""
    from bankvoc.orgs import service as orgs
    from bankvoc.orgs.enums import OrgKind

    engine = build_engine(url)
    with unit_of_work(engine) as session:
        root = orgs.get_org_by_code(session, code="HQ")
        bj = orgs.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch,
                             parent=root)
        orgs.create_org(session, code="BJ01", name="北京海淀支行", kind=OrgKind.outlet,
                        parent=bj)
    engine.dispose()
    return {}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "portal.db"


@pytest.fixture
def live_server(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    with seeded_server(db_path, monkeypatch, _seed) as server:
        yield server


def _dispatch(database: Path) -> RecordingAdapter:
    """Send what the outbox holds through a fake SMS gateway; returns it (its `sent` list)."""
    gateway = RecordingAdapter()
    engine = build_engine(f"sqlite:///{database}")
    try:
        notify.dispatch_due(sessionmaker(bind=engine, expire_on_commit=False),
                            adapters={"sms": gateway, "email": RecordingAdapter()})
    finally:
        engine.dispose()
    return gateway


def _customer(browser: Any) -> tuple[Any, set[str]]:
    from urllib.parse import urlsplit

    page = browser.new_page(viewport=PHONE_SCREEN, locale="zh-CN", is_mobile=True,
                            has_touch=True)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or "?"))
    return page, hosts


def _fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _ask_for_code(page: Any, base: str, reference: str, phone: str) -> None:
    page.goto(f"{base}/portal/track")
    page.get_by_label("受理编号").fill(reference)
    page.get_by_role("textbox", name="手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    sync_api.expect(page).to_have_url(f"{base}/portal/track/code")
    sync_api.expect(page.locator("#code-sent")).to_contain_text("如果您填写的受理编号和手机号正确")


def test_a_customer_files_and_follows_a_complaint(live_server: LiveServer, browser: Any,
                                                  db_path: Path, tmp_path: Path) -> None:
    expect = sync_api.expect
    base = live_server.url
    page, hosts = _customer(browser)

    # Filing: a mistake is explained by its field, then the complaint goes in with evidence.
    page.goto(f"{base}/portal")
    page.get_by_role("link", name="提交投诉或建议").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("提交投诉或建议")
    page.get_by_role("textbox", name="姓名").fill("李小红")
    page.get_by_role("textbox", name="手机号").fill("1391234")
    page.get_by_label("涉及网点或机构（选填）").select_option("BJ01")
    page.get_by_label("涉及金额（元，选填）").fill("128.00")
    page.get_by_label("问题描述").fill(TEXT)
    receipt = tmp_path / "转账回单.pdf"
    receipt.write_bytes(PDF)
    page.get_by_label("证据材料（选填）").set_input_files(str(receipt))
    assert _fits_the_screen(page)
    screenshot(page, "portal-new.zh.png")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#f-phone-error")).to_contain_text("11 位中国大陆手机号")
    expect(page.locator("#f-consent-error")).to_be_visible()
    expect(page.get_by_role("textbox", name="姓名")).to_have_value("李小红")
    page.get_by_role("textbox", name="手机号").fill(PHONE)
    page.get_by_label("证据材料（选填）").set_input_files(str(receipt))
    page.locator("#f-consent-box").check()
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/portal/complaints/TS\d{{14}}$"))
    reference = page.locator("#reference").inner_text().strip()
    assert reference.startswith("TS")
    assert len(reference) == 16
    expect(page.get_by_role("heading", level=1)).to_have_text("提交成功")
    screenshot(page, "portal-filed.zh.png")

    # Following it: reference and phone, a code by SMS, the status page.
    _ask_for_code(page, base, reference, PHONE)
    gateway = _dispatch(db_path)
    codes = [m for m in gateway.sent if m.template == "portal_code"]
    assert [m.recipient for m in codes] == [PHONE]
    assert any(m.template == "portal_received" and reference in m.body for m in gateway.sent)
    code = codes[0].body.split("验证码")[1][:6]
    page.get_by_label("6 位验证码").fill(code)
    page.get_by_role("button", name="查看办理进度").click()
    expect(page).to_have_url(f"{base}/portal/case")
    expect(page.locator("#case-reference")).to_have_text(reference)
    expect(page.locator("#stage")).to_contain_text("已收到")
    expect(page.locator("#contact")).to_contain_text("139****5678")
    assert PHONE not in page.content()
    assert _fits_the_screen(page)
    screenshot(page, "portal-case.zh.png")

    # A supplement lands on the case.
    supplement = page.get_by_role("textbox", name="补充说明", exact=True)
    supplement.fill("补充：柜员当时承诺三日内退还，至今未退。")
    page.get_by_role("button", name="提交补充").click()
    expect(page.locator("#supplement-done")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("柜员当时承诺三日内退还")

    # The English switch keeps the customer on their page.
    page.get_by_role("link", name="English").click()
    expect(page.locator("#stage")).to_contain_text("Received")
    assert hosts <= LOCAL_HOSTS

    # Another customer, another phone: the same answer, no code, no case.
    other, other_hosts = _customer(browser)
    _ask_for_code(other, base, reference, OTHER_PHONE)
    assert not [m for m in _dispatch(db_path).sent if m.template == "portal_code"]
    other.get_by_label("6 位验证码").fill(code)
    other.get_by_role("button", name="查看办理进度").click()
    expect(other.locator("#f-code-error")).to_be_visible()
    other.goto(f"{base}/portal/case")
    expect(other).to_have_url(f"{base}/portal/track")
    assert reference not in other.content()
    assert other_hosts <= LOCAL_HOSTS

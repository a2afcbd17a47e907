"""The customer's page through HTTP: forms with their own CSRF token, errors by their field, the
confirmation only in the filing browser, the code that reveals nothing, the customer's one case,
supplements, rate limits as a 429 page, cookies and security headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.settings import reset_settings
from tests.conftest import World, form_token
from tests.portal.helpers import OTHER_PHONE, PDF, PHONE, TEXT, last_code

NEW = "/portal/complaints/new"


def _filing(client: TestClient, **overrides: str) -> dict[str, str]:
    page = client.get(NEW)
    assert page.status_code == 200
    values = {"csrf_token": form_token(page.text), "kind": "complaint", "name": "李小红",
              "phone": PHONE, "org": "BJ01", "amount": "128", "text": TEXT, "consent": "yes",
              "submission": re.search(r'name="submission" value="([^"]+)"', page.text)
              .group(1)}  # type: ignore[union-attr]
    values.update(overrides)
    return values


def _file(client: TestClient, **overrides: str) -> str:
    response = client.post(NEW, data=_filing(client, **overrides),
                           files=[("evidence", ("回单.pdf", PDF, "application/pdf"))],
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/portal/complaints/")
    return location.rsplit("/", 1)[1]


def _ask_code(client: TestClient, reference: str, phone: str) -> None:
    page = client.get("/portal/track")
    response = client.post("/portal/track", data={
        "csrf_token": form_token(page.text), "reference": reference, "phone": phone,
        "via": "sms"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/track/code"


def _enter_code(client: TestClient, code: str) -> tuple[int, str]:
    page = client.get("/portal/track/code")
    response = client.post("/portal/track/code", data={
        "csrf_token": form_token(page.text), "code": code}, follow_redirects=False)
    return response.status_code, response.headers.get("location", response.text)


def _follow(client: TestClient, world: World, reference: str) -> str:
    _ask_code(client, reference, PHONE)
    status, where = _enter_code(client, last_code(world.session))
    assert (status, where) == (303, "/portal/case")
    return client.get("/portal/case").text


class TestFiling:
    def test_the_form_is_chinese_by_default_with_an_english_switch(
            self, client: TestClient) -> None:
        page = client.get(NEW)
        assert page.status_code == 200
        assert '<html lang="zh-CN">' in page.text
        assert "提交投诉或建议" in page.text
        assert '<label for="f-phone">' in page.text
        assert "北京海淀支行" in page.text  # the org tree to choose from
        assert "script" not in page.text.lower()
        assert "default-src 'none'" in page.headers["content-security-policy"]
        english = client.get(NEW + "?lang=en")
        assert "File a complaint or suggestion" in english.text

    def test_filing_gives_the_reference_in_this_browser_only(
            self, client: TestClient, world: World) -> None:
        reference = _file(client)
        shown = client.get(f"/portal/complaints/{reference}")
        assert shown.status_code == 200
        assert reference in shown.text
        case = world.session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        assert case.channel == "web"
        client.cookies.clear()
        elsewhere = client.get(f"/portal/complaints/{reference}")
        assert elsewhere.status_code == 404
        assert 'id="reference"' not in elsewhere.text
        assert "提交时间" not in elsewhere.text
        unknown = client.get("/portal/complaints/TS20990101000001")
        assert (unknown.status_code, "找不到该提交记录" in unknown.text) == (404, True)

    def test_bad_input_is_explained_next_to_its_field(self, client: TestClient) -> None:
        data = _filing(client, phone="123", text="短", consent="")
        response = client.post(NEW, data=data)
        assert response.status_code == 422
        assert 'id="f-phone-error"' in response.text
        assert "11 位中国大陆手机号" in response.text
        assert 'id="f-text-error"' in response.text
        assert 'id="f-consent-error"' in response.text
        assert 'aria-invalid="true"' in response.text
        assert 'value="李小红"' in response.text  # what was typed stays

    def test_a_file_of_another_kind_is_refused_by_its_name(self, client: TestClient) -> None:
        response = client.post(NEW, data=_filing(client), files=[
            ("evidence", ("invoice.pdf", b"MZ\x90\x00 a program", "application/pdf"))])
        assert response.status_code == 422
        assert "invoice.pdf" in response.text
        assert 'id="f-evidence-error"' in response.text

    def test_a_form_without_its_token_is_refused(self, client: TestClient) -> None:
        data = _filing(client)
        data["csrf_token"] = "forged"
        response = client.post(NEW, data=data)
        assert response.status_code == 403
        assert "页面已过期" in response.text

    def test_too_many_filings_get_the_429_page(self, client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_PORTAL_FILINGS_PER_HOUR", "1")
        reset_settings()
        _file(client)
        response = client.post(NEW, data=_filing(client, submission="another-one-" + "z" * 10))
        assert response.status_code == 429
        assert "操作过于频繁" in response.text
        assert response.headers["retry-after"] == "3600"


class TestFollowing:
    def test_a_right_code_shows_the_customers_own_case(self, client: TestClient,
                                                       world: World) -> None:
        reference = _file(client)
        page = _follow(client, world, reference)
        assert reference in page
        assert "已收到" in page
        assert PHONE not in page
        assert "139****5678" in page
        assert "hq_admin" not in page
        assert "admin" not in page
        cookie = next(c for c in client.cookies.jar if c.name == "bankvoc_portal_session")
        assert cookie.path == "/portal"
        assert cookie.has_nonstandard_attr("HttpOnly")

    def test_a_wrong_phone_gets_the_same_answer_and_no_code_works(
            self, client: TestClient, world: World) -> None:
        reference = _file(client)
        _ask_code(client, reference, OTHER_PHONE)
        page = client.get("/portal/track/code")
        assert "如果您填写的受理编号和手机号正确" in page.text
        status, body = _enter_code(client, "123456")
        assert status == 422
        assert "验证码不正确" in body
        assert client.get("/portal/case", follow_redirects=False).headers["location"] == (
            "/portal/track")

    def test_a_malformed_reference_is_named(self, client: TestClient) -> None:
        page = client.get("/portal/track")
        response = client.post("/portal/track", data={
            "csrf_token": form_token(page.text), "reference": "abc", "phone": PHONE})
        assert response.status_code == 422
        assert 'id="f-reference-error"' in response.text

    def test_a_supplement_lands_on_the_timeline(self, client: TestClient,
                                                world: World) -> None:
        reference = _file(client)
        page = _follow(client, world, reference)
        response = client.post("/portal/case/supplement", data={
            "csrf_token": form_token(page), "text": "补充说明：附上转账回单。"},
            files=[("evidence", ("回单2.pdf", PDF + b"2", "application/pdf"))],
            follow_redirects=False)
        assert response.status_code == 303
        shown = client.get("/portal/case?done=1").text
        assert "已收到您的补充" in shown
        assert "补充说明：附上转账回单。" in shown
        case = world.session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        types = list(world.session.scalars(select(CaseEvent.type).where(
            CaseEvent.case_id == case.id)))
        assert "customer_supplement" in types

    def test_leaving_ends_the_session(self, client: TestClient, world: World) -> None:
        page = _follow(client, world, _file(client))
        client.post("/portal/case/leave", data={"csrf_token": form_token(page)})
        response = client.get("/portal/case", follow_redirects=False)
        assert response.status_code in (303, 401)

    def test_a_forged_session_cookie_shows_nothing(self, client: TestClient) -> None:
        client.cookies.set("bankvoc_portal_session", "bvp_forged", path="/portal")
        response = client.get("/portal/case")
        assert response.status_code == 401
        assert "查询已失效" in response.text

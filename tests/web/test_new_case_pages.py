"""The new-case page (登记投诉): the customer look-up and registering through intake, through the
whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bankvoc.cases.models import Case
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import disclosure
from tests.conftest import World, log_in
from tests.web.test_pages import make_case

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"  # a valid checksum
NEW_ID_NUMBER = "110101199003074514"
TEXT = "信用卡年费被重复扣收两次，要求退还年费，否则投诉到银保监"


@pytest.fixture
def csrf(client: TestClient, world: World) -> str:
    """`client` logged in as a handler of the Beijing branch; the session's CSRF token."""
    return log_in(client, world.session, "bj_handler")


@pytest.fixture
def known(world: World) -> dict[str, str]:
    """A customer with a case in Beijing's subtree and one in Shanghai."""
    return {
        "bj": make_case(world, "手机银行转账失败，钱被扣了没到账", channel="hotline", org="BJ01",
                        customer_name="张三", customer_phone=PHONE,
                        customer_id_number=ID_NUMBER),
        "sh": make_case(world, "理财产品到期没有按时兑付本金", channel="branch", org="SH",
                        customer_phone=PHONE),
    }


def _form(**overrides: str) -> dict[str, str]:
    local_now = (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    return {"kind": "complaint", "channel": "branch", "org": "BJ01", "received_at": local_now,
            "customer_name": "", "customer_phone": PHONE, "customer_id_number": "",
            "product": "", "category": "", "amount": "", "title": "", "text": TEXT,
            **overrides}


def _cases(world: World) -> int:
    world.session.expire_all()
    return world.session.scalar(select(func.count()).select_from(Case)) or 0


def _invalid(html: str, name: str) -> bool:
    return re.search(rf'id="n-{name}" name="{name}" aria-invalid="true"', html) is not None


class TestTheForm:
    def test_defaults_to_a_complaint_at_the_users_own_org_within_their_subtree(
            self, client: TestClient, csrf: str) -> None:
        response = client.get("/cases/new")
        assert response.status_code == 200
        html = response.text
        assert '<h1>登记投诉</h1>' in html
        assert '<option value="BJ" selected>' in html
        assert 'value="BJ01"' in html
        assert 'value="SH"' not in html  # another branch is not offered
        assert '<option value="complaint" selected>' in html
        assert 'href="/cases/new" aria-current="page">登记</a>' in html
        assert 'action="/cases/new/lookup"' in html

    def test_in_english(self, client: TestClient, csrf: str) -> None:
        html = client.get("/cases/new?lang=en").text
        assert "<h1>Register a case</h1>" in html
        assert "Mobile phone or ID number" in html
        assert ">New case</a>" in html

    def test_a_role_that_may_not_register_cases_neither_sees_the_link_nor_the_page(
            self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "hq_analyst")
        assert 'href="/cases/new"' not in client.get("/cases").text
        assert client.get("/cases/new").status_code == 403
        assert client.post("/cases/new/lookup", data={"lookup": PHONE}).status_code == 403


class TestLookup:
    def test_by_phone_shows_the_customer_masked_with_their_cases_in_scope_only(
            self, client: TestClient, csrf: str, known: dict[str, str]) -> None:
        response = client.post("/cases/new/lookup", data={"lookup": PHONE, "csrf_token": csrf})
        assert response.status_code == 200
        html = response.text
        assert 'data-found="yes"' in html
        assert '<dd data-masked="name">张*</dd>' in html
        assert '<dd data-masked="phone">138****5678</dd>' in html
        assert "张三" not in html
        assert f'href="/cases/{known["bj"]}"' in html
        assert known["sh"] not in html  # Shanghai's case of the same customer stays hidden
        # The number is carried into the form, so intake links the case to this customer.
        assert f'id="n-customer_phone" name="customer_phone" value="{PHONE}"' in html

    def test_by_id_number_finds_the_same_customer(self, client: TestClient, csrf: str,
                                                  known: dict[str, str]) -> None:
        html = client.post("/cases/new/lookup", data={"lookup": ID_NUMBER.lower(),
                                                      "csrf_token": csrf}).text
        assert '<dd data-masked="id_number">110***********002X</dd>' in html
        assert f'href="/cases/{known["bj"]}"' in html
        assert f'name="customer_id_number" value="{ID_NUMBER}"' in html

    def test_a_look_up_by_id_number_is_recorded_and_one_by_phone_is_not(
            self, client: TestClient, csrf: str, world: World, known: dict[str, str]) -> None:
        client.post("/cases/new/lookup", data={"lookup": PHONE, "csrf_token": csrf})
        client.post("/cases/new/lookup", data={"lookup": ID_NUMBER, "csrf_token": csrf})
        client.post("/cases/new/lookup", data={"lookup": NEW_ID_NUMBER, "csrf_token": csrf})
        world.session.expire_all()
        user_id = world.actor("bj_handler").user_id
        rows = disclosure.accesses(world.session, user_id=user_id)
        assert [r.detail for r in rows] == ["look-up by ID number: found",
                                            "look-up by ID number: none"]
        assert rows[0].fields == ["id_number"]
        assert rows[0].route == "POST /cases/new/lookup"
        assert len(rows[0].customer_ids) == 1
        assert rows[1].customer_ids == []
        assert not any(ID_NUMBER in (r.detail + r.route) for r in rows)

    def test_an_unknown_number_asks_for_the_new_customers_details(
            self, client: TestClient, csrf: str, known: dict[str, str]) -> None:
        html = client.post("/cases/new/lookup", data={"lookup": NEW_ID_NUMBER,
                                                      "csrf_token": csrf}).text
        assert 'data-found="no"' in html
        assert "没有找到该客户" in html
        assert f'name="customer_id_number" value="{NEW_ID_NUMBER}"' in html

    @pytest.mark.parametrize(("typed", "words"), [
        ("", "必须填写"),
        ("张三", "11 位手机号或 18 位身份证号"),
        ("1381234", "11 位手机号或 18 位身份证号"),
        ("110105194912310021", "不是有效的身份证号"),  # wrong check character
        ("1" * 41, "不能超过 40 个字"),
    ])
    def test_a_number_that_is_neither_phone_nor_id_is_explained(
            self, client: TestClient, csrf: str, typed: str, words: str) -> None:
        response = client.post("/cases/new/lookup", data={"lookup": typed, "csrf_token": csrf})
        assert response.status_code == 422
        assert words in response.text
        assert 'href="#n-lookup"' in response.text
        assert 'aria-invalid="true"' in response.text

    def test_needs_the_forms_security_token(self, client: TestClient, csrf: str) -> None:
        assert client.post("/cases/new/lookup", data={"lookup": PHONE}).status_code == 403

    def test_is_not_a_query_string(self, client: TestClient, csrf: str,
                                   known: dict[str, str]) -> None:
        html = client.get(f"/cases/new?lookup={PHONE}").text
        assert "data-found" not in html


class TestRegistering:
    def test_registers_through_intake_classified_graded_and_linked_to_the_customer(
            self, client: TestClient, csrf: str, world: World, known: dict[str, str]) -> None:
        response = client.post("/cases/new", data={**_form(amount="1,200.50"),
                                                   "csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        reference = response.headers["location"].removeprefix("/cases/")
        assert reference.startswith("TS")
        world.session.expire_all()
        case = world.session.scalar(select(Case).where(Case.reference == reference))
        earlier = world.session.scalar(select(Case).where(Case.reference == known["bj"]))
        assert case is not None
        assert earlier is not None
        assert case.customer_id == earlier.customer_id
        assert case.category == "fee_dispute"
        assert case.severity == "urgent"  # threatens to go to the regulator
        assert str(case.amount) == "1200.50"
        assert case.channel == "branch"
        page = client.get(response.headers["location"]).text
        assert "自动判定" in page
        assert "收费争议" in page
        assert "紧急" in page

    def test_the_same_form_sent_twice_registers_one_case(
            self, client: TestClient, csrf: str, world: World) -> None:
        form = {**_form(), "form_key": "k" * 24, "csrf_token": csrf}
        first = client.post("/cases/new", data=form, follow_redirects=False)
        second = client.post("/cases/new", data=form, follow_redirects=False)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert _cases(world) == 1

    def test_problems_are_shown_next_to_their_fields_and_the_values_kept(
            self, client: TestClient, csrf: str, world: World) -> None:
        tomorrow = (utcnow() + timedelta(days=1, hours=8)).strftime("%Y-%m-%dT%H:%M")
        response = client.post("/cases/new", data={
            **_form(text="", amount="十块", customer_phone="12345",
                    customer_id_number="110105194912310021", received_at=tomorrow,
                    channel="pigeon", title="年费"),
            "csrf_token": csrf})
        assert response.status_code == 422
        html = response.text
        for name in ("text", "amount", "customer_phone", "customer_id_number", "received_at",
                     "channel"):
            assert _invalid(html, name), name
            assert f'id="n-{name}-error"' in html
            assert f'href="#n-{name}"' in html
        assert "不能晚于当前时间" in html
        assert "请填写金额" in html
        assert 'value="十块"' in html
        assert 'value="年费"' in html
        assert _cases(world) == 0

    def test_an_org_outside_the_users_subtree_is_refused(
            self, client: TestClient, csrf: str, world: World) -> None:
        response = client.post("/cases/new", data={**_form(org="SH"), "csrf_token": csrf})
        assert response.status_code == 422
        assert _invalid(response.text, "org")
        assert "您的权限范围内没有该机构" in response.text
        assert _cases(world) == 0

    def test_an_unparsable_time_is_explained_in_english(
            self, client: TestClient, csrf: str) -> None:
        response = client.post("/cases/new?lang=en", data={
            **_form(received_at="yesterday"), "csrf_token": csrf})
        assert response.status_code == 422
        assert "enter a date and time such as 2026-03-01 09:30" in response.text

    def test_no_personal_data_in_the_pages_address(self, client: TestClient,
                                                   csrf: str) -> None:
        response = client.post("/cases/new", data={**_form(), "csrf_token": csrf},
                               follow_redirects=False)
        assert PHONE not in response.headers["location"]

    def test_the_case_received_time_is_the_local_time_typed(
            self, client: TestClient, csrf: str, world: World) -> None:
        response = client.post("/cases/new", data={
            **_form(received_at="2026-03-01T09:30"), "csrf_token": csrf},
            follow_redirects=False)
        reference = response.headers["location"].removeprefix("/cases/")
        world.session.expire_all()
        case = world.session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        assert case.received_at.replace(tzinfo=None) == datetime(2026, 3, 1, 1, 30)

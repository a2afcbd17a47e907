"""The server-rendered pages, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.i18n import Lang
from bankvoc.core.settings import reset_settings
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.web.present import SUMMARY_MAX, Labeller, summarise
from tests.conftest import World, auth

CARD_TEXT = "信用卡年费被重复扣收两次，要求退还年费"
LOAN_TEXT = "房贷提前还款手续费不合理，按揭合同没有写明"
APP_TEXT = "手机银行登录一直闪退，验证码收不到"


def make_case(world: World, text: str, **fields: Any) -> str:
    """Register one case as the head-office administrator; returns its reference."""
    draft = register_case(world.session, actor=world.actor("hq_admin"),
                          data=CaseCreate(text=text, **fields))
    assert draft.error is None, draft.error
    world.session.commit()
    assert draft.reference is not None
    return draft.reference


def references(html: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="/cases/([^"]+)">', html)


@pytest.fixture
def three_cases(world: World) -> dict[str, str]:
    return {
        "card": make_case(world, CARD_TEXT, channel="hotline", org="BJ01",
                          received_at=datetime(2026, 3, 1, 9, 30), customer_name="张三",
                          customer_phone="13812345678"),
        "loan": make_case(world, LOAN_TEXT, channel="branch", org="SH",
                          received_at=datetime(2026, 3, 5, 14, 0), amount="1200.50"),
        "app": make_case(world, APP_TEXT, channel="mobile_app", org="BJ",
                         received_at=datetime(2026, 3, 9, 23, 45)),
    }


@pytest.mark.usefixtures("demo")
class TestHome:
    def test_redirects_to_the_case_list(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/cases"


@pytest.mark.usefixtures("demo")
class TestCaseList:
    def test_lists_cases_newest_first_in_chinese(self, client: TestClient,
                                                 three_cases: dict[str, str]) -> None:
        response = client.get("/cases")
        assert response.status_code == 200
        html = response.text
        assert '<html lang="zh-CN">' in html
        assert references(html) == [three_cases["app"], three_cases["loan"], three_cases["card"]]
        assert "投诉工单" in html
        assert "客服热线" in html
        assert "已登记" in html
        assert "2026-03-01 09:30" in html  # local time, as registered
        assert "张*" in html
        assert "138****5678" in html
        assert "13812345678" not in html
        assert "张三" not in html
        assert "演示模式" in html
        assert "admin" in html

    @pytest.mark.parametrize(("query", "expected"), [
        ("channel=branch", ["loan"]),
        ("product=credit_card", ["card"]),
        ("product=mortgage&channel=branch", ["loan"]),
        ("org=BJ", ["app", "card"]),
        ("q=闪退", ["app"]),
        ("status=received&kind=complaint", ["app", "loan", "card"]),
        ("status=closed", []),
        ("received_from=2026-03-05&received_to=2026-03-05", ["loan"]),
        ("received_to=2026-03-04", ["card"]),
    ])
    def test_filters_apply(self, client: TestClient, three_cases: dict[str, str], query: str,
                           expected: list[str]) -> None:
        response = client.get(f"/cases?{query}")
        assert response.status_code == 200
        assert references(response.text) == [three_cases[name] for name in expected]

    def test_the_form_keeps_the_chosen_filters(self, client: TestClient,
                                               three_cases: dict[str, str]) -> None:
        html = client.get("/cases?channel=branch&q=房贷").text
        assert '<option value="branch" selected>' in html
        assert 'value="房贷"' in html

    def test_pages_follow_the_cursor_and_keep_filters(self, client: TestClient,
                                                       three_cases: dict[str, str]) -> None:
        first = client.get("/cases?kind=complaint&limit=2")
        assert references(first.text) == [three_cases["app"], three_cases["loan"]]
        next_url = re.search(r'<a class="button" href="([^"]+)" rel="next">', first.text)
        assert next_url is not None
        link = next_url.group(1).replace("&amp;", "&")
        assert "kind=complaint" in link
        assert "limit=2" in link
        assert "cursor=" in link

        second = client.get(link)
        assert references(second.text) == [three_cases["card"]]
        assert 'rel="next"' not in second.text
        assert 'href="/cases?kind=complaint&amp;limit=2">第一页</a>' in second.text

    @pytest.mark.parametrize(("query", "field_label", "words"), [
        ("status=bogus", "状态", "“bogus”不是可选值"),
        ("severity=huge", "等级", "“huge”"),
        ("product=spaceships", "产品", "“spaceships”"),
        ("received_from=2026-13-01", "受理日期起", "不是有效日期"),
        ("received_from=2026-03-09&received_to=2026-03-01", "受理日期止", "起始日期晚于截止日期"),
        ("org=NOPE", "机构", "“NOPE”"),
        ("cursor=garbage!", "分页位置", "第一页"),
        ("limit=0", "每页条数", "1 到 200"),
        ("q=" + "长" * 101, "关键词", "100"),
    ])
    def test_a_bad_filter_value_is_explained_on_the_page(
        self, client: TestClient, three_cases: dict[str, str], query: str, field_label: str,
        words: str,
    ) -> None:
        response = client.get(f"/cases?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in response.text
        assert f"{field_label}</a>：" in response.text
        assert words in response.text
        assert references(response.text) == []

    def test_a_bad_filter_value_is_explained_in_english_too(self, client: TestClient) -> None:
        response = client.get("/cases?status=bogus&lang=en")
        assert response.status_code == 422
        assert "Status</a>: “bogus” is not one of the choices" in response.text

    def test_the_empty_result_says_so(self, client: TestClient) -> None:
        response = client.get("/cases?q=没有这样的投诉")
        assert response.status_code == 200
        assert "没有符合条件的工单。" in response.text


@pytest.mark.usefixtures("demo")
class TestLanguage:
    def test_english_switch_sets_a_cookie_and_sticks(self, client: TestClient,
                                                     three_cases: dict[str, str]) -> None:
        response = client.get("/cases?lang=en")
        assert response.status_code == 200
        assert '<html lang="en">' in response.text
        assert "Hotline" in response.text
        assert "Received" in response.text
        assert "Credit card" in response.text
        assert response.cookies.get("lang") == "en"
        assert 'href="/cases?lang=zh"' in response.text  # the switch back

        again = client.get("/cases")
        assert '<html lang="en">' in again.text

        back = client.get("/cases?lang=zh")
        assert '<html lang="zh-CN">' in back.text
        assert "客服热线" in back.text
        assert back.cookies.get("lang") == "zh"

    def test_every_page_has_the_switch(self, client: TestClient,
                                       three_cases: dict[str, str]) -> None:
        for path in ("/cases", f"/cases/{three_cases['card']}", "/cases/TS00000000000000"):
            html = client.get(path).text
            assert f'href="{path}?lang=en"' in html
            assert 'class="lang-switch"' in html

    def test_the_switch_keeps_the_filters(self, client: TestClient) -> None:
        html = client.get("/cases?channel=branch").text
        assert 'href="/cases?channel=branch&amp;lang=en"' in html


@pytest.mark.usefixtures("demo")
class TestCasePage:
    def test_shows_facts_decisions_timeline_and_chain(self, client: TestClient,
                                                      three_cases: dict[str, str]) -> None:
        response = client.get(f"/cases/{three_cases['loan']}")
        assert response.status_code == 200
        html = response.text
        assert three_cases["loan"] in html
        assert LOAN_TEXT in html
        assert "1,200.50 元" in html
        assert "上海分行（SH）" in html
        assert "住房按揭" in html  # product decided from the text
        assert "自动判定" in html
        assert "keywords@" in html
        assert "处理时间线" in html
        assert "登记" in html
        assert "hq_admin" in html
        assert 'data-chain="ok"' in html
        assert "哈希链校验通过（1 个事件）" in html

    def test_the_routing_decision_names_the_handling_org(
        self, client: TestClient, three_cases: dict[str, str]
    ) -> None:
        html = client.get(f"/cases/{three_cases['loan']}").text
        assert "上海分行 (SH)" in html  # the decision's value, from the code routing stored

    def test_personal_data_is_masked(self, client: TestClient,
                                     three_cases: dict[str, str]) -> None:
        html = client.get(f"/cases/{three_cases['card']}").text
        assert "张* · 138****5678" in html
        assert "13812345678" not in html
        assert "张三" not in html

    def test_in_english(self, client: TestClient, three_cases: dict[str, str]) -> None:
        html = client.get(f"/cases/{three_cases['loan']}?lang=en").text
        assert '<html lang="en">' in html
        assert "Timeline" in html
        assert "Registered" in html
        assert "Mortgage" in html
        assert "Chain ok: 1 events verified" in html

    def test_a_tampered_timeline_shows_where_the_chain_breaks(
        self, client: TestClient, world: World, three_cases: dict[str, str]
    ) -> None:
        case_id = world.session.scalar(
            select(Case.id).where(Case.reference == three_cases["card"]))
        event = world.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id))
        assert event is not None
        event.data = {**event.data, "channel": "branch"}
        world.session.commit()
        html = client.get(f"/cases/{three_cases['card']}").text
        assert 'data-chain="broken"' in html
        assert "哈希链在第 1 个事件处断开" in html

    def test_an_unknown_reference_is_a_404_page(self, client: TestClient) -> None:
        response = client.get("/cases/TS20990101999999")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "未找到" in response.text
        assert 'class="lang-switch"' in response.text

    def test_an_unexpected_failure_is_a_500_page_without_details(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(*_: object, **__: object) -> None:
            raise RuntimeError("secret 13812345678")

        monkeypatch.setattr("bankvoc.web.pages.case_page", broken)
        response = client.get("/cases/TS1")
        assert response.status_code == 500
        assert "系统内部错误" in response.text
        assert "13812345678" not in response.text

    def test_pages_forbid_scripts_and_framing(self, client: TestClient,
                                              three_cases: dict[str, str]) -> None:
        response = client.get(f"/cases/{three_cases['card']}")
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"

    def test_the_stylesheet_is_served_from_the_package(self, client: TestClient) -> None:
        response = client.get("/static/app.css")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/css")
        assert "http" not in response.text  # nothing fetched from elsewhere


class TestWhoIsLooking:
    def test_without_a_session_a_page_sends_to_the_log_in_page(
        self, client: TestClient
    ) -> None:
        response = client.get("/cases?channel=branch", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fcases%3Fchannel%3Dbranch"
        assert "用户名" in client.get(response.headers["location"]).text

    def test_demo_mode_does_not_let_anybody_in(self, client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_DEMO", "1")
        reset_settings()
        response = client.get("/cases/TS1?lang=en", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")

    def test_an_invalid_token_is_a_401(self, client: TestClient) -> None:
        response = client.get("/cases", headers={"Authorization": "Bearer bv_nope"})
        assert response.status_code == 401
        assert "令牌无效或已吊销" in response.text

    def test_a_token_acts_as_its_user_with_org_scoping(
        self, client: TestClient, world: World, three_cases: dict[str, str]
    ) -> None:
        headers = auth(world, "bj_handler")
        listed = client.get("/cases", headers=headers)
        assert listed.status_code == 200
        assert references(listed.text) == [three_cases["app"], three_cases["card"]]
        assert "bj_handler" in listed.text
        assert "演示模式" not in listed.text

        own = client.get(f"/cases/{three_cases['card']}", headers=headers)
        assert own.status_code == 200
        other_branch = client.get(f"/cases/{three_cases['loan']}", headers=headers)
        assert other_branch.status_code == 404
        assert "未找到" in other_branch.text

    def test_an_org_outside_the_scope_is_a_filter_error(
        self, client: TestClient, world: World, three_cases: dict[str, str]
    ) -> None:
        response = client.get("/cases?org=SH", headers=auth(world, "bj_handler"))
        assert response.status_code == 422
        assert "您的权限范围内没有机构代码“SH”" in response.text

    def test_the_api_still_answers_json(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/cases/NOPE", headers=auth(world, "hq_admin"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestPresentation:
    """Formatting rules that need no database."""

    @staticmethod
    def labeller(lang: Lang = "zh") -> Labeller:
        return Labeller(lang=lang, tz=ZoneInfo("Asia/Shanghai"), taxonomy=load_taxonomy())

    def test_times_are_local(self) -> None:
        assert self.labeller().when(datetime(2026, 3, 1, 1, 30, tzinfo=UTC)) == "2026-03-01 09:30"

    def test_a_deadline_at_midnight_is_the_end_of_the_day_before(self) -> None:
        midnight_local = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 2026-11-24 00:00 in Beijing
        assert self.labeller().deadline(midnight_local) == "2026-11-23 24:00"
        assert self.labeller().deadline(None) == "—"

    @pytest.mark.parametrize(("lang", "expected"), [("zh", "1,200.50 元"),
                                                     ("en", "CNY 1,200.50")])
    def test_money(self, lang: Lang, expected: str) -> None:
        assert self.labeller(lang).money(Decimal("1200.5"), "CNY") == expected

    def test_unknown_codes_show_as_themselves(self) -> None:
        lab = self.labeller()
        assert lab.term("product", "no_such_product") == "no_such_product"
        assert lab("event.escalated_somewhere") == "escalated_somewhere"

    def test_event_summaries_are_one_short_line(self) -> None:
        lab = self.labeller("en")
        line = summarise({"channel": "hotline", "decisions": {"a": {}, "b": {}},
                          "text": "很长" * 200, "empty": None}, lab)
        assert line.startswith("Channel: Hotline; Automatic decisions: 2 items; ")
        assert len(line) == SUMMARY_MAX
        assert line.endswith("…")

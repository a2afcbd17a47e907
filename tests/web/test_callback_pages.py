"""The callback queue (回访队列) through the whole app (SQLite and PostgreSQL): scoping, masking,
filters and countdowns, and recording results through the surveys service."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, select

from bankvoc.cases.models import Case
from bankvoc.cases.workflow.config import CallbackPolicy
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.surveys import service as surveys_service
from bankvoc.surveys.models import Callback
from bankvoc.web.callback_pages import reason_of
from bankvoc.web.i18n import CALLBACK_UI
from bankvoc.web.present import Labeller
from tests.conftest import World, auth
from tests.web.test_workflow_pages import case_of, make_case, step

CARD_TEXT = "信用卡年费被重复扣收，要求退还年费"
QUEUE_TEXT = "网点排队两个小时没人办理"
PHONE = "13812345678"
TOLD = f"已电话告知客户退还年费，客户留的号码是{PHONE}"


def resolve(world: World, reference: str, by: str = "bj_handler") -> None:
    """Work a case through the workflow to a decision told to the customer."""
    for payload in ({"action": "accept"}, {"action": "assign", "user": by},
                    {"action": "investigate"},
                    {"action": "propose", "decision": "refund", "amount": "200",
                     "basis": "年费重复扣收属我行差错"},
                    {"action": "resolve", "told_via": "phone", "summary": TOLD}):
        step(world, reference, by, **payload)


def schedule(world: World) -> None:
    surveys_service.schedule_due(world.session, now=utcnow())
    world.session.commit()


def callback_of(world: World, reference: str) -> Callback:
    world.session.expire_all()
    found = world.session.scalar(
        select(Callback).join(Case, Case.id == Callback.case_id)
        .where(Case.reference == reference).order_by(Callback.round.desc()))
    assert found is not None
    return found


def queued(html: str) -> list[str]:
    """The references of the callbacks listed, in order."""
    return re.findall(r'<tbody class="callback" id="cb-\d+" data-callback="\d+" '
                      r'data-reference="([^"]+)"', html)


def result(client: TestClient, world: World, callback: Callback, user: str = "bj_handler",
           **fields: str) -> Any:
    return client.post(f"/callbacks/{callback.id}/result", data=fields,
                       headers=auth(world, user), follow_redirects=False)


@pytest.fixture
def bj_callbacks(world: World) -> dict[str, str]:
    """Two urgent Beijing cases resolved by the Beijing handler, their callbacks queued."""
    refs = {
        "card": make_case(world, CARD_TEXT, channel="hotline", org="BJ", severity="urgent",
                          customer_name="张三", customer_phone=PHONE),
        "queue": make_case(world, QUEUE_TEXT, channel="branch", org="BJ01", severity="major"),
    }
    for reference in refs.values():
        resolve(world, reference)
    schedule(world)
    return refs


def set_due(world: World, reference: str, *, resolved_ago: timedelta, due_in: timedelta) -> None:
    callback = callback_of(world, reference)
    case = case_of(world, reference)
    now = utcnow()
    case.resolved_at, callback.due_at = now - resolved_ago, now + due_in
    world.session.commit()


# --- the queue -----------------------------------------------------------------------------------

class TestQueue:
    def test_lists_each_pending_callback_with_what_the_caller_needs(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        response = client.get("/callbacks", headers=auth(world, "bj_handler"))
        assert response.status_code == 200
        html = response.text
        card = bj_callbacks["card"]
        assert set(queued(html)) == set(bj_callbacks.values())
        assert f'<a href="/cases/{card}">{card}</a>' in html
        assert "紧急工单：逐一回访" in html
        assert "重大工单：逐一回访" in html
        assert 'data-reason="urgent"' in html
        assert "第 1 轮" in html
        assert 'class="due due-ok"' in html  # just resolved: 48 hours ahead
        assert "退款 · 200.00 元" in html  # the decision told
        assert "电话告知" in html
        assert "已电话告知客户退还年费" in html
        assert 'href="/callbacks" aria-current="page"' in html
        assert f'action="/callbacks/{callback_of(world, card).id}/result"' in html

    def test_what_each_customer_was_told_is_read_in_one_query(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str],
        connection: Connection
    ) -> None:
        statements: list[str] = []

        def seen(*args: Any) -> None:  # (conn, cursor, statement, parameters, context, many)
            statements.append(str(args[2]))

        event.listen(connection, "before_cursor_execute", seen)
        try:
            html = client.get("/callbacks", headers=auth(world, "bj_handler")).text
        finally:
            event.remove(connection, "before_cursor_execute", seen)
        assert set(queued(html)) == set(bj_callbacks.values())
        assert "已电话告知客户退还年费" in html
        assert sum("FROM case_event" in s for s in statements) == 1

    @pytest.mark.parametrize("user", ["bj_handler", "hq_admin"])
    def test_personal_data_is_masked(self, client: TestClient, world: World,
                                     bj_callbacks: dict[str, str], user: str) -> None:
        html = client.get("/callbacks", headers=auth(world, user)).text
        assert "张* · 138****5678" in html
        assert PHONE not in html  # neither the customer's phone nor the one in the summary
        assert "张三" not in html

    def test_an_outlet_sees_only_its_own_cases_callbacks(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        html = client.get("/callbacks", headers=auth(world, "bj1_agent")).text
        assert queued(html) == [bj_callbacks["queue"]]

    def test_another_branch_sees_nothing_and_may_record_nothing(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        html = client.get("/callbacks", headers=auth(world, "sh_handler")).text
        assert queued(html) == []
        assert "没有符合条件的回访。" in html
        callback = callback_of(world, bj_callbacks["card"])
        response = result(client, world, callback, "sh_handler", csat="5", solved="yes")
        assert response.status_code == 404
        assert callback_of(world, bj_callbacks["card"]).status == "pending"
        assert case_of(world, bj_callbacks["card"]).status == "resolved"

    def test_head_office_sees_the_branches_callbacks(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        html = client.get("/callbacks", headers=auth(world, "hq_admin")).text
        assert set(queued(html)) == set(bj_callbacks.values())

    def test_soonest_due_first_and_the_countdown_colours(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        set_due(world, bj_callbacks["card"], resolved_ago=timedelta(hours=40),
                due_in=timedelta(hours=8))  # a sixth of the period left: red
        set_due(world, bj_callbacks["queue"], resolved_ago=timedelta(hours=50),
                due_in=-timedelta(hours=2))
        html = client.get("/callbacks", headers=auth(world, "bj_handler")).text
        assert queued(html) == [bj_callbacks["queue"], bj_callbacks["card"]]
        assert 'class="due due-overdue"' in html
        assert "已超期 2 小时" in html
        assert 'class="due due-danger"' in html

    def test_overdue_only(self, client: TestClient, world: World,
                          bj_callbacks: dict[str, str]) -> None:
        set_due(world, bj_callbacks["queue"], resolved_ago=timedelta(days=3),
                due_in=-timedelta(days=1))
        html = client.get("/callbacks?overdue=1", headers=auth(world, "bj_handler")).text
        assert queued(html) == [bj_callbacks["queue"]]
        assert 'id="f-overdue" name="overdue" value="1" checked' in html

    def test_overdue_recorded_ones_are_those_recorded_after_their_due_time(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        set_due(world, bj_callbacks["queue"], resolved_ago=timedelta(days=3),
                due_in=-timedelta(days=1))
        for reference in bj_callbacks.values():
            response = result(client, world, callback_of(world, reference), csat="5",
                              solved="yes")
            assert response.status_code == 303
        headers = auth(world, "bj_handler")
        assert queued(client.get("/callbacks?status=done&overdue=1", headers=headers).text) \
            == [bj_callbacks["queue"]]
        assert set(queued(client.get("/callbacks?status=done", headers=headers).text)) == set(
            bj_callbacks.values())

    @pytest.mark.parametrize(("query", "label", "words"), [
        ("status=later", "回访状态", "“later”不是可选值"),
        ("overdue=maybe", "只看超时的", "“maybe”不是可选值"),
    ])
    def test_a_bad_filter_names_the_field(self, client: TestClient, world: World,
                                          query: str, label: str, words: str) -> None:
        response = client.get(f"/callbacks?{query}", headers=auth(world, "bj_handler"))
        assert response.status_code == 422
        assert f"{label}</a>：" in response.text
        assert words in response.text

    def test_in_english(self, client: TestClient, world: World,
                        bj_callbacks: dict[str, str]) -> None:
        html = client.get("/callbacks?lang=en", headers=auth(world, "bj_handler")).text
        assert '<html lang="en">' in html
        assert "Callback queue" in html
        assert "Urgent case: always called back" in html
        assert "Refund · CNY 200.00" in html
        assert "Satisfaction, CSAT (1–5)" in html

    def test_a_role_that_may_not_record_sees_no_form(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        html = client.get("/callbacks", headers=auth(world, "hq_analyst")).text
        assert set(queued(html)) == set(bj_callbacks.values())
        assert "/result" not in html
        assert "您的角色只能查看回访" in html
        callback = callback_of(world, bj_callbacks["card"])
        response = result(client, world, callback, "hq_analyst", csat="5", solved="yes")
        assert response.status_code == 403
        assert callback_of(world, bj_callbacks["card"]).status == "pending"


# --- recording a result --------------------------------------------------------------------------

class TestRecording:
    def test_a_satisfied_customer_closes_the_case_and_the_queue_says_so(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        card = bj_callbacks["card"]
        callback = callback_of(world, card)
        response = result(client, world, callback, csat="5", nps="9", solved="yes",
                          comment="很满意，谢谢", back="overdue=1&bogus=x")
        assert response.status_code == 303
        assert response.headers["location"] == (
            f"/callbacks?overdue=1&recorded={callback.id}#callback-done")
        assert case_of(world, card).status == "closed"
        done = callback_of(world, card)
        assert (done.status, done.csat, done.nps, done.solved) == ("done", 5, 9, True)
        html = client.get(f"/callbacks?recorded={callback.id}",
                          headers=auth(world, "bj_handler")).text
        assert f"已记录工单 {card} 的回访：客户满意，工单已办结。" in html
        assert 'data-outcome="closed"' in html
        assert card not in queued(html)  # no longer pending

    def test_an_unhappy_customer_reopens_and_escalates_the_case(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        card = bj_callbacks["card"]
        callback = callback_of(world, card)
        response = result(client, world, callback, csat="2", nps="3", solved="yes",
                          comment=f"还是不满意，请回电{PHONE}")
        assert response.status_code == 303
        case = case_of(world, card)
        assert (case.status, case.reopen_count, case.escalation_level) == (
            "investigating", 1, 1)
        html = client.get(response.headers["location"].split("#")[0],
                          headers=auth(world, "bj_handler")).text
        assert "客户不满意或问题未解决，工单已重新处理并升级" in html
        assert "现为“调查中”，升级级别 1" in html
        assert 'data-outcome="reopened"' in html
        done = client.get("/callbacks?status=done", headers=auth(world, "bj_handler")).text
        assert queued(done) == [card]
        assert "已重新处理" in done
        assert "满意度 2 · 推荐 3 · 是，已解决" in done
        assert "138****5678" in done
        assert PHONE not in done

    def test_full_width_digits_count(self, client: TestClient, world: World,
                                     bj_callbacks: dict[str, str]) -> None:
        callback = callback_of(world, bj_callbacks["card"])
        assert result(client, world, callback, csat="５", nps="１０",
                      solved="yes").status_code == 303
        assert (callback_of(world, bj_callbacks["card"]).csat,
                callback_of(world, bj_callbacks["card"]).nps) == (5, 10)

    def test_an_unsolved_problem_reopens_it_whatever_the_score(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        callback = callback_of(world, bj_callbacks["queue"])
        assert result(client, world, callback, csat="4", solved="no").status_code == 303
        assert case_of(world, bj_callbacks["queue"]).status == "investigating"

    def test_a_score_out_of_range_is_shown_next_to_its_field(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        callback = callback_of(world, bj_callbacks["card"])
        response = result(client, world, callback, csat="7", nps="11", solved="yes",
                          comment="一般")
        assert response.status_code == 422
        html = response.text
        csat_error = f'<p class="field-error" id="cb-{callback.id}-csat-error">'
        assert f"{csat_error}“7”超出范围：请填 1 到 5 的整数</p>" in html
        assert f'id="cb-{callback.id}-nps-error">“11”超出范围：请填 0 到 10 的整数' in html
        assert f'id="cb-{callback.id}-csat" name="csat" value="7"' in html  # kept to fix
        assert 'aria-invalid="true"' in html
        assert "有 2 项需要修改" in html
        assert callback_of(world, bj_callbacks["card"]).status == "pending"
        assert case_of(world, bj_callbacks["card"]).status == "resolved"

    @pytest.mark.parametrize(("fields", "field", "words"), [
        ({"solved": "yes"}, "csat", "请填写：1 到 5 的整数"),
        ({"csat": "很好", "solved": "yes"}, "csat", "“很好”不是整数"),
        ({"csat": "4.5", "solved": "yes"}, "csat", "“4.5”不是整数"),
        ({"csat": "0", "solved": "yes"}, "csat", "“0”超出范围"),
        ({"csat": "4", "nps": "1_0", "solved": "yes"}, "nps", "“1_0”不是整数"),
        ({"csat": "4"}, "solved", "请选择问题是否已解决"),
        ({"csat": "4", "solved": "maybe"}, "solved", "请从选项中选择"),
        ({"csat": "4", "solved": "yes", "comment": "长" * 5001}, "comment", "不能超过 5000 个字"),
        ({"reached": "no", "csat": "3"}, "reached", "选择“联系不上”时不记录评分"),
    ])
    def test_what_to_fix_is_said_for_each_field(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str],
        fields: dict[str, str], field: str, words: str
    ) -> None:
        callback = callback_of(world, bj_callbacks["card"])
        response = result(client, world, callback, **fields)
        assert response.status_code == 422
        error = re.search(rf'id="cb-{callback.id}-{field}-error">([^<]+)<', response.text)
        assert error is not None
        assert words in error.group(1)
        assert callback_of(world, bj_callbacks["card"]).status == "pending"

    def test_an_unreachable_customer_ends_the_callback_and_leaves_the_case(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        card = bj_callbacks["card"]
        callback = callback_of(world, card)
        response = result(client, world, callback, reached="no")
        assert response.status_code == 303
        assert callback_of(world, card).status == "unreachable"
        assert case_of(world, card).status == "resolved"
        html = client.get(f"/callbacks?recorded={callback.id}",
                          headers=auth(world, "bj_handler")).text
        assert f"工单 {card} 的客户联系不上，本次回访结束，工单保持“已解决”" in html
        listed = client.get("/callbacks?status=unreachable",
                            headers=auth(world, "bj_handler")).text
        assert queued(listed) == [card]
        assert "未联系上客户" in listed

    def test_a_callback_is_recorded_once(self, client: TestClient, world: World,
                                         bj_callbacks: dict[str, str]) -> None:
        callback = callback_of(world, bj_callbacks["card"])
        assert result(client, world, callback, csat="5", solved="yes").status_code == 303
        again = result(client, world, callback, csat="1", solved="no")
        assert again.status_code == 409
        assert "这条回访已记录过（现为“已回访”），未重复记录" in again.text
        assert case_of(world, bj_callbacks["card"]).status == "closed"

    def test_a_confirmation_for_someone_elses_callback_says_nothing(
        self, client: TestClient, world: World, bj_callbacks: dict[str, str]
    ) -> None:
        callback = callback_of(world, bj_callbacks["card"])
        result(client, world, callback, csat="5", solved="yes")
        html = client.get(f"/callbacks?recorded={callback.id}",
                          headers=auth(world, "sh_handler")).text
        assert 'id="callback-done"' not in html
        assert bj_callbacks["card"] not in html

    @pytest.mark.parametrize("ident", ["999999", "abc"])
    def test_an_unknown_callback_is_a_404_page(self, client: TestClient, world: World,
                                               ident: str) -> None:
        response = client.post(f"/callbacks/{ident}/result", data={"csat": "5"},
                               headers=auth(world, "bj_handler"))
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]


# --- the words -----------------------------------------------------------------------------------

class TestWords:
    @pytest.mark.parametrize(("fields", "code", "words"), [
        ({"severity": "urgent"}, "urgent", "紧急工单：逐一回访"),
        ({"severity": "major"}, "major", "重大工单：逐一回访"),
        ({"severity": "general", "origin": "pboc"}, "regulator", "人民银行转办：逐一回访"),
    ])
    def test_the_reasons_the_service_writes_are_put_in_words(
        self, fields: dict[str, str], code: str, words: str
    ) -> None:
        _, reason = surveys_service.decide(Case(reference="TS20261001000001", **fields),
                                           CallbackPolicy(sample_percent=0))
        assert reason_of(reason, self._lab()) == (code, words)

    def test_the_sample_reasons_too(self) -> None:
        everyone, no_one = CallbackPolicy(sample_percent=100), CallbackPolicy(sample_percent=0)
        case = Case(reference="TS20261001000001", severity="general", origin="direct")
        assert reason_of(surveys_service.decide(case, everyone)[1], self._lab()) == (
            "sample", "抽样回访（抽样比例 100%）")
        assert reason_of(surveys_service.decide(case, no_one)[1], self._lab()) == (
            "not_sampled", "未抽中（抽样比例 0%）")
        assert reason_of("called back by hand", self._lab()) == ("other", "called back by hand")

    def test_both_languages_are_written_out(self) -> None:
        for key, (zh, en) in CALLBACK_UI.items():
            assert zh.strip(), key
            assert en.strip(), key

    @staticmethod
    def _lab() -> Labeller:
        return Labeller(lang="zh", tz=ZoneInfo("Asia/Shanghai"), taxonomy=load_taxonomy())

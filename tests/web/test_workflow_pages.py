"""The handler's workflow screens through the whole app (SQLite and PostgreSQL): the inbox with
its filters, views, countdowns and bulk assignment, the case page's step forms, and the
regulator-transfer view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.cases.workflow import schemas
from bankvoc.cases.workflow import service as workflow_service
from bankvoc.cases.workflow.table import Action
from bankvoc.core.i18n import Lang
from bankvoc.core.timeutil import utcnow
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.web.i18n import UI, WORKFLOW_UI, has
from bankvoc.web.models import SavedView
from bankvoc.web.present import Labeller, countdown, summarise
from bankvoc.web.rendering import TEMPLATE_DIR as TEMPLATES
from bankvoc.web.step_forms import FORMS
from tests.conftest import World, auth

STEP = schemas.STEP_ADAPTER
CARD_TEXT = "信用卡年费被重复扣收，要求退还年费"
QUEUE_TEXT = "网点排队两个小时没人办理"
APP_TEXT = "手机银行转账失败但是钱被扣了"
PBOC_TEXT = "人民银行转来：理财产品销售时未做风险评估"


@pytest.fixture
def team(world: World) -> World:
    """The test world plus a second Beijing handler and a Beijing team lead, with tokens."""
    s = world.session
    bj = org_service.get_org_by_code(s, code="BJ")
    for name, roles in (("bj_handler2", ["handler"]), ("bj_lead", ["team_lead"])):
        user = org_service.create_user(s, username=name, display_name=name, org=bj, roles=roles)
        world.tokens[name] = org_service.issue_token(s, user=user)
    s.commit()
    return world


def make_case(world: World, text: str, **fields: Any) -> str:
    draft = register_case(world.session, actor=world.actor("hq_admin"),
                          data=CaseCreate(text=text, **fields))
    assert draft.error is None, draft.error
    world.session.commit()
    assert draft.reference is not None
    return draft.reference


def case_of(world: World, reference: str) -> Case:
    world.session.expire_all()
    case = world.session.scalar(select(Case).where(Case.reference == reference))
    assert case is not None
    return case


def step(world: World, reference: str, by: str, **payload: Any) -> None:
    """`by` takes a step through the service, committed (the page sees it)."""
    case = case_of(world, reference)
    workflow_service.act(world.session, actor=world.actor(by), reference=reference,
                         step=STEP.validate_python({"version": case.version, **payload}))
    world.session.commit()


def events(world: World, reference: str) -> list[str]:
    case = case_of(world, reference)
    return list(world.session.scalars(select(CaseEvent.type).where(
        CaseEvent.case_id == case.id).order_by(CaseEvent.seq)))


def references(html: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="/cases/([^"]+)">', html)


def version_in(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found is not None, "no step form on the page"
    return int(found.group(1))


def form_actions(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="/cases/[^/]+/steps/([a-z_]+)"', html)


def set_clock(world: World, reference: str, *, received: timedelta, due: timedelta) -> None:
    """Received `received` ago, due `due` from now."""
    case = case_of(world, reference)
    now = utcnow()
    case.received_at, case.due_at = now - received, now + due
    world.session.commit()


@pytest.fixture
def bj_cases(team: World) -> dict[str, str]:
    """Three Beijing cases (two accepted by the Beijing handler) and a PBoC transfer."""
    refs = {
        "card": make_case(team, CARD_TEXT, channel="hotline", org="BJ",
                          received_at=datetime(2026, 11, 20, 9, 30),
                          customer_name="张三", customer_phone="13812345678"),
        "queue": make_case(team, QUEUE_TEXT, channel="branch", org="BJ",
                           received_at=datetime(2026, 11, 21, 10, 0)),
        "app": make_case(team, APP_TEXT, channel="mobile_app", org="BJ",
                         received_at=datetime(2026, 11, 22, 11, 0)),
        "pboc": make_case(team, PBOC_TEXT, channel="regulator", org="BJ", origin="pboc",
                          origin_reference="PBC-BJ-2026-0042",
                          received_at=datetime(2026, 11, 23, 15, 0)),
    }
    step(team, refs["card"], "bj_handler", action="accept")
    step(team, refs["queue"], "bj_handler", action="accept")
    return refs


# --- the inbox ---------------------------------------------------------------------------------

class TestInboxFilters:
    def test_assigned_to_me_and_unassigned(self, client: TestClient, team: World,
                                           bj_cases: dict[str, str]) -> None:
        step(team, bj_cases["card"], "bj_lead", action="assign", user="bj_handler2")
        mine = client.get("/cases?assignee=me", headers=auth(team, "bj_handler2"))
        assert mine.status_code == 200
        assert references(mine.text) == [bj_cases["card"]]
        nobody = client.get("/cases?assignee=none", headers=auth(team, "bj_handler2"))
        assert bj_cases["card"] not in references(nobody.text)
        assert set(references(nobody.text)) == {bj_cases["queue"], bj_cases["app"],
                                                bj_cases["pboc"]}

    def test_handling_org_follows_routing(self, client: TestClient, team: World,
                                          bj_cases: dict[str, str]) -> None:
        headers = auth(team, "bj_handler")
        at_hq = client.get("/cases?handling_org=HQ", headers=headers)
        assert references(at_hq.text) == [bj_cases["pboc"]]  # regulator transfers go to HQ
        at_bj = client.get("/cases?handling_org=BJ", headers=headers)
        assert set(references(at_bj.text)) == {bj_cases["card"], bj_cases["queue"],
                                               bj_cases["app"]}

    @pytest.mark.parametrize(("origin", "expected"), [
        ("regulator", ["pboc"]), ("pboc", ["pboc"]), ("nfra", []),
        ("direct", ["app", "queue", "card"]),
    ])
    def test_origin(self, client: TestClient, team: World, bj_cases: dict[str, str],
                    origin: str, expected: list[str]) -> None:
        html = client.get(f"/cases?origin={origin}", headers=auth(team, "bj_handler")).text
        assert references(html) == [bj_cases[name] for name in expected]

    def test_due_soon_and_overdue(self, client: TestClient, team: World,
                                  bj_cases: dict[str, str]) -> None:
        set_clock(team, bj_cases["card"], received=timedelta(days=20), due=-timedelta(days=2))
        set_clock(team, bj_cases["queue"], received=timedelta(days=13), due=timedelta(days=2))
        set_clock(team, bj_cases["app"], received=timedelta(days=1), due=timedelta(days=14))
        headers = auth(team, "bj_handler")
        assert references(client.get("/cases?due=overdue", headers=headers).text) == [
            bj_cases["card"]]
        assert references(client.get("/cases?due=soon", headers=headers).text) == [
            bj_cases["queue"]]

    def test_a_closed_case_is_never_overdue(self, client: TestClient, team: World,
                                            bj_cases: dict[str, str]) -> None:
        set_clock(team, bj_cases["app"], received=timedelta(days=20), due=-timedelta(days=2))
        step(team, bj_cases["app"], "bj_handler", action="refuse", reason="重复投诉")
        html = client.get("/cases?due=overdue", headers=auth(team, "bj_handler")).text
        assert bj_cases["app"] not in references(html)

    @pytest.mark.parametrize(("query", "label", "words"), [
        ("assignee=someone", "处理人", "“someone”不是可选值"),
        ("due=yesterday", "办结时限", "“yesterday”不是可选值"),
        ("origin=mars", "来源", "“mars”不是可选值"),
        ("handling_org=NOPE", "处理机构", "没有机构代码“NOPE”"),
    ])
    def test_a_bad_value_names_the_field(self, client: TestClient, team: World, query: str,
                                         label: str, words: str) -> None:
        response = client.get(f"/cases?{query}", headers=auth(team, "bj_handler"))
        assert response.status_code == 422
        assert f"{label}</a>：" in response.text
        assert words in response.text

    def test_the_api_takes_the_new_filters_too(self, client: TestClient, team: World,
                                               bj_cases: dict[str, str]) -> None:
        response = client.get("/api/v1/cases?from_regulator=true",
                              headers=auth(team, "bj_handler"))
        assert response.status_code == 200
        assert [c["reference"] for c in response.json()["items"]] == [bj_cases["pboc"]]
        naive = client.get("/api/v1/cases?due_before=2026-11-30T00:00:00",
                           headers=auth(team, "bj_handler"))
        assert naive.status_code == 422
        assert naive.json()["field"] == "due_before"


class TestCountdown:
    @pytest.mark.parametrize(("received", "due", "level", "words"), [
        (timedelta(days=1), timedelta(days=14), "ok", "充裕 · 剩余 13 天"),
        (timedelta(days=10), timedelta(days=5), "warn", "过半 · 剩余 4 天"),
        (timedelta(days=13), timedelta(days=2), "danger", "紧迫 · 剩余 1 天"),
        (timedelta(days=20), -timedelta(days=3), "overdue", "已超期 3 天"),
    ])
    def test_each_row_shows_colour_and_words(self, client: TestClient, team: World,
                                             bj_cases: dict[str, str], received: timedelta,
                                             due: timedelta, level: str, words: str) -> None:
        set_clock(team, bj_cases["card"], received=received, due=due)
        html = client.get(f"/cases?q={bj_cases['card']}", headers=auth(team, "bj_handler")).text
        badge = re.search(r'<span class="due due-(\w+)" data-due="\w+">'
                          r'(?:<span[^>]*></span>)?(.*?)</span>', html, re.S)
        assert badge is not None
        assert badge.group(1) == level
        assert words in badge.group(2)

    @staticmethod
    def labeller(lang: Lang = "zh") -> Labeller:
        return Labeller(lang=lang, tz=ZoneInfo("Asia/Shanghai"), taxonomy=load_taxonomy())

    @pytest.mark.parametrize(("hours_left", "level"), [
        (51, "ok"), (50, "warn"), (21, "warn"), (20, "danger"), (1, "danger"), (0, "overdue"),
    ])
    def test_thresholds_are_shares_of_the_period(self, hours_left: int, level: str) -> None:
        received = datetime(2026, 11, 1, tzinfo=UTC)
        due = received + timedelta(hours=100)
        now = due - timedelta(hours=hours_left)
        shown = countdown(status="investigating", due_at=due, received_at=received,
                          paused=False, now=now, lab=self.labeller())
        assert shown.level == level
        assert shown.css == f"due-{level}"

    def test_paused_decided_and_clockless_cases(self) -> None:
        received = datetime(2026, 11, 1, tzinfo=UTC)
        due = received + timedelta(days=15)
        lab = self.labeller("en")
        paused = countdown(status="assigned", due_at=due, received_at=received, paused=True,
                           now=received, lab=lab)
        assert (paused.level, paused.text) == ("paused", "Clock paused")
        decided = countdown(status="resolved", due_at=due, received_at=received, paused=False,
                            now=due + timedelta(days=3), lab=lab)
        assert decided.level == "none"
        praise = countdown(status="received", due_at=None, received_at=received, paused=False,
                           now=received, lab=lab)
        assert praise.level == "none"

    def test_english_words(self) -> None:
        received = datetime(2026, 11, 1, tzinfo=UTC)
        shown = countdown(status="accepted", due_at=received + timedelta(days=2),
                          received_at=received, paused=False,
                          now=received + timedelta(days=3, hours=5), lab=self.labeller("en"))
        assert shown.text == "Overdue by 1 d 5 h"


class TestSavedViews:
    def test_save_use_and_delete(self, client: TestClient, team: World,
                                 bj_cases: dict[str, str]) -> None:
        headers = auth(team, "bj_handler")
        saved = client.post("/views", headers=headers, follow_redirects=False,
                            data={"name": " 我的 超期 ", "query": "due=overdue&status=accepted"})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/cases?status=accepted&due=overdue"
        page = client.get(saved.headers["location"], headers=headers).text
        assert 'href="/cases?status=accepted&amp;due=overdue" aria-current="page">我的 超期</a>' \
            in page
        view = team.session.scalar(select(SavedView).where(SavedView.name == "我的 超期"))
        assert view is not None
        assert view.query == "status=accepted&due=overdue"

        # Another user does not see it, and cannot delete it.
        assert "我的 超期" not in client.get("/cases", headers=auth(team, "sh_handler")).text
        other = client.post(f"/views/{view.id}/delete", headers=auth(team, "sh_handler"),
                            follow_redirects=False)
        assert other.status_code == 404

        gone = client.post(f"/views/{view.id}/delete", headers=headers, follow_redirects=False,
                           data={"back": "status=accepted"})
        assert gone.status_code == 303
        assert gone.headers["location"] == "/cases?status=accepted"
        assert "我的 超期" not in client.get("/cases", headers=headers).text

    def test_unknown_parameters_are_not_saved(self, client: TestClient, team: World) -> None:
        response = client.post("/views", headers=auth(team, "bj_handler"),
                               follow_redirects=False,
                               data={"name": "卡", "query": "product=credit_card&evil=1&cursor=x"})
        assert response.headers["location"] == "/cases?product=credit_card"

    def test_a_nameless_view_is_explained(self, client: TestClient, team: World) -> None:
        response = client.post("/views", headers=auth(team, "bj_handler"),
                               data={"name": "  ", "query": "status=accepted"})
        assert response.status_code == 422
        assert 'id="view-error"' in response.text
        assert "视图名称</a>：请填写视图名称" in response.text
        assert '<option value="accepted" selected>' in response.text  # the filters stay

    def test_filters_too_long_to_keep_are_explained(self, client: TestClient,
                                                    team: World) -> None:
        query = "q=" + "很" * 100 + "&org=" + "X" * 900  # 100 characters escape to 900
        response = client.post("/views", headers=auth(team, "bj_handler"),
                               data={"name": "长", "query": query})
        assert response.status_code == 422
        assert "筛选条件太长，无法保存（最多 1000 个字符）" in response.text

    def test_a_second_view_of_one_name_is_refused(self, client: TestClient,
                                                  team: World) -> None:
        headers = auth(team, "bj_handler")
        client.post("/views", headers=headers, data={"name": "待办", "query": ""})
        response = client.post("/views?lang=en", headers=headers,
                               data={"name": "待办", "query": "due=soon"})
        assert response.status_code == 409
        assert "View name</a>: you have a view of that name already" in response.text


class TestBulkAssign:
    def test_each_case_succeeds_or_is_refused_on_its_own(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        headers = auth(team, "bj_lead")
        listed = client.get("/cases", headers=headers).text
        picks = dict(re.findall(r'name="case" value="(\w+):(\d+)"', listed))
        assert set(picks) == set(bj_cases.values())
        chosen = [f"{bj_cases[n]}:{picks[bj_cases[n]]}" for n in ("card", "queue", "app")]
        response = client.post("/cases/assign", headers=headers,
                               data={"case": chosen, "user": "bj_handler2",
                                     "back": "status=accepted"})
        assert response.status_code == 200
        html = response.text
        assert "批量分派结果：成功 2 件，未分派 1 件" in html
        ok = re.findall(r'<li class="bulk-ok" data-reference="(\w+)">', html)
        refused = re.findall(r'<li class="bulk-refused" data-reference="(\w+)">', html)
        assert set(ok) == {bj_cases["card"], bj_cases["queue"]}
        assert refused == [bj_cases["app"]]
        assert "已分派给 bj_handler2" in html
        assert "工单当前为“已登记”，不能执行“分派”。现在可以：受理、不予受理" in html
        assert '<option value="accepted" selected>' in html  # the list as it was filtered
        for name in ("card", "queue"):
            case = case_of(team, bj_cases[name])
            assert (case.status, case.assignee.username if case.assignee else None) == (
                "assigned", "bj_handler2")
        assert case_of(team, bj_cases["app"]).status == "received"

    def test_a_case_changed_since_the_list_was_shown_is_refused(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        version = case_of(team, bj_cases["card"]).version
        step(team, bj_cases["card"], "bj_handler", action="note", text="已联系客户")
        response = client.post("/cases/assign", headers=auth(team, "bj_lead"),
                               data={"case": f"{bj_cases['card']}:{version}",
                                     "user": "bj_handler2"})
        assert "成功 0 件，未分派 1 件" in response.text
        assert "工单已被他人更新" in response.text
        assert case_of(team, bj_cases["card"]).assignee_id is None

    def test_by_workload_when_nobody_is_chosen(self, client: TestClient, team: World,
                                               bj_cases: dict[str, str]) -> None:
        version = case_of(team, bj_cases["card"]).version
        response = client.post("/cases/assign?lang=en", headers=auth(team, "bj_lead"),
                               data={"case": f"{bj_cases['card']}:{version}", "user": ""})
        assert "Bulk assignment: 1 assigned, 0 refused" in response.text
        assert case_of(team, bj_cases["card"]).assignee_id is not None

    def test_nothing_ticked_is_explained(self, client: TestClient, team: World) -> None:
        response = client.post("/cases/assign", headers=auth(team, "bj_lead"),
                               data={"user": "bj_handler2"})
        assert response.status_code == 422
        assert "所选工单</a>：请至少勾选一个工单" in response.text

    def test_someone_outside_the_scope_is_refused(self, client: TestClient, team: World,
                                                  bj_cases: dict[str, str]) -> None:
        version = case_of(team, bj_cases["card"]).version
        response = client.post("/cases/assign", headers=auth(team, "bj_lead"),
                               data={"case": f"{bj_cases['card']}:{version}",
                                     "user": "sh_handler"})
        assert response.status_code == 422
        assert "分派给</a>：“sh_handler”不是您权限范围内可处理工单的人员" in response.text
        assert case_of(team, bj_cases["card"]).assignee_id is None

    def test_another_branchs_case_is_not_found(self, client: TestClient, team: World,
                                               bj_cases: dict[str, str]) -> None:
        version = case_of(team, bj_cases["card"]).version
        response = client.post("/cases/assign", headers=auth(team, "sh_handler"),
                               data={"case": f"{bj_cases['card']}:{version}"})
        assert "找不到该工单，或您无权查看" in response.text

    def test_roles_that_may_not_assign_get_no_bulk_form(self, client: TestClient, team: World,
                                                       bj_cases: dict[str, str]) -> None:
        html = client.get("/cases", headers=auth(team, "hq_analyst")).text
        assert 'action="/cases/assign"' not in html
        assert 'action="/cases/assign"' in client.get("/cases", headers=auth(team, "bj_lead")).text


# --- the case page ----------------------------------------------------------------------------

class TestCasePage:
    def test_shows_the_workflow_facts(self, client: TestClient, team: World,
                                      bj_cases: dict[str, str]) -> None:
        reference = bj_cases["pboc"]
        step(team, reference, "bj_handler", action="accept")
        step(team, reference, "hq_admin", action="transfer", to_org="BJ", reason="由分行办理")
        step(team, reference, "bj_lead", action="assign", user="bj_handler2")
        step(team, reference, "bj_handler2", action="investigate")
        step(team, reference, "bj_handler2", action="propose", decision="compensation",
             amount="8000", basis="销售过程未录音录像")
        step(team, reference, "bj_handler2", action="pause", reason="appraisal")
        html = client.get(f"/cases/{reference}", headers=auth(team, "bj_handler2")).text
        facts = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", html))
        assert facts["处理机构"] == "北京分行 (BJ)"
        assert facts["处理人"] == "bj_handler2"
        assert facts["首问负责人"] == "bj_handler"
        assert facts["转办次数"] == "1"
        assert facts["来源"] == "人民银行转办"
        assert facts["监管编号"] == "PBC-BJ-2026-0042"
        assert facts["处理决定"] == "赔偿补偿 · 8,000.00 元"
        assert facts["审批"] == "待审批"
        assert facts["计时"].startswith("自 ")
        assert "（鉴定）" in facts["计时"]
        assert 'data-due="paused"' in html

    def test_offers_what_the_status_allows_and_the_role_permits(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = make_case(team, QUEUE_TEXT, org="BJ01")  # received, at an outlet
        handler = form_actions(client.get(f"/cases/{reference}",
                                          headers=auth(team, "bj_handler")).text)
        assert {"accept", "refuse", "transfer", "note", "withdraw"} <= set(handler)
        assert "merge" not in handler  # a handler does not manage cases
        assert "close" not in handler
        assert "assign" not in handler  # not before it is accepted
        agent = form_actions(client.get(f"/cases/{reference}",
                                        headers=auth(team, "bj1_agent")).text)
        assert "accept" in agent
        assert "refuse" not in agent  # an agent may not decide
        lead = form_actions(client.get(f"/cases/{reference}",
                                       headers=auth(team, "bj_lead")).text)
        assert "merge" in lead
        analyst = client.get(f"/cases/{reference}", headers=auth(team, "hq_analyst")).text
        assert form_actions(analyst) == []
        assert "当前状态下没有您可以执行的操作。" in analyst

    def test_every_form_is_labelled_and_carries_the_version(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        html = client.get(f"/cases/{bj_cases['card']}", headers=auth(team, "bj_lead")).text
        version = case_of(team, bj_cases["card"]).version
        assert html.count(f'name="version" value="{version}"') == len(form_actions(html))
        for input_id in re.findall(r'<(?:input|select|textarea) id="(s-[a-z_-]+)"', html):
            assert f'for="{input_id}"' in html, f"{input_id} has no label"
        assert "<script" not in html

    def test_the_assign_form_lists_the_handling_orgs_people(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        html = client.get(f"/cases/{bj_cases['card']}", headers=auth(team, "bj_lead")).text
        select_html = html.split('id="s-assign-user"', 1)[1].split("</select>", 1)[0]
        assert "按工作量自动分派" in select_html
        assert 'value="bj_handler2"' in select_html
        assert 'value="sh_handler"' not in select_html


class TestSteps:
    def post(self, client: TestClient, world: World, reference: str, action: str,
             by: str = "bj_handler", /, **fields: str) -> Any:
        """`by` posts the case page's form for `action` (at the case's version now, unless
        the fields give one)."""
        data = {"version": str(case_of(world, reference).version), **fields}
        return client.post(f"/cases/{reference}/steps/{action}", headers=auth(world, by),
                           data=data, follow_redirects=False)

    def test_a_step_redirects_to_the_case_page_which_says_so(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = bj_cases["app"]
        response = self.post(client, team, reference, "accept")
        assert response.status_code == 303
        assert response.headers["location"] == f"/cases/{reference}?done=accept#workflow"
        page = client.get(response.headers["location"], headers=auth(team, "bj_handler")).text
        assert "已完成“受理”。" in page
        assert '<tr data-event="accept">' in page
        assert case_of(team, reference).status == "accepted"

    def test_the_main_road_through_the_forms(self, client: TestClient, team: World,
                                             bj_cases: dict[str, str]) -> None:
        reference = bj_cases["app"]
        road: list[tuple[str, str, dict[str, str]]] = [
            ("accept", "bj_handler", {}),
            ("assign", "bj_lead", {"user": "bj_handler2"}),
            ("investigate", "bj_handler2", {}),
            ("note", "bj_handler2", {"kind": "dispute_focus", "text": "扣款是否成功"}),
            ("propose", "bj_handler2", {"decision": "refund", "amount": "200",
                                        "basis": "交易未成功应退款", "reason": ""}),
            ("resolve", "bj_handler2", {"told_via": "phone", "told_at": "",
                                        "summary": "已电话告知退款"}),
            ("customer_answer", "bj_handler2", {"satisfied": "yes", "comment": ""}),
            ("close", "bj_handler2", {}),
        ]
        for action, by, fields in road:
            response = self.post(client, team, reference, action, by, **fields)
            assert response.status_code == 303, (action, response.text[:2000])
        assert events(team, reference) == ["received", "accept", "assign", "investigate",
                                           "note", "propose", "resolve", "customer_answer",
                                           "close"]
        page = client.get(f"/cases/{reference}", headers=auth(team, "bj_handler2")).text
        assert "记录类型：争议焦点" in page
        assert "处理决定：退款；方案金额：200.00 元" in page
        assert "告知方式：电话" in page
        assert "客户满意：是" in page
        assert 'data-chain="ok"' in page

    def test_a_step_the_status_does_not_allow_is_explained(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        response = self.post(client, team, bj_cases["app"], "close")
        assert response.status_code == 409
        assert 'role="alert"' in response.text
        assert "工单当前为“已登记”，不能执行“办结”。现在可以：受理、不予受理" in response.text

    def test_a_missing_field_is_named_next_to_its_form(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = bj_cases["card"]
        self.post(client, team, reference, "assign", "bj_lead", user="bj_handler")
        self.post(client, team, reference, "investigate")
        response = self.post(client, team, reference, "propose", decision="explanation",
                             basis="", reason="")
        assert response.status_code == 422
        html = response.text
        assert '<a href="#s-propose-basis">处理依据</a>：必填' in html
        assert 'id="s-propose-basis" name="basis" rows="2" maxlength="5000" aria-invalid="true"' \
            in html
        assert '<option value="explanation" selected>' in html  # what was typed stays
        assert events(team, reference)[-1] == "investigate"

    def test_a_rule_over_two_fields_names_the_one_to_fix(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = bj_cases["card"]
        self.post(client, team, reference, "assign", "bj_lead", user="bj_handler")
        self.post(client, team, reference, "investigate")
        response = self.post(client, team, reference, "propose", decision="refund",
                             basis="条款", amount="")
        assert response.status_code == 422
        assert '<a href="#s-propose-amount">金额（元）</a>：退款或赔偿须填写大于 0 的金额' \
            in response.text
        bad_amount = self.post(client, team, reference, "propose", decision="refund",
                               basis="条款", amount="两百")
        assert "请填写金额，如 200 或 1280.50" in bad_amount.text

    def test_a_stale_version_is_refused_and_the_page_shows_the_latest(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = bj_cases["app"]
        seen = case_of(team, reference).version
        assert self.post(client, team, reference, "accept", version=str(seen)).status_code == 303
        late = self.post(client, team, reference, "refuse", version=str(seen), reason="重复")
        assert late.status_code == 409
        now = case_of(team, reference).version
        assert f"工单已被他人更新（您看到的是第 {seen} 版，现在是第 {now} 版）" in late.text
        assert version_in(late.text) == now
        assert case_of(team, reference).status == "accepted"

    def test_another_branch_gets_a_404_page(self, client: TestClient, team: World,
                                            bj_cases: dict[str, str]) -> None:
        response = self.post(client, team, bj_cases["card"], "note", "sh_handler",
                             kind="investigation", text="看看")
        assert response.status_code == 404
        assert "未找到" in response.text
        assert events(team, bj_cases["card"])[-1] == "accept"

    def test_an_unknown_action_is_a_404_page(self, client: TestClient, team: World,
                                             bj_cases: dict[str, str]) -> None:
        assert self.post(client, team, bj_cases["card"], "teleport").status_code == 404

    def test_a_role_without_the_permission_is_told(self, client: TestClient, team: World,
                                                   bj_cases: dict[str, str]) -> None:
        response = self.post(client, team, bj_cases["app"], "accept", "hq_analyst")
        assert response.status_code == 403
        assert "您的角色无权执行此操作" in response.text
        assert case_of(team, bj_cases["app"]).status == "received"

    def test_an_unknown_person_is_named(self, client: TestClient, team: World,
                                        bj_cases: dict[str, str]) -> None:
        response = self.post(client, team, bj_cases["card"], "assign", "bj_lead",
                             user="nobody")
        assert response.status_code == 422
        assert '<a href="#s-assign-user">处理人</a>：找不到“nobody”' in response.text

    def test_a_refused_step_leaves_nothing_behind(self, client: TestClient, team: World,
                                                  bj_cases: dict[str, str]) -> None:
        reference = bj_cases["card"]
        before = case_of(team, reference).version
        response = self.post(client, team, reference, "transfer", to_org="BJ", reason="试试")
        assert response.status_code == 422
        assert "转至机构（代码）</a>" in response.text
        assert "the case is already handled by BJ" in response.text  # the service's own words
        case = case_of(team, reference)
        assert (case.version, case.transfer_count) == (before, 0)

    def test_personal_data_is_never_written_back(self, client: TestClient, team: World,
                                                 bj_cases: dict[str, str]) -> None:
        response = self.post(client, team, bj_cases["card"], "add_complainant",
                             name="李四", phone="", id_number="", representative="1")
        assert response.status_code == 422
        assert '<a href="#s-add_complainant-phone">电话</a>：请填写电话或证件号码' in response.text
        assert "李四" not in response.text
        assert "<details class=\"step-details\" data-action=\"add_complainant\" open>" \
            in response.text

    def test_approval_above_the_proposers_authority(self, client: TestClient, team: World,
                                                    bj_cases: dict[str, str]) -> None:
        reference = bj_cases["card"]
        self.post(client, team, reference, "assign", "bj_lead", user="bj_handler")
        self.post(client, team, reference, "investigate")
        self.post(client, team, reference, "propose", decision="compensation", amount="8000",
                  basis="多扣年费及利息")
        refused = self.post(client, team, reference, "resolve", told_via="phone",
                            summary="已告知")
        assert refused.status_code == 409
        assert "处理方案金额超出权限，须先审批再告知客户" in refused.text
        assert "approve" not in form_actions(refused.text)  # not the handler's to approve
        lead_page = client.get(f"/cases/{reference}", headers=auth(team, "bj_lead")).text
        assert "approve" in form_actions(lead_page)
        assert self.post(client, team, reference, "approve", "bj_lead",
                         comment="同意").status_code == 303
        page = client.get(f"/cases/{reference}", headers=auth(team, "bj_handler")).text
        assert "已审批（bj_lead）" in page
        assert self.post(client, team, reference, "resolve", told_via="phone",
                         summary="已告知").status_code == 303

    def test_pause_and_resume_are_offered_as_the_clock_stands(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        reference = bj_cases["card"]
        before = form_actions(client.get(f"/cases/{reference}",
                                         headers=auth(team, "bj_handler")).text)
        assert "pause" in before
        assert "resume" not in before
        assert self.post(client, team, reference, "pause", reason="testing",
                         note="").status_code == 303
        after = form_actions(client.get(f"/cases/{reference}",
                                        headers=auth(team, "bj_handler")).text)
        assert "resume" in after
        assert "pause" not in after

    def test_in_english(self, client: TestClient, team: World,
                        bj_cases: dict[str, str]) -> None:
        reference = bj_cases["card"]
        page = client.get(f"/cases/{reference}?lang=en", headers=auth(team, "bj_lead")).text
        assert "Next steps" in page
        assert "Handling org" in page
        response = client.post(f"/cases/{reference}/steps/escalate",
                               headers=auth(team, "bj_lead"),
                               data={"version": str(case_of(team, reference).version)})
        assert response.status_code == 422
        assert '<a href="#s-escalate-reason">Why it is escalated</a>: is required' \
            in response.text
        # The language switch of a refused post points at the case page, not the post.
        assert f'href="/cases/{reference}?lang=zh"' in response.text


class TestTimelineWords:
    @staticmethod
    def labeller(lang: Lang = "zh") -> Labeller:
        return Labeller(lang=lang, tz=ZoneInfo("Asia/Shanghai"), taxonomy=load_taxonomy())

    def test_coded_values_are_words(self) -> None:
        lab = self.labeller("en")
        assert summarise({"kind": "finding", "text": "ok"}, lab, "note") == (
            "Kind of note: Finding; Note: ok")
        assert summarise({"from": "received", "to": "accepted"}, lab, "accept") == (
            "From: Received; To: Accepted")
        assert summarise({"reason": "appraisal"}, lab, "pause") == "Why paused: Appraisal"
        assert summarise({"assignee": "bj", "how": "by load"}, lab, "assign") == (
            "Handler: bj; How: By workload")

    def test_deadline_alarms_read_as_words(self) -> None:
        line = summarise({"clock": "decision", "due_at": "2026-10-08T16:00:00+00:00",
                          "to": "team_lead", "notified": ["bj_lead"], "level": 2,
                          "superseded": ["a", "b"]}, self.labeller(), "sla_escalation")
        assert "处理决定告知" in line
        assert "通知对象：组长" in line
        assert "一并处理的提醒数：2" in line

    def test_corrections_show_the_terms(self) -> None:
        line = summarise({"field": "product", "from": None, "to": "credit_card"},
                         self.labeller(), "corrected")
        assert line == "更正项：产品；新值：信用卡"


class TestLabels:
    """Every string the new screens show exists in Chinese and in English."""

    def test_every_template_key_is_in_the_catalogue(self) -> None:
        keys = set()
        for template in TEMPLATES.glob("*.html"):
            keys |= set(re.findall(r"_\('([a-z_.]+)'", template.read_text("utf-8")))
        # A key ending in "_" is a prefix the template completes (`'dash.kind_' ~ k`): some
        # key must start with it.
        missing = sorted(k for k in keys if not (any(u.startswith(k) for u in UI)
                                                 if k.endswith("_") else has(k)))
        assert missing == []

    def test_every_step_form_has_its_labels(self) -> None:
        for action in Action:
            assert has(f"event.{action.value}"), action
            for item in FORMS[action]:
                assert has(f"input.{action.value}.{item.name}") or has(f"input.{item.name}"), (
                    action, item.name)
                if item.namespace and item.namespace != "decision":
                    for code in item.choices:
                        assert has(f"{item.namespace}.{code}"), (item.namespace, code)

    def test_both_languages_are_written_out(self) -> None:
        for key, (zh, en) in WORKFLOW_UI.items():
            assert zh.strip(), key
            assert en.strip(), key


# --- the regulator-transfer view -----------------------------------------------------------------

class TestRegulatorView:
    def test_lists_only_transfers_with_reference_and_deadline(
        self, client: TestClient, team: World, bj_cases: dict[str, str]
    ) -> None:
        response = client.get("/regulator", headers=auth(team, "bj_handler"))
        assert response.status_code == 200
        html = response.text
        assert references(html) == [bj_cases["pboc"]]
        assert "PBC-BJ-2026-0042" in html
        assert "人民银行转办" in html
        assert 'class="due due-' in html
        assert 'href="/regulator" aria-current="page"' in html

    @pytest.mark.parametrize(("query", "expected", "status"), [
        ("origin=pboc", ["pboc"], 200), ("origin=nfra", [], 200), ("origin=direct", [], 422),
        ("status=received", ["pboc"], 200), ("status=closed", [], 200),
    ])
    def test_filters(self, client: TestClient, team: World, bj_cases: dict[str, str],
                     query: str, expected: list[str], status: int) -> None:
        response = client.get(f"/regulator?{query}", headers=auth(team, "bj_handler"))
        assert response.status_code == status
        assert references(response.text) == [bj_cases[name] for name in expected]

    def test_in_english(self, client: TestClient, team: World,
                        bj_cases: dict[str, str]) -> None:
        html = client.get("/regulator?lang=en", headers=auth(team, "bj_handler")).text
        assert "Regulator transfers" in html
        assert "PBoC transfer" in html


@pytest.mark.usefixtures("demo")
class TestFrame:
    def test_navigation_leads_to_every_screen(self, client: TestClient) -> None:
        html = client.get("/cases").text
        assert 'href="/cases" aria-current="page"' in html
        assert 'href="/regulator"' in html
        assert '<a href="/callbacks">回访队列</a>' in html

    def test_demo_mode_posts_as_the_logged_in_administrator(self, client: TestClient,
                                                            team: World, demo: str) -> None:
        reference = make_case(team, APP_TEXT, org="BJ")
        response = client.post(f"/cases/{reference}/steps/accept", follow_redirects=False,
                               data={"version": str(case_of(team, reference).version),
                                     "csrf_token": demo})
        assert response.status_code == 303
        case = case_of(team, reference)
        assert case.first_responder is not None
        assert case.first_responder.username == "admin"

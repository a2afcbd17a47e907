"""The problem library pages, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from bankvoc.problems import actions
from bankvoc.problems.models import CaseProblem, Problem
from bankvoc.problems.schemas import ActionCreate
from tests.conftest import World, auth
from tests.web.voc_data import Planted, plant_effect


def planted(world: World, *, pilots: int = 2, comparisons: int = 4,
            customers: bool = True) -> Planted:
    found = plant_effect(world.session, curator=world.actor("hq_admin"), owner="bj_handler",
                         parent_code="BJ", pilots=pilots, comparisons=comparisons,
                         today=date.today(), customers=customers)
    world.session.commit()
    return found


def effect_data(html: str) -> list[dict[str, Any]]:
    found = re.search(r'<script type="application/json" id="effect-data">(.*?)</script>',
                      html, re.S)
    assert found is not None
    data: list[dict[str, Any]] = json.loads(found.group(1))
    return data


@pytest.mark.usefixtures("demo")
class TestProblemList:
    def test_lists_status_cases_and_the_create_form(self, client: TestClient,
                                                    world: World) -> None:
        found = planted(world)
        html = client.get("/problems").text
        row = html.split('data-problem="P-CC-FEE-01"')[1].split("</tr>")[0]
        assert "信用卡年费重复扣收" in row
        assert "待整改" in row  # an action done leaves the problem open until marked fixed
        linked = world.session.scalars(select(CaseProblem.id).where(
            CaseProblem.problem_id == found.problem_id)).all()
        assert re.findall(r'<td class="num">(\d+)</td>', row) == [str(len(linked))]
        assert linked
        assert 'id="create-title"' in html

    def test_a_handler_sees_no_create_form(self, client: TestClient, world: World) -> None:
        html = client.get("/problems", headers=auth(world, "bj_handler")).text
        assert "投诉问题库" in html
        assert 'id="create-title"' not in html

    def test_creates_a_problem(self, client: TestClient, world: World, demo: str) -> None:
        response = client.post("/problems", data={
            "code": "P-APP-01", "title_zh": "手机银行闪退", "category": "system_failure",
            "cause_category": "system", "csrf_token": demo}, follow_redirects=False)
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
        assert "问题 P-APP-01 已创建。" in page
        assert "手机银行闪退" in page
        assert "系统故障" in page

    @pytest.mark.parametrize(("data", "status", "field"), [
        ({"code": "P-X", "title_zh": ""}, 422, "p-title_zh"),
        ({"code": "坏 代码", "title_zh": "x"}, 422, "p-code"),
        ({"code": "P-CC-FEE-01", "title_zh": "重复"}, 409, "p-code"),
    ])
    def test_a_refused_problem_is_explained_by_its_field(
            self, client: TestClient, world: World, data: dict[str, str], status: int,
            field: str, demo: str) -> None:
        planted(world)
        response = client.post("/problems", data={**data, "csrf_token": demo})
        assert response.status_code == status
        assert f'<a href="#{field}">' in response.text
        assert f'id="{field}"' in response.text


@pytest.mark.usefixtures("demo")
class TestProblemPage:
    def test_shows_the_action_its_effect_and_the_interval(self, client: TestClient,
                                                          world: World) -> None:
        found = planted(world)
        html = client.get(f"/problems/{found.problem_id}").text
        assert "年费减免标记自动校验" in html
        assert "bj_handler" in html
        assert "30,000.00 元" in html
        effect = actions.measure_effect(world.session, actor=world.actor("hq_admin"),
                                        action_id=found.action_id, permutations=0)
        rate = next(o for o in effect.outcomes if o.name == "complaint_rate")
        assert rate.did is not None
        assert rate.ci_low is not None
        assert rate.ci_high is not None
        assert f"双重差分估计 {rate.did:+,.2f}（95% 置信区间 {rate.ci_low:+,.2f} 至 " \
               f"{rate.ci_high:+,.2f}）" in html
        assert "结果不可靠" in html  # two pilot orgs are too few
        charts = {c["id"]: c for c in effect_data(html)}
        chart = charts[f"effect-{found.action_id}-complaint_rate"]
        assert (chart["did"]["low"], chart["did"]["high"]) == (rate.ci_low, rate.ci_high)
        assert f'data-id="effect-{found.action_id}-complaint_rate"' in html

    def test_enough_orgs_make_a_reliable_estimate(self, client: TestClient,
                                                  world: World) -> None:
        found = planted(world, pilots=6, comparisons=6)
        html = client.get(f"/problems/{found.problem_id}").text
        section = html.split('data-outcome="complaint_rate"')[1].split("</section>")[0]
        assert "结果不可靠" not in section

    def test_without_customer_numbers_complaint_counts_are_compared(
            self, client: TestClient, world: World) -> None:
        found = planted(world, customers=False)
        html = client.get(f"/problems/{found.problem_id}").text
        assert 'data-outcome="complaint_rate"' not in html
        assert 'data-outcome="complaints"' in html
        charts = {c["id"] for c in effect_data(html)}
        assert f"effect-{found.action_id}-complaints" in charts

    def test_links_a_case_by_reference(self, client: TestClient, world: World,
                                       demo: str) -> None:
        found = planted(world)
        draft = register_case(world.session, actor=world.actor("hq_admin"),
                              data=CaseCreate(text="信用卡年费又被扣了", org="BJ"))
        world.session.commit()
        assert draft.reference is not None
        response = client.post(f"/problems/{found.problem_id}/cases",
                               data={"case": draft.reference, "csrf_token": demo},
                               follow_redirects=False)
        assert response.status_code == 303
        page = client.get(response.headers["location"]).text
        assert f"工单 {draft.reference} 已关联到本问题。" in page
        assert f'<a href="/cases/{draft.reference}">' in page

    def test_an_unknown_case_is_explained(self, client: TestClient, world: World,
                                          demo: str) -> None:
        found = planted(world)
        response = client.post(f"/problems/{found.problem_id}/cases",
                               data={"case": "TS00000000000000", "csrf_token": demo})
        assert response.status_code == 404
        assert "没有这个工单，或不在您的权限范围内" in response.text
        assert 'value="TS00000000000000"' in response.text

    def test_an_unknown_problem_is_a_404_page(self, client: TestClient) -> None:
        assert client.get("/problems/999999").status_code == 404

    def test_an_action_not_started_says_why_it_is_not_measured(self, client: TestClient,
                                                               world: World) -> None:
        found = planted(world)
        problem = world.session.get_one(Problem, found.problem_id)
        actions.create_action(world.session, actor=world.actor("hq_admin"),
                              problem_id=problem.id, data=ActionCreate.model_validate(
                                  {"title": "话术培训", "owner": "bj_handler"}))
        world.session.commit()
        html = client.get(f"/problems/{found.problem_id}").text
        assert "话术培训" in html
        assert "暂无法评估效果" in html

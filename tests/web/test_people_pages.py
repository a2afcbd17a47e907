"""The scorecard and training pages through the whole app (SQLite and PostgreSQL): the team
lead's ranking and one agent's card with its training needs, in Chinese and English; the
training pass rate against its target; a branch manager sees their subtree only; a bad
parameter is named by its field (422); an agent may not open either page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bankvoc.people import training
from tests.conftest import World, log_in
from tests.people.conftest import Centre, build_centre, build_outlets


@pytest.fixture
def centre(world: World, session: Session) -> Centre:
    """The contact centre's October (tests/people/conftest.py)."""
    return build_centre(world, session)


@pytest.fixture
def outlets(world: World, session: Session) -> Centre:
    """The outlets' October (tests/people/conftest.py)."""
    return build_outlets(world, session)


def ranking(html: str) -> list[str]:
    return re.findall(r'<tr data-key="([^"]+)"', html)


class TestScorecards:
    @pytest.mark.parametrize(("lang", "words"), [
        ("zh", ["绩效计分卡", "a1 的计分卡", "质检得分", "培训需求", "greeting"]),
        ("en", ["Scorecards", "Scorecard of a1", "QA score", "Training needs", "greeting"]),
    ])
    def test_the_ranking_and_one_card(self, client: TestClient, centre: Centre, lang: str,
                                      words: list[str]) -> None:
        centre.session.commit()
        log_in(client, centre.session, "pbc_lead")
        response = client.get("/people/scorecards", params={
            "level": "agent", "month": "2026-10", "key": "a1", "lang": lang})
        assert response.status_code == 200
        html = response.text
        assert ranking(html) == ["a2", "a1", "a3"]
        for word in words:
            assert word in html
        assert '<strong id="pp-card-total">54.3</strong>' in html
        assert re.findall(r'<tr data-category="([^"]+)"', html) == ["greeting", "closing"]

    def test_a_card_left_without_a_component_says_so(self, client: TestClient,
                                                     centre: Centre) -> None:
        centre.session.commit()
        log_in(client, centre.session, "pbc_lead")
        html = client.get("/people/scorecards", params={
            "level": "agent", "month": "2026-10", "key": "a2", "lang": "en"}).text
        assert "No data, left out: On-time handling" in html

    def test_a_branch_manager_sees_their_branch_only(self, client: TestClient,
                                                     outlets: Centre) -> None:
        from bankvoc.orgs import service as org_service
        org_service.create_user(outlets.session, username="bj_mgr", display_name="bj_mgr",
                                org=org_service.get_org_by_code(outlets.session, code="BJ"),
                                roles=["branch_manager"])
        outlets.session.commit()
        log_in(client, outlets.session, "bj_mgr")
        html = client.get("/people/scorecards", params={"level": "outlet",
                                                        "month": "2026-10"}).text
        assert ranking(html) == ["BJ01"]
        refused = client.get("/people/scorecards", params={"level": "outlet",
                                                           "month": "2026-10", "org": "SH"})
        assert refused.status_code == 422
        assert 'href="#f-org"' in refused.text

    @pytest.mark.parametrize(("params", "field"), [
        ({"level": "desk"}, "f-level"),
        ({"month": "2026-13"}, "f-month"),
        ({"month": "2026-10", "key": "nobody"}, "f-key"),
    ])
    def test_a_bad_parameter_is_named(self, client: TestClient, centre: Centre,
                                      params: dict[str, str], field: str) -> None:
        centre.session.commit()
        log_in(client, centre.session, "pbc_lead")
        response = client.get("/people/scorecards", params=params)
        assert response.status_code == 422
        assert f'href="#{field}"' in response.text
        assert f'id="{field}"' in response.text

    def test_an_agent_may_not_open_it(self, client: TestClient, centre: Centre) -> None:
        centre.session.commit()
        log_in(client, centre.session, "bj1_agent")
        assert client.get("/people/scorecards").status_code == 403


class TestTraining:
    def test_the_pass_rate_against_the_target(self, client: TestClient,
                                              centre: Centre) -> None:
        """PBC in October: a1 75 and a2 50 at pass mark 60: 1 of 2 = 50%, missed."""
        actor = centre.bank.world.actor("hq_admin")
        base = {"session": "TR-1", "topic": "开场白规范", "date": "2026-10-09",
                "trainer": "王老师", "org": "PBC", "categories": "greeting"}
        for attendee, score in (("a1", "75"), ("a2", "50")):
            training.store(centre.session, actor=actor, row=training.parse(
                {**base, "attendee": attendee, "score": score}))
        centre.session.commit()
        log_in(client, centre.session, "pbc_lead")
        html = client.get("/people/training", params={"month": "2026-10", "lang": "en"}).text
        assert "50.0% (1 of 2 passed)" in html
        assert 'data-met="no"' in html
        assert '<tr data-session="TR-1">' in html

    def test_a_bad_month_is_named(self, client: TestClient, centre: Centre) -> None:
        centre.session.commit()
        log_in(client, centre.session, "pbc_lead")
        response = client.get("/people/training", params={"month": "soon"})
        assert response.status_code == 422
        assert 'href="#f-month"' in response.text

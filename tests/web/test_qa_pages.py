"""The QA review pages through the whole app (SQLite and PostgreSQL): the queue and its filters
in Chinese and English, a call's transcript with the flagged turn highlighted and masked, the
full transcript only for a role that reads personal data (recorded), the decision form and its
refusals named by field, an override recorded in the trail, another branch's 404, an agent's
403, and the CSRF token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.cases.models import Case
from bankvoc.contact import interactions
from bankvoc.contact.models import Interaction, QaResult, QaReviewEvent
from bankvoc.customers.models import PiiAccess
from bankvoc.orgs import service as org_service
from tests.conftest import World, log_in
from tests.contact.conftest import CLEAN, A, C
from tests.contact.test_reviews import turns

PHONE = "13812345678"
RUDE = [*CLEAN[:3], (C, 18.0, 19.5, f"手机号{PHONE}。"),
        (A, 20.0, 28.0, "这个我也不知道，你自己去查吧，我们管不了。"), *CLEAN[5:]]


def _store(world: World, source_id: str, specs: list[tuple[str, float, float, str]],
           **fields: str) -> int:
    data = interactions.parse({"id": source_id, "agent": "A1001", "team": "T1",
                               "queue": "借记卡", "started_at": "2026-03-02T09:00:00",
                               "turns": turns(specs), **fields}, source_system="asr")
    interactions.store(world.session, actor=world.actor("hq_admin"), data=data)
    return world.session.scalars(select(QaResult.id).join(
        Interaction, Interaction.id == QaResult.interaction_id).where(
        Interaction.source_id == source_id)).one()


@pytest.fixture
def calls(world: World) -> dict[str, int]:
    """A rude call and a clean one of the phone-banking centre, its inspector and agent, and
    an inspector of the Shanghai branch; result ids by call."""
    s = world.session
    pbc = org_service.get_org_by_code(s, code="PBC")
    sh = org_service.get_org_by_code(s, code="SH")
    for name, org, roles in (("A1001", pbc, ["agent"]), ("pbc_inspector", pbc, ["qa_inspector"]),
                             ("sh_inspector", sh, ["qa_inspector"])):
        org_service.create_user(s, username=name, display_name=name, org=org, roles=roles)
    found = {"rude": _store(world, "CALL-1", RUDE),
             "clean": _store(world, "CALL-2", CLEAN, team="T2")}
    s.commit()
    return found


@pytest.fixture
def inspector(client: TestClient, world: World, calls: dict[str, int]) -> str:
    """`client` logged in as the centre's inspector; the session's CSRF token."""
    return log_in(client, world.session, "pbc_inspector")


def _rows(html: str) -> list[str]:
    return re.findall(r'data-result="(\d+)"', html)


class TestQueue:
    @pytest.mark.parametrize(("lang", "words"), [
        ("zh", ["质检复核", "待复核", "服务禁语", "关键规则"]),
        ("en", ["QA review queue", "Waiting for review", "Forbidden phrase", "Critical rule"]),
    ])
    def test_renders_the_pending_calls_in_both_languages(
            self, client: TestClient, inspector: str, calls: dict[str, int], lang: str,
            words: list[str]) -> None:
        html = client.get("/qa/reviews", params={"lang": lang}).text
        for word in words:
            assert word in html
        assert _rows(html) == [str(calls["rude"])]

    @pytest.mark.parametrize(("params", "found"), [
        ({"status": "all"}, ["rude", "clean"]), ({"status": "pass"}, ["clean"]),
        ({"status": "all", "team": "T2"}, ["clean"]), ({"agent": "A9"}, []),
        ({"queue": "借记卡"}, ["rude"]),
    ])
    def test_filters(self, client: TestClient, inspector: str, calls: dict[str, int],
                     params: dict[str, str], found: list[str]) -> None:
        assert _rows(client.get("/qa/reviews", params=params).text) == [
            str(calls[name]) for name in found]

    def test_a_bad_status_is_named(self, client: TestClient, inspector: str) -> None:
        response = client.get("/qa/reviews", params={"status": "lost"})
        assert response.status_code == 422
        assert 'href="#f-status"' in response.text

    def test_another_branch_sees_none_of_it(self, client: TestClient, world: World,
                                            calls: dict[str, int]) -> None:
        log_in(client, world.session, "sh_inspector")
        assert _rows(client.get("/qa/reviews", params={"status": "all"}).text) == []
        assert client.get(f"/qa/reviews/{calls['rude']}").status_code == 404

    def test_an_agent_gets_403(self, client: TestClient, world: World,
                               calls: dict[str, int]) -> None:
        log_in(client, world.session, "A1001")
        assert client.get("/qa/reviews").status_code == 403
        assert "/qa/reviews" not in client.get("/cases").text  # not in the navigation


class TestCall:
    def test_the_flagged_turn_is_highlighted_with_rule_category_and_evidence(
            self, client: TestClient, inspector: str, calls: dict[str, int]) -> None:
        html = client.get(f"/qa/reviews/{calls['rude']}").text
        turn = html.split('data-turn="4"')[0].rsplit("<li", 1)[1]
        assert "is-hit" in turn
        body = html.split('data-turn="4"')[1].split("</li>\n")[0]
        assert '<mark class="qa-evidence">这个我也不知道</mark>' in body
        assert '<mark class="qa-evidence">你自己去查吧</mark>' in body
        assert "服务禁语" in body
        assert "坐席" in body
        assert "00:20–00:28" in body
        clean_turn = html.split('data-turn="0"')[0].rsplit("<li", 1)[1]
        assert "is-hit" not in clean_turn

    def test_the_transcript_is_masked_for_an_inspector(self, client: TestClient,
                                                       inspector: str,
                                                       calls: dict[str, int]) -> None:
        html = client.get(f"/qa/reviews/{calls['rude']}").text
        assert PHONE not in html
        assert "?reveal=1" not in html
        assert client.get(f"/qa/reviews/{calls['rude']}",
                          params={"reveal": "1"}).status_code == 403

    def test_revealed_to_an_administrator_and_recorded(self, client: TestClient, world: World,
                                                       calls: dict[str, int]) -> None:
        log_in(client, world.session, "hq_admin")
        assert PHONE not in client.get(f"/qa/reviews/{calls['rude']}").text
        html = client.get(f"/qa/reviews/{calls['rude']}", params={"reveal": "1"}).text
        assert PHONE in html
        access = world.session.scalars(select(PiiAccess)).one()
        assert (access.subject, access.via, access.route) == (
            "transcript", "page", "GET /qa/reviews/{result_id}")

    def test_the_case_a_complaint_in_the_call_became_is_linked(
            self, client: TestClient, world: World, calls: dict[str, int]) -> None:
        upset = [*CLEAN[:6], (C, 60.0, 63.0, "我要投诉你们！"), *CLEAN[7:]]
        result_id = _store(world, "CALL-3", upset)
        world.session.commit()
        case_id = world.session.scalars(select(Interaction.case_id).where(
            Interaction.source_id == "CALL-3")).one()
        reference = world.session.get_one(Case, case_id).reference
        log_in(client, world.session, "pbc_inspector")
        html = client.get(f"/qa/reviews/{result_id}").text
        assert f'href="/cases/{reference}" id="qa-case"' in html

    def test_an_unknown_call_is_404(self, client: TestClient, inspector: str) -> None:
        assert client.get("/qa/reviews/999999").status_code == 404


class TestDecide:
    def test_an_override_is_recorded_beside_the_machine_score(
            self, client: TestClient, world: World, inspector: str,
            calls: dict[str, int]) -> None:
        url = f"/qa/reviews/{calls['rude']}"
        machine = world.session.get_one(QaResult, calls["rude"]).machine_score
        response = client.post(url, data={"csrf_token": inspector, "decision": "override",
                                          "score": "72", "reason": "客户本人要求自助查询"},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"{url}?reviewed=1#trail"
        html = client.get(response.headers["location"]).text
        assert "复核已记录。" in html
        assert re.search(r'id="qa-human-score">[^<]*<strong>72</strong>', html)
        assert re.search(rf'id="qa-machine-score">[^<]*<strong>{machine}</strong>', html)
        trail = html.split('id="trail"')[1]
        for said in ("人工改分", "客户本人要求自助查询", "pbc_inspector"):
            assert said in trail
        world.session.expire_all()
        assert world.session.get_one(QaResult, calls["rude"]).status == "overridden"

    def test_a_missing_reason_is_named_and_what_was_typed_kept(
            self, client: TestClient, inspector: str, calls: dict[str, int]) -> None:
        response = client.post(f"/qa/reviews/{calls['rude']}", data={
            "csrf_token": inspector, "decision": "override", "score": "72", "reason": " "})
        assert response.status_code == 422
        assert 'href="#f-reason"' in response.text
        assert re.search(r'id="f-reason"[^>]*aria-invalid="true"', response.text)
        assert re.search(r'id="f-score"[^>]*value="72"', response.text)

    @pytest.mark.parametrize(("data", "field"), [
        ({"score": "72", "reason": "x"}, "decision"),
        ({"decision": "override", "score": "abc", "reason": "x"}, "score"),
        ({"decision": "override", "score": "120", "reason": "x"}, "score"),
        ({"decision": "override", "score": "50", "reason": "x", "dismiss": "999999"},
         "dismiss"),
    ])
    def test_a_bad_field_is_named(self, client: TestClient, world: World, inspector: str,
                                  calls: dict[str, int], data: dict[str, str],
                                  field: str) -> None:
        response = client.post(f"/qa/reviews/{calls['rude']}",
                               data={"csrf_token": inspector, **data})
        assert response.status_code == 422
        assert f'href="#f-{field}"' in response.text
        world.session.expire_all()
        assert len(world.session.scalars(select(QaReviewEvent).where(
            QaReviewEvent.result_id == calls["rude"])).all()) == 1

    def test_a_confirmation(self, client: TestClient, world: World, inspector: str,
                            calls: dict[str, int]) -> None:
        response = client.post(f"/qa/reviews/{calls['rude']}", data={
            "csrf_token": inspector, "decision": "confirm", "score": "0", "reason": "属实"},
            follow_redirects=False)
        assert response.status_code == 303
        world.session.expire_all()
        assert world.session.get_one(QaResult, calls["rude"]).status == "confirmed"

    def test_without_the_csrf_token_nothing_is_stored(self, client: TestClient, world: World,
                                                      inspector: str,
                                                      calls: dict[str, int]) -> None:
        response = client.post(f"/qa/reviews/{calls['rude']}", data={
            "decision": "confirm", "reason": "属实"})
        assert response.status_code == 403
        world.session.expire_all()
        assert world.session.get_one(QaResult, calls["rude"]).status == "pending"

    def test_an_analyst_reads_but_may_not_review(self, client: TestClient, world: World,
                                                 calls: dict[str, int]) -> None:
        token = log_in(client, world.session, "hq_analyst")
        html = client.get(f"/qa/reviews/{calls['rude']}").text
        assert 'action="/qa/reviews/' not in html
        assert client.post(f"/qa/reviews/{calls['rude']}", data={
            "csrf_token": token, "decision": "confirm", "reason": "x"}).status_code == 403

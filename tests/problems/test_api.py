"""The problem library over the API: thin routes, errors that name their field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, auth
from tests.problems.conftest import register


def cpo(world: World) -> dict[str, str]:
    return auth(world, "hq_cpo")


def create(client: TestClient, world: World, **fields: object) -> dict[str, object]:
    response = client.post("/api/v1/problems", headers=cpo(world), json={
        "code": "P-QUEUE-01", "title_zh": "网点排队等候时间过长", "category": "process_waiting",
        **fields})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


class TestProblems:
    def test_create_list_get_and_mark_fixed(self, client: TestClient, world: World) -> None:
        created = create(client, world)
        listed = client.get("/api/v1/problems", headers=auth(world, "bj_handler")).json()
        assert (listed["total"], listed["items"][0]["code"]) == (1, "P-QUEUE-01")
        got = client.get(f"/api/v1/problems/{created['id']}", headers=cpo(world)).json()
        assert got["status"] == "open"
        fixed = client.patch(f"/api/v1/problems/{created['id']}", headers=cpo(world),
                             json={"status": "fixed"})
        assert fixed.status_code == 200
        assert (fixed.json()["problem"]["status"], fixed.json()["customers_told"]) == (
            "fixed", 0)

    def test_bad_input_is_422_naming_the_field(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/problems", headers=cpo(world),
                               json={"code": "P 1", "title_zh": "x"})
        assert (response.status_code, response.json()["field"]) == (422, "code")
        response = client.post("/api/v1/problems", headers=cpo(world),
                               json={"code": "P1", "title_zh": "x", "category": "nope"})
        assert (response.status_code, response.json()["field"]) == (422, "category")
        response = client.get("/api/v1/problems/abc", headers=cpo(world))
        assert (response.status_code, response.json()["field"]) == (422, "problem_id")

    def test_an_id_no_row_can_have_is_422_naming_it(self, client: TestClient,
                                                    world: World) -> None:
        # Found by the API fuzzing: past 2**31 - 1 PostgreSQL refused the query (a 500).
        for method, path in (("GET", "/api/v1/problems/{id}"),
                             ("PATCH", "/api/v1/problems/{id}"),
                             ("GET", "/api/v1/problems/{id}/cases"),
                             ("GET", "/api/v1/problems/{id}/actions"),
                             ("DELETE", "/api/v1/problems/{id}/cases/X")):
            for problem_id in (21965430947, 0):
                response = client.request(method, path.format(id=problem_id),
                                          headers=cpo(world), json={})
                assert (response.status_code, response.json()["field"]) == (
                    422, "problem_id"), (method, path, problem_id)

    def test_a_handler_may_not_curate_the_library(self, client: TestClient,
                                                  world: World) -> None:
        response = client.post("/api/v1/problems", headers=auth(world, "bj_handler"),
                               json={"code": "P1", "title_zh": "x"})
        assert response.status_code == 403

    def test_an_unknown_problem_is_404(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/problems/999", headers=cpo(world))
        assert (response.status_code, response.json()["field"]) == (404, "problem")


class TestCasesAndProblems:
    def test_link_suggest_and_record_the_root_cause(self, client: TestClient,
                                                    world: World) -> None:
        case = register(world, "周末网点排队两个小时，窗口太少")
        world.session.commit()
        problem = create(client, world)
        headers = auth(world, "bj_handler")
        suggested = client.get(f"/api/v1/cases/{case.reference}/problem-suggestions",
                               headers=headers).json()
        assert suggested[0]["problem"]["code"] == "P-QUEUE-01"
        assert "排队" in suggested[0]["shared_words"]
        linked = client.post(f"/api/v1/problems/{problem['id']}/cases", headers=headers,
                             json={"case": case.reference})
        assert linked.status_code == 201
        assert [c["case"] for c in client.get(f"/api/v1/problems/{problem['id']}/cases",
                                              headers=headers).json()] == [case.reference]
        untraced = client.get(f"/api/v1/cases/{case.reference}/root-cause", headers=headers)
        assert (untraced.status_code, untraced.json()) == (200, None)
        cause = client.put(f"/api/v1/cases/{case.reference}/root-cause", headers=headers,
                           json={"category": "process", "what": "排队久", "why": "窗口不足"})
        assert cause.status_code == 200
        assert client.get(f"/api/v1/cases/{case.reference}/root-cause",
                          headers=headers).json()["category"] == "process"
        gone = client.delete(f"/api/v1/problems/{problem['id']}/cases/{case.reference}",
                             headers=headers)
        assert gone.status_code == 204

    def test_another_branchs_case_is_404(self, client: TestClient, world: World) -> None:
        case = register(world, "排队太久")
        world.session.commit()
        response = client.get(f"/api/v1/cases/{case.reference}/problem-suggestions",
                              headers=auth(world, "sh_handler"))
        assert response.status_code == 404

    def test_a_bad_cause_category_is_422(self, client: TestClient, world: World) -> None:
        case = register(world, "排队太久")
        world.session.commit()
        response = client.put(f"/api/v1/cases/{case.reference}/root-cause",
                              headers=auth(world, "bj_handler"),
                              json={"category": "weather", "what": "x", "why": "y"})
        assert (response.status_code, response.json()["field"]) == (422, "category")


class TestActions:
    def test_create_and_an_effect_not_yet_measurable_is_409(self, client: TestClient,
                                                            world: World) -> None:
        problem = create(client, world)
        response = client.post(f"/api/v1/problems/{problem['id']}/actions", headers=cpo(world),
                               json={"title": "弹性排班", "owner": "bj_handler",
                                     "pilot_orgs": ["BJ01"], "cost": "1200.50"})
        assert response.status_code == 201, response.text
        action = response.json()
        assert (action["pilot_orgs"], action["cost"]) == (["BJ01"], "1200.50")
        effect = client.get(f"/api/v1/actions/{action['id']}/effect", headers=cpo(world))
        assert (effect.status_code, effect.json()["field"]) == (409, "started_on")

    def test_an_action_id_past_the_column_is_422(self, client: TestClient,
                                                 world: World) -> None:
        for path in ("/api/v1/actions/{id}", "/api/v1/actions/{id}/effect"):
            response = client.get(path.format(id=2**31), headers=cpo(world))
            assert (response.status_code, response.json()["field"]) == (422, "action_id")

    def test_a_negative_cost_is_422(self, client: TestClient, world: World) -> None:
        problem = create(client, world)
        response = client.post(f"/api/v1/problems/{problem['id']}/actions", headers=cpo(world),
                               json={"title": "x", "owner": "bj_handler", "cost": "-1"})
        assert (response.status_code, response.json()["field"]) == (422, "cost")


class TestSuggestions:
    def test_propose_review_and_credit(self, client: TestClient, world: World) -> None:
        made = client.post("/api/v1/suggestions", headers=auth(world, "bj1_agent"),
                           json={"title": "增开窗口", "text": "周末增开窗口"})
        assert made.status_code == 201
        reviewed = client.post(f"/api/v1/suggestions/{made.json()['id']}/review",
                               headers=cpo(world), json={"status": "adopted"})
        assert reviewed.json()["status"] == "adopted"
        assert client.get("/api/v1/suggestions/credits", headers=cpo(world)).json() == [
            {"user": "bj1_agent", "adopted": 1, "points": 10}]
        refused = client.post(f"/api/v1/suggestions/{made.json()['id']}/review",
                              headers=auth(world, "bj1_agent"), json={"status": "adopted"})
        assert refused.status_code == 403

    def test_a_problem_id_no_row_can_have_is_422_naming_it(self, client: TestClient,
                                                           world: World) -> None:
        made = client.post("/api/v1/suggestions", headers=auth(world, "bj1_agent"),
                           json={"title": "x", "text": "y", "problems": [1, 2**31]})
        assert (made.status_code, made.json()["field"]) == (422, "problems.1")
        review = client.post(f"/api/v1/suggestions/{2**31}/review", headers=cpo(world),
                             json={"status": "adopted"})
        assert (review.status_code, review.json()["field"]) == (422, "suggestion_id")

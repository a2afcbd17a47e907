"""POST /api/v1/cases/{reference}/steps as integrations and the pages use it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World, auth


def new_case(client: TestClient, world: World) -> dict[str, Any]:
    response = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                           json={"text": "网点排队两个小时", "customer_phone": "13812345678"})
    assert response.status_code == 201, response.text
    found = client.get(f"/api/v1/cases/{response.json()['reference']}",
                       headers=auth(world, "bj_handler"))
    return found.json()  # type: ignore[no-any-return]


def take(client: TestClient, world: World, case: dict[str, Any], user: str = "bj_handler",
         **step: Any) -> Any:
    return client.post(f"/api/v1/cases/{case['reference']}/steps", headers=auth(world, user),
                       json={"version": case["version"], **step})


class TestSteps:
    def test_a_legal_step_returns_the_case_at_its_new_version(
        self, client: TestClient, world: World
    ) -> None:
        case = new_case(client, world)
        response = take(client, world, case, action="accept")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["version"]) == ("accepted", case["version"] + 1)

    def test_a_step_the_status_does_not_allow_is_409(
        self, client: TestClient, world: World
    ) -> None:
        case = new_case(client, world)
        response = take(client, world, case, action="resolve", told_via="phone", summary="x")
        assert response.status_code == 409
        assert response.json()["code"] == "illegal_transition"

    def test_the_loser_of_two_edits_of_one_version_gets_409_and_is_told(
        self, client: TestClient, world: World
    ) -> None:
        case = new_case(client, world)
        assert take(client, world, case, action="accept").status_code == 200
        late = take(client, world, case, action="refuse", reason="重复投诉")
        assert late.status_code == 409
        assert (late.json()["code"], late.json()["field"]) == ("stale_version", "version")
        assert "reload" in late.json()["message"]

    def test_a_missing_field_is_422_naming_it(self, client: TestClient, world: World) -> None:
        case = new_case(client, world)
        response = take(client, world, case, action="refuse")
        assert response.status_code == 422
        assert response.json()["field"].endswith("reason")

    def test_an_unknown_action_is_422(self, client: TestClient, world: World) -> None:
        case = new_case(client, world)
        assert take(client, world, case, action="teleport").status_code == 422

    def test_another_branch_gets_404(self, client: TestClient, world: World) -> None:
        case = new_case(client, world)
        assert take(client, world, case, user="sh_handler", action="accept").status_code == 404

    def test_lists_the_steps_the_status_allows(self, client: TestClient, world: World) -> None:
        case = new_case(client, world)
        response = client.get(f"/api/v1/cases/{case['reference']}/steps",
                              headers=auth(world, "bj_handler"))
        assert response.json()[:2] == ["accept", "refuse"]

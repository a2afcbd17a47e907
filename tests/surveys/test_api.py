"""The callback queue and surveys over the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, auth


class TestSurveys:
    def test_a_resend_of_the_same_answer_is_harmless(
        self, client: TestClient, world: World
    ) -> None:
        body = {"source_id": "app-1", "org": "BJ", "channel": "mobile_app",
                "touchpoint": "app_transfer", "answered_at": "2026-10-01T10:00:00+08:00",
                "nps": 3, "comment": "转账太慢"}
        first = client.post("/api/v1/surveys", headers=auth(world, "bj_handler"), json=body)
        again = client.post("/api/v1/surveys", headers=auth(world, "bj_handler"), json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]

    def test_a_score_out_of_range_is_422_naming_it(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/api/v1/surveys", headers=auth(world, "bj_handler"), json={
            "source_id": "x", "org": "BJ", "channel": "branch", "touchpoint": "branch_visit",
            "answered_at": "2026-10-01T10:00:00", "csat": 7})
        assert (response.status_code, response.json()["field"]) == (422, "csat")


class TestCallbackQueue:
    def test_an_empty_queue_and_an_unknown_callback(
        self, client: TestClient, world: World
    ) -> None:
        assert client.get("/api/v1/callbacks", headers=auth(world, "bj_handler")).json() == []
        response = client.post("/api/v1/callbacks/999/result", headers=auth(world, "bj_handler"),
                               json={"csat": 5, "solved": True})
        assert response.status_code == 404

    def test_a_callback_id_past_the_column_is_422_naming_it(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post(f"/api/v1/callbacks/{2**31}/result",
                               headers=auth(world, "bj_handler"), json={"csat": 5})
        assert (response.status_code, response.json()["field"]) == (422, "callback_id")

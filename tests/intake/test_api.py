from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import World, auth

TEXT = "手机银行转账显示成功但对方一直没到账，已经三天了"


class TestCreateCase:
    def test_creates_a_case_and_answers_201_with_its_reference(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                               json={"text": TEXT, "channel": "手机银行", "amount": "5,000"})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["outcome"] == "accepted"
        assert body["reference"].startswith("TS")
        detail = client.get(f"/api/v1/cases/{body['reference']}",
                            headers=auth(world, "bj_handler")).json()
        assert detail["channel"] == "mobile_app"
        assert detail["amount"] == "5000.00"
        assert detail["org"]["code"] == "BJ"
        assert detail["product"] == "payments"

    def test_a_retry_with_the_same_source_id_answers_200_with_the_same_reference(
        self, client: TestClient, world: World
    ) -> None:
        body = {"text": TEXT, "source_system": "crm", "source_id": "X-9"}
        first = client.post("/api/v1/cases", headers=auth(world, "hq_admin"), json=body)
        again = client.post("/api/v1/cases", headers=auth(world, "hq_admin"), json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == {**first.json(), "outcome": "unchanged"}

    def test_an_idempotency_key_header_makes_a_retry_harmless(
        self, client: TestClient, world: World
    ) -> None:
        headers = {**auth(world, "hq_admin"), "Idempotency-Key": "retry-1"}
        first = client.post("/api/v1/cases", headers=headers, json={"text": TEXT})
        again = client.post("/api/v1/cases", headers=headers, json={"text": TEXT})
        assert again.status_code == 200
        assert again.json()["reference"] == first.json()["reference"]

    def test_bad_input_is_422_naming_the_field(self, client: TestClient, world: World) -> None:
        cases = [
            ({"text": TEXT, "received_at": "2026-02-30"}, "received_at"),
            ({"text": TEXT, "amount": "lots"}, "amount"),
            ({"text": ""}, "text"),
            ({}, "text"),
            ({"text": TEXT, "customer_phone": "12345"}, "customer_phone"),
            ({"text": TEXT, "org": "NOWHERE"}, "org"),
            ({"text": TEXT, "extra": 1}, "extra"),
            ({"text": TEXT, "text2": None, "kind": "rant"}, "kind"),
        ]
        for body, field in cases:
            response = client.post("/api/v1/cases", headers=auth(world, "hq_admin"), json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.json()["field"] == field, (body, response.json())
            assert response.json()["message"]

    def test_malformed_json_is_422_not_500(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/cases", content=b"{not json",
                               headers={**auth(world, "hq_admin"),
                                        "Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["code"] == "invalid"

    def test_without_a_token_is_401(self, client: TestClient) -> None:
        response = client.post("/api/v1/cases", json={"text": TEXT})
        assert response.status_code == 401
        assert response.json()["field"] == "Authorization"

    def test_a_role_that_may_not_register_is_403(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/cases", headers=auth(world, "hq_analyst"),
                               json={"text": TEXT})
        assert response.status_code == 403


class TestCreateCasesBulk:
    def test_answers_one_result_per_line_in_order(self, client: TestClient, world: World) -> None:
        lines = [
            json.dumps({"text": TEXT, "source_id": "b1"}, ensure_ascii=False),
            "not json",
            json.dumps({"text": TEXT, "source_id": "b2", "amount": "x"}),
            "",
            json.dumps({"text": "建议延长营业时间", "source_id": "b3", "kind": "建议"},
                       ensure_ascii=False),
            "[1, 2]",
        ]
        response = client.post("/api/v1/cases/bulk", headers=auth(world, "hq_admin"),
                               content="\n".join(lines).encode())
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        results = [json.loads(line) for line in response.text.splitlines()]
        assert [(r["row"], r["outcome"], r["field"]) for r in results] == [
            (1, "accepted", None), (2, "rejected", "line"), (3, "rejected", "amount"),
            (5, "accepted", None), (6, "rejected", "line"),
        ]
        again = client.post("/api/v1/cases/bulk", headers=auth(world, "hq_admin"),
                            content="\n".join(lines).encode())
        outcomes = [json.loads(line)["outcome"] for line in again.text.splitlines()]
        assert outcomes == ["unchanged", "rejected", "rejected", "unchanged", "rejected"]


class TestListCases:
    def _seed(self, client: TestClient, world: World, count: int) -> list[str]:
        references = []
        for i in range(count):
            response = client.post("/api/v1/cases", headers=auth(world, "hq_admin"), json={
                "text": f"第{i}号投诉：信用卡年费问题", "org": "BJ" if i % 2 else "SH",
                "received_at": f"2026-11-{i + 1:02d} 10:00", "source_id": f"s{i}"})
            references.append(response.json()["reference"])
        return references

    def test_pages_through_everything_newest_first_without_gaps(
        self, client: TestClient, world: World
    ) -> None:
        references = self._seed(client, world, 7)
        seen, cursor = [], None
        while True:
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/cases", headers=auth(world, "hq_admin"),
                              params=params).json()
            seen += [item["reference"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(references))

    def test_filters_by_org_subtree_and_words(self, client: TestClient, world: World) -> None:
        self._seed(client, world, 6)
        page = client.get("/api/v1/cases", headers=auth(world, "hq_admin"),
                          params={"org": "BJ", "q": "第3号"}).json()
        assert [item["text"] for item in page["items"]] == ["第3号投诉：信用卡年费问题"]

    def test_bad_filters_are_422_naming_the_field(self, client: TestClient, world: World) -> None:
        cases: list[tuple[dict[str, str | int], str]] = [
            ({"status": "lost"}, "status"), ({"limit": 0}, "limit"), ({"cursor": "!!"}, "cursor"),
            ({"received_from": "soon"}, "received_from"),
            # A time without its zone is ambiguous (Beijing or UTC?): refused, not a 500.
            ({"received_from": "2026-03-01T00:00:00"}, "received_from"),
            ({"received_to": "2026-03-01T00:00:00"}, "received_to")]
        for params, field in cases:
            response = client.get("/api/v1/cases", headers=auth(world, "hq_admin"),
                                  params=params)
            assert response.status_code == 422, params
            assert response.json()["field"] == field


class TestHealthAndSpec:
    def test_healthz_answers(self, client: TestClient) -> None:
        assert client.get("/healthz").json()["status"] == "ok"

    def test_openapi_lists_the_case_routes_and_their_errors(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        assert {"/api/v1/cases", "/api/v1/cases/bulk", "/api/v1/cases/{reference}"} <= set(
            spec["paths"])
        assert "422" in spec["paths"]["/api/v1/cases"]["post"]["responses"]

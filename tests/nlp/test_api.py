from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, auth

KEYS = {"product", "category", "product_confidence", "category_confidence", "explanation",
        "severity", "severity_reasons", "sentiment", "pii", "masked_text"}


class TestAnalyze:
    def test_runs_the_whole_text_pipeline_on_one_text(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/api/v1/text/analyze", headers=auth(world, "bj_handler"),
                               json={"text": "信用卡年费乱收费，我要打12378投诉！电话13912345678"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) >= KEYS
        assert (body["product"], body["category"], body["severity"]) == (
            "credit_card", "fee_dispute", "urgent")
        assert body["sentiment"] < 0
        assert body["pii"] == [{"type": "mobile", "start": 22, "end": 33}]
        assert "139****5678" in body["masked_text"]
        assert "年费" in body["explanation"]["category"]

    def test_an_empty_text_is_422_naming_the_field(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/api/v1/text/analyze", headers=auth(world, "bj_handler"),
                               json={"text": ""})
        assert (response.status_code, response.json()["field"]) == (422, "text")

    def test_needs_a_token(self, client: TestClient) -> None:
        assert client.post("/api/v1/text/analyze", json={"text": "x"}).status_code == 401


class TestHotTopics:
    def test_clusters_recent_cases_in_scope(self, client: TestClient, world: World) -> None:
        texts = ["手机银行登录闪退打不开"] * 4 + ["信用卡年费被乱扣"] * 4 + ["网点排队时间太长"] * 4
        for i, text in enumerate(texts):
            response = client.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                   json={"text": f"{text}（第{i}次）", "source_id": f"t{i}",
                                         "customer_phone": f"139000000{i:02d}"})
            assert response.status_code == 201, response.text
        topics = client.get("/api/v1/text/topics", headers=auth(world, "bj_handler")).json()
        assert len(topics) >= 2
        assert all(t["size"] >= 3 and t["words"] and t["references"] for t in topics)
        other_branch = client.get("/api/v1/text/topics", headers=auth(world, "sh_handler"))
        assert other_branch.json() == []

    def test_days_out_of_range_is_422(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/text/topics", params={"days": 0},
                              headers=auth(world, "bj_handler"))
        assert (response.status_code, response.json()["field"]) == (422, "days")

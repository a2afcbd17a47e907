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


class TestSimilarClusters:
    def _file(self, client: TestClient, world: World, user: str, text: str, n: int,
              prefix: str) -> list[str]:
        references = []
        for i in range(n):
            response = client.post("/api/v1/cases", headers=auth(world, user), json={
                "text": text.format(i=i + 3), "source_id": f"{prefix}{i}",
                "customer_phone": f"1390000{len(prefix)}{i:03d}",
                "received_at": "2026-11-02 10:00"})
            assert response.status_code == 201, response.text
            references.append(response.json()["reference"])
        return references

    def test_groups_a_days_copies_of_one_template_biggest_first_in_scope(
        self, client: TestClient, world: World
    ) -> None:
        big = self._file(client, world, "bj_handler", "理财产品{i}万元到期不能兑付，要求还钱", 4,
                         "a")
        small = self._file(client, world, "bj_handler", "停车费收了{i}元，要求退还", 2, "b")
        self._file(client, world, "bj_handler", "一条只说一次的意见", 1, "c")
        response = client.get("/api/v1/text/clusters", params={"day": "2026-11-02"},
                              headers=auth(world, "bj_handler"))
        assert response.status_code == 200, response.text
        assert response.json() == [{"size": 4, "references": big},
                                   {"size": 2, "references": small}]
        bigger_only = client.get("/api/v1/text/clusters",
                                 params={"day": "2026-11-02", "min_size": 3},
                                 headers=auth(world, "bj_handler")).json()
        assert [c["size"] for c in bigger_only] == [4]
        other_branch = client.get("/api/v1/text/clusters", params={"day": "2026-11-02"},
                                  headers=auth(world, "sh_handler"))
        assert other_branch.json() == []
        another_day = client.get("/api/v1/text/clusters", params={"day": "2026-11-03"},
                                 headers=auth(world, "bj_handler"))
        assert another_day.json() == []

    def test_a_bad_day_is_422_naming_it(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/text/clusters", params={"day": "yesterday"},
                              headers=auth(world, "bj_handler"))
        assert (response.status_code, response.json()["field"]) == (422, "day")

"""The regulatory statistics over the API: JSON, XLSX and HTML, scoped, and bad input as a 4xx
naming its field."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.analytics.conftest import Bank
from tests.conftest import World, auth
from tests.reports.test_regulatory import Planted, plant

BASE = "/api/v1/reports/regulatory"


@pytest.fixture
def planted(client: TestClient, world: World, session: Session) -> Planted:
    found = plant(Bank(world=world, session=session))
    session.commit()  # a savepoint: the API's sessions see the cases
    return found


class TestJrt:
    def test_json_and_xlsx(self, client: TestClient, world: World, planted: Planted) -> None:
        response = client.get(f"{BASE}/jrt", params={"period": "2026-Q3"},
                              headers=auth(world, "hq_analyst"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["complaints"], body["complaints_per_1k_outlets"]) == (6, 2000)
        assert body["dimensions"]["channel"]["rows"][0]["code"] == "branch"
        sheet = client.get(f"{BASE}/jrt", params={"period": "2026-Q3", "format": "xlsx"},
                           headers=auth(world, "hq_analyst"))
        assert sheet.status_code == 200
        assert sheet.headers["content-disposition"] == (
            'attachment; filename="jrt-HQ-2026-Q3.xlsx"')
        assert len(load_workbook(io.BytesIO(sheet.content)).sheetnames) == 6

    def test_a_branch_is_scoped_to_its_subtree(self, client: TestClient, world: World,
                                               planted: Planted) -> None:
        own = client.get(f"{BASE}/jrt", params={"period": "2026-Q3"},
                         headers=auth(world, "sh_handler"))
        assert (own.status_code, own.json()["complaints"], own.json()["org"]["code"]) == (
            200, 3, "SH")
        other = client.get(f"{BASE}/jrt", params={"period": "2026-Q3", "org": "BJ"},
                           headers=auth(world, "sh_handler"))
        assert (other.status_code, other.json()["field"]) == (403, "org")

    @pytest.mark.parametrize(("params", "status", "field"), [
        ({"period": "2026-Q9"}, 422, "period"),
        ({}, 422, "period"),
        ({"period": "2026-Q3", "format": "pdf"}, 422, "format"),
        ({"period": "2026-Q3", "org": "NOPE"}, 404, "org"),
    ])
    def test_bad_input_names_its_field(self, client: TestClient, world: World,
                                       params: dict[str, str], status: int,
                                       field: str) -> None:
        response = client.get(f"{BASE}/jrt", params=params, headers=auth(world, "hq_admin"))
        assert (response.status_code, response.json()["field"]) == (status, field)

    def test_needs_a_token(self, client: TestClient) -> None:
        assert client.get(f"{BASE}/jrt", params={"period": "2026-Q3"}).status_code == 401


class TestDisclosure:
    def test_json_html_and_xlsx(self, client: TestClient, world: World,
                                planted: Planted) -> None:
        headers = auth(world, "hq_admin")
        body = client.get(f"{BASE}/disclosure", params={"year": 2026}, headers=headers).json()
        assert (body["complaints"], body["year_before"]) == (8, 2)
        page = client.get(f"{BASE}/disclosure", params={"year": 2026, "format": "html"},
                          headers=headers)
        assert page.headers["content-type"].startswith("text/html")
        assert "2026年度消费投诉情况" in page.text
        sheet = client.get(f"{BASE}/disclosure", params={"year": 2026, "format": "xlsx"},
                           headers=headers)
        assert "概况 Summary" in load_workbook(io.BytesIO(sheet.content)).sheetnames

    @pytest.mark.parametrize("year", ["abc", "1999", "2101"])
    def test_a_bad_year_is_422(self, client: TestClient, world: World, year: str) -> None:
        response = client.get(f"{BASE}/disclosure", params={"year": year},
                              headers=auth(world, "hq_admin"))
        assert (response.status_code, response.json()["field"]) == (422, "year")


class TestSelfCheck:
    def test_items_with_status(self, client: TestClient, world: World,
                               planted: Planted) -> None:
        response = client.get(f"{BASE}/self-check", params={"year": 2026, "org": "BJ"},
                              headers=auth(world, "bj_handler"))
        assert response.status_code == 200, response.text
        items = {i["code"]: i for i in response.json()["items"]}
        assert (items["complaints"]["value"], items["fixed_rate"]["status"]) == (4, "pass")

    def test_the_routes_declare_their_errors(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        for name in ("jrt", "disclosure", "self-check"):
            assert {"401", "403", "404", "422"} <= set(paths[f"{BASE}/{name}"]["get"]
                                                       ["responses"])

"""GET /api/v1/reports/monthly: the file in each format, scoped to the caller's subtree."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.reports.conftest import FEE_TEXT, MONTH, Voc

URL = "/api/v1/reports/monthly"


class TestMonthlyReport:
    def test_html_for_head_office(self, voc: Voc, client: TestClient) -> None:
        response = client.get(URL, params={"month": MONTH},
                              headers=auth(voc.bank.world, "hq_admin"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "客户之声月度报告" in response.text
        assert FEE_TEXT in response.text
        assert 'filename="voc-monthly-2026-10-HQ.html"' in response.headers[
            "content-disposition"]
        assert response.headers["cache-control"] == "no-store"

    def test_a_branch_user_gets_their_branch_as_xlsx(self, voc: Voc,
                                                      client: TestClient) -> None:
        response = client.get(URL, params={"month": MONTH, "format": "xlsx", "lang": "en"},
                              headers=auth(voc.bank.world, "bj_handler"))
        assert response.status_code == 200, response.text
        assert response.content[:2] == b"PK"
        assert "voc-monthly-2026-10-BJ-en.xlsx" in response.headers["content-disposition"]

    def test_another_branch_is_forbidden(self, voc: Voc, client: TestClient) -> None:
        response = client.get(URL, params={"month": MONTH, "org": "SH"},
                              headers=auth(voc.bank.world, "bj_handler"))
        assert response.status_code == 403
        assert response.json()["field"] == "org"
        head_office = client.get(URL, params={"month": MONTH, "org": "HQ"},
                                 headers=auth(voc.bank.world, "bj_handler"))
        assert head_office.status_code == 403

    def test_bad_requests_name_the_field(self, voc: Voc, client: TestClient) -> None:
        headers = auth(voc.bank.world, "hq_admin")
        assert client.get(URL, params={"month": "2026-13"},
                          headers=headers).json()["field"] == "month"
        unknown = client.get(URL, params={"month": MONTH, "org": "NOPE"}, headers=headers)
        assert (unknown.status_code, unknown.json()["field"]) == (404, "org")
        assert client.get(URL, params={"month": MONTH, "format": "doc"},
                          headers=headers).status_code == 422
        assert client.get(URL, params={"month": MONTH}).status_code == 401

    def test_declared_in_openapi(self, voc: Voc, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        route = spec["paths"]["/api/v1/reports/monthly"]["get"]
        assert {"401", "403", "404", "422"} <= set(route["responses"])

"""The KPI routes: figures, breakdowns, the cases behind them and their export, targets and
denominators, each scoped to the caller's org."""

from __future__ import annotations

import csv
import io

import openpyxl
from fastapi.testclient import TestClient

from tests.analytics.conftest import Bank
from tests.conftest import auth


class TestKpiRoutes:
    def test_the_registry_lists_every_kpi_with_its_formula(self, client: TestClient,
                                                            bank: Bank) -> None:
        response = client.get("/api/v1/kpis?lang=en", headers=auth(bank.world, "hq_admin"))
        assert response.status_code == 200
        rates = {k["code"]: k for k in response.json()}
        assert rates["on_time_rate"]["formula"].startswith("complaints decided by")

    def test_a_kpi_with_its_breakdown(self, client: TestClient, october: Bank) -> None:
        october.session.commit()
        response = client.get("/api/v1/kpis/complaints?period=2026-10&by=org",
                              headers=auth(october.world, "hq_admin"))
        assert response.status_code == 200
        body = response.json()
        assert (body["value"], body["change"], body["source"]) == (4, 3, "rollup:month")
        assert {g["label"]: g["share"] for g in body["groups"]} == {"北京分行": 0.5,
                                                                   "上海分行": 0.5}

    def test_the_headline(self, client: TestClient, october: Bank) -> None:
        october.session.commit()
        response = client.get("/api/v1/kpis/headline?period=2026-10",
                              headers=auth(october.world, "bj_handler"))
        assert response.status_code == 200
        figures = {k["kpi"]: k["value"] for k in response.json()}
        assert figures["complaints"] == 2  # Beijing's own subtree

    def test_another_branch_is_forbidden(self, client: TestClient, october: Bank) -> None:
        october.session.commit()
        response = client.get("/api/v1/kpis/complaints?period=2026-10&org=SH",
                              headers=auth(october.world, "bj_handler"))
        assert response.status_code == 403
        assert response.json()["field"] == "org"

    def test_bad_input_names_the_field(self, client: TestClient, bank: Bank) -> None:
        headers = auth(bank.world, "hq_admin")
        for url, field in (("/api/v1/kpis/complaints?period=someday", "period"),
                           ("/api/v1/kpis/happiness?period=2026-10", "kpi"),
                           ("/api/v1/kpis/complaints?period=2026-10&by=colour", "by")):
            response = client.get(url, headers=headers)
            assert response.status_code == 422, url
            assert response.json()["field"] == field

    def test_anonymous_callers_are_refused(self, client: TestClient) -> None:
        assert client.get("/api/v1/kpis/complaints?period=2026-10").status_code == 401


class TestDrillAndExport:
    def test_the_cases_behind_a_figure_are_masked(self, client: TestClient,
                                                  october: Bank) -> None:
        october.session.commit()
        response = client.get("/api/v1/kpis/on_time_rate/cases?period=2026-10",
                              headers=auth(october.world, "hq_admin"))
        assert response.status_code == 200
        assert len(response.json()) == 3

    def test_csv_export_one_row_per_case_and_no_formula(self, client: TestClient,
                                                        october: Bank) -> None:
        october.case("BJ", "2026-10-12", text_masked='=HYPERLINK("http://x","点我")')
        october.session.commit()
        response = client.get("/api/v1/kpis/complaints/cases.csv?period=2026-10&org=BJ",
                              headers=auth(october.world, "hq_admin"))
        assert response.status_code == 200
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 1 + 3  # header + c1, c2 and the new one
        texts = [row[-1] for row in rows[1:]]
        assert "'=HYPERLINK(\"http://x\",\"点我\")" in texts

    def test_xlsx_export_writes_formula_like_text_as_text(self, client: TestClient,
                                                          october: Bank) -> None:
        october.case("BJ", "2026-10-12", text_masked="=1+1")
        october.session.commit()
        response = client.get("/api/v1/kpis/complaints/cases.xlsx?period=2026-10&lang=en",
                              headers=auth(october.world, "hq_admin"))
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        cells = [row[-1] for row in sheet.iter_rows(min_row=2)]
        assert len(cells) == 5
        assert any(cell.value == "=1+1" and cell.data_type == "s" for cell in cells)


class TestTargetsAndStats:
    def test_a_target_set_shows_on_the_kpi(self, client: TestClient, october: Bank) -> None:
        october.session.commit()
        headers = auth(october.world, "hq_admin")
        response = client.put("/api/v1/kpi-targets", headers=headers, json={
            "kpi": "csat", "value": 60, "valid_from": "2026-01-01"})
        assert response.status_code == 200
        body = client.get("/api/v1/kpis/csat?period=2026-10", headers=headers).json()
        assert (body["target"], body["met"]) == (60, True)

    def test_a_handler_may_not_set_targets(self, client: TestClient, bank: Bank) -> None:
        response = client.put("/api/v1/kpi-targets", headers=auth(bank.world, "bj_handler"),
                              json={"kpi": "csat", "value": 60, "valid_from": "2026-01-01",
                                    "org": "BJ"})
        assert response.status_code == 403

    def test_denominators_are_imported_and_bad_rows_name_the_field(
            self, client: TestClient, bank: Bank) -> None:
        headers = auth(bank.world, "hq_analyst")
        ok = client.post("/api/v1/org-stats", headers=headers, json={"rows": [
            {"org": "BJ", "month": "2026-10", "customers": 1000, "outlets": 3}]})
        assert ok.json() == {"stored": 1}
        bad = client.post("/api/v1/org-stats", headers=headers, json={"rows": [
            {"org": "BJ", "month": "2026-10", "customers": -1}]})
        assert bad.status_code == 422
        assert "customers" in str(bad.json()["field"])

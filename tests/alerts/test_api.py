"""Early warning over the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bankvoc.orgs import service as org_service
from tests.alerts.factory import SCAN_DAY, add_cases, case_row
from tests.conftest import World, auth


class TestListAlerts:
    def test_an_unknown_kind_is_422_naming_it(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/alerts?kind=bogus", headers=auth(world, "bj_handler"))
        assert (response.status_code, response.json()["field"]) == (422, "kind")

    def test_lists_the_alerts_of_the_scan(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/alerts/scan", headers=auth(world, "hq_admin"),
                               json={"day": "2026-11-10"})
        assert response.status_code == 200, response.text
        assert response.json()["day"] == "2026-11-10"
        listed = client.get("/api/v1/alerts", headers=auth(world, "hq_admin"))
        assert (listed.status_code, len(listed.json())) == (200, response.json()["stored"])


class TestScan:
    def test_is_for_consumer_protection_and_administrators(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/api/v1/alerts/scan", headers=auth(world, "bj_handler"),
                               json={})
        assert response.status_code == 403

    def test_a_bad_day_is_422_naming_it(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/alerts/scan", headers=auth(world, "hq_admin"),
                               json={"day": "2026-13-01"})
        assert (response.status_code, response.json()["field"]) == (422, "day")


class TestAcknowledge:
    def test_an_unknown_alert_is_404(self, client: TestClient, world: World) -> None:
        response = client.post("/api/v1/alerts/999/acknowledge",
                               headers=auth(world, "hq_admin"), json={"note": "ok"})
        assert (response.status_code, response.json()["field"]) == (404, "alert")

    def test_an_id_past_the_column_is_422_naming_it(self, client: TestClient,
                                                    world: World) -> None:
        # Found by the API fuzzing: PostgreSQL refused 21965430947 for an INTEGER (a 500).
        response = client.post("/api/v1/alerts/21965430947/acknowledge",
                               headers=auth(world, "hq_admin"), json={"note": "ok"})
        assert (response.status_code, response.json()["field"]) == (422, "alert_id")

    def test_a_group_complaint_is_listed_and_acknowledged(
        self, client: TestClient, world: World
    ) -> None:
        bj01 = org_service.get_org_by_code(world.session, code="BJ01").id
        add_cases(world.session, [case_row(org_id=bj01, day=SCAN_DAY,
                                           text="多名客户准备集体维权")])
        world.session.commit()
        client.post("/api/v1/alerts/scan", headers=auth(world, "hq_admin"),
                    json={"day": SCAN_DAY.isoformat()})
        listed = client.get("/api/v1/alerts?kind=mass_complaint&status=open",
                            headers=auth(world, "bj_handler")).json()
        assert [a["typical_cases"][0]["text"] for a in listed] == ["多名客户准备集体维权"]
        done = client.post(f"/api/v1/alerts/{listed[0]['id']}/acknowledge",
                           headers=auth(world, "hq_admin"), json={"note": "已核实"})
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["acknowledged_by"]) == (
            "acknowledged", "hq_admin")


class TestRegulatorRisk:
    def test_lists_the_risky_open_cases_with_reasons(
        self, client: TestClient, world: World
    ) -> None:
        bj01 = org_service.get_org_by_code(world.session, code="BJ01").id
        add_cases(world.session, [case_row(org_id=bj01, day=SCAN_DAY, status="investigating",
                                           text="我要打12363向人民银行投诉")])
        world.session.commit()
        found = client.get("/api/v1/alerts/regulator-risk", headers=auth(world, "bj_handler"))
        assert found.status_code == 200
        assert found.json()[0]["score"] == 30
        assert client.get("/api/v1/alerts/regulator-risk",
                          headers=auth(world, "sh_handler")).json() == []

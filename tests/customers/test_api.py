"""The customer-segment and journey routes, mounted as the API will mount them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.analytics.journeys_api import router as journeys_router
from bankvoc.api.app import API_PREFIX, create_app
from bankvoc.customers.api import router as customers_router
from tests.analytics.conftest import Bank
from tests.conftest import World, auth


@pytest.fixture
def api(sessions: sessionmaker[Session], world: World) -> Iterator[TestClient]:
    world.session.commit()  # a savepoint: the API's own sessions see the world
    app = create_app(sessions=sessions)
    app.include_router(customers_router, prefix=API_PREFIX)
    app.include_router(journeys_router, prefix=API_PREFIX)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def bank(world: World, session: Session) -> Bank:
    return Bank(world=world, session=session)


ROWS = [{"phone": "13800000001", "recency_days": 5, "frequency": 20, "monetary": "50000"},
        {"phone": "13800000002", "recency_days": 90, "frequency": 1, "monetary": "10",
         "attrited_on": "2026-10-09"},
        {"id_number": "110105194912310021", "recency_days": 1, "frequency": 1,
         "monetary": "1"}]


class TestValueImport:
    def test_stores_rows_and_returns_rejects_then_changes_nothing(
            self, api: TestClient, world: World) -> None:
        headers = auth(world, "hq_analyst")
        body = {"month": "2026-10", "rows": ROWS}
        first = api.post("/api/v1/customers/value-import", json=body, headers=headers)
        assert first.status_code == 200, first.text
        assert (first.json()["stored"], first.json()["rejects"]) == (2, [
            {"row": 3, "field": "id_number", "reason": "fails the ID number checksum"}])
        again = api.post("/api/v1/customers/value-import", json=body, headers=headers)
        assert (again.json()["stored"], again.json()["unchanged"]) == (0, 2)

    def test_a_bad_month_is_422_naming_the_field(self, api: TestClient, world: World) -> None:
        response = api.post("/api/v1/customers/value-import",
                            json={"month": "soon", "rows": ROWS},
                            headers=auth(world, "hq_analyst"))
        assert response.status_code == 422
        assert response.json()["field"] == "month"

    def test_a_handler_may_not_import(self, api: TestClient, world: World) -> None:
        response = api.post("/api/v1/customers/value-import",
                            json={"month": "2026-10", "rows": ROWS},
                            headers=auth(world, "bj_handler"))
        assert response.status_code == 403


class TestAttritionRoute:
    def test_per_segment(self, api: TestClient, world: World) -> None:
        api.post("/api/v1/customers/value-import", json={"month": "2026-10", "rows": ROWS},
                 headers=auth(world, "hq_analyst"))
        response = api.get("/api/v1/customers/segments/attrition?period=2026-10&lang=en",
                           headers=auth(world, "hq_admin"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["total"]["customers"], body["total"]["attrited"], body["total"]["rate"]
                ) == (2, 1, 50.0)
        assert {r["label"] for r in body["segments"]} == {"Important value",
                                                         "General win-back"}

    def test_an_org_outside_scope_is_403_naming_the_field(self, api: TestClient,
                                                          world: World) -> None:
        response = api.get("/api/v1/customers/segments/attrition?period=2026-10&org=BJ",
                           headers=auth(world, "sh_handler"))
        assert (response.status_code, response.json()["field"]) == (403, "org")

    def test_a_bad_period_is_422(self, api: TestClient, world: World) -> None:
        response = api.get("/api/v1/customers/segments/attrition?period=soon",
                           headers=auth(world, "hq_admin"))
        assert (response.status_code, response.json()["field"]) == (422, "period")


class TestPainPointsRoute:
    def test_lists_stages_and_pain_points(self, api: TestClient, bank: Bank) -> None:
        for _ in range(5):
            bank.case("BJ", "2026-10-10", product="credit_card", category="fee_dispute")
        bank.session.commit()
        response = api.get("/api/v1/journeys/pain-points?period=2026-10",
                           headers=auth(bank.world, "hq_admin"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["stages"] == [{"stage": "card_use", "label": "用卡", "cases": 5}]
        assert (body["pain_points"][0]["rank"], body["pain_points"][0]["cases"]) == (1, 5)
        assert Decimal(str(body["pain_points"][0]["severity"])) == 0

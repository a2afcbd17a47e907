"""The reports page and its download, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from bankvoc.analytics import service as analytics
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from tests.conftest import World, auth


@pytest.fixture
def march(world: World) -> None:
    for text, org in (("信用卡年费被重复扣收两次", "BJ"), ("网点排队时间太长", "SH")):
        draft = register_case(world.session, actor=world.actor("hq_admin"), data=CaseCreate(
            text=text, org=org, received_at=datetime(2026, 3, 5, 10)))
        assert draft.error is None
    analytics.refresh_rollup(world.session)
    world.session.commit()


@pytest.mark.usefixtures("demo")
class TestReportsPage:
    def test_the_form_has_labelled_fields(self, client: TestClient) -> None:
        html = client.get("/reports").text
        for name in ("r-month", "r-org", "r-report_lang", "r-format", "r-quarterly"):
            assert f'<label for="{name}">' in html
        assert 'action="/reports/monthly"' in html

    @pytest.mark.usefixtures("march")
    def test_downloads_the_html_report(self, client: TestClient) -> None:
        response = client.get("/reports/monthly?month=2026-03&format=html&report_lang=zh")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "attachment" in response.headers["content-disposition"]
        assert "voc-monthly-2026-03-HQ.html" in response.headers["content-disposition"]
        assert "客户之声" in response.content.decode("utf-8")

    @pytest.mark.usefixtures("march")
    def test_downloads_the_xlsx_report_of_a_branch_in_english(self, client: TestClient) -> None:
        response = client.get("/reports/monthly?month=2026-03&org=BJ&format=xlsx"
                              "&report_lang=en")
        assert response.status_code == 200
        assert response.content[:2] == b"PK"
        assert "voc-monthly-2026-03-BJ-en.xlsx" in response.headers["content-disposition"]

    @pytest.mark.parametrize(("query", "field"), [
        ("month=2026-13&format=html", "r-month"),
        ("month=2026-03&format=doc", "r-format"),
        ("month=2026-03&org=NOPE", "r-org"),
    ])
    def test_a_bad_choice_is_the_form_again(self, client: TestClient, query: str,
                                            field: str) -> None:
        response = client.get(f"/reports/monthly?{query}")
        assert response.status_code in (404, 422)
        assert response.headers["content-type"].startswith("text/html")
        assert f'<a href="#{field}">' in response.text

    def test_a_branch_may_not_have_another_branchs_report(self, client: TestClient,
                                                          world: World) -> None:
        response = client.get("/reports/monthly?month=2026-03&org=SH",
                              headers=auth(world, "bj_handler"))
        assert response.status_code == 403
        assert 'href="#r-org"' in response.text

"""The outlet-inspection pages through the whole app (SQLite and PostgreSQL): the list and trend
in Chinese and English, the visit form and its refusals named by field, a visit with its
findings closed, an agent's 403, and the CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.branches.checklist import load_checklist
from bankvoc.branches.models import Inspection, InspectionFinding
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import service as org_service
from tests.conftest import World, log_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def inspector(client: TestClient, world: World, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """`client` logged in as a head-office inspector (photos stored under tmp_path); returns
    the session's CSRF token."""
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    reset_settings()
    s = world.session
    org_service.create_user(s, username="hq_inspector", display_name="检查员小李",
                            org=org_service.get_org_by_code(s, code="HQ"),
                            roles=["qa_inspector"])
    org_service.create_user(s, username="bj1_manager", display_name="网点主任老王",
                            org=org_service.get_org_by_code(s, code="BJ01"),
                            roles=["branch_manager"])
    s.commit()
    return log_in(client, s, "hq_inspector")


def form_data(world: World, token: str, **changes: str) -> dict[str, str]:
    bj1 = org_service.get_org_by_code(world.session, code="BJ01")
    data = {"csrf_token": token, "org": str(bj1.id), "kind": "inspection",
            "visited_at": "2026-09-10T10:00", "note": "例行检查"}
    data.update({f"r-{code}": "pass" for code in load_checklist().codes()})
    data.update(changes)
    return {k: v for k, v in data.items() if v != "<drop>"}


class TestList:
    @pytest.mark.parametrize(("lang", "words"), [
        ("zh", ["网点检查与暗访", "各网点月度趋势", "新建检查"]),
        ("en", ["Outlet inspections", "Monthly trend by outlet", "Record a visit"]),
    ])
    def test_renders_in_both_languages(self, client: TestClient, inspector: str,
                                       lang: str, words: list[str]) -> None:
        html = client.get("/branches/inspections", params={"lang": lang}).text
        for word in words:
            assert word in html

    def test_a_bad_filter_is_named(self, client: TestClient, inspector: str) -> None:
        response = client.get("/branches/inspections", params={"since": "2026-13"})
        assert response.status_code == 422
        assert 'href="#f-since"' in response.text
        field = response.text.split('id="f-since"')[1].split(">")[0]
        assert 'value="2026-13"' in field
        assert 'aria-invalid="true"' in field

    def test_an_agent_gets_403(self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj1_agent")
        assert client.get("/branches/inspections").status_code == 403
        assert client.get("/branches/inspections/new").status_code == 403

    def test_a_handler_reads_but_may_not_record(self, client: TestClient,
                                                world: World) -> None:
        token = log_in(client, world.session, "bj_handler")
        html = client.get("/branches/inspections").text
        assert "网点检查与暗访" in html
        assert "/branches/inspections/new" not in html
        assert client.post("/branches/inspections/new",
                           data=form_data(world, token)).status_code == 403


class TestRecord:
    @pytest.mark.parametrize("lang", ["zh", "en"])
    def test_the_form_renders(self, client: TestClient, inspector: str, lang: str) -> None:
        html = client.get("/branches/inspections/new", params={"lang": lang}).text
        checklist = load_checklist()
        assert html.count('type="radio" name="r-') == 3 * len(checklist.codes())
        first = checklist.steps[0].items[0]
        assert (first.zh if lang == "zh" else first.en) in html
        assert 'enctype="multipart/form-data"' in html
        assert "BJ01" in html

    def test_records_a_visit_with_a_finding_and_a_photo(self, client: TestClient,
                                                        world: World, inspector: str) -> None:
        data = form_data(world, inspector, **{"r-greeting_words": "fail",
                                              "m-greeting_words": "未使用问候语",
                                              "r-env_self_service": "na"})
        response = client.post("/branches/inspections/new", data=data,
                               files={"photos": ("hall.png", PNG, "image/png")},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        page = client.get(response.headers["location"]).text
        assert "检查结果已提交。" in page
        checklist = load_checklist()
        applicable = sum(i.weight for _, i in checklist.items() if i.code != "env_self_service")
        expected = round(100 * (applicable - checklist.item("greeting_words").weight  # type: ignore[union-attr]
                                ) / applicable, 2)
        assert f"<strong>{expected:.1f}</strong>" in page
        assert "未使用问候语" in page
        assert "网点主任老王" in page
        assert "2026-09-24" in page
        photo = re.search(r'src="(/branches/photos/\d+)"', page)
        assert photo is not None
        image = client.get(photo.group(1))
        assert (image.status_code, image.headers["content-type"], image.content) == (
            200, "image/png", PNG)

        finding = world.session.scalars(select(InspectionFinding)).one()
        visit_id = finding.inspection_id
        close = client.post(f"/branches/inspections/{visit_id}/findings/{finding.id}/close",
                            data={"csrf_token": inspector}, follow_redirects=False)
        assert close.status_code == 303
        assert "整改事项已关闭。" in client.get(close.headers["location"]).text
        again = client.post(f"/branches/inspections/{visit_id}/findings/{finding.id}/close",
                            data={"csrf_token": inspector})
        assert again.status_code == 409
        listing = client.get("/branches/inspections").text
        assert f'data-inspection="{visit_id}"' in listing
        assert "2026-09" in listing

    @pytest.mark.parametrize(("changes", "status", "field", "words"), [
        ({"org": "<drop>"}, 422, "f-org", "请选择网点"),
        ({"visited_at": "昨天"}, 422, "f-visited_at", "检查时间"),
        ({"r-risk_fraud": "<drop>"}, 422, "i-risk_fraud", "防诈骗提示"),
        ({"r-identity_face": "maybe"}, 422, "i-identity_face", "人证比对一致"),
        ({"visited_at": "2099-01-01T10:00"}, 422, "f-visited_at", "检查时间"),
    ])
    def test_a_refused_visit_names_its_field(self, client: TestClient, world: World,
                                             inspector: str, changes: dict[str, str],
                                             status: int, field: str, words: str) -> None:
        data = form_data(world, inspector, **{"m-greeting_stand": "保留的备注", **changes})
        response = client.post("/branches/inspections/new", data=data)
        assert response.status_code == status
        assert f'href="#{field}"' in response.text
        assert words in response.text
        assert f'id="{field}"' in response.text
        assert "保留的备注" in response.text  # what was typed is kept
        assert world.session.scalar(select(Inspection.id)) is None

    def test_a_photo_that_is_not_an_image_is_refused(self, client: TestClient, world: World,
                                                     inspector: str) -> None:
        response = client.post("/branches/inspections/new", data=form_data(world, inspector),
                               files={"photos": ("x.png", b"MZ not an image", "image/png")})
        assert response.status_code == 422
        assert 'href="#f-photos"' in response.text
        assert world.session.scalar(select(Inspection.id)) is None

    def test_without_the_csrf_token_nothing_is_recorded(self, client: TestClient,
                                                        world: World, inspector: str) -> None:
        data = form_data(world, inspector, csrf_token="wrong")
        response = client.post("/branches/inspections/new", data=data)
        assert response.status_code == 403
        assert world.session.scalar(select(Inspection.id)) is None

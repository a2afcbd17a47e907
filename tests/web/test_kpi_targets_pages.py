"""The KPI targets screen (/admin/kpi-targets), through the whole app, on SQLite and
PostgreSQL: the targets in force per KPI, the form that sets one (each setting one history row
with the value before and after), refusals by their field, and who may do what."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.analytics.kpis import REGISTRY
from bankvoc.analytics.models import KpiTarget, KpiTargetChange
from bankvoc.orgs import admin
from tests.conftest import World, log_in
from tests.web.test_admin_pages import field_error, org_id

URL = "/admin/kpi-targets"


def targets(world: World) -> list[tuple[str, int | None, float]]:
    world.session.expire_all()
    return [(t.kpi, t.org_id, t.value)
            for t in world.session.scalars(select(KpiTarget).order_by(KpiTarget.id))]


def history(world: World) -> list[tuple[str, int | None, float | None, float, str, str]]:
    world.session.expire_all()
    return [(c.kpi, c.org_id, c.before_value, c.after_value, c.actor_username, c.note)
            for c in world.session.scalars(select(KpiTargetChange)
                                           .order_by(KpiTargetChange.id))]


def form(csrf: str, **values: str) -> dict[str, str]:
    return {"kpi": "on_time_rate", "scope": "bank", "value": "95", "valid_from": "2026-01",
            "note": "年度目标", "csrf_token": csrf, **values}


def other_client(client: TestClient, world: World, username: str, org: str,
                 roles: list[str]) -> tuple[TestClient, str]:
    """A second browser, logged in as a new user of `org` with `roles`; and its CSRF token."""
    admin.create_user(world.session, actor=None, username=username, display_name=username,
                      org_id=org_id(world, org), roles=roles)
    other = TestClient(client.app)
    return other, log_in(other, world.session, username)


class TestKpiTargetsList:
    def test_lists_every_kpi_in_chinese_with_the_form(self, client: TestClient,
                                                      demo: str) -> None:
        html = client.get(URL).text
        assert "<h1>KPI 目标</h1>" in html
        for code in ("complaints", "on_time_rate", "csat", "nps"):
            assert f'data-kpi="{code}"' in html
        assert REGISTRY["on_time_rate"].zh in html
        assert REGISTRY["csat"].zh in html
        assert '<label for="f-scope">适用机构' in html
        assert '<label for="f-valid_from">起始月份' in html
        assert 'name="csrf_token"' in html
        assert "<script>" not in html
        assert "style=" not in html

    def test_in_english(self, client: TestClient, demo: str) -> None:
        html = client.get(f"{URL}?lang=en").text
        assert "KPI targets" in html
        assert "Applies to" in html
        assert REGISTRY["on_time_rate"].en in html

    def test_the_admin_home_links_it(self, client: TestClient, demo: str) -> None:
        assert f'href="{URL}"' in client.get("/admin").text

    def test_a_reader_sees_the_targets_without_the_form(self, client: TestClient,
                                                        world: World) -> None:
        log_in(client, world.session, "bj_handler")
        html = client.get(URL).text
        assert 'data-kpi="csat"' in html
        assert 'action="/admin/kpi-targets"' not in html
        assert "您的角色只能查看目标，不能设定。" in html


class TestSetKpiTarget:
    def test_sets_a_bank_wide_target_and_records_it(self, client: TestClient, world: World,
                                                    demo: str) -> None:
        response = client.post(URL, data=form(demo), follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "目标已保存。" in html
        row = re.search(r'<tr data-kpi="on_time_rate">.*?</tr>', html, re.S)
        assert row is not None
        assert "95" in row.group(0)
        assert "2026-01" in row.group(0)
        assert '<tr data-change="kpi-target">' in html
        assert targets(world) == [("on_time_rate", None, 95.0)]
        assert history(world) == [("on_time_rate", None, None, 95.0, "admin", "年度目标")]

    def test_setting_it_again_keeps_the_value_before(self, client: TestClient, world: World,
                                                     demo: str) -> None:
        bj = str(org_id(world, "BJ"))
        client.post(URL, data=form(demo, scope=bj), follow_redirects=False)
        response = client.post(URL, data=form(demo, scope=bj, value="97.5", note="上调"),
                               follow_redirects=False)
        assert response.status_code == 303
        bj_id = int(bj)
        assert targets(world) == [("on_time_rate", bj_id, 97.5)]
        assert history(world) == [("on_time_rate", bj_id, None, 95.0, "admin", "年度目标"),
                                  ("on_time_rate", bj_id, 95.0, 97.5, "admin", "上调")]
        html = client.get(URL).text
        assert "北京分行 (BJ)" in html
        assert "上调" in html

    @pytest.mark.parametrize(("values", "status", "field", "message"), [
        ({"value": "abc"}, 422, "f-value", "请填写数字"),
        ({"value": "180"}, 422, "f-value", "0 到 100"),
        ({"value": ""}, 422, "f-value", "请填写此项"),
        ({"valid_from": "2026/01"}, 422, "f-valid_from", "YYYY-MM"),
        ({"kpi": "happiness"}, 422, "f-kpi", "请选择列表中的指标"),
        ({"scope": "999999"}, 404, "f-scope", "请选择您权限范围内的机构"),
    ])
    def test_a_refusal_names_the_field(self, client: TestClient, world: World, demo: str,
                                       values: dict[str, str], status: int, field: str,
                                       message: str) -> None:
        response = client.post(URL, data=form(demo, **values))
        assert response.status_code == status
        assert message in field_error(response.text, field)
        assert f'href="#{field}"' in response.text
        assert targets(world) == []
        assert history(world) == []

    def test_a_branch_user_cannot_set_a_bank_wide_target(self, client: TestClient,
                                                         world: World) -> None:
        other, csrf = other_client(client, world, "bj.analyst", "BJ", ["analyst"])
        page = other.get(URL).text
        assert 'value="bank"' not in page  # not offered
        response = other.post(URL, data=form(csrf))
        assert response.status_code == 403
        assert "只有总行可以设定全行目标" in field_error(response.text, "f-scope")
        assert targets(world) == []
        ok = other.post(URL, data=form(csrf, scope=str(org_id(world, "BJ01"))),
                        follow_redirects=False)
        assert ok.status_code == 303
        assert history(world)[0][4] == "bj.analyst"

    def test_a_branch_user_cannot_set_another_branchs_target(self, client: TestClient,
                                                            world: World) -> None:
        other, csrf = other_client(client, world, "bj.analyst", "BJ", ["analyst"])
        response = other.post(URL, data=form(csrf, scope=str(org_id(world, "SH"))))
        assert response.status_code == 404
        assert "请选择您权限范围内的机构" in field_error(response.text, "f-scope")
        assert targets(world) == []

    def test_a_role_without_kpi_manage_is_refused(self, client: TestClient,
                                                  world: World) -> None:
        csrf = log_in(client, world.session, "bj_handler")
        response = client.post(URL, data=form(csrf, scope=str(org_id(world, "BJ"))))
        assert response.status_code == 403
        assert targets(world) == []
        assert history(world) == []

    def test_a_form_without_its_csrf_token_is_refused(self, client: TestClient,
                                                      world: World, demo: str) -> None:
        data = form(demo)
        del data["csrf_token"]
        assert client.post(URL, data=data).status_code == 403
        assert targets(world) == []

"""The operational service-data page through the whole app (SQLite and PostgreSQL): the
figures, targets met or missed and the chart data in Chinese and English; a branch manager
sees their outlet's figures only; a bad parameter is named by its field (422)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from bankvoc.orgs import service as org_service
from tests.conftest import World, log_in
from tests.servicedata.conftest import load, ticket


@pytest.fixture
def figures(world: World) -> World:
    """October and September tickets at BJ01 (cash: waits 4 and 6 min, then 20 min) and SH01
    (personal: 2 min); a channel day at head office; BJ01's manager."""
    load(world, "queue", [
        ticket("A1", "2026-09-10 09:00", 4, 5), ticket("A2", "2026-09-10 09:05", 6, 5),
        ticket("A1", "2026-10-10 09:00", 20, 5),
        ticket("P1", "2026-10-10 09:00", 2, 5, org="SH01", business="personal")])
    load(world, "channel", [{"channel": "mobile_app", "day": "2026-10-01",
                             "availability_pct": 99.95, "response_avg_ms": 800}])
    s = world.session
    org_service.create_user(s, username="bj1_manager", display_name="网点主任",
                            org=org_service.get_org_by_code(s, code="BJ01"),
                            roles=["branch_manager"])
    s.commit()
    return world


def row(html: str, metric: str, group: str) -> str:
    found = re.search(rf'<tr data-metric="{metric}" data-group="{group}">(.*?)</tr>', html,
                      re.S)
    assert found, f"no row {metric}/{group}"
    return found.group(1)


def chart_data(html: str) -> list[dict[str, object]]:
    block = html.split('<script type="application/json" id="sd-data">')[1].split("</script>")[0]
    data: list[dict[str, object]] = json.loads(block)
    return data


class TestFigures:
    @pytest.mark.parametrize(("lang", "words"), [
        ("zh", ["运营服务数据", "网点排队", "平均等候时长", "现金业务", "未达标", "20.0 分钟"]),
        ("en", ["Operational service data", "Outlet queues", "Average wait", "Cash",
                "Missed", "20.0 min"]),
    ])
    def test_renders_in_both_languages(self, client: TestClient, figures: World, lang: str,
                                       words: list[str]) -> None:
        log_in(client, figures.session, "hq_admin")
        response = client.get("/service-data", params={"lang": lang, "to": "2026-10"})
        assert response.status_code == 200
        for word in words:
            assert word in response.text

    def test_the_latest_month_against_its_target_and_the_month_before(
            self, client: TestClient, figures: World) -> None:
        log_in(client, figures.session, "hq_admin")
        html = client.get("/service-data", params={"org": "BJ", "from": "2026-09",
                                                   "to": "2026-10"}).text
        cash = row(html, "queue_wait_avg", "cash")
        assert 'data-value="20.0"' in cash  # one ticket, 20 minutes
        assert "≤ 10.0 分钟" in cash
        assert 'data-met="no"' in cash
        assert "+15.0 分钟" in cash
        assert 'data-tone="bad"' in cash
        assert 'data-met="yes"' in row(html, "queue_handle_avg", "cash")  # 5 ≤ 5

    def test_the_charts_get_the_same_figures(self, client: TestClient,
                                             figures: World) -> None:
        log_in(client, figures.session, "hq_admin")
        html = client.get("/service-data", params={"from": "2026-09", "to": "2026-10"}).text
        charts = {c["id"]: c for c in chart_data(html)}
        queue = charts["sd-chart-queue"]
        assert queue["months"] == ["2026-09", "2026-10"]
        lines = {s["name"]: s["values"] for s in queue["series"]}  # type: ignore[attr-defined]
        assert lines["现金业务"] == [5.0, 20.0]
        assert lines["个人业务"] == [None, 2.0]
        assert queue["target"] == 10.0  # every business type's wait target is 10 minutes
        assert 'data-chart="lines"' in html
        assert "/static/vendor/echarts.min.js" in html


class TestOrgsSideBySide:
    def test_head_office_sees_its_branches_with_links(self, client: TestClient,
                                                      figures: World) -> None:
        log_in(client, figures.session, "hq_admin")
        html = client.get("/service-data", params={"from": "2026-09", "to": "2026-10"}).text
        assert "下级机构对比（2026-10）" in html
        bj = html.split('<tr data-org="BJ">')[1].split("</tr>")[0]
        assert 'href="/service-data?org=BJ&amp;from=2026-09&amp;to=2026-10&amp;lang=zh"' in bj
        assert "20.0 分钟" in bj  # BJ's one October ticket
        assert 'data-met="no"' in bj
        sh = html.split('<tr data-org="SH">')[1].split("</tr>")[0]
        assert "2.0 分钟" in sh
        assert '<tr data-org="PBC">' not in html  # no figure there

    def test_an_outlet_has_none_below(self, client: TestClient, figures: World) -> None:
        log_in(client, figures.session, "bj1_manager")
        assert 'id="sd-orgs"' not in client.get("/service-data").text


class TestScope:
    def test_a_branch_manager_sees_their_outlet_only(self, client: TestClient,
                                                     figures: World) -> None:
        log_in(client, figures.session, "bj1_manager")
        html = client.get("/service-data", params={"to": "2026-10"}).text
        assert "北京海淀支行 (BJ01)" in html
        row(html, "queue_wait_avg", "cash")
        assert 'data-group="personal"' not in html  # SH01's
        assert 'data-metric="channel_availability"' not in html  # head office's

    def test_an_org_outside_the_subtree_is_named_not_shown(self, client: TestClient,
                                                           figures: World) -> None:
        log_in(client, figures.session, "bj1_manager")
        response = client.get("/service-data", params={"org": "SH01"})
        assert response.status_code == 422
        assert 'href="#f-org"' in response.text
        assert "no org &#39;SH01&#39; in your scope" in response.text
        assert 'data-metric=' not in response.text

    def test_an_agent_sees_their_subtree_too(self, client: TestClient, figures: World) -> None:
        log_in(client, figures.session, "bj1_agent")
        assert client.get("/service-data", params={"to": "2026-10"}).status_code == 200


class TestBadParameters:
    @pytest.mark.parametrize(("params", "field", "detail"), [
        ({"from": "2026-13"}, "f-from", "is not a month"),
        ({"to": "October"}, "f-to", "is not a month"),
        ({"from": "2026-10", "to": "2026-09"}, "f-to", "before the first"),
        ({"from": "2020-01", "to": "2026-10"}, "f-from", "at most 36 months"),
    ])
    def test_a_bad_parameter_is_named(self, client: TestClient, figures: World,
                                      params: dict[str, str], field: str, detail: str) -> None:
        log_in(client, figures.session, "hq_admin")
        response = client.get("/service-data", params=params)
        assert response.status_code == 422
        assert f'href="#{field}"' in response.text
        assert detail in response.text
        control = response.text.split(f'id="{field}"')[1].split(">")[0]
        assert 'aria-invalid="true"' in control
        name = field.removeprefix("f-")
        assert f'value="{params[name]}"' in control  # as typed

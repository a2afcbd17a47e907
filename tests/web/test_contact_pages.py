"""The contact-centre dashboard through the whole app (SQLite and PostgreSQL): its figures are
`contact.kpis`' for the same data (headline, each team, agent and queue), each viewer sees their
own org subtree, the ranking follows the column chosen, the period before is compared, a bad
choice is named by its field (422, never a 500), and the page is for the roles that may see it,
in Chinese and English."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from bankvoc.contact import interactions, kpis
from bankvoc.core import configstore
from bankvoc.orgs import service as org_service
from tests.conftest import World, log_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = {"from": "2026-10-01", "to": "2026-10-07"}
HEADLINE = ("interactions", "service_level", "connect_rate", "abandonment_rate", "asa_s",
            "aht_s", "fcr", "satisfied_rate")


def add(world: World, source_id: str, **fields: Any) -> None:
    values = {"source_id": source_id, "agent": "A1", "team": "一组", "queue": "信用卡",
              "org": "PBC", "started_at": "2026-10-01 10:00", "answered": "1",
              "wait_s": "10", "talk_s": "100", **fields}
    data = interactions.parse({k: v for k, v in values.items() if v is not None},
                              source_system="acd")
    interactions.store(world.session, actor=world.actor("hq_admin"), data=data)


@pytest.fixture
def calls(world: World) -> World:
    """The phone-banking centre (PBC): two teams over the first week of October, a repeat
    contact, ratings, one call the week before; and two calls of a Beijing outlet's hotline."""
    s = world.session
    pbc = org_service.get_org_by_code(s, code="PBC")
    bj = org_service.get_org_by_code(s, code="BJ")
    org_service.create_user(s, username="pbc_lead", display_name="组长", org=pbc,
                            roles=["team_lead"])
    org_service.create_user(s, username="pbc_agent", display_name="坐席", org=pbc,
                            roles=["agent"])
    org_service.create_user(s, username="bj_manager", display_name="行长", org=bj,
                            roles=["branch_manager"])
    add(world, "C1", wait_s="5", csat="5", phone="13800000001", issue_key="card/fee")
    add(world, "C2", wait_s="30", talk_s="200", hold_s="20", csat="3", transferred="1",
        started_at="2026-10-02 15:00")
    add(world, "C3", answered="0", abandoned="1", wait_s="70", agent=None,
        started_at="2026-10-02 15:05")
    # the customer of C1 calls again on the same issue two days later: C1 is no FCR
    add(world, "C4", agent="A2", wait_s="12", phone="13800000001", issue_key="card/fee",
        started_at="2026-10-03 09:00", csat="4")
    add(world, "C5", agent="B1", team="二组", queue="借记卡", wait_s="40", talk_s="300",
        started_at="2026-10-05 11:00", phone="13800000002", csat="2")
    add(world, "C6", agent="B1", team="二组", queue="借记卡", routed_to_agent="0",
        answered="0", started_at="2026-10-06 20:00")
    add(world, "P1", wait_s="50", started_at="2026-09-28 10:00")  # the week before
    add(world, "B1", org="BJ01", agent="BJ9", team="北京热线", queue="综合",
        started_at="2026-10-04 10:00")
    add(world, "B2", org="BJ01", agent="BJ9", team="北京热线", queue="综合", answered="0",
        abandoned="1", started_at="2026-10-04 10:30")
    return world


def figures(html: str, kpi: str) -> list[str]:
    """The raw values (`data-value`) of a KPI's cells, in page order."""
    return re.findall(rf'data-kpi="{kpi}"[^>]*data-value="([^"]*)"', html)


def tile(html: str, kpi: str) -> str:
    """The raw value of a headline tile."""
    part = html.split('<li class="kpi-card', 1)[1]
    found = re.search(rf'data-kpi="{kpi}">.*?data-value="([^"]*)"', part, re.S)
    assert found is not None, kpi
    return found.group(1)


def text(value: Any) -> str:
    return "" if value is None else str(value)


def expected(world: World, username: str, **options: Any) -> list[dict[str, Any]]:
    rows = kpis.report(world.session, actor=world.actor(username), tz=SHANGHAI,
                       start=date(2026, 10, 1), end=date(2026, 10, 7), **options)
    return [row.as_dict() for row in rows]


class TestFigures:
    def test_the_headline_is_the_kpis_of_the_period(self, client: TestClient,
                                                    calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params=PERIOD).text
        (row,) = expected(calls, "pbc_lead")
        for kpi in HEADLINE:
            assert tile(html, kpi) == text(row[kpi]), kpi
        # worked by hand: 6 calls; routed 5 (C6 stayed in the IVR), answered 4, abandoned 1
        assert (row["interactions"], row["connect_rate"], row["abandonment_rate"]) == (
            6, 0.8, 0.2)
        # answered within 20 s: C1 (5 s), C4 (12 s); not C2 (30 s), C5 (40 s)
        assert row["service_level"] == 0.5
        # known customers answered: C1, C4, C5; C1 was followed by C4 on the same issue
        assert row["fcr"] == round(2 / 3, 4)
        # ratings 5, 3, 4, 2: two of four are 4 or 5
        assert row["satisfied_rate"] == 0.5

    def test_the_targets_are_shown_met_or_missed(self, client: TestClient,
                                                 calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params=PERIOD).text
        # service level 50% against ≥ 80%: missed; ASA (5+30+12+40)/4 = 21.75 s against ≤ 20
        for kpi in ("service_level", "asa_s", "abandonment_rate"):
            card = html.split(f'data-kpi="{kpi}">', 1)[1].split("</li>", 1)[0]
            assert 'data-met="no"' in card, kpi
        card = html.split('data-kpi="aht_s">', 1)[1].split("</li>", 1)[0]
        assert 'data-met="yes"' in card  # (110 + 220 + 100 + 300) / 4 = 182.5 s ≤ 300
        assert "目标 ≥ 80.0%" in html

    @pytest.mark.parametrize("by", ["team", "agent", "queue"])
    def test_each_row_of_the_cut_is_the_kpis_of_its_group(self, client: TestClient,
                                                          calls: World, by: str) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params={**PERIOD, "by": by}).text
        ranking = html.split('class="data compact cc-ranking"', 1)[1]
        for row in expected(calls, "pbc_lead", by=by):
            key = row["group"] or ""
            line = ranking.split(f'data-group="{key}"', 1)[1].split("</tr>", 1)[0]
            for kpi in ("interactions", "service_level", "abandonment_rate", "fcr", "csat"):
                assert figures(line, kpi) == [text(row[kpi])], (key, kpi)

    def test_the_period_before_is_compared(self, client: TestClient, calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params=PERIOD).text
        assert "上一期 2026-09-24 至 2026-09-30" in html
        card = html.split('data-kpi="interactions">', 1)[1].split("</li>", 1)[0]
        assert "+5" in card  # 6 calls against P1 alone
        assert 'data-tone="none"' in card  # more calls are neither good nor bad news
        card = html.split('data-kpi="asa_s">', 1)[1].split("</li>", 1)[0]
        # ASA 21.75 s against 50 s before: 28.2 s shorter, good news
        assert "−28.2 秒" in card
        assert 'data-tone="good"' in card

    def test_the_daily_trend_has_every_day_of_the_period(self, client: TestClient,
                                                         calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params=PERIOD).text
        days = re.findall(r'<tr data-day="([0-9-]+)"><th scope="row">[0-9-]+</th>'
                          r'<td class="num">(\d+)</td>', html)
        assert days == [("2026-10-01", "1"), ("2026-10-02", "2"), ("2026-10-03", "1"),
                        ("2026-10-04", "0"), ("2026-10-05", "1"), ("2026-10-06", "1"),
                        ("2026-10-07", "0")]
        assert '"days": ["2026-10-01"' in html
        assert '"contact_trend"' in html


class TestRanking:
    def test_ranked_best_first_by_the_column_chosen(self, client: TestClient,
                                                    calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        by_sl = client.get("/contact", params={**PERIOD, "by": "agent"}).text
        # service level: A1 1 of 2 (C1 5 s, C2 30 s), A2 1 of 1, B1 0 of 1; the calls no agent
        # answered come last, unranked
        assert re.findall(r'<tr data-group="([^"]*)">', by_sl) == ["A2", "A1", "B1", ""]
        by_aht = client.get("/contact", params={**PERIOD, "by": "agent",
                                                "sort": "aht_s"}).text
        # handling: A2 100 s, A1 (110 + 220) / 2 = 165 s, B1 300 s: shortest first
        assert re.findall(r'<tr data-group="([^"]*)">', by_aht) == ["A2", "A1", "B1", ""]
        assert 'aria-sort="ascending"' in by_aht
        by_volume = client.get("/contact", params={**PERIOD, "by": "agent",
                                                   "sort": "interactions"}).text
        assert re.findall(r'<tr data-group="([^"]*)">', by_volume)[0] == "A1"
        assert 'aria-sort="descending"' in by_volume

    def test_an_agent_who_is_a_user_is_shown_by_name(self, client: TestClient,
                                                      calls: World) -> None:
        add(calls, "N1", agent="pbc_agent", started_at="2026-10-10 10:00")
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params={"from": "2026-10-10", "to": "2026-10-10",
                                              "by": "agent"}).text
        line = html.split('<tr data-group="pbc_agent">', 1)[1].split("</tr>", 1)[0]
        assert '<th scope="row">坐席 <span class="muted small mono">pbc_agent</span></th>' in line


class TestScope:
    def test_a_branch_user_sees_only_its_subtree(self, client: TestClient,
                                                 calls: World) -> None:
        log_in(client, calls.session, "bj_manager")
        html = client.get("/contact", params=PERIOD).text
        (row,) = expected(calls, "bj_manager")
        assert row["interactions"] == 2
        assert tile(html, "interactions") == "2"
        assert tile(html, "abandonment_rate") == "0.5"
        assert re.findall(r'<tr data-group="([^"]*)">', html) == ["北京热线"]
        assert "一组" not in html
        scope = html.split('id="cc-scope">', 1)[1].split("</p>", 1)[0]
        assert scope.startswith("北京分行 (BJ) · 2026-10-01 至 2026-10-07")

    def test_head_office_cuts_an_org_s_subtree(self, client: TestClient, calls: World) -> None:
        log_in(client, calls.session, "hq_admin")
        everything = client.get("/contact", params=PERIOD).text
        assert tile(everything, "interactions") == "8"
        beijing = client.get("/contact", params={**PERIOD, "org": "BJ"}).text
        assert tile(beijing, "interactions") == "2"

    def test_an_org_outside_the_subtree_is_named(self, client: TestClient,
                                                 calls: World) -> None:
        log_in(client, calls.session, "bj_manager")
        response = client.get("/contact", params={**PERIOD, "org": "PBC"})
        assert response.status_code == 422
        assert 'href="#f-org"' in response.text
        assert "outside your scope" in response.text
        assert "data-kpi" not in response.text  # nothing of the centre leaks out


class TestBadChoices:
    @pytest.mark.parametrize(("params", "name", "words"), [
        ({"from": "2026-13-01"}, "from", "is not a day"),
        ({"to": "yesterday"}, "to", "is not a day"),
        ({"from": "2026-10-07", "to": "2026-10-01"}, "to", "ends before it starts"),
        ({"from": "2024-01-01", "to": "2026-10-01"}, "from", "at most 366 days"),
        ({"by": "colour"}, "by", "is not a cut"),
        ({"sort": "mood"}, "sort", "is not a column"),
        ({"org": "NOPE"}, "org", "no org with code"),
    ])
    def test_a_bad_choice_is_named_not_a_500(self, client: TestClient, calls: World,
                                             params: dict[str, str], name: str,
                                             words: str) -> None:
        log_in(client, calls.session, "pbc_lead")
        response = client.get("/contact", params={**PERIOD, **params})
        assert response.status_code == 422
        assert f'href="#f-{name}"' in response.text
        assert words in response.text
        control = response.text.split(f'id="f-{name}"', 1)[1].split(">", 1)[0]
        assert 'aria-invalid="true"' in control


class TestAccess:
    def test_an_agent_gets_403_and_no_link(self, client: TestClient, calls: World) -> None:
        log_in(client, calls.session, "pbc_agent")
        assert client.get("/contact").status_code == 403
        assert 'href="/contact"' not in client.get("/cases").text

    def test_a_team_lead_has_the_link(self, client: TestClient, calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")
        assert 'href="/contact"' in client.get("/cases").text

    @pytest.mark.parametrize(("lang", "words"), [
        ("zh", ["呼叫中心看板", "服务水平", "首次解决率", "分班组指标排名"]),
        ("en", ["Contact-centre dashboard", "Service level", "First-contact resolution",
                "Ranking by Team"]),
    ])
    def test_in_both_languages(self, client: TestClient, calls: World, lang: str,
                               words: list[str]) -> None:
        log_in(client, calls.session, "pbc_lead")
        html = client.get("/contact", params={**PERIOD, "lang": lang}).text
        for word in words:
            assert word in html


class TestTargetsInForce:
    """The targets and the window are the contact_targets version in force: edited and
    activated on the configuration screens, the dashboard holds the figures to them at once."""

    @pytest.fixture(autouse=True)
    def _fresh_view(self) -> Iterator[None]:
        configstore.reset()
        yield
        configstore.reset()

    def activate(self, client: TestClient, demo: str, old: str, new: str) -> None:
        page = client.get("/admin/config/contact_targets/edit").text
        found = re.search(r'<textarea id="f-content"[^>]*>(.*?)</textarea>', page, re.S)
        assert found is not None
        content = markup.unescape(found.group(1))
        assert content.count(old) == 1, old
        saved = client.post("/admin/config/contact_targets/versions", follow_redirects=False,
                            data={"content": content.replace(old, new), "note": "新目标",
                                  "based_on": "0", "csrf_token": demo})
        assert saved.status_code == 303, saved.text
        version = saved.headers["location"].split("/versions/", 1)[1].split("?", 1)[0]
        activated = client.post(f"/admin/config/contact_targets/versions/{version}/activate",
                                data={"note": "新目标", "csrf_token": demo},
                                follow_redirects=False)
        assert activated.status_code == 303, activated.text

    def card(self, html: str, kpi: str) -> str:
        return html.split(f'data-kpi="{kpi}">', 1)[1].split("</li>", 1)[0]

    def test_a_target_changed_turns_met_into_missed(self, client: TestClient, calls: World,
                                                    demo: str) -> None:
        params = {**PERIOD, "org": "PBC"}
        before = self.card(client.get("/contact", params=params).text, "aht_s")
        assert 'data-met="yes"' in before  # 182.5 s ≤ 300 s
        assert "目标 ≤ 300.0 秒" in before
        self.activate(client, demo, "aht_s: {target: 300, better: lower}",
                      "aht_s: {target: 150, better: lower}")
        html = client.get("/contact", params=params).text
        after = self.card(html, "aht_s")
        assert 'data-met="no"' in after
        assert "目标 ≤ 150.0 秒" in after
        source = html.split('id="cc-targets">', 1)[1].split("</p>", 1)[0]
        assert source == ('<a href="/admin/config/contact_targets">目标与服务水平时限：'
                          '呼叫中心指标目标（第 1 版）</a>')

    def test_the_page_says_where_the_targets_come_from(self, client: TestClient,
                                                       calls: World) -> None:
        log_in(client, calls.session, "pbc_lead")  # may not read the configuration
        html = client.get("/contact", params={**PERIOD, "lang": "en"}).text
        source = html.split('id="cc-targets">', 1)[1].split("</p>", 1)[0]
        assert source == ("Targets and service-level window: contact-centre targets, "
                          "the file")

    def test_the_service_level_is_counted_with_the_window_in_force(
        self, client: TestClient, calls: World, demo: str
    ) -> None:
        params = {**PERIOD, "org": "PBC"}
        html = client.get("/contact", params=params).text
        assert tile(html, "service_level") == "0.5"  # C1 5 s, C4 12 s of 4 within 20 s
        assert "20 秒内接通" in self.card(html, "service_level")
        self.activate(client, demo, "service_level_seconds: 20", "service_level_seconds: 30")
        html = client.get("/contact", params=params).text
        assert tile(html, "service_level") == "0.75"  # and C2 (30 s); not C5 (40 s)
        assert "30 秒内接通" in self.card(html, "service_level")

    def test_a_queue_s_own_target_holds_its_row(self, client: TestClient, calls: World,
                                                 demo: str) -> None:
        params = {**PERIOD, "org": "PBC", "by": "queue"}

        def missed(html: str, queue: str) -> bool:
            line = html.split(f'<tr data-group="{queue}">', 1)[1].split("</tr>", 1)[0]
            cell = line.split('data-kpi="service_level"', 1)[0].rsplit("<td", 1)[1]
            return "cell-missed" in cell

        html = client.get("/contact", params=params).text
        # 信用卡: C1 5 s, C2 30 s, C4 12 s: 2 of 3 within 20 s, below the bank's 80%
        assert (missed(html, "信用卡"), missed(html, "借记卡")) == (True, True)
        self.activate(client, demo, "queues: {}",
                      "queues:\n  信用卡:\n    service_level: {target: 60}")
        html = client.get("/contact", params=params).text
        assert (missed(html, "信用卡"), missed(html, "借记卡")) == (False, True)
        assert "目标 ≥ 80.0%" in self.card(html, "service_level")  # the scope's own

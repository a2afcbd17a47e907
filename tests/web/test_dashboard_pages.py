"""The dashboard and its drill-down, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.alerts.models import Alert
from bankvoc.analytics import service as analytics
from bankvoc.core.settings import get_settings
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from bankvoc.nlp.taxonomy import load_taxonomy
from bankvoc.orgs import service as org_service
from bankvoc.web.dashboard_pages import (
    PeriodForm,
    change,
    last_complete_month,
    number,
    quarter_choices,
    trend_period,
)
from bankvoc.web.present import Labeller
from tests.conftest import World, auth

MONTH = "2026-03"
# (text, org, category, received): six complaints in March 2026, one in February.
CASES: list[tuple[str, str, str, datetime]] = [
    ("信用卡年费被重复扣收两次，要求退还年费", "BJ01", "fee_dispute", datetime(2026, 3, 2, 9)),
    ("信用卡分期手续费没有提前告知", "BJ", "fee_dispute", datetime(2026, 3, 4, 10)),
    ("账户管理费莫名其妙被扣", "SH", "fee_dispute", datetime(2026, 3, 6, 11)),
    ("手机银行登录一直闪退", "BJ", "system_failure", datetime(2026, 3, 9, 23)),
    ("柜员态度冷漠，问了几遍都不理睬", "SH01", "service_attitude", datetime(2026, 3, 12, 15)),
    ("网点排队时间太长", "SH", "process_waiting", datetime(2026, 3, 20, 10)),
    ("转账到账太慢", "BJ", "system_failure", datetime(2026, 2, 10, 10)),
]


@pytest.fixture
def cases(world: World) -> dict[str, str]:
    """The cases above registered through intake, the roll-up refreshed."""
    references = {}
    for i, (text, org, category, received) in enumerate(CASES):
        draft = register_case(world.session, actor=world.actor("hq_admin"), data=CaseCreate(
            text=text, org=org, category=category, channel="hotline", received_at=received,
            customer_name="张三", customer_phone=f"1381234{i:04d}"))
        assert draft.error is None, draft.error
        assert draft.reference is not None
        references[text] = draft.reference
    analytics.refresh_rollup(world.session)
    world.session.commit()
    return references


def card_value(html: str, kpi: str) -> str:
    found = re.search(rf'data-kpi="{kpi}".*?class="kpi-figure"[^>]*>([^<]*)</a>', html, re.S)
    assert found is not None, kpi
    return found.group(1)


def drill_links(html: str) -> dict[str, str]:
    """Category label -> its drill-down link, from the accessible share table."""
    return {label: href.replace("&amp;", "&") for href, label in
            re.findall(r'<a href="([^"]+)" class="drill">([^<]+)</a>', html)}


def rows_of(html: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="/cases/([^"]+)">', html)


def chart_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="dash-data">(.*?)</script>', html,
                      re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.mark.usefixtures("demo")
class TestDashboard:
    def test_headline_figures_are_the_services(self, client: TestClient, world: World,
                                               cases: dict[str, str]) -> None:
        response = client.get(f"/dashboard?period={MONTH}")
        assert response.status_code == 200
        html = response.text
        assert '<html lang="zh-CN">' in html
        assert "客户之声看板" in html
        reports = analytics.headline(world.session, actor=world.actor("hq_admin"),
                                     period=MONTH)
        lab = Labeller(lang="zh", tz=get_settings().tz, taxonomy=load_taxonomy())
        for report in reports:
            assert card_value(html, report.kpi.code) == number(report.figure.value,
                                                               report.kpi.unit, lab)
        assert card_value(html, "complaints") == "6"  # by hand: six in March
        # February had one: six against one is up five, which is bad news for complaints.
        assert re.search(r'data-kpi="complaints".*?data-change="previous" data-tone="bad">'
                         r'环比 <span class="arrow" aria-hidden="true">▲</span>', html, re.S)

    def test_category_shares_link_to_their_cases(self, client: TestClient,
                                                 cases: dict[str, str]) -> None:
        html = client.get(f"/dashboard?period={MONTH}").text
        links = drill_links(html)
        assert set(links) == {"收费争议", "系统故障", "服务态度", "流程繁琐与等待"}
        fee = client.get(links["收费争议"])
        assert fee.status_code == 200
        assert sorted(rows_of(fee.text)) == sorted(
            cases[text] for text, _, category, received in CASES
            if category == "fee_dispute" and received.month == 3)
        assert '<strong id="drill-figure">3</strong>' in fee.text
        assert "13812340000" not in fee.text  # masked
        assert "138****0000" in fee.text
        data = chart_data(html)
        assert {item["name"]: item["value"] for item in data["share"]["items"]} == {
            "收费争议": 3, "系统故障": 1, "服务态度": 1, "流程繁琐与等待": 1}
        assert data["trend"]["months"][-1] == MONTH
        assert data["trend"]["complaints"]["values"][-2:] == [1, 6]

    def test_the_page_loads_its_scripts_from_the_package_only(
            self, client: TestClient, cases: dict[str, str]) -> None:
        response = client.get(f"/dashboard?period={MONTH}")
        scripts = re.findall(r"<script([^>]*)>", response.text)
        assert all('type="application/json"' in s or 'src="/static/' in s for s in scripts)
        assert any("/static/vendor/echarts.min.js" in s for s in scripts)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert client.get("/static/charts.js").status_code == 200

    def test_a_quarter_and_a_range_are_periods_too(self, client: TestClient,
                                                   cases: dict[str, str]) -> None:
        quarter = client.get("/dashboard?kind=quarter&quarter=2026-Q1")
        assert card_value(quarter.text, "complaints") == "7"
        days = client.get("/dashboard?kind=range&from=2026-03-01&to=2026-03-05")
        assert card_value(days.text, "complaints") == "2"

    @pytest.mark.parametrize(("query", "field"), [
        ("kind=month&month=2026-13", "f-month"),
        ("kind=range&from=2026-03-09&to=2026-03-01", "f-from"),
        ("kind=range&from=2026-03-09", "f-to"),
        ("period=2026-03&org=NOPE", "f-org"),
    ])
    def test_a_bad_period_or_org_is_explained_by_the_picker(self, client: TestClient,
                                                            query: str, field: str) -> None:
        response = client.get(f"/dashboard?{query}")
        assert response.status_code == 422
        assert f'<a href="#{field}">' in response.text
        assert "kpi-card" not in response.text

    def test_a_branch_user_sees_only_their_subtree(self, client: TestClient, world: World,
                                                   cases: dict[str, str]) -> None:
        html = client.get(f"/dashboard?period={MONTH}", headers=auth(world, "bj_handler")).text
        assert card_value(html, "complaints") == "3"  # BJ01, BJ, BJ in March
        assert set(drill_links(html)) == {"收费争议", "系统故障"}
        assert "上海" not in html.split('id="f-org"')[1].split("</select>")[0]
        refused = client.get(f"/dashboard?period={MONTH}&org=SH",
                             headers=auth(world, "bj_handler"))
        assert refused.status_code == 422

    def test_in_english(self, client: TestClient, cases: dict[str, str]) -> None:
        html = client.get(f"/dashboard?period={MONTH}&lang=en").text
        assert '<html lang="en">' in html
        assert "Headline KPIs" in html
        lab = Labeller(lang="en", tz=get_settings().tz, taxonomy=load_taxonomy())
        assert f'class="drill">{lab.term("category", "fee_dispute")}</a>' in html
        assert "vs previous" in html


@pytest.mark.usefixtures("demo")
class TestDrillDown:
    def test_pages_with_more(self, client: TestClient, cases: dict[str, str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
        from bankvoc.web import dashboard_pages

        monkeypatch.setattr(dashboard_pages, "DRILL_PAGE", 4)
        first = client.get(f"/dashboard/cases?kpi=complaints&period={MONTH}")
        assert len(rows_of(first.text)) == 4
        more = re.search(r'<a class="button" href="([^"]+)" rel="next">更多</a>', first.text)
        assert more is not None
        second = client.get(more.group(1).replace("&amp;", "&"))
        assert len(rows_of(second.text)) == 2
        assert not set(rows_of(first.text)) & set(rows_of(second.text))

    def test_exports_csv_with_personal_data_masked(self, client: TestClient,
                                                   cases: dict[str, str]) -> None:
        response = client.get(f"/dashboard/cases.csv?kpi=complaints&period={MONTH}"
                              "&category=fee_dispute")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(table) == 1 + 3
        assert "13812340000" not in response.content.decode("utf-8-sig")

    def test_exports_xlsx(self, client: TestClient, cases: dict[str, str]) -> None:
        response = client.get(f"/dashboard/cases.xlsx?kpi=complaints&period={MONTH}")
        assert response.status_code == 200
        assert response.content[:2] == b"PK"

    def test_an_unknown_kpi_is_explained(self, client: TestClient) -> None:
        response = client.get(f"/dashboard/cases?kpi=nope&period={MONTH}")
        assert response.status_code == 422
        assert "无法列出该指标的工单" in response.text


@pytest.mark.usefixtures("demo")
class TestAlertsAndRisk:
    def test_an_open_alert_is_shown_and_acknowledged(self, client: TestClient, world: World,
                                                     cases: dict[str, str], demo: str) -> None:
        alert = Alert(kind="hot_issue", dimension="category", key="fee_dispute", org_id=None,
                      day=date(2026, 3, 20), observed=9, expected=2.0, ratio=4.5,
                      p_value=0.0004, score=4.2, case_ids=[], words=[],
                      label="热点问题 · 收费争议 · 全行", detail={}, status="open",
                      dedupe_key="test:fee")
        world.session.add(alert)
        world.session.commit()
        html = client.get(f"/dashboard?period={MONTH}").text
        assert "热点问题 · 收费争议 · 全行" in html
        assert "p 值 &lt;0.001" in html
        done = client.post(f"/dashboard/alerts/{alert.id}/acknowledge",
                           data={"note": "已通知信用卡中心", "back": f"period={MONTH}",
                                 "csrf_token": demo},
                           follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == (f"/dashboard?period={MONTH}"
                                            f"&acknowledged={alert.id}#ack-done")
        after = client.get(done.headers["location"]).text
        assert f"预警 {alert.id} 已确认" in after
        assert "热点问题 · 收费争议 · 全行" not in after
        world.session.expire_all()
        stored = world.session.scalar(select(Alert).where(Alert.id == alert.id))
        assert stored is not None
        assert stored.status == "acknowledged"
        again = client.post(f"/dashboard/alerts/{alert.id}/acknowledge",
                            data={"csrf_token": demo})
        assert again.status_code == 409

    def test_cases_past_or_near_their_deadline_are_at_risk(self, client: TestClient,
                                                           world: World) -> None:
        old = register_case(world.session, actor=world.actor("hq_admin"), data=CaseCreate(
            text="理财到期本金没有到账", org="BJ",
            received_at=datetime.now() - timedelta(days=40)))
        new = register_case(world.session, actor=world.actor("hq_admin"), data=CaseCreate(
            text="网点排队时间太长", org="BJ"))
        world.session.commit()
        html = client.get("/dashboard").text
        section = html.split('id="at-risk"')[1]
        assert old.reference is not None
        assert new.reference is not None
        assert f'<a href="/cases/{old.reference}">' in section
        assert new.reference not in section
        assert 'data-due="overdue"' in section


class TestPieces:
    def test_the_default_period_is_the_last_complete_month(self) -> None:
        assert last_complete_month(date(2026, 1, 15)) == "2025-12"
        assert PeriodForm.from_query({}, today=date(2026, 5, 2)).period == "2026-04"
        assert quarter_choices(date(2026, 5, 2))[:2] == ["2026-Q2", "2026-Q1"]

    def test_links_round_trip(self) -> None:
        for text in ("2026-03", "2026-Q1", "2026-01-01..2026-02-15"):
            assert PeriodForm.from_query({"period": text}, today=date(2026, 5, 2)).period == text

    def test_the_trend_is_twelve_months_to_the_period(self) -> None:
        form = PeriodForm.from_query({"period": "2026-Q1"}, today=date(2026, 5, 2))
        from bankvoc.analytics.periods import parse_period

        months = trend_period(parse_period(form.period)).month_starts()
        assert (months[0], months[-1], len(months)) == (date(2025, 4, 1), date(2026, 3, 1), 12)

    @pytest.mark.parametrize(("value", "better", "arrow", "tone"), [
        (2.0, "higher", "up", "good"), (2.0, "lower", "up", "bad"),
        (-1.0, "lower", "down", "good"), (0.0, "lower", "flat", "flat"),
        (None, "lower", "none", "none"),
    ])
    def test_arrows_are_coloured_by_the_better_direction(
            self, value: float | None, better: str, arrow: str, tone: str) -> None:
        lab = Labeller(lang="zh", tz=get_settings().tz, taxonomy=load_taxonomy())
        found = change(value, "percent", better, lab)
        assert (found.arrow, found.tone) == (arrow, tone)

    def test_the_org_picker_lists_the_subtree(self, world: World) -> None:
        from bankvoc.web.dashboard_pages import org_choices

        lab = Labeller(lang="zh", tz=get_settings().tz, taxonomy=load_taxonomy())
        codes = [c.value for c in org_choices(world.session, world.actor("bj_handler"), lab)]
        assert codes == ["BJ", "BJ01"]
        assert org_service.get_org_by_code(world.session, code="SH").code not in codes

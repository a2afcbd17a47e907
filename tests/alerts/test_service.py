"""The daily early-warning scan, the alert list and acknowledgement (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import select

from bankvoc.alerts import service
from bankvoc.alerts.models import Alert
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.core.settings import reset_settings
from bankvoc.notify.models import Notification
from bankvoc.orgs import service as org_service
from tests.alerts.factory import NOW, SCAN_DAY, add_cases, case_row, quiet_month
from tests.conftest import World

SPIKE_TEXT = "信用卡年费被重复扣款两次，要求退还多扣的年费"


def org_id(world: World, code: str) -> int:
    return org_service.get_org_by_code(world.session, code=code).id


def officers(world: World) -> None:
    hq = org_service.get_org_by_code(world.session, code="HQ")
    org_service.create_user(world.session, username="hq_cpo", display_name="cpo", org=hq,
                            roles=["cpo"], email="cpo@bank.example")
    org_service.create_user(world.session, username="hq_cpo2", display_name="cpo2", org=hq,
                            roles=["cpo"])  # no work address on file
    sh = org_service.get_org_by_code(world.session, code="SH")
    org_service.create_user(world.session, username="sh_lead", display_name="lead", org=sh,
                            roles=["team_lead"])
    bj = org_service.get_org_by_code(world.session, code="BJ")
    org_service.create_user(world.session, username="bj_lead", display_name="lead", org=bj,
                            roles=["team_lead"])


def quiet(world: World) -> None:
    officers(world)
    add_cases(world.session, quiet_month([org_id(world, "BJ01"), org_id(world, "SH01")]))


def plant_spike(world: World, extra: int = 25) -> list[int]:
    rows = [case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY, category="business_error",
                     product="credit_card", text=f"{SPIKE_TEXT}，第{i}位客户", hour=9 + i % 9)
            for i in range(extra)]
    return add_cases(world.session, rows)


def hot(world: World) -> list[Alert]:
    return list(world.session.scalars(select(Alert).where(Alert.kind == "hot_issue")))


class TestScan:
    def test_a_planted_spike_at_one_org_is_found_with_its_typical_cases(
        self, world: World
    ) -> None:
        quiet(world)
        planted = set(plant_spike(world))
        report = service.scan(world.session, day=SCAN_DAY, now=NOW)
        alerts = {(a.dimension, a.key, a.org_id): a for a in hot(world)}
        spike = alerts[("org_category", "business_error", org_id(world, "BJ01"))]
        assert spike.day == SCAN_DAY
        assert spike.observed >= 25
        assert spike.expected is not None
        assert spike.expected < 8
        assert spike.ratio is not None
        assert spike.ratio > 3
        assert spike.p_value is not None
        assert spike.p_value < 1e-6
        assert len(spike.case_ids) == 3
        assert set(spike.case_ids) <= planted
        # The branch above it sees it too; Shanghai, where nothing happened, does not.
        assert ("org_category", "business_error", org_id(world, "BJ")) in alerts
        assert not any(key[2] in (org_id(world, "SH"), org_id(world, "SH01"))
                       for key in alerts)
        assert report.found["hot_issue"] == len(alerts)
        assert report.series_tested > 0

    def test_a_quiet_month_raises_no_hot_issue(self, world: World) -> None:
        quiet(world)
        for day in (SCAN_DAY - timedelta(days=i) for i in range(7)):
            report = service.scan(world.session, day=day, now=NOW)
            assert report.found["hot_issue"] == 0, day
        assert hot(world) == []

    def test_a_rerun_stores_and_queues_nothing_more(self, world: World) -> None:
        quiet(world)
        plant_spike(world)
        first = service.scan(world.session, day=SCAN_DAY, now=NOW)
        second = service.scan(world.session, day=SCAN_DAY, now=NOW + timedelta(hours=1))
        assert first.stored > 0
        assert (second.stored, second.notifications) == (0, 0)
        assert len(hot(world)) == first.found["hot_issue"]

    def test_the_officers_are_told_once_and_the_unreachable_recorded(
        self, world: World
    ) -> None:
        quiet(world)
        plant_spike(world)
        report = service.scan(world.session, day=SCAN_DAY, now=NOW)
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        sent = list(world.session.scalars(select(Notification).where(
            Notification.template == "hot_issue_alert")))
        assert len(sent) == report.stored == report.notifications
        assert {n.recipient_ref for n in sent} == {"hq_cpo"}
        assert all("信用卡" not in n.recipient_masked for n in sent)
        spike = hot(world)[0]
        assert spike.detail["notified"] == ["hq_cpo"]
        assert spike.detail["unreachable"] == ["hq_cpo2"]
        assert report.unreachable == report.stored

    def test_a_day_not_begun_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            service.scan(world.session, day=SCAN_DAY + timedelta(days=5), now=NOW)
        assert caught.value.field == "day"

    def test_yesterday_is_scanned_by_default(self, world: World) -> None:
        assert service.scan(world.session, now=NOW).day == SCAN_DAY


class TestMassComplaints:
    def test_copies_of_one_text_from_several_customers_are_a_possible_mass_complaint(
        self, world: World
    ) -> None:
        officers(world)
        rows = [case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY, similar_key="k" * 16,
                         text="我行某理财产品到期未兑付，要求立即兑付本息", hour=9 + i)
                for i in range(5)]
        add_cases(world.session, rows)
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        found = list(world.session.scalars(select(Alert).where(
            Alert.kind == "mass_complaint", Alert.dimension == "similar_key")))
        assert len(found) == 1
        assert (found[0].observed, found[0].org_id) == (5, org_id(world, "BJ01"))

    def test_group_wording_is_a_possible_mass_complaint(self, world: World) -> None:
        ids = add_cases(world.session, [case_row(
            org_id=org_id(world, "SH01"), day=SCAN_DAY, product="wealth",
            text="我们多名客户购买的理财亏损严重，准备集体维权")])
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        found = world.session.scalar(select(Alert).where(Alert.dimension == "wording"))
        assert found is not None
        assert found.case_ids == ids
        assert set(found.words) == {"多名客户", "集体维权"}

    def test_a_few_copies_are_not_a_mass_complaint(self, world: World) -> None:
        add_cases(world.session, [case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY,
                                           similar_key="k" * 16, text="到期未兑付")
                                  for _ in range(4)])
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        assert world.session.scalar(select(Alert).where(Alert.kind == "mass_complaint")) is None

    def test_the_bank_s_own_rules_file_set_in_the_environment_is_used(
        self, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        shipped = resources.files("bankvoc.alerts").joinpath("rules.yaml").read_text("utf-8")
        own = tmp_path / "rules.yaml"
        own.write_text(shipped.replace('version: "2026.11.1"', 'version: "bank-own-1"')
                       .replace("min_similar: 5 ", "min_similar: 4 "), "utf-8")
        monkeypatch.setenv("BANKVOC_ALERTS_RULES_FILE", str(own))
        reset_settings()
        add_cases(world.session, [case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY,
                                           similar_key="k" * 16, text="到期未兑付")
                                  for _ in range(4)])
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        found = world.session.scalar(select(Alert).where(Alert.kind == "mass_complaint"))
        assert found is not None
        assert found.detail["rules"] == "bank-own-1"


class TestEmergingTopics:
    def test_a_new_cluster_of_similar_texts_is_an_emerging_topic(self, world: World) -> None:
        quiet(world)
        new = [case_row(org_id=org_id(world, "SH01"), day=SCAN_DAY - timedelta(days=i % 5),
                        text=f"手机银行数字人民币钱包开通失败，提示系统繁忙{i}", hour=9 + i % 8)
               for i in range(12)]
        ids = set(add_cases(world.session, new))
        report = service.scan(world.session, day=SCAN_DAY, now=NOW)
        assert report.warnings == []
        topics = list(world.session.scalars(select(Alert).where(
            Alert.kind == "emerging_topic")))
        assert len(topics) == 1
        assert set(topics[0].case_ids) <= ids
        assert topics[0].observed >= 10
        assert any(word in topics[0].words for word in ("数字", "钱包", "人民币"))


class TestRegulatorRisks:
    def test_an_open_case_naming_the_regulator_scores_high_with_its_reasons(
        self, world: World
    ) -> None:
        [risky, calm] = add_cases(world.session, [
            case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY, status="investigating",
                     text="再不解决我就打12378投诉，还要找媒体曝光", reopen_count=1,
                     due_at=NOW - timedelta(hours=1)),
            case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY, status="investigating",
                     text="网点排队时间太长"),
        ])
        found = service.regulator_risks(world.session, now=NOW)
        assert [r.case_id for r in found] == [risky]
        top = found[0]
        assert top.risk.score == 30 + 20 + 10 + 20
        assert any("12378" in reason for reason in top.risk.reasons)
        assert any("past its deadline" in reason for reason in top.risk.reasons)
        assert calm not in [r.case_id for r in found]

    def test_are_scoped_to_the_actor(self, world: World) -> None:
        add_cases(world.session, [case_row(org_id=org_id(world, "BJ01"), day=SCAN_DAY,
                                           status="investigating", text="我要去人民银行投诉")])
        assert len(service.regulator_risks(world.session, now=NOW,
                                           actor=world.actor("bj_handler"))) == 1
        assert service.regulator_risks(world.session, now=NOW,
                                       actor=world.actor("sh_handler")) == []

    def test_a_case_at_the_alert_level_is_alerted_once(self, world: World) -> None:
        add_cases(world.session, [case_row(
            org_id=org_id(world, "BJ01"), day=SCAN_DAY, status="investigating",
            text="银保监12378投诉，已请律师准备起诉", severity="urgent")])
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        service.scan(world.session, day=SCAN_DAY + timedelta(days=1),
                     now=NOW + timedelta(days=1))
        found = list(world.session.scalars(select(Alert).where(
            Alert.kind == "regulator_risk")))
        assert len(found) == 1
        assert found[0].score == 30 + 20 + 10


class TestListAlerts:
    def test_each_org_sees_its_subtree_and_only_head_office_the_whole_bank(
        self, world: World
    ) -> None:
        quiet(world)
        plant_spike(world)
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        everything = service.list_alerts(world.session, actor=world.actor("hq_admin"))
        bj = service.list_alerts(world.session, actor=world.actor("bj_handler"))
        sh = service.list_alerts(world.session, actor=world.actor("sh_handler"))
        assert any(a.org_id is None for a in everything)
        assert bj
        assert all(a.org_id in (org_id(world, "BJ"), org_id(world, "BJ01")) for a in bj)
        assert sh == []

    def test_filters_are_checked(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            service.list_alerts(world.session, actor=world.actor("hq_admin"), kind="bogus")
        assert caught.value.field == "kind"
        with pytest.raises(Invalid) as caught:
            service.list_alerts(world.session, actor=world.actor("hq_admin"),
                                since=SCAN_DAY, until=SCAN_DAY - timedelta(days=1))
        assert caught.value.field == "since"


class TestAcknowledge:
    def _alert(self, world: World) -> Alert:
        quiet(world)
        plant_spike(world)
        service.scan(world.session, day=SCAN_DAY, now=NOW)
        found = world.session.scalar(select(Alert).where(
            Alert.org_id == org_id(world, "BJ01")).order_by(Alert.id))
        assert found is not None
        return found

    def test_records_who_when_and_a_masked_note(self, world: World) -> None:
        alert = self._alert(world)
        service.acknowledge(world.session, actor=world.actor("bj_lead"), alert_id=alert.id,
                            note="已联系客户13812345678，正在核查扣款", now=NOW)
        lead = org_service.get_user(world.session, username="bj_lead")
        assert (alert.status, alert.acknowledged_by, alert.acknowledged_at) == (
            "acknowledged", lead.id, NOW)
        assert "13812345678" not in (alert.acknowledged_note or "")

    def test_another_orgs_alert_is_as_good_as_absent(self, world: World) -> None:
        alert = self._alert(world)
        with pytest.raises(NotFound):
            service.acknowledge(world.session, actor=world.actor("sh_lead"), alert_id=alert.id)
        assert alert.status == "open"

    def test_needs_a_role_that_manages_cases(self, world: World) -> None:
        alert = self._alert(world)
        with pytest.raises(Forbidden):
            service.acknowledge(world.session, actor=world.actor("bj_handler"),
                                alert_id=alert.id)

    def test_an_alert_is_acknowledged_once(self, world: World) -> None:
        alert = self._alert(world)
        service.acknowledge(world.session, actor=world.actor("bj_lead"), alert_id=alert.id)
        with pytest.raises(Conflict, match="acknowledged already"):
            service.acknowledge(world.session, actor=world.actor("hq_admin"), alert_id=alert.id)

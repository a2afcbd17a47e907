"""The regulatory statistics against cross-tabs worked out by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics
from bankvoc.cases.models import Case
from bankvoc.core.errors import Forbidden, Invalid, NotFound
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import service as org_service
from bankvoc.problems.models import CaseProblem, Problem, RootCause
from bankvoc.reports import regulatory
from bankvoc.reports.regulatory_selfcheck import (
    SelfCheckConfigError,
    parse_config,
    self_check,
)
from tests.analytics.conftest import Bank
from tests.conftest import World


@dataclass
class Planted:
    bank: Bank
    cases: dict[str, Case]


def plant(bank: Bank) -> Planted:
    """Complaints of 2026 and 2025 (Shanghai days), each field chosen:

    | case | org  | day              | channel    | product     | category         | decided |
    | c1   | BJ   | 2026-07-05       | hotline    | credit_card | fee_dispute      | 3 d (a) |
    | c2   | BJ01 | 2026-08-10       | branch     | mortgage    | service_attitude | 20 d (b)|
    | c3   | SH   | 2026-09-20       | mobile_app | wealth      | mis_selling      | — (NFRA)|
    | c4   | SH01 | 2026-09-30 23:00 | wechat     | gold_bar ?  | —                | —       |
    | c5   | HQ   | 2026-07-01       | regulator  | debit_card  | privacy          | 10 d (c)|
    | c6   | SH   | 2026-08-15       | hotline    | credit_card | fee_dispute      | 1 d (d) |
    | c7   | BJ   | 2026-06-30       | hotline    | credit_card | fee_dispute      | —       |
    | c8   | BJ   | 2026-10-01 02:00 | hotline    | credit_card | fee_dispute      | —       |
    (a) refund, CSAT 5; (b) late, explanation, CSAT 2; (c) PBoC transfer, no decision type
    recorded; (d) correction; ? a product the taxonomy does not know.
    Not counted: a complaint intent and a merged duplicate in July. 2025: p1 BJ 08-01 credit
    card, p2 SH 02-01 mortgage / service attitude. c5 and c1 are one customer's (c1 repeats).
    Outlets and individual customers imported for July-September 2026: BJ 2 / 4,000,000,
    SH 1 / 1,000,000. Root causes of c1 and c2; problems: P1 fixed (c1, c2), P2 open (c3),
    P3 closed (c6), P4 fixed but only behind a 2025 complaint.
    """
    customer = bank.customer()
    cases = {
        "c5": bank.case("HQ", "2026-07-01", channel="regulator", product="debit_card",
                        category="privacy", decided_after_days=10, origin="pboc",
                        customer=customer),
        "c1": bank.case("BJ", "2026-07-05", decided_after_days=3, decision_type="refund",
                        customer=customer),
        "c2": bank.case("BJ01", "2026-08-10", channel="branch", product="mortgage",
                        category="service_attitude", decided_after_days=20,
                        decision_type="explanation"),
        "c3": bank.case("SH", "2026-09-20", channel="mobile_app", product="wealth",
                        category="mis_selling", origin="nfra"),
        "c4": bank.case("SH01", "2026-09-30", hour=23, channel="wechat", product="gold_bar",
                        category=None),
        "c6": bank.case("SH", "2026-08-15", decided_after_days=1, decision_type="correction"),
        "c7": bank.case("BJ", "2026-06-30"),
        "c8": bank.case("BJ", "2026-10-01", hour=2),
        "p1": bank.case("BJ", "2025-08-01"),
        "p2": bank.case("SH", "2025-02-01", product="mortgage", category="service_attitude"),
    }
    bank.case("BJ", "2026-07-06", kind="complaint_intent")
    bank.case("BJ", "2026-07-07", merged_into_id=cases["c1"].id).status = "merged"
    bank.callback(cases["c1"], csat=5)
    bank.callback(cases["c2"], csat=2)
    admin = bank.world.actor("hq_admin")
    analytics.import_org_stats(bank.session, actor=admin, source="test", rows=[
        analytics.StatRow(org, month, None, individuals, outlets)
        for month in ("2026-07", "2026-08", "2026-09")
        for org, individuals, outlets in (("BJ", 4_000_000, 2), ("SH", 1_000_000, 1))])
    user = org_service.get_user(bank.session, username="hq_admin").id
    for name in ("c1", "c2"):
        bank.session.add(RootCause(case_id=cases[name].id, category="process", what="w",
                                   why="y", recorded_by=user))
    for code, status, linked in (("P1", "fixed", ("c1", "c2")), ("P2", "open", ("c3",)),
                                 ("P3", "closed", ("c6",)), ("P4", "fixed", ("p1",))):
        problem = Problem(code=code, title_zh=code, status=status, created_by=user)
        bank.session.add(problem)
        bank.session.flush()
        for name in linked:
            bank.session.add(CaseProblem(case_id=cases[name].id, problem_id=problem.id,
                                         linked_by=user))
    bank.refresh()
    return Planted(bank=bank, cases=cases)


@pytest.fixture
def bank(world: World, session: Session) -> Bank:
    return Bank(world=world, session=session)


@pytest.fixture
def planted(bank: Bank) -> Planted:
    return plant(bank)


def jrt(planted: Planted, period: str = "2026-Q3", user: str = "hq_admin",
        org: str | None = None) -> regulatory.JrtStatistics:
    return regulatory.jrt_statistics(planted.bank.session, actor=planted.bank.world.actor(user),
                                     period=period, org=org)


def by_org(stats: regulatory.JrtStatistics, dimension: str) -> dict[str, dict[str, int]]:
    """A dimension's non-zero cells as {code: {org code: count}}."""
    return {code: {org: n for org, n in row["by_org"].items() if n}
            for row in stats.as_dict()["dimensions"][dimension]["rows"]
            if (code := row["code"]) and row["total"]}


class TestJrtStatistics:
    def test_each_dimension_gives_the_hand_worked_cross_tab(self, planted: Planted) -> None:
        stats = jrt(planted)
        assert stats.total == 6
        assert [(c.code, c.own) for c in stats.columns] == [
            ("BJ", False), ("PBC", False), ("SH", False), ("HQ", True)]
        assert by_org(stats, "channel") == {
            "telephone_banking": {"BJ": 1, "SH": 1}, "branch": {"BJ": 1},
            "mobile_banking": {"SH": 1}, "public_platform": {"SH": 1}, "other": {"HQ": 1}}
        assert by_org(stats, "business") == {
            "credit_card": {"BJ": 1, "SH": 1}, "loans": {"BJ": 1},
            "wealth_management": {"SH": 1}, "savings": {"HQ": 1}, "other": {"SH": 1}}
        assert by_org(stats, "cause") == {
            "pricing_fees": {"BJ": 1, "SH": 1}, "service_attitude_quality": {"BJ": 1},
            "marketing": {"SH": 1}, "information_safety": {"HQ": 1}, "other": {"SH": 1}}
        assert by_org(stats, "bulletin") == {
            "credit_card": {"BJ": 1, "SH": 1}, "personal_loan": {"BJ": 1},
            "wealth_management": {"SH": 1}, "debit_card": {"HQ": 1}, "other": {"SH": 1}}

    def test_every_code_of_the_taxonomy_has_a_row_with_names_and_totals(
        self, planted: Planted
    ) -> None:
        stats = jrt(planted)
        business = stats.tables["business"]
        assert len(business.rows) == 12  # every JR/T business type, zero or not
        savings = business.row("savings")
        assert (savings.zh, savings.en) == ("人民币储蓄", "RMB savings")
        assert savings.share == pytest.approx(100 / 6)
        assert business.row("debit_card").total == 0
        for table in stats.tables.values():
            assert table.total == 6
            assert {c.code: table.totals[c.id] for c in stats.columns} == {
                "BJ": 2, "PBC": 0, "SH": 3, "HQ": 1}

    def test_an_unknown_product_and_a_missing_category_count_as_other(
        self, planted: Planted
    ) -> None:
        stats = jrt(planted, period="2026-09-30..2026-09-30")
        assert stats.total == 1  # c4 only: 23:00 local on the 30th
        assert {d: t.row("other").total for d, t in stats.tables.items()} == {
            "channel": 0, "business": 1, "cause": 1, "bulletin": 1}

    def test_the_totals_are_the_complaints_kpis(self, planted: Planted) -> None:
        stats = jrt(planted)
        kpi = analytics.kpi_report(planted.bank.session,
                                   actor=planted.bank.world.actor("hq_admin"),
                                   kpi="complaints", period="2026-Q3", by="org")
        assert stats.total == kpi.figure.value
        assert {row.org.id: row.complaints for row in stats.orgs if row.complaints} == {
            int(g.key): g.figure.numerator for g in kpi.groups}

    def test_the_regulators_ratios_where_the_denominators_are_imported(
        self, planted: Planted
    ) -> None:
        stats = jrt(planted)
        assert stats.per_1k_outlets == pytest.approx(6 / 3 * 1_000)
        assert stats.per_10m_individuals == pytest.approx(6 / 5_000_000 * 10_000_000)
        ratios = {row.org.code: (row.per_1k_outlets, row.per_10m_individuals)
                  for row in stats.orgs}
        assert ratios == {"BJ": (pytest.approx(1_000), pytest.approx(5)),
                          "SH": (pytest.approx(3_000), pytest.approx(30)),
                          "PBC": (None, None), "HQ": (None, None)}
        assert jrt(planted, period="2026-Q2").per_1k_outlets is None  # nothing imported

    def test_a_branch_sees_its_own_subtree(self, planted: Planted) -> None:
        stats = jrt(planted, user="bj_handler")
        assert (stats.org.code, stats.total) == ("BJ", 2)
        assert [(c.code, c.own) for c in stats.columns] == [("BJ01", False), ("BJ", True)]
        assert by_org(stats, "business") == {"credit_card": {"BJ": 1}, "loans": {"BJ01": 1}}

    def test_a_branch_may_not_ask_for_another(self, planted: Planted) -> None:
        with pytest.raises(Forbidden) as error:
            jrt(planted, user="bj_handler", org="SH")
        assert error.value.field == "org"

    def test_an_unknown_org_and_a_bad_period_name_their_field(self, planted: Planted) -> None:
        with pytest.raises(NotFound) as missing:
            jrt(planted, org="XX")
        with pytest.raises(Invalid) as bad:
            jrt(planted, period="2026-Q5")
        assert (missing.value.field, bad.value.field) == ("org", "period")

    def test_an_org_without_children_is_its_own_column(self, planted: Planted) -> None:
        stats = jrt(planted, org="SH01")
        assert [(c.code, c.own) for c in stats.columns] == [("SH01", False)]
        assert stats.total == 1


class TestAnnualDisclosure:
    @pytest.fixture
    def disclosure(self, planted: Planted) -> regulatory.AnnualDisclosure:
        return regulatory.annual_disclosure(planted.bank.session,
                                            actor=planted.bank.world.actor("hq_admin"),
                                            year=2026)

    def test_the_total_and_its_change_on_the_year_before(
        self, disclosure: regulatory.AnnualDisclosure
    ) -> None:
        assert (disclosure.complaints, disclosure.total.year_before) == (8, 2)
        assert disclosure.year_change_pct == pytest.approx(300)

    def test_the_quarters_on_the_quarter_and_the_year_before(
        self, disclosure: regulatory.AnnualDisclosure
    ) -> None:
        assert [(q.label, q.complaints, q.previous, q.year_before)
                for q in disclosure.quarters] == [
            ("2026-Q1", 0, 0, 1), ("2026-Q2", 1, 0, 0), ("2026-Q3", 6, 1, 1),
            ("2026-Q4", 1, 6, 0)]
        assert [q.change_pct for q in disclosure.quarters] == [
            None, None, pytest.approx(500), pytest.approx(-500 / 6)]
        assert [q.year_change_pct for q in disclosure.quarters] == [
            pytest.approx(-100), None, pytest.approx(500), None]

    def test_business_types_regions_and_causes_with_shares(
        self, disclosure: regulatory.AnnualDisclosure
    ) -> None:
        assert [(r.code, r.count, r.share, r.year_before) for r in disclosure.by_business] == [
            ("credit_card", 4, 50, 1), ("loans", 1, 12.5, 1), ("savings", 1, 12.5, 0),
            ("wealth_management", 1, 12.5, 0), ("other", 1, 12.5, 0)]
        assert disclosure.by_business[0].year_change_pct == pytest.approx(300)
        assert [(r.code, r.count, r.share, r.year_before, r.zh) for r in disclosure.by_region
                ] == [("BJ", 4, 50, 1, "北京分行"), ("SH", 3, 37.5, 1, "上海分行"),
                      ("HQ", 1, 12.5, 0, f"{disclosure.org.name}（本级）")]
        assert [(r.code, r.count) for r in disclosure.by_cause] == [
            ("pricing_fees", 4), ("service_attitude_quality", 1), ("marketing", 1),
            ("information_safety", 1), ("other", 1)]

    def test_how_complaints_were_handled(
        self, disclosure: regulatory.AnnualDisclosure
    ) -> None:
        values = {f.code: f.value for f in disclosure.handling}
        assert values == {"resolution_rate": pytest.approx(50),
                          "on_time_rate": pytest.approx(75),
                          "decision_days": pytest.approx((3 + 20 + 10 + 1) / 4),
                          "callback_rate": pytest.approx(50), "csat": pytest.approx(50),
                          "regulator_transfers": 2}
        assert {r.code: r.count for r in disclosure.outcomes} == {
            "explanation": 1, "correction": 1, "refund": 1, "compensation": 0, "refused": 0,
            "undecided": 4, "not_recorded": 1}

    def test_a_branch_discloses_its_own_subtree_only(self, planted: Planted) -> None:
        found = regulatory.annual_disclosure(planted.bank.session,
                                             actor=planted.bank.world.actor("bj_handler"),
                                             year=2026)
        assert (found.org.code, found.complaints) == ("BJ", 4)
        assert [(r.code, r.count) for r in found.by_region] == [("BJ", 3), ("BJ01", 1)]

    @pytest.mark.parametrize("year", ["1999", "20x6", "2101"])
    def test_a_bad_year_names_the_field(self, planted: Planted, year: str) -> None:
        with pytest.raises(Invalid) as error:
            regulatory.annual_disclosure(planted.bank.session,
                                         actor=planted.bank.world.actor("hq_admin"), year=year)
        assert error.value.field == "year"


class TestSelfCheck:
    def test_each_item_against_the_banks_line(self, planted: Planted) -> None:
        check = self_check(planted.bank.session, actor=planted.bank.world.actor("hq_admin"),
                           year=2026)
        found = {i.code: (i.value, i.status) for i in check.items}
        assert found == {
            "complaints": (8, "info"),
            "complaints_growth": (pytest.approx(300), "attention"),
            "complaints_per_1k_outlets": (None, "no_data"),  # not imported for every month
            "complaints_per_10m_individuals": (None, "no_data"),
            "on_time_rate": (pytest.approx(75), "attention"),
            "resolution_rate": (pytest.approx(50), "attention"),
            "csat": (pytest.approx(50), "attention"),
            "regulator_transfers": (2, "info"),
            "regulator_on_time_rate": (pytest.approx(100), "pass"),  # c5; c3 undecided
            "repeat_rate": (pytest.approx(100 / 8), "attention"),  # c1 after c5
            "traced_rate": (pytest.approx(50), "attention"),  # c1, c2 of 4 decided
            "fixed_rate": (pytest.approx(50), "pass"),  # P1 of P1, P2 (P3 closed)
        }
        assert check.item("complaints").detail["quarters"] == {
            "2026-Q1": 0, "2026-Q2": 1, "2026-Q3": 6, "2026-Q4": 1}
        assert check.item("fixed_rate").detail["problems"] == {
            "open": 1, "fixing": 0, "fixed": 1, "closed": 1}
        assert (check.item("csat").threshold, check.item("csat").comparison) == (80, "min")

    def test_a_branch_checks_its_own_subtree(self, planted: Planted) -> None:
        check = self_check(planted.bank.session, actor=planted.bank.world.actor("bj_handler"),
                           year=2026)
        assert check.org.code == "BJ"
        assert check.item("complaints").value == 4
        assert check.item("regulator_transfers").value == 0
        assert check.item("regulator_on_time_rate").status == "no_data"
        assert check.item("fixed_rate").value == pytest.approx(100)  # P1 only

    def test_the_banks_own_lines_decide(self, planted: Planted) -> None:
        config = parse_config('version: "t"\nitems:\n  csat: {min: 40}\n  on_time_rate: {}\n')
        check = self_check(planted.bank.session, actor=planted.bank.world.actor("hq_admin"),
                           year=2026, config=config)
        assert (check.item("csat").status, check.item("on_time_rate").status) == ("pass", "info")


class TestSelfCheckConfig:
    def test_the_shipped_file_names_known_items(self) -> None:
        from bankvoc.reports.regulatory_selfcheck import load_config

        assert load_config().line("csat").min == 80

    def test_the_bank_s_own_file_set_in_the_environment_is_used(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from bankvoc.reports.regulatory_selfcheck import load_config

        shipped = resources.files("bankvoc.reports").joinpath("selfcheck.yaml").read_text("utf-8")
        own = tmp_path / "selfcheck.yaml"
        own.write_text(shipped.replace("csat: {min: 80}", "csat: {min: 90}"), "utf-8")
        monkeypatch.setenv("BANKVOC_SELFCHECK_FILE", str(own))
        reset_settings()
        assert load_config().line("csat").min == 90

    def test_an_unknown_item_is_refused_with_its_line(self) -> None:
        with pytest.raises(SelfCheckConfigError) as error:
            parse_config('version: "t"\nitems:\n  csat: {min: 80}\n  nps_score: {max: 1}\n')
        assert error.value.problems[0].line == 4
        assert "not a self-check item" in error.value.message

    def test_min_and_max_together_are_refused(self) -> None:
        with pytest.raises(SelfCheckConfigError) as error:
            parse_config('version: "t"\nitems:\n  csat: {min: 80, max: 90}\n')
        assert error.value.problems[0].line == 3

"""The monthly report's data: every number is the KPI service's own; a branch's report is its
subtree's; sections from alerts, problems and suggestions; scope."""

from __future__ import annotations

import pytest

from bankvoc.analytics import service as analytics
from bankvoc.analytics.periods import parse_period
from bankvoc.core.errors import Forbidden, Invalid, NotFound
from bankvoc.reports import monthly
from tests.reports.conftest import FEE_TEXT, FORMULA_TEXT, MONTH, NOW, Voc


def build(voc: Voc, user: str = "hq_admin", **kwargs: object) -> monthly.MonthlyReport:
    return monthly.build_report(voc.session, actor=voc.bank.world.actor(user), month=MONTH,
                                now=NOW, **kwargs)  # type: ignore[arg-type]


class TestNumbers:
    @pytest.mark.parametrize("org", ["HQ", "BJ"])
    def test_headline_kpis_are_the_kpi_services(self, voc: Voc, org: str) -> None:
        report = build(voc, org=org)
        actor = voc.bank.world.actor("hq_admin")
        assert [k.code for k in report.headline] == list(analytics.HEADLINE)
        for line in report.headline:
            found = analytics.kpi_report(voc.session, actor=actor, kpi=line.code,
                                         period=MONTH, org=org)
            assert (line.value, line.numerator, line.denominator) == (
                found.figure.value, found.figure.numerator, found.figure.denominator)
            assert line.previous == (found.previous.value if found.previous else None)
            assert line.year_before == (found.year_before.value if found.year_before
                                        else None)
            assert (line.change, line.year_change) == (found.change, found.year_change)
            assert (line.target, line.met) == (found.target, found.met)

    def test_hand_worked_figures_of_head_office(self, voc: Voc) -> None:
        report = build(voc)
        assert report.kpi("complaints").value == 8
        assert report.kpi("complaints").previous == 3  # two at BJ and one at SH in September
        assert report.kpi("complaints").year_before == 1
        csat = report.kpi("csat")  # answers 5, 2, 4 and the survey's 3
        assert csat.value == pytest.approx(50.0)
        assert (csat.target, csat.met) == (80.0, False)
        on_time = report.kpi("on_time_rate")  # six decided, the 20-day one late
        assert on_time.value == pytest.approx(100 * 5 / 6)
        assert on_time.met is True

    def test_category_share_is_the_breakdown_by_category(self, voc: Voc) -> None:
        report = build(voc)
        found = analytics.kpi_report(voc.session, actor=voc.bank.world.actor("hq_admin"),
                                     kpi="complaints", period=MONTH, by="category")
        assert {s.key: (s.count, s.share) for s in report.categories} == {
            g.key: (g.figure.numerator, g.share) for g in found.groups}
        assert [(s.key, s.count, s.share, s.previous) for s in report.categories] == [
            ("fee_dispute", 5, 5 / 8, 2), ("service_attitude", 3, 3 / 8, 1)]
        assert sum(s.share or 0 for s in report.categories) == pytest.approx(1.0)

    def test_trends_cover_twelve_months_ending_with_the_month(self, voc: Voc) -> None:
        report = build(voc)
        assert report.trends.months[0] == "2025-11"
        assert report.trends.months[-1] == MONTH
        complaints = next(s for s in report.trends.series if s.code == "complaints")
        assert complaints.points[-1] == report.kpi("complaints").value
        assert complaints.points[-2] == report.kpi("complaints").previous
        assert complaints.points[4] == 1  # March 2026
        assert sum(p or 0 for p in complaints.points) == 8 + 3 + 1

    def test_branches_ranked_by_the_breakdown_by_org(self, voc: Voc) -> None:
        report = build(voc)
        assert [row.code for row in report.orgs] == ["BJ", "SH", "PBC"]
        bj = report.orgs[0].values
        assert bj["complaints"] == 6
        assert bj["complaints_per_10k_customers"] == pytest.approx(6 / 1500 * 10_000)
        assert [s.key for s in report.channels] == ["hotline", "mobile_app", "branch"]
        assert [s.key for s in report.products] == ["credit_card", "mortgage", "debit_card"]

    def test_quarterly_review_compares_three_months(self, voc: Voc) -> None:
        report = build(voc, quarterly=True)  # 2026-08 .. 2026-10
        assert report.kind == "quarterly"
        assert report.months == ["2026-08", "2026-09", MONTH]
        assert (report.start.isoformat(), report.end.isoformat()) == ("2026-08-01",
                                                                      "2026-11-01")
        complaints = next(c for c in report.month_columns if c.code == "complaints")
        assert complaints.values == [0, 3, 8]
        assert report.kpi("complaints").value == 11
        september = monthly.build_report(voc.session, actor=voc.bank.world.actor("hq_admin"),
                                         month="2026-09", quarterly=True, now=NOW)
        assert september.period == "2026-Q3"

    def test_english_labels(self, voc: Voc) -> None:
        report = build(voc, lang="en")
        assert report.title == "Voice of the Customer — monthly report"
        assert report.kpi("csat").label == "Satisfaction (CSAT)"
        assert report.categories[0].label == "Fee dispute"
        assert report.org_name == "Head office"


class TestBranchReport:
    def test_a_branch_report_counts_its_subtree_only(self, voc: Voc) -> None:
        report = build(voc, org="BJ")
        assert (report.org_code, report.org_is_root) == ("BJ", False)
        assert report.kpi("complaints").value == 6  # BJ and BJ01, not SH
        assert [row.code for row in report.orgs] == ["BJ01"]
        assert [(h.org, h.days, h.observed) for h in report.hot_issues] == [("BJ", 2, 7)]
        assert report.suggestion_count == 4  # BJ's one and BJ01's three
        assert report.alert_counts["mass_complaint"] == 1

    def test_a_branch_user_gets_their_branch_by_default(self, voc: Voc) -> None:
        report = build(voc, user="bj_handler")
        assert report.org_code == "BJ"
        assert report.kpi("complaints").value == 6

    def test_another_branch_is_refused(self, voc: Voc) -> None:
        with pytest.raises(Forbidden) as caught:
            build(voc, user="bj_handler", org="SH")
        assert caught.value.field == "org"

    def test_unknown_org_and_bad_month(self, voc: Voc) -> None:
        with pytest.raises(NotFound):
            build(voc, org="NOPE")
        with pytest.raises(Invalid) as caught:
            monthly.build_report(voc.session, actor=voc.bank.world.actor("hq_admin"),
                                 month="2026-Q3")
        assert caught.value.field == "month"


class TestSections:
    def test_hot_issues_merge_days_and_show_masked_typical_cases(self, voc: Voc) -> None:
        report = build(voc)
        first, second = report.hot_issues
        assert (first.org, first.days, first.observed, first.expected, first.ratio) == (
            "BJ", 2, 7, 1.0, 8.0)
        assert (first.first_day.isoformat(), first.last_day.isoformat()) == ("2026-10-12",
                                                                            "2026-10-13")
        assert [c.reference for c in first.typical] == [voc.fee_cases[2].reference,
                                                         voc.fee_cases[4].reference]
        assert all(c.text == FEE_TEXT for c in first.typical)
        assert second.org == "SH"

    def test_problems_and_the_measured_effect_of_actions(self, voc: Voc) -> None:
        report = build(voc)
        assert report.problems_section.available
        assert [(p.code, p.cases) for p in report.new_problems] == [("P-FEE-01", 3)]
        assert [p.code for p in report.recurring_problems] == ["P-FEE-01"]
        assert "rising" in report.recurring_problems[0].reasons[0]
        (action,) = report.actions
        assert (action.problem, action.pilots, action.cost) == ("P-FEE-01", ["BJ"], 20000.0)
        assert [o.name for o in action.outcomes] == ["complaint_rate", "csat",
                                                      "problem_cases"]
        own = action.outcomes[2]
        assert own.measured
        assert own.did is not None
        assert not own.reliable  # one pilot, one comparison org: said, not hidden

    def test_a_branch_without_problem_cases_sees_no_new_problem(self, voc: Voc) -> None:
        report = build(voc, org="SH")
        assert report.new_problems == []
        assert report.actions == []  # piloted at BJ, no SH case of its problem
        assert report.actions_section.note == "暂无数据"

    def test_suggestions_are_masked_texts_of_suggestion_cases(self, voc: Voc) -> None:
        report = build(voc)
        assert report.suggestion_count == 5
        assert len(report.suggestions) == 5
        assert voc.formula_case.reference in {c.reference for c in report.suggestions}
        assert FORMULA_TEXT in {c.text for c in report.suggestions}
        assert all(c.reference.startswith("TS") for c in report.suggestions)

    def test_report_orgs_are_head_office_and_branches(self, voc: Voc) -> None:
        orgs = monthly.report_orgs(voc.session, actor=voc.bank.world.actor("hq_admin"))
        assert [o.code for o in orgs] == ["HQ", "BJ", "SH"]
        mine = monthly.report_orgs(voc.session, actor=voc.bank.world.actor("bj_handler"))
        assert [o.code for o in mine] == ["BJ"]


def test_periods() -> None:
    assert monthly.report_period("2026-10").label == "2026-10"
    assert monthly.report_period("2026-12", quarterly=True).label == "2026-Q4"
    assert monthly.trend_period(parse_period("2026-10")).label == "2025-11-01..2026-10-31"

"""Every KPI against figures worked out by hand, from the roll-up and from the cases alike."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, func, select

from bankvoc.analytics import query, service
from bankvoc.analytics.kpis import REGISTRY
from bankvoc.analytics.models import CaseRollup, RollupMark
from bankvoc.analytics.periods import parse_period
from bankvoc.cases.models import Case
from bankvoc.core.db import build_engine, session_factory, transaction
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.surveys.models import Callback
from tests.analytics.conftest import Bank


def value(bank: Bank, kpi: str, period: str = "2026-10", user: str = "hq_admin",
          **kwargs: object) -> float | None:
    report = service.kpi_report(bank.session, actor=bank.world.actor(user), kpi=kpi,
                                period=period, **kwargs)  # type: ignore[arg-type]
    return report.figure.value


HAND_WORKED = {
    "complaints": 4,
    "complaint_rate": 100 * 3 / 3000,  # A at BJ, A at BJ01, B at SH: counted per org
    "complaints_per_10k_customers": 4 / 3000 * 10_000,
    "complaints_per_1k_outlets": 4 / 4 * 1_000,
    "complaints_per_10m_individuals": None,  # no individual customers imported
    "decision_days": (3 + 20 + 0.5) / 3,
    "on_time_rate": 100 * 2 / 3,
    "resolution_rate": 100 * 3 / 4,
    "reopen_rate": 100 * 1 / 3,
    "repeat_rate": 100 * 1 / 4,  # c2: A complained five days before
    "escalations": 1,
    "regulator_transfers": 1,
    "callback_rate": 100 * 2 / 3,
    "csat": 100 * 2 / 3,  # 5, 2 and the survey's 4
    "nps": 100 * (2 - 1) / 3,  # 10, 3, 9
    "first_contact_resolution": 100 * 1 / 4,
}


class TestKpiReport:
    def test_the_registry_and_the_hand_worked_figures_name_the_same_kpis(self) -> None:
        assert set(HAND_WORKED) == set(REGISTRY)

    @pytest.mark.parametrize(("kpi", "expected"), HAND_WORKED.items())
    def test_each_kpi_gives_the_hand_worked_figure(self, october: Bank, kpi: str,
                                                   expected: float | None) -> None:
        got = value(october, kpi)
        assert got == (None if expected is None else pytest.approx(expected))

    @pytest.mark.parametrize("by", [None, "org", "product", "channel"])
    def test_the_roll_up_and_the_cases_give_the_same_figures(self, october: Bank,
                                                             by: str | None) -> None:
        period, cut, tz = parse_period("2026-10"), query.Cut(org=october.org("HQ")), \
            get_settings().tz
        for kpi, definition in REGISTRY.items():
            rolled = query.answer(october.session, kpi=definition, period=period, cut=cut,
                                  by=by, tz=tz)
            counted = query.answer(october.session, kpi=definition, period=period, cut=cut,
                                   by=by, tz=tz, from_cases=True)
            assert rolled.source.startswith("rollup") or kpi == "complaint_rate"
            assert rolled.total.figure(definition) == pytest.approx(
                counted.total.figure(definition)), kpi
            assert set(rolled.groups) == set(counted.groups), kpi
            for key, sums in rolled.groups.items():
                assert sums.figure(definition) == pytest.approx(
                    counted.groups[key].figure(definition)), (kpi, key)

    def test_a_case_counts_in_the_local_day_it_was_received(self, october: Bank) -> None:
        assert value(october, "complaints", "2026-11") == 1
        assert value(october, "complaints", "2026-10-31..2026-10-31") == 1

    def test_a_range_of_days_reads_the_day_rows(self, october: Bank) -> None:
        report = service.kpi_report(october.session, actor=october.world.actor("hq_admin"),
                                    kpi="on_time_rate", period="2026-10-01..2026-10-10")
        assert report.source == "rollup:day"
        assert report.figure.value == pytest.approx(50.0)

    def test_two_cuts_at_once_read_the_cases(self, october: Bank) -> None:
        report = service.kpi_report(october.session, actor=october.world.actor("hq_admin"),
                                    kpi="complaints", period="2026-10",
                                    cut={"channel": "hotline", "product": "credit_card"})
        assert (report.source, report.figure.value) == ("cases", 2)

    def test_compares_with_the_month_before_and_the_year_before(self, october: Bank) -> None:
        report = service.kpi_report(october.session, actor=october.world.actor("hq_admin"),
                                    kpi="complaints", period="2026-10")
        assert report.previous is not None
        assert report.previous.value == 1
        assert report.year_before is not None
        assert report.year_before.value == 1
        assert (report.change, report.year_change) == (3, 3)

    def test_breaks_down_by_child_org_with_shares(self, october: Bank) -> None:
        report = service.kpi_report(october.session, actor=october.world.actor("hq_admin"),
                                    kpi="complaints", period="2026-10", by="org")
        shares = {group.label: (group.figure.value, group.share) for group in report.groups}
        assert shares == {"北京分行": (2, 0.5), "上海分行": (2, 0.5)}

    def test_breaks_down_by_product_with_taxonomy_labels(self, october: Bank) -> None:
        report = service.kpi_report(october.session, actor=october.world.actor("hq_admin"),
                                    kpi="complaints", period="2026-10", by="product",
                                    lang="en")
        assert {g.key: g.figure.value for g in report.groups} == {"credit_card": 3,
                                                                   "mortgage": 1}
        assert all(g.label != g.key for g in report.groups)

    def test_breaks_down_by_segment_with_the_segment_map_s_names(self, bank: Bank) -> None:
        valued, lapsing = bank.customer("important_value"), bank.customer("general_win_back")
        bank.case("BJ", "2026-10-05", customer=valued)
        bank.case("BJ", "2026-10-06", customer=valued)
        bank.case("SH", "2026-10-07", customer=lapsing)
        bank.case("SH", "2026-10-08")  # no customer, so no segment
        bank.refresh()

        def groups(lang: str) -> dict[str, tuple[str, float | None]]:
            report = service.kpi_report(bank.session, actor=bank.world.actor("hq_admin"),
                                        kpi="complaints", period="2026-10", by="segment",
                                        lang=lang)
            return {g.key: (g.label, g.figure.value) for g in report.groups}

        assert groups("zh") == {"important_value": ("重要价值客户", 2),
                                "general_win_back": ("一般挽留客户", 1), "": ("未分群", 1)}
        assert groups("en") == {"important_value": ("Important value", 2),
                                "general_win_back": ("General win-back", 1),
                                "": ("No segment", 1)}

    def test_a_branch_sees_its_own_subtree(self, october: Bank) -> None:
        assert value(october, "complaints", user="bj_handler") == 2

    def test_a_branch_may_not_ask_for_another(self, october: Bank) -> None:
        with pytest.raises(Forbidden):
            value(october, "complaints", user="bj_handler", org="SH")

    def test_an_unknown_kpi_names_the_field(self, october: Bank) -> None:
        with pytest.raises(Invalid) as error:
            value(october, "happiness")
        assert error.value.field == "kpi"

    @pytest.mark.parametrize("period", ["2026-13", "last month", "2026-10-05..2026-10-01"])
    def test_a_bad_period_names_the_field(self, october: Bank, period: str) -> None:
        with pytest.raises(Invalid) as error:
            value(october, "complaints", period)
        assert error.value.field == "period"


class TestHeadline:
    def test_gives_each_kpi_as_its_own_report_would(self, october: Bank) -> None:
        actor = october.world.actor("hq_admin")
        for org in (None, "BJ"):
            together = service.headline(october.session, actor=actor, period="2026-10",
                                        org=org, codes=tuple(REGISTRY))
            alone = [service.kpi_report(october.session, actor=actor, kpi=code,
                                        period="2026-10", org=org) for code in REGISTRY]
            assert [(r.kpi.code, r.figure, r.previous, r.year_before, r.target)
                    for r in together] == [
                (r.kpi.code, r.figure, r.previous, r.year_before, r.target) for r in alone]
        assert [r.figure.value for r in service.headline(
            october.session, actor=actor, period="2026-10", codes=tuple(HAND_WORKED))] == [
            None if v is None else pytest.approx(v) for v in HAND_WORKED.values()]

    def test_reads_each_row_set_once(self, october: Bank) -> None:
        statements: list[str] = []
        engine = october.session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            service.headline(october.session, actor=october.world.actor("hq_admin"),
                             period="2026-10")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        subtree_reads = [s for s in statements if "count(*)" in s.lower() and "org.path" in s]
        assert len(subtree_reads) == 1


class TestTargets:
    def test_a_target_is_met_or_missed_by_the_kpis_direction(self, october: Bank) -> None:
        admin = october.world.actor("hq_admin")
        service.set_target(october.session, actor=admin, kpi="csat", value=80,
                           valid_from=date(2026, 1, 1))
        service.set_target(october.session, actor=admin, kpi="complaints", value=5,
                           valid_from=date(2026, 1, 1))
        csat = service.kpi_report(october.session, actor=admin, kpi="csat", period="2026-10")
        complaints = service.kpi_report(october.session, actor=admin, kpi="complaints",
                                        period="2026-10")
        assert (csat.target, csat.met) == (80, False)
        assert (complaints.target, complaints.met) == (5, True)

    def test_the_nearest_org_up_the_tree_sets_the_target(self, october: Bank) -> None:
        admin = october.world.actor("hq_admin")
        service.set_target(october.session, actor=admin, kpi="on_time_rate", value=90,
                           valid_from=date(2026, 1, 1))
        service.set_target(october.session, actor=admin, kpi="on_time_rate", value=40,
                           valid_from=date(2026, 1, 1), org="BJ")
        bj01 = october.org("BJ01")
        hq = october.org("HQ")
        assert service.target_for(october.session, kpi="on_time_rate", org=bj01,
                                  on=date(2026, 10, 1)) == 40
        assert service.target_for(october.session, kpi="on_time_rate", org=hq,
                                  on=date(2026, 10, 1)) == 90
        assert service.target_for(october.session, kpi="on_time_rate", org=hq,
                                  on=date(2025, 10, 1)) is None

    def test_a_rate_target_outside_0_to_100_is_refused(self, october: Bank) -> None:
        with pytest.raises(Invalid) as error:
            service.set_target(october.session, actor=october.world.actor("hq_admin"),
                               kpi="csat", value=180, valid_from=date(2026, 1, 1))
        assert error.value.field == "value"

    def test_a_handler_may_not_set_targets(self, october: Bank) -> None:
        with pytest.raises(Forbidden):
            service.set_target(october.session, actor=october.world.actor("bj_handler"),
                               kpi="csat", value=80, valid_from=date(2026, 1, 1), org="BJ")


class TestImportOrgStats:
    def test_an_unknown_org_is_refused_with_its_row(self, bank: Bank) -> None:
        with pytest.raises(Invalid) as error:
            service.import_org_stats(bank.session, actor=bank.world.actor("hq_admin"),
                                     source="t", rows=[service.StatRow("XX", "2026-10", 1,
                                                                       None, None)])
        assert (error.value.field, error.value.message[:5]) == ("org", "row 1")

    def test_a_month_imported_again_is_replaced(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        for customers in (100, 200):
            service.import_org_stats(bank.session, actor=admin, source="t",
                                     rows=[service.StatRow("BJ", "2026-10", customers, None,
                                                           None)])
        bank.case("BJ", "2026-10-02")
        bank.refresh()
        assert value(bank, "complaints_per_10k_customers", org="BJ") == pytest.approx(
            1 / 200 * 10_000)


class TestRefresh:
    def test_a_change_to_a_case_reaches_the_figures_on_the_next_refresh(
            self, october: Bank) -> None:
        assert value(october, "on_time_rate") == pytest.approx(100 * 2 / 3)
        open_case = october.session.scalars(select(Case).where(
            Case.origin == "nfra")).one()
        open_case.resolved_at = open_case.received_at + timedelta(days=10)
        open_case.status = "resolved"
        october.session.flush()
        assert october.session.scalar(select(func.count()).select_from(RollupMark))
        assert value(october, "on_time_rate") == pytest.approx(100 * 2 / 3)
        october.refresh()
        assert value(october, "on_time_rate") == pytest.approx(100 * 3 / 4)

    def test_an_answered_callback_reaches_satisfaction(self, october: Bank) -> None:
        callback = october.session.scalars(select(Callback).where(Callback.csat == 2)).one()
        callback.csat = 4
        october.refresh()
        assert value(october, "csat") == pytest.approx(100.0)

    def test_a_refresh_removes_the_marks_it_read_and_a_second_changes_nothing(
            self, october: Bank) -> None:
        rows = october.session.scalars(select(CaseRollup).order_by(
            CaseRollup.grain, CaseRollup.period, CaseRollup.org_id, CaseRollup.kind,
            CaseRollup.dim, CaseRollup.value)).all()
        before = [(r.grain, r.period, r.org_id, r.kind, r.dim, r.value, r.cases, r.on_time)
                  for r in rows]
        assert october.session.scalar(select(func.count()).select_from(RollupMark)) == 0
        report = service.refresh_rollup(october.session)
        assert report.marks == 0
        again = [(r.grain, r.period, r.org_id, r.kind, r.dim, r.value, r.cases, r.on_time)
                 for r in october.session.scalars(select(CaseRollup).order_by(
                     CaseRollup.grain, CaseRollup.period, CaseRollup.org_id, CaseRollup.kind,
                     CaseRollup.dim, CaseRollup.value)).all()]
        assert again == before

    def test_a_rebuild_gives_the_rows_the_refreshes_gave(self, october: Bank) -> None:
        def snapshot() -> list[tuple[object, ...]]:
            return [tuple(row) for row in october.session.execute(select(
                CaseRollup.grain, CaseRollup.period, CaseRollup.org_id, CaseRollup.kind,
                CaseRollup.dim, CaseRollup.value, CaseRollup.cases, CaseRollup.decided,
                CaseRollup.csat_answers).order_by(
                CaseRollup.grain, CaseRollup.period, CaseRollup.org_id, CaseRollup.kind,
                CaseRollup.dim, CaseRollup.value)).all()]
        refreshed = snapshot()
        october.session.execute(delete(CaseRollup))
        service.rebuild_rollup(october.session, start=date(2025, 10, 1),
                               end=date(2026, 11, 30))
        assert snapshot() == refreshed


class TestDrill:
    def test_a_count_lists_its_cases(self, october: Bank) -> None:
        cases = service.drill(october.session, actor=october.world.actor("hq_admin"),
                              kpi="complaints", period="2026-10")
        assert len(cases) == 4

    def test_a_rate_over_decided_cases_lists_the_decided_ones(self, october: Bank) -> None:
        cases = service.drill(october.session, actor=october.world.actor("hq_admin"),
                              kpi="on_time_rate", period="2026-10")
        assert len(cases) == 3
        assert all(case.resolved_at for case in cases)

    def test_a_cut_and_the_actors_scope_narrow_the_list(self, october: Bank) -> None:
        cases = service.drill(october.session, actor=october.world.actor("bj_handler"),
                              kpi="complaints", period="2026-10", cut={"channel": "branch"})
        assert [case.channel for case in cases] == ["branch"]

    def test_pages_follow_on_from_the_last_id(self, october: Bank) -> None:
        admin = october.world.actor("hq_admin")
        first = service.drill(october.session, actor=admin, kpi="complaints",
                              period="2026-10", limit=3)
        rest = service.drill(october.session, actor=admin, kpi="complaints", period="2026-10",
                             after_id=first[-1].id)
        assert len(first) == 3
        assert len(rest) == 1


class TestRefreshTakesTurns:
    def test_a_second_refresh_waits_until_the_first_commits(
            self, backend: str, fresh_db_url: str) -> None:
        """Workers refreshing at once must not both rebuild a month (it would be stored
        twice); on SQLite the one writer at a time does it."""
        if backend != "postgresql":
            pytest.skip("PostgreSQL's advisory lock; SQLite has one writer at a time")
        engine = build_engine(fresh_db_url)
        sessions = session_factory(engine)
        finished = threading.Event()

        def second() -> None:
            with transaction(sessions) as session:
                service.refresh_rollup(session)
            finished.set()

        try:
            with transaction(sessions) as first:
                service.refresh_rollup(first)
                other = threading.Thread(target=second)
                other.start()
                assert not finished.wait(1.0)  # held back while the first is open
            assert finished.wait(20)
            other.join()
        finally:
            engine.dispose()

"""The monthly metrics, each checked against figures worked out by hand in the comments;
the targets met or missed, month-on-month change, and the org subtree they cover."""

from __future__ import annotations

from datetime import date

import pytest

from bankvoc.core.errors import Invalid, NotFound
from bankvoc.servicedata import metrics
from bankvoc.servicedata.metrics import Report, Series, nearest_rank
from bankvoc.servicedata.targets import parse_targets
from tests.conftest import World
from tests.servicedata.conftest import load, ticket

OCT, SEP = date(2026, 10, 1), date(2026, 9, 1)


def only(report: Report, metric: str, group: str = "") -> Series:
    found = [s for s in report.of(metric) if s.group == group]
    assert len(found) == 1, f"{metric}/{group}: {[s.group for s in report.of(metric)]}"
    return found[0]


def value(report: Report, metric: str, group: str = "", month: int = -1) -> float | None:
    return only(report, metric, group).points[month].value


def run(world: World, *, org: str | None = None, user: str = "hq_admin",
        start: date = SEP, end: date = OCT) -> Report:
    return metrics.report(world.session, actor=world.actor(user), org=org, start=start, end=end)


class TestNearestRank:
    @pytest.mark.parametrize(("values", "pct", "expected"), [
        (list(range(1, 11)), 90, 9), (list(range(1, 21)), 90, 18), ([5.0], 90, 5),
        ([2, 4, 6, 8, 30], 90, 30), ([2000, 4000, 2500], 95, 4000), ([3, 1, 2], 50, 2),
    ])
    def test_the_smallest_value_that_enough_do_not_exceed(self, values: list[float],
                                                          pct: float, expected: float) -> None:
        assert nearest_rank(values, pct) == expected

    def test_nothing_has_no_percentile(self) -> None:
        assert nearest_rank([], 90) is None


@pytest.fixture
def queue(world: World) -> World:
    """BJ01 cash tickets in October wait 2, 4, 6, 8 and 30 min and take 3, 5, 7, 9 and 11 min;
    one more was never called. In September two waited 4 and 6 min. SH01's personal tickets
    in October wait 1 and 3 min."""
    rows = [ticket(f"A{i}", f"2026-10-{i + 10:02d} 10:00", w, h)
            for i, (w, h) in enumerate([(2, 3), (4, 5), (6, 7), (8, 9), (30, 11)])]
    rows += [ticket("A9", "2026-10-20 10:00", None),
             ticket("A1", "2026-09-10 10:00", 4, 4), ticket("A2", "2026-09-11 10:00", 6, 6),
             ticket("P1", "2026-10-10 10:00", 1, 2, org="SH01", business="personal"),
             ticket("P2", "2026-10-10 11:00", 3, 2, org="SH01", business="personal")]
    counts, refused = load(world, "queue", rows)
    assert (counts.accepted, refused) == (len(rows), [])
    return world


class TestQueue:
    def test_a_business_type_at_an_outlet(self, queue: World) -> None:
        report = run(queue, org="BJ01")
        assert value(report, "queue_wait_avg", "cash") == pytest.approx(10.0)  # 50 / 5
        assert value(report, "queue_wait_p90", "cash") == 30  # rank ceil(4.5) = 5
        assert value(report, "queue_wait_over_share", "cash") == pytest.approx(20.0)  # 1 of 5
        assert value(report, "queue_handle_avg", "cash") == pytest.approx(7.0)  # 35 / 5
        assert value(report, "queue_handle_p90", "cash") == 11
        assert only(report, "queue_wait_avg", "cash").points[-1].n == 5  # never called: out

    def test_all_types_of_the_whole_bank(self, queue: World) -> None:
        report = run(queue)
        # waits 2, 4, 6, 8, 30, 1, 3: mean 54 / 7; P90 rank ceil(6.3) = 7 of sorted → 30
        assert value(report, "queue_wait_avg") == pytest.approx(54 / 7)
        assert value(report, "queue_wait_p90") == 30
        assert value(report, "queue_wait_avg", "personal") == pytest.approx(2.0)

    def test_a_branch_sees_its_subtree_only(self, queue: World) -> None:
        report = run(queue, org="BJ")
        assert [s.group for s in report.of("queue_wait_avg")] == ["", "cash"]
        assert value(report, "queue_wait_avg") == pytest.approx(10.0)

    def test_targets_met_and_missed(self, queue: World) -> None:
        report = run(queue, org="BJ01")
        # average wait 10 against 10 min: met (at the target); handling 7 against cash's 5
        assert only(report, "queue_wait_avg", "cash").target == 10
        assert only(report, "queue_wait_avg", "cash").met() is True
        assert only(report, "queue_handle_avg", "cash").target == 5
        assert only(report, "queue_handle_avg", "cash").met() is False
        assert only(report, "queue_wait_over_share", "cash").met() is False  # 20 % > 10 %

    def test_month_on_month_change(self, queue: World) -> None:
        series = only(run(queue, org="BJ01"), "queue_wait_avg", "cash")
        assert [p.value for p in series.points] == [pytest.approx(5.0), pytest.approx(10.0)]
        assert series.change() == pytest.approx(5.0)  # 10 − 5
        assert series.growth() == pytest.approx(100.0)

    def test_the_change_of_the_first_month_shown_looks_at_the_month_before(
            self, queue: World) -> None:
        series = only(run(queue, org="BJ01", start=OCT), "queue_wait_avg", "cash")
        assert len(series.points) == 1
        assert series.change() == pytest.approx(5.0)

    def test_the_threshold_of_waiting_too_long_is_configured(self, queue: World) -> None:
        targets = parse_targets('version: "t"\nwait_over_minutes: 5\n')
        report = metrics.report(queue.session, actor=queue.actor("hq_admin"), org="BJ01",
                                start=OCT, end=OCT, targets=targets)
        assert value(report, "queue_wait_over_share", "cash") == pytest.approx(60.0)  # 6, 8, 30
        assert only(report, "queue_wait_avg", "cash").target is None  # none set
        assert only(report, "queue_wait_avg", "cash").met() is None


class TestChannels:
    def test_availability_and_response(self, world: World) -> None:
        rows = [{"channel": "mobile_app", "day": f"2026-10-0{d}", "availability_pct": a,
                 "response_avg_ms": r, "response_p95_ms": p, "requests": n}
                for d, a, r, p, n in [(1, 100, 800, 2000, 1000), (2, 99.9, 1200, 4000, 3000),
                                      (3, 99.5, 1000, 2500, 1000)]]
        load(world, "channel", rows)
        report = run(world, start=OCT)
        # (100 + 99.9 + 99.5) / 3 = 99.8, under 99.9: missed
        assert value(report, "channel_availability", "mobile_app") == pytest.approx(99.8)
        assert only(report, "channel_availability", "mobile_app").met() is False
        # weighted by requests: (800·1000 + 1200·3000 + 1000·1000) / 5000 = 1080
        assert value(report, "channel_response_avg", "mobile_app") == pytest.approx(1080)
        assert value(report, "channel_response_p95", "mobile_app") == 4000  # rank 3 of 3

    def test_without_request_counts_each_day_weighs_the_same(self, world: World) -> None:
        load(world, "channel", [{"channel": "wechat", "day": f"2026-10-0{d}",
                                 "availability_pct": 99.9, "response_avg_ms": r}
                                for d, r in [(1, 800), (2, 1200)]])
        assert value(run(world, start=OCT), "channel_response_avg", "wechat") == 1000

    def test_a_branch_does_not_see_head_office_channels(self, world: World) -> None:
        load(world, "channel", [{"channel": "wechat", "day": "2026-10-01",
                                 "availability_pct": 99.9, "response_avg_ms": 500}])
        assert run(world, org="BJ", start=OCT).of("channel_availability") == []


class TestProcesses:
    def test_median_and_p90_in_hours(self, world: World) -> None:
        rows = [{"process_type": "account_opening", "record_id": f"K{m}", "org": "BJ01",
                 "started_at": "2026-10-12 09:00", "finished_at": f"2026-10-12 09:{m}"}
                for m in (10, 20, 30, 40)]
        rows += [{"process_type": "account_opening", "record_id": "K-open", "org": "BJ01",
                  "started_at": "2026-10-12 09:00"},
                 {"process_type": "account_opening", "record_id": "K-nov", "org": "BJ01",
                  "started_at": "2026-10-31 23:30", "finished_at": "2026-11-01 08:00"}]
        load(world, "process", rows)
        report = run(world, start=OCT)
        # 10, 20, 30, 40 min: median 25 min, P90 rank ceil(3.6) = 4 → 40 min
        assert value(report, "process_median", "account_opening") == pytest.approx(25 / 60)
        assert value(report, "process_p90", "account_opening") == pytest.approx(40 / 60)
        assert only(report, "process_median", "account_opening").points[-1].n == 4
        assert only(report, "process_median", "account_opening").target == 0.5
        assert only(report, "process_median", "account_opening").met() is True
        assert only(report, "process_p90", "account_opening").met() is True  # 0.67 h ≤ 1 h


class TestDigitalUsage:
    @pytest.fixture
    def usage(self, world: World) -> World:
        load(world, "usage", [
            {"org": "BJ01", "month": "2026-09", "app_mau": 800},
            {"org": "BJ01", "month": "2026-10", "app_mau": 1000, "self_service_txns": 300,
             "counter_txns": 100, "assistant_sessions": 200, "assistant_resolved": 150},
            {"org": "SH01", "month": "2026-10", "app_mau": 500, "self_service_txns": 100,
             "counter_txns": 100},
        ])
        return world

    def test_the_bank_sums_its_orgs(self, usage: World) -> None:
        report = run(usage)
        assert value(report, "app_mau") == 1500
        # (300 + 100) / (300 + 100 + 100 + 100)
        assert value(report, "self_service_share") == pytest.approx(400 / 600 * 100)
        assert only(report, "self_service_share").met() is False  # 66.7 % < 75 %
        assert value(report, "assistant_resolution_rate") == pytest.approx(75.0)  # 150 / 200
        assert only(report, "assistant_resolution_rate").met() is False  # < 80 %

    def test_app_users_meet_their_target_by_growing(self, usage: World) -> None:
        series = only(run(usage, org="BJ01"), "app_mau")
        assert series.growth() == pytest.approx(25.0)  # 800 → 1000
        assert series.met() is True
        assert only(run(usage, org="SH01"), "app_mau").met() is None  # no September figure


class TestTargetsPerOrg:
    def test_the_nearest_org_up_the_tree_sets_the_target(self, queue: World) -> None:
        targets = parse_targets('version: "t"\nmetrics:\n  queue_wait_avg: {target: 12}\n'
                                'orgs:\n  BJ:\n    queue_wait_avg: {target: 8}\n')
        report = metrics.report(queue.session, actor=queue.actor("hq_admin"), org="BJ01",
                                start=OCT, end=OCT, targets=targets)
        assert only(report, "queue_wait_avg", "cash").target == 8
        assert only(report, "queue_wait_avg", "cash").met() is False  # 10 > 8
        bank = metrics.report(queue.session, actor=queue.actor("hq_admin"), start=OCT,
                              end=OCT, targets=targets)
        assert only(bank, "queue_wait_avg").target == 12


class TestScopeAndParameters:
    def test_the_actor_s_own_org_by_default(self, queue: World) -> None:
        from bankvoc.orgs import service as org_service

        s = queue.session
        org_service.create_user(s, username="sh1_manager", display_name="x",
                                org=org_service.get_org_by_code(s, code="SH01"),
                                roles=["branch_manager"])
        report = run(queue, user="sh1_manager")
        assert report.org.code == "SH01"
        assert [s.group for s in report.of("queue_wait_avg")] == ["", "personal"]

    def test_an_org_outside_the_subtree_is_not_found(self, queue: World) -> None:
        with pytest.raises(NotFound) as caught:
            run(queue, org="SH01", user="bj_handler")
        assert caught.value.field == "org"

    def test_months_in_the_wrong_order_are_refused(self, queue: World) -> None:
        with pytest.raises(Invalid) as caught:
            run(queue, start=OCT, end=SEP)
        assert caught.value.field == "to"

    def test_an_unknown_metric_is_refused(self, queue: World) -> None:
        with pytest.raises(Invalid) as caught:
            metrics.report(queue.session, actor=queue.actor("hq_admin"), start=OCT, end=OCT,
                           metrics=["queue_wait_max"])
        assert caught.value.field == "metric"

    def test_the_latest_month_with_data(self, queue: World) -> None:
        assert metrics.latest_month(queue.session, actor=queue.actor("hq_admin")) == OCT


class TestByOrg:
    def test_the_orgs_under_one_side_by_side(self, queue: World) -> None:
        rows = metrics.by_org(queue.session, actor=queue.actor("hq_admin"), month=OCT)
        assert [r.org.code for r in rows] == ["BJ", "SH"]  # PBC has no figure: left out
        bj, sh = (r.series["queue_wait_avg"] for r in rows)
        assert bj.latest.value == pytest.approx(10.0)  # BJ01's cash tickets
        assert sh.latest.value == pytest.approx(2.0)  # (1 + 3) / 2
        assert (bj.met(), sh.met()) == (True, True)
        assert rows[0].series["queue_wait_over_share"].latest.value == pytest.approx(20.0)

    def test_only_under_an_org_in_scope(self, queue: World) -> None:
        rows = metrics.by_org(queue.session, actor=queue.actor("bj_handler"), month=OCT)
        assert [r.org.code for r in rows] == ["BJ01"]
        with pytest.raises(NotFound):
            metrics.by_org(queue.session, actor=queue.actor("bj_handler"), month=OCT,
                           org="SH")

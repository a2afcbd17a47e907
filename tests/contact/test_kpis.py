"""The contact centre's KPIs: the formulas on small hand-computed sets (`compute`), the repeat
contacts that first-contact resolution looks for (`repeated`), and the report of the database
cut by group, period and org subtree, each user seeing only their own subtree (`report`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bankvoc.contact import interactions, kpis
from bankvoc.contact.kpis import Facts
from bankvoc.core.errors import Invalid
from tests.conftest import World

T0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def fact(id: int, **fields: Any) -> Facts:
    values: dict[str, Any] = {"started_at": T0, "routed_to_agent": True, "answered": True}
    return Facts(id=id, **{**values, **fields})


# Five interactions, worked by hand below.
FIVE = [
    fact(1, wait_s=10, talk_s=100, hold_s=20, wrap_s=30, csat=5, customer_id=1,
         issue_key="card"),
    fact(2, wait_s=30, talk_s=200, wrap_s=10, transferred=True, csat=3, customer_id=2,
         issue_key="loan"),
    fact(3, answered=False, abandoned=True, wait_s=40),
    fact(4, routed_to_agent=False, answered=False),  # served by the IVR alone
    fact(5, wait_s=20, talk_s=60, csat=4),  # no known customer
]


class TestCompute:
    def test_the_formulas_on_five_interactions(self) -> None:
        row = kpis.compute(FIVE, repeated_ids={2})
        assert row.interactions == 5
        # routed to a person: 1, 2, 3, 5 (4 stayed in the IVR); answered: 1, 2, 5
        assert row.connect_rate == pytest.approx(3 / 4)
        # answered within 20 s: 1 (10 s) and 5 (20 s, the limit included); 2 waited 30 s
        assert row.service_level == pytest.approx(2 / 3)
        assert row.abandonment_rate == pytest.approx(1 / 4)  # 3 of the 4 routed
        assert row.asa_s == pytest.approx((10 + 30 + 20) / 3)  # = 20
        # handling = talk + hold + wrap: 150, 210, 60
        assert row.aht_s == pytest.approx((150 + 210 + 60) / 3)  # = 140
        assert row.talk_s == pytest.approx((100 + 200 + 60) / 3)  # = 120
        assert row.transfer_rate == pytest.approx(1 / 3)  # 2 of the 3 answered
        # answered with a known customer: 1 and 2; 2 came back on the same issue
        assert row.fcr == pytest.approx(1 / 2)
        assert row.csat == pytest.approx((5 + 3 + 4) / 3)  # = 4
        assert row.satisfied_rate == pytest.approx(2 / 3)  # 5 and 4 of 5, 3, 4

    def test_the_service_level_threshold_is_the_bank_s(self) -> None:
        # within 30 s: 10, 30, 20 -> 3 of 3; within 10 s: 10 -> 1 of 3
        assert kpis.compute(FIVE, repeated_ids=set(), service_level_s=30).service_level == 1.0
        assert kpis.compute(FIVE, repeated_ids=set(),
                            service_level_s=10).service_level == pytest.approx(1 / 3)

    def test_nothing_gives_no_values_not_a_division_error(self) -> None:
        row = kpis.compute([], repeated_ids=set())
        assert row.interactions == 0
        assert all(value is None for name, value in row.as_dict().items()
                   if name not in ("group", "interactions"))

    def test_only_ivr_interactions_give_no_rates_of_the_routed(self) -> None:
        row = kpis.compute([fact(1, routed_to_agent=False, answered=False, csat=4)],
                           repeated_ids=set())
        assert (row.connect_rate, row.abandonment_rate, row.service_level, row.asa_s,
                row.aht_s, row.transfer_rate, row.fcr) == (None,) * 7
        assert (row.csat, row.satisfied_rate) == (4.0, 1.0)

    def test_one_row_per_group_the_unknown_group_last(self) -> None:
        facts = [fact(1, group="T2"), fact(2, group=None), fact(3, group="T1"),
                 fact(4, group="T1", answered=False, abandoned=True)]
        rows = kpis.compute_groups(facts, repeated_ids=set())
        assert [(r.group, r.interactions, r.connect_rate) for r in rows] == [
            ("T1", 2, 0.5), ("T2", 1, 1.0), (None, 1, 1.0)]

    def test_the_json_row_has_the_keys_scripts_read(self) -> None:
        assert set(kpis.compute(FIVE, repeated_ids=set()).as_dict()) >= {
            "group", "connect_rate", "service_level", "abandonment_rate", "asa_s", "aht_s",
            "talk_s", "transfer_rate", "fcr", "csat", "interactions"}


class TestRepeated:
    FIRST = fact(1, customer_id=7, issue_key="card")

    def _repeated(self, *later: Facts) -> bool:
        return 1 in kpis.repeated([self.FIRST], [self.FIRST, *later])

    def test_the_same_issue_exactly_7_days_later_is_a_repeat(self) -> None:
        assert self._repeated(fact(2, customer_id=7, issue_key="card",
                                   started_at=T0 + timedelta(days=7)))

    def test_a_second_past_7_days_is_a_new_contact(self) -> None:
        assert not self._repeated(fact(2, customer_id=7, issue_key="card",
                                       started_at=T0 + timedelta(days=7, seconds=1)))

    def test_another_issue_of_the_same_customer_is_no_repeat(self) -> None:
        assert not self._repeated(fact(2, customer_id=7, issue_key="loan",
                                       started_at=T0 + timedelta(hours=1)))

    def test_the_same_issue_of_another_customer_is_no_repeat(self) -> None:
        assert not self._repeated(fact(2, customer_id=8, issue_key="card",
                                       started_at=T0 + timedelta(hours=1)))

    def test_an_earlier_contact_is_no_repeat_of_a_later_one(self) -> None:
        assert not self._repeated(fact(2, customer_id=7, issue_key="card",
                                       started_at=T0 - timedelta(hours=1)))

    def test_an_unanswered_comeback_is_still_a_repeat(self) -> None:
        assert self._repeated(fact(2, customer_id=7, issue_key="card", answered=False,
                                   abandoned=True, started_at=T0 + timedelta(days=1)))

    def test_contacts_without_an_issue_key_share_the_unknown_issue(self) -> None:
        first = fact(1, customer_id=7)
        later = fact(2, customer_id=7, started_at=T0 + timedelta(days=1))
        assert kpis.repeated([first], [first, later]) == {1}

    def test_an_unknown_customer_never_repeats(self) -> None:
        first = fact(1, issue_key="card")
        later = fact(2, issue_key="card", started_at=T0 + timedelta(days=1))
        assert kpis.repeated([first], [first, later]) == set()


class TestPeriod:
    def test_local_days_become_utc_instants(self) -> None:
        since, until = kpis.period(date(2026, 10, 1), date(2026, 10, 31), SHANGHAI)
        # midnight in Shanghai is 16:00 UTC the day before
        assert (since, until) == (datetime(2026, 9, 30, 16, tzinfo=UTC),
                                  datetime(2026, 10, 31, 16, tzinfo=UTC))

    def test_a_period_ending_before_it_starts_is_refused(self) -> None:
        with pytest.raises(Invalid) as caught:
            kpis.period(date(2026, 10, 2), date(2026, 10, 1), SHANGHAI)
        assert caught.value.field == "to"


def add(world: World, source_id: str, **fields: Any) -> None:
    values = {"source_id": source_id, "agent": "A1", "team": "T1", "queue": "Q1",
              "org": "BJ01", "started_at": "2026-10-01T02:00:00Z", "answered": "1",
              "wait_s": "10", "talk_s": "100", **fields}
    data = interactions.parse({k: v for k, v in values.items() if v is not None},
                              source_system="acd")
    interactions.store(world.session, actor=world.actor("hq_admin"), data=data)


def report(world: World, username: str = "hq_admin", **options: Any) -> list[dict[str, Any]]:
    rows = kpis.report(world.session, actor=world.actor(username), tz=SHANGHAI, **options)
    return [row.as_dict() for row in rows]


class TestReport:
    @pytest.fixture
    def calls(self, world: World) -> World:
        """Beijing: three calls of agent A1 (one abandoned) and one of A2; Shanghai: two."""
        add(world, "B1", wait_s="5")
        add(world, "B2", wait_s="25", talk_s="200", transferred="1")
        add(world, "B3", answered="0", abandoned="1", wait_s="60", talk_s="0")
        add(world, "B4", agent="A2", team="T2", wait_s="15")
        add(world, "S1", org="SH01", agent="S9", team="T9", queue="Q9")
        add(world, "S2", org="SH01", agent="S9", team="T9", queue="Q9", answered="0",
            abandoned="1")
        return world

    def test_all_interactions_in_one_row(self, calls: World) -> None:
        (row,) = report(calls)
        # routed 6, answered 4 (B1, B2, B4, S1), abandoned 2 (B3, S2)
        assert (row["group"], row["interactions"], row["connect_rate"],
                row["abandonment_rate"]) == ("all", 6, round(4 / 6, 4), round(2 / 6, 4))
        # waits of the answered: 5, 25, 15, 10 -> mean 13.75; within 20 s: 3 of 4
        assert (row["asa_s"], row["service_level"]) == (13.8, 0.75)
        assert row["transfer_rate"] == 0.25

    def test_one_row_per_agent(self, calls: World) -> None:
        rows = {r["group"]: r for r in report(calls, by="agent")}
        assert set(rows) == {"A1", "A2", "S9"}
        # A1: B1, B2 answered, B3 abandoned -> connect 2/3; talk (100 + 200) / 2 = 150
        assert (rows["A1"]["connect_rate"], rows["A1"]["talk_s"]) == (round(2 / 3, 4), 150.0)
        assert rows["A2"]["connect_rate"] == 1.0

    def test_one_row_per_team_queue_and_org(self, calls: World) -> None:
        assert [r["group"] for r in report(calls, by="team")] == ["T1", "T2", "T9"]
        assert [r["group"] for r in report(calls, by="queue")] == ["Q1", "Q9"]
        assert [(r["group"], r["interactions"]) for r in report(calls, by="org")] == [
            ("BJ01", 4), ("SH01", 2)]

    def test_a_branch_user_sees_only_its_subtree(self, calls: World) -> None:
        (row,) = report(calls, "bj_handler")
        assert row["interactions"] == 4
        assert [r["group"] for r in report(calls, "bj_handler", by="org")] == ["BJ01"]

    def test_an_org_s_subtree_is_cut_on_request(self, calls: World) -> None:
        assert report(calls, org_code="SH")[0]["interactions"] == 2

    def test_an_org_outside_the_user_s_subtree_is_refused(self, calls: World) -> None:
        with pytest.raises(Invalid) as caught:
            report(calls, "bj_handler", org_code="SH")
        assert caught.value.field == "org"

    def test_the_period_is_whole_local_days(self, world: World) -> None:
        add(world, "D1", started_at="2026-09-30T15:59:59Z")  # 23:59:59 on 30 Sept in Shanghai
        add(world, "D2", started_at="2026-09-30T16:00:00Z")  # 00:00 on 1 Oct in Shanghai
        add(world, "D3", started_at="2026-10-31T15:59:59Z")  # 23:59:59 on 31 Oct
        add(world, "D4", started_at="2026-10-31T16:00:00Z")  # 00:00 on 1 Nov
        (row,) = report(world, start=date(2026, 10, 1), end=date(2026, 10, 31))
        assert row["interactions"] == 2

    def test_a_repeat_after_the_period_still_counts_against_fcr(self, world: World) -> None:
        phone = "13800138000"
        add(world, "F1", phone=phone, issue_key="card", started_at="2026-10-31T02:00:00Z")
        add(world, "F2", phone=phone, issue_key="card", started_at="2026-11-03T02:00:00Z")
        add(world, "F3", phone="13900139000", issue_key="card",
            started_at="2026-10-30T02:00:00Z")
        # October: F1 (came back on 3 Nov) and F3 (did not) -> 1 of 2
        (row,) = report(world, start=date(2026, 10, 1), end=date(2026, 10, 31))
        assert row["fcr"] == 0.5

    def test_a_repeat_in_another_branch_counts_though_it_is_out_of_sight(
        self, world: World
    ) -> None:
        phone = "13800138000"
        add(world, "F1", phone=phone, issue_key="card")
        add(world, "F2", phone=phone, issue_key="card", org="SH01",
            started_at="2026-10-02T02:00:00Z")
        (row,) = report(world, "bj_handler")
        assert (row["interactions"], row["fcr"]) == (1, 0.0)

    def test_no_interactions_give_nulls(self, world: World) -> None:
        (row,) = report(world)
        assert (row["interactions"], row["connect_rate"], row["fcr"], row["csat"]) == (
            0, None, None, None)

    def test_an_unknown_grouping_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            report(world, by="colour")
        assert caught.value.field == "by"

"""What the contact-centre dashboard computes (`contact.dashboard`): the period before, the
targets met or missed, and an overview whose figures are `kpis.report`'s for the same data."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bankvoc.contact import dashboard, interactions, kpis
from bankvoc.contact.targets import load_targets
from bankvoc.core.errors import Invalid
from bankvoc.orgs import service as org_service
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def add(world: World, source_id: str, **fields: Any) -> None:
    values = {"source_id": source_id, "agent": "A1", "team": "T1", "queue": "Q1",
              "org": "PBC", "started_at": "2026-10-01 10:00", "answered": "1",
              "wait_s": "10", "talk_s": "100", **fields}
    data = interactions.parse(values, source_system="acd")
    interactions.store(world.session, actor=world.actor("hq_admin"), data=data)


class TestPreviousPeriod:
    def test_as_long_and_just_before(self) -> None:
        assert dashboard.previous_period(date(2026, 10, 1), date(2026, 10, 7)) == (
            date(2026, 9, 24), date(2026, 9, 30))
        assert dashboard.previous_period(date(2026, 3, 1), date(2026, 3, 1)) == (
            date(2026, 2, 28), date(2026, 2, 28))


class TestTarget:
    def test_higher_is_better_met_at_the_threshold(self) -> None:
        target = load_targets().target("service_level", [])
        assert target is not None
        assert (target.value, target.better) == (0.8, "higher")
        assert (target.met(0.8), target.met(0.7999), target.met(None)) == (True, False, None)

    def test_lower_is_better_met_at_the_threshold(self) -> None:
        target = load_targets().target("abandonment_rate", [])
        assert target is not None
        assert (target.met(0.05), target.met(0.0501)) == (True, False)


class TestOverview:
    @pytest.fixture
    def calls(self, world: World) -> World:
        add(world, "C1", wait_s="5", phone="13800000001", issue_key="x")
        # 01:30 on 4 October in Shanghai, still 3 October in UTC
        add(world, "C2", wait_s="30", started_at="2026-10-03T17:30:00Z")
        add(world, "C3", answered="0", abandoned="1", wait_s="50", agent=None,
            started_at="2026-10-03 09:00")
        add(world, "C4", agent="A2", phone="13800000001", issue_key="x",
            started_at="2026-10-04 09:00")
        add(world, "P1", wait_s="60", started_at="2026-09-30 12:00")
        add(world, "B1", org="BJ01", started_at="2026-10-02 12:00")
        return world

    def test_the_figures_are_the_reports(self, calls: World) -> None:
        actor = calls.actor("hq_admin")
        found = dashboard.overview(calls.session, actor=actor, start=date(2026, 10, 1),
                                   end=date(2026, 10, 4), by="agent", tz=SHANGHAI)
        (row,) = kpis.report(calls.session, actor=actor, start=date(2026, 10, 1),
                             end=date(2026, 10, 4), tz=SHANGHAI)
        assert found.current.as_dict() == row.as_dict()
        by_agent = kpis.report(calls.session, actor=actor, by="agent", start=date(2026, 10, 1),
                               end=date(2026, 10, 4), tz=SHANGHAI)
        assert [g.as_dict() for g in found.groups] == [g.as_dict() for g in by_agent]
        # C1's customer came back on the same issue (C4): C1 is not resolved first time
        assert found.current.fcr == 0.5

    def test_every_local_day_and_the_period_before(self, calls: World) -> None:
        found = dashboard.overview(calls.session, actor=calls.actor("hq_admin"),
                                   start=date(2026, 10, 1), end=date(2026, 10, 4), tz=SHANGHAI)
        assert [(d.isoformat(), r.interactions) for d, r in found.days] == [
            ("2026-10-01", 1), ("2026-10-02", 1), ("2026-10-03", 1), ("2026-10-04", 2)]
        assert (found.previous_start, found.previous_end) == (date(2026, 9, 27),
                                                               date(2026, 9, 30))
        assert (found.previous.interactions, found.previous.asa_s) == (1, 60.0)

    def test_a_branch_user_sees_its_subtree(self, calls: World) -> None:
        found = dashboard.overview(calls.session, actor=calls.actor("bj_handler"),
                                   start=date(2026, 10, 1), end=date(2026, 10, 4), tz=SHANGHAI)
        assert found.current.interactions == 1

    @pytest.mark.parametrize(("options", "name"), [
        ({"start": date(2026, 10, 4), "end": date(2026, 10, 1)}, "to"),
        ({"start": date(2025, 1, 1), "end": date(2026, 10, 1)}, "from"),
        ({"by": "org"}, "by"),
        ({"org_code": "SH"}, "org"),
        ({"service_level_s": -1}, "service_level_s"),
    ])
    def test_a_bad_request_names_its_field(self, calls: World, options: dict[str, Any],
                                           name: str) -> None:
        values: dict[str, Any] = {"start": date(2026, 10, 1), "end": date(2026, 10, 4),
                                  **options}
        with pytest.raises(Invalid) as caught:
            dashboard.overview(calls.session, actor=calls.actor("bj_handler"), tz=SHANGHAI,
                               **values)
        assert caught.value.field == name


class TestAgentNames:
    def test_users_by_display_name_others_left_out(self, world: World) -> None:
        org_service.create_user(world.session, username="pbc_zhao", display_name="赵坐席",
                                org=org_service.get_org_by_code(world.session, code="PBC"),
                                roles=["agent"])
        assert dashboard.agent_names(world.session, usernames=["pbc_zhao", "A9"]) == {
            "pbc_zhao": "赵坐席"}
        assert dashboard.agent_names(world.session, usernames=[]) == {}

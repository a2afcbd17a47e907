"""Setting a KPI target keeps its history: one `kpi_target_change` per setting, with the value
before and after, who and why, written in the same transaction; and what the admin screen
lists (the targets in force and the changes) stays within the viewer's subtree."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bankvoc.analytics import service
from bankvoc.analytics.models import KpiTarget, KpiTargetChange
from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from tests.analytics.conftest import Bank

JAN = date(2026, 1, 1)


def history(bank: Bank) -> list[tuple[str, int | None, float | None, float, str, str]]:
    rows = bank.session.scalars(select(KpiTargetChange).order_by(KpiTargetChange.id))
    return [(r.kpi, r.org_id, r.before_value, r.after_value, r.actor_username, r.note)
            for r in rows]


class TestSetTargetHistory:
    def test_a_first_target_is_a_change_from_nothing(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        service.set_target(bank.session, actor=admin, kpi="csat", value=80, valid_from=JAN,
                           note="年度目标")
        assert history(bank) == [("csat", None, None, 80.0, "hq_admin", "年度目标")]

    def test_a_second_setting_keeps_the_value_before(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        service.set_target(bank.session, actor=admin, kpi="csat", value=80, valid_from=JAN)
        service.set_target(bank.session, actor=admin, kpi="csat", value=85, valid_from=JAN,
                           note="上调")
        assert history(bank) == [("csat", None, None, 80.0, "hq_admin", ""),
                                 ("csat", None, 80.0, 85.0, "hq_admin", "上调")]
        assert bank.session.scalar(select(func.count()).select_from(KpiTarget)) == 1

    def test_an_org_target_is_recorded_with_its_org(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        service.set_target(bank.session, actor=admin, kpi="on_time_rate", value=90,
                           valid_from=JAN, org="BJ")
        bj = bank.org("BJ").id
        assert history(bank) == [("on_time_rate", bj, None, 90.0, "hq_admin", "")]
        change = bank.session.scalars(select(KpiTargetChange)).one()
        assert change.actor_user_id == admin.user_id
        assert change.valid_from == JAN

    def test_a_refused_setting_leaves_no_history(self, bank: Bank) -> None:
        with pytest.raises(Invalid):
            service.set_target(bank.session, actor=bank.world.actor("hq_admin"), kpi="csat",
                               value=180, valid_from=JAN)
        with pytest.raises(Forbidden):
            service.set_target(bank.session, actor=bank.world.actor("bj_handler"), kpi="csat",
                               value=80, valid_from=JAN, org="BJ")
        assert history(bank) == []

    def test_a_too_long_note_is_refused_by_its_field(self, bank: Bank) -> None:
        with pytest.raises(Invalid) as error:
            service.set_target(bank.session, actor=bank.world.actor("hq_admin"), kpi="csat",
                               value=80, valid_from=JAN, note="x" * 501)
        assert error.value.field == "note"


class TestTargetChanges:
    def test_a_branch_sees_bank_wide_changes_and_its_own_not_others(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        for org in (None, "BJ", "SH"):
            service.set_target(bank.session, actor=admin, kpi="csat", value=80,
                               valid_from=JAN, org=org)
        bj_user = org_service.create_user(bank.session, username="bj_analyst",
                                          display_name="bj", org=bank.org("BJ"),
                                          roles=[Role.analyst])
        bj = org_service.actor_for(bj_user)
        seen = {c.org_id for c in service.target_changes(bank.session, actor=bj)}
        assert seen == {None, bank.org("BJ").id}
        assert len(service.target_changes(bank.session, actor=admin)) == 3


class TestTargetsInForce:
    def test_the_latest_month_not_after_the_day_is_in_force(self, bank: Bank) -> None:
        admin = bank.world.actor("hq_admin")
        service.set_target(bank.session, actor=admin, kpi="csat", value=80, valid_from=JAN)
        service.set_target(bank.session, actor=admin, kpi="csat", value=85,
                           valid_from=date(2026, 6, 1))
        service.set_target(bank.session, actor=admin, kpi="csat", value=90,
                           valid_from=date(2027, 1, 1))
        found = service.targets_in_force(bank.session, actor=admin, on=date(2026, 10, 1))
        assert [(t.kpi, t.org_id, t.value) for t in found] == [("csat", None, 85.0)]

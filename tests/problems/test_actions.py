"""Improvement actions and their effect measured from the database: a planted improvement is
recovered inside its interval, a placebo covers 0, and the cost stands beside the benefit."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import delete

from bankvoc.analytics.models import OrgMonthStat
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from bankvoc.problems import actions
from bankvoc.problems.models import CaseProblem, ImprovementAction, Problem
from bankvoc.problems.schemas import ActionCreate, ActionUpdate
from bankvoc.surveys.models import Callback
from tests.conftest import World
from tests.problems.conftest import plant
from tests.problems.test_service import problem

_codes = itertools.count(1)
NOW = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
START = date(2026, 4, 1)  # 6 months measured after, 12 before
MONTHS = [date(2025 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(18)]


def sub_branches(world: World, count: int) -> list[Org]:
    """Sub-branches under Beijing: of one kind and level, so comparable with each other."""
    bj = org_service.get_org_by_code(world.session, code="BJ")
    return [org_service.create_org(world.session, code=f"BJS{i:02d}", name=f"支行{i}",
                                   kind=OrgKind.sub_branch, parent=bj) for i in range(count)]


def action(world: World, pilots: list[Org], **fields: object) -> int:
    found = problem(world, code=f"P-ACT-{next(_codes)}")
    data = ActionCreate.model_validate({
        "title": "年费减免标记自动校验", "owner": "bj_handler", "status": "done",
        "started_on": START, "cost": "30000", "pilot_orgs": [o.code for o in pilots],
        **fields})
    return actions.create_action(world.session, actor=world.actor("hq_cpo"),
                                 problem_id=found.id, data=data, now=NOW).id


def plant_panel(world: World, orgs: list[Org], pilots: int, *, change: float,
                seed: int = 1) -> float:
    """Complaints per org and month (Poisson around each org's level, customers imported),
    the pilots' expected count changed by `change` from START; half of each month's cases
    linked to the action's problem. Returns the true effect on the complaint rate per 10,000
    customers."""
    rng = np.random.default_rng(seed)
    session = world.session
    truth = []
    for index, org in enumerate(orgs):
        level, customers = rng.uniform(6, 14), 20_000
        for month in MONTHS:
            expected = level * (1 + change if index < pilots and month >= START else 1)
            if index < pilots and month >= START:
                truth.append((expected - level) / customers * 10_000)
            session.add(OrgMonthStat(org_id=org.id, month=month, customers=customers))
            for n in range(int(rng.poisson(expected))):
                session.add(plant(org, datetime(month.year, month.month, 10 + n % 15, 2,
                                                tzinfo=UTC)))
    session.flush()
    return float(np.mean(truth))


class TestCreateAction:
    def test_an_action_names_its_owner_pilots_and_cost(self, bank: World) -> None:
        orgs = sub_branches(bank, 2)
        created = actions.to_read(bank.session, bank.session.get_one(
            ImprovementAction, action(bank, orgs[:1])))
        assert (created.owner, created.pilot_orgs, created.cost) == (
            "bj_handler", ["BJS00"], Decimal("30000.00"))

    def test_an_action_under_way_puts_an_open_problem_in_hand(self, bank: World) -> None:
        action_id = action(bank, [], status="in_progress")
        found = bank.session.get_one(ImprovementAction, action_id)
        assert bank.session.get_one(Problem, found.problem_id).status == "fixing"

    def test_unknown_pilot_orgs_and_owners_are_named(self, bank: World) -> None:
        with pytest.raises(NotFound) as raised:
            action(bank, [], pilot_orgs=["NOPE"])
        assert raised.value.field == "pilot_orgs"
        with pytest.raises(NotFound) as raised:
            action(bank, [], owner="nobody")
        assert raised.value.field == "owner"


class TestUpdateAction:
    def test_the_owner_may_report_progress_but_not_change_the_cost(self, bank: World) -> None:
        action_id = action(bank, [])
        owner = bank.actor("bj_handler")
        changed = actions.update_action(bank.session, actor=owner, action_id=action_id,
                                        data=ActionUpdate(status="in_progress", notes="上线"))
        assert changed.status == "in_progress"
        with pytest.raises(Forbidden):
            actions.update_action(bank.session, actor=owner, action_id=action_id,
                                  data=ActionUpdate(cost=Decimal(1)))

    def test_someone_else_may_not(self, bank: World) -> None:
        action_id = action(bank, [])
        with pytest.raises(Forbidden):
            actions.update_action(bank.session, actor=bank.actor("sh_handler"),
                                  action_id=action_id, data=ActionUpdate(notes="x"))


class TestMeasureEffect:
    def test_a_planted_30_percent_drop_is_recovered_inside_its_interval(
        self, bank: World
    ) -> None:
        orgs = sub_branches(bank, 12)
        action_id = action(bank, orgs[:6])
        truth = plant_panel(bank, orgs, 6, change=-0.3)
        found = actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                       action_id=action_id, now=NOW, permutations=199)
        rate = found.outcomes[0]
        assert rate.name == "complaint_rate"
        assert rate.ci_low is not None
        assert rate.ci_high is not None
        assert rate.ci_low <= truth <= rate.ci_high
        assert rate.ci_high < 0
        assert rate.reliable
        assert (len(found.months_before), len(found.months_after)) == (12, 6)
        assert found.comparison_orgs == [o.code for o in orgs[6:]]
        benefit = found.benefit
        assert benefit.complaints_avoided_per_month is not None
        assert benefit.complaints_avoided_per_month > 0
        assert benefit.cost_per_complaint_avoided == (
            Decimal(30000) / Decimal(str(benefit.complaints_avoided))).quantize(Decimal("0.01"))

    def test_a_placebo_gives_an_interval_covering_zero(self, bank: World) -> None:
        orgs = sub_branches(bank, 12)
        action_id = action(bank, orgs[:6])
        plant_panel(bank, orgs, 6, change=0.0, seed=2)
        found = actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                       action_id=action_id, now=NOW, permutations=0)
        rate = found.outcomes[0]
        assert rate.ci_low is not None
        assert rate.ci_high is not None
        assert rate.ci_low <= 0 <= rate.ci_high

    def test_without_imported_customers_counts_are_compared_and_it_says_so(
        self, bank: World
    ) -> None:
        orgs = sub_branches(bank, 4)
        action_id = action(bank, orgs[:2])
        plant_panel(bank, orgs, 2, change=-0.3)
        bank.session.execute(delete(OrgMonthStat))
        found = actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                       action_id=action_id, now=NOW, permutations=0)
        first = found.outcomes[0]
        assert first.name == "complaints"
        assert "no customer numbers are imported" in first.notes[0]
        assert not first.reliable  # two pilots: said, not hidden
        assert any("only 2 pilot org(s)" in note for note in first.notes)

    def test_csat_and_the_problems_own_cases_are_measured_too(self, bank: World) -> None:
        orgs = sub_branches(bank, 4)
        action_id = action(bank, orgs[:2])
        problem_id = bank.session.get_one(ImprovementAction, action_id).problem_id
        for index, org in enumerate(orgs):
            for month in MONTHS:
                case = plant(org, datetime(month.year, month.month, 12, 2, tzinfo=UTC))
                bank.session.add(case)
                bank.session.flush()
                bank.session.add(CaseProblem(case_id=case.id, problem_id=problem_id,
                                             linked_by=1))
                happy = index < 2 and month >= START
                bank.session.add(Callback(case_id=case.id, round=0, status="done", reason="",
                                          csat=5 if happy else 2,
                                          completed_at=case.received_at))
        bank.session.flush()
        found = actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                       action_id=action_id, now=NOW, permutations=0)
        csat, own = found.outcomes[1], found.outcomes[2]
        assert (csat.name, csat.pilot_before, csat.pilot_after) == ("csat", 0.0, 100.0)
        assert csat.did == pytest.approx(100.0)
        assert (own.name, own.did) == ("problem_cases", 0.0)

    def test_an_action_needs_a_start_and_a_complete_month_after_it(self, bank: World) -> None:
        orgs = sub_branches(bank, 2)
        action_id = action(bank, orgs[:1], started_on=None)
        with pytest.raises(Conflict, match="no start date"):
            actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                   action_id=action_id, now=NOW)
        actions.update_action(bank.session, actor=bank.actor("hq_cpo"), action_id=action_id,
                              data=ActionUpdate(started_on=date(2026, 9, 15)))
        with pytest.raises(Conflict, match="no complete month") as raised:
            actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                   action_id=action_id, now=NOW)
        assert raised.value.field == "started_on"

    def test_pilots_need_comparable_orgs(self, bank: World) -> None:
        orgs = sub_branches(bank, 1)
        action_id = action(bank, orgs)
        with pytest.raises(Conflict, match="no comparable org"):
            actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                   action_id=action_id, now=NOW)

    def test_pilots_outside_the_actors_scope_are_refused(self, bank: World) -> None:
        orgs = sub_branches(bank, 2)
        action_id = action(bank, orgs[:1])
        with pytest.raises(Forbidden):
            actions.measure_effect(bank.session, actor=bank.actor("sh_handler"),
                                   action_id=action_id, now=NOW)

    def test_a_partial_start_month_is_left_out(self, bank: World) -> None:
        orgs = sub_branches(bank, 2)
        action_id = action(bank, orgs[:1], started_on=date(2026, 3, 15))
        found = actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"),
                                       action_id=action_id, now=NOW, permutations=0)
        assert date(2026, 3, 1) not in [*found.months_before, *found.months_after]
        assert (found.months_before[-1], found.months_after[0]) == (date(2026, 2, 1),
                                                                    date(2026, 4, 1))
        assert "left out" in found.notes[0]

    def test_a_bad_window_is_refused(self, bank: World) -> None:
        with pytest.raises(Invalid):
            actions.measure_effect(bank.session, actor=bank.actor("hq_cpo"), action_id=1,
                                   months_before=0)

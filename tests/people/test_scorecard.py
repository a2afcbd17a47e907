"""Scorecards: each component raw and normalised, the weighted total with components without
data left out and the rest re-weighted, rankings within the parent and training needs; the
figures worked out by hand from the fixtures' tables (tests/people/conftest.py)."""

from __future__ import annotations

import pytest

from bankvoc.core.errors import Forbidden, Invalid
from bankvoc.people import scorecard, weights
from bankvoc.people.scorecard import Card, Component
from tests.people.conftest import Centre


def _raw(card: Card) -> dict[str, float | None]:
    return {c.code: None if c.raw is None else round(c.raw, 3) for c in card.components}


def _norm(card: Card) -> dict[str, float | None]:
    return {c.code: None if c.normalised is None else round(c.normalised, 3)
            for c in card.components}


class TestNormalise:
    def test_a_complaint_rate_falls_linearly_to_zero_at_the_worst(self) -> None:
        assert scorecard.normalise("complaint_rate", 0, worst=10) == 100
        assert scorecard.normalise("complaint_rate", 2.5, worst=10) == 75
        assert scorecard.normalise("complaint_rate", 50, worst=10) == 0

    def test_a_percentage_or_score_is_kept_within_0_to_100(self) -> None:
        assert scorecard.normalise("qa", 73.5, worst=10) == 73.5
        assert scorecard.normalise("satisfaction", None, worst=10) is None


class TestCombine:
    def test_a_component_without_data_is_left_out_and_the_rest_reweighted(self) -> None:
        parts = [Component("satisfaction", 80, 5, 80, "", 30),
                 Component("on_time", None, 0, None, "", 10),
                 Component("qa", 60, 3, 60, "", 40)]
        total, left_out = scorecard.combine(parts)
        # (30 × 80 + 40 × 60) ÷ 70
        assert total == pytest.approx(4800 / 70)
        assert left_out == ["on_time"]
        assert [round(p.applied, 3) for p in parts] == [42.857, 0, 57.143]

    def test_nothing_with_data_gives_no_total(self) -> None:
        assert scorecard.combine([Component("qa", None, 0, None, "", 40)]) == (None, ["qa"])


class TestAgents:
    def test_each_component_raw_and_normalised(self, centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10")
        a1 = cards.card("a1")
        # CSAT 5, 3, 4: two of three satisfied; 2 of 4 answered calls raised complaints; 1 of
        # the 2 decided on time; QA 90 (reviewed), 70, 60.
        assert _raw(a1) == {"satisfaction": 66.667, "complaint_rate": 50.0, "on_time": 50.0,
                            "qa": 73.333}
        assert _norm(a1) == {"satisfaction": 66.667, "complaint_rate": 0.0, "on_time": 50.0,
                             "qa": 73.333}
        # 0.30 × 66.667 + 0.20 × 0 + 0.10 × 50 + 0.40 × 73.333
        assert a1.total == pytest.approx(20 + 0 + 5 + 29.3333, abs=1e-3)
        assert a1.left_out == []
        assert a1.note == ""

    def test_a_reviewers_score_replaces_the_machines(self, centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10")
        assert _raw(cards.card("a2"))["qa"] == 95.0  # 100 and 90 (the machine said 50)

    def test_no_decided_complaint_leaves_on_time_out_and_says_so(self, centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10")
        a2 = cards.card("a2")
        # (30 × 100 + 20 × 100 + 40 × 95) ÷ 90
        assert a2.total == pytest.approx(8800 / 90)
        assert a2.left_out == ["on_time"]
        assert "on_time" in a2.note
        assert "re-weighted" in a2.note

    def test_ranked_within_the_team(self, centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10")
        assert [(c.parent, c.key, c.rank, c.peers) for c in cards.cards] == [
            ("T1", "a2", 1, 2), ("T1", "a1", 2, 2), ("T2", "a3", 1, 1)]

    def test_weakest_categories_against_the_team_are_training_needs(self,
                                                                  centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10")
        # a1: greeting on 2 of 3 inspected calls, closing on 1 of 3; team T1: greeting on 2
        # of 5 (a dismissed hit does not count), closing 1 of 5, silence 1 of 5.
        assert [(n.category, round(n.rate, 3), round(n.team_rate, 3))
                for n in cards.card("a1").needs] == [("greeting", 0.667, 0.4),
                                                     ("closing", 0.333, 0.2)]
        assert [n.category for n in cards.card("a2").needs] == ["silence"]
        assert cards.card("a3").needs == []

    def test_other_orgs_calls_are_outside_a_team_leads_scope(self, centre: Centre) -> None:
        lead = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                    level="agent", month="2026-10")
        admin = scorecard.scorecards(centre.session,
                                     actor=centre.bank.world.actor("hq_admin"),
                                     level="agent", month="2026-10")
        assert "b1" not in {c.key for c in lead.cards}
        assert "b1" in {c.key for c in admin.cards}


class TestTeams:
    def test_a_team_adds_up_its_agents_calls(self, centre: Centre) -> None:
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="team", month="2026-10")
        t1 = cards.card("T1")
        # CSAT 5, 3, 4, 5, 4: 4 of 5; complaints 2 of 6; on time 1 of 2; QA 90 70 60 100 90.
        assert _raw(t1) == {"satisfaction": 80.0, "complaint_rate": 33.333, "on_time": 50.0,
                            "qa": 82.0}
        # 0.30 × 80 + 0.20 × 0 + 0.15 × 50 + 0.35 × 82
        assert t1.total == pytest.approx(24 + 0 + 7.5 + 28.7)
        assert [(c.key, c.rank) for c in cards.cards] == [("T2", 1), ("T1", 2)]


class TestOrgs:
    def test_outlets_from_the_kpis_and_the_visits(self, outlets: Centre) -> None:
        cards = scorecard.scorecards(outlets.session, actor=outlets.bank.world.actor("hq_admin"),
                                     level="outlet", month="2026-10")
        bj01 = cards.card("BJ01")
        # CSAT 5 of 1 answer; 2 complainants of 200 customers = 1% → 90; 1 of 2 on time;
        # visits 80 and 90 (September's 10 is another month).
        assert _raw(bj01) == {"satisfaction": 100.0, "complaint_rate": 1.0, "on_time": 50.0,
                              "inspection": 85.0}
        assert _norm(bj01)["complaint_rate"] == 90.0
        # 0.30 × 100 + 0.20 × 90 + 0.20 × 50 + 0.30 × 85
        assert bj01.total == pytest.approx(30 + 18 + 10 + 25.5)
        sh01 = cards.card("SH01")
        assert sh01.total == 70.0
        assert sh01.left_out == ["satisfaction", "complaint_rate", "on_time"]
        assert (bj01.parent, sh01.parent) == ("BJ", "SH")  # each first among its branch's

    def test_the_appraisal_gives_every_branch_its_card(self, outlets: Centre) -> None:
        cards = scorecard.appraisal(outlets.session, actor=outlets.bank.world.actor("hq_admin"),
                                    month="2026-10")
        bj = cards.card("BJ")
        # CSAT 100; 2 complainants of the subtree's 1,200 customers (BJ's 1,000 and BJ01's
        # 200) = 1/6 % → 100 × (1 − 1/60); on time 50; no calls; the visits' 85.
        # (25 × 100 + 20 × 98.333 + 25 × 50 + 20 × 85) ÷ 90
        assert _raw(bj) == {"satisfaction": 100.0, "complaint_rate": 0.167, "on_time": 50.0,
                            "qa": None, "inspection": 85.0}
        assert bj.total == pytest.approx((2500 + 20 * 100 * (1 - 1 / 60) + 1250 + 1700) / 90)
        assert [(c.key, c.rank) for c in cards.cards] == [("BJ", 1), ("SH", 2)]

    def test_a_branch_manager_sees_only_their_branch(self, outlets: Centre) -> None:
        from bankvoc.orgs import service as org_service
        bj = org_service.get_org_by_code(outlets.session, code="BJ")
        org_service.create_user(outlets.session, username="bjm", display_name="bjm", org=bj,
                                roles=["branch_manager"])
        cards = scorecard.scorecards(outlets.session, actor=outlets.bank.world.actor("bjm"),
                                     level="outlet", month="2026-10")
        assert [c.key for c in cards.cards] == ["BJ01"]


class TestParameters:
    @pytest.mark.parametrize(("level", "month", "field"), [
        ("desk", "2026-10", "level"),
        ("agent", "2026-13", "month"),
        ("agent", "October", "month"),
    ])
    def test_a_bad_parameter_names_its_field(self, centre: Centre, level: str, month: str,
                                             field: str) -> None:
        with pytest.raises(Invalid) as caught:
            scorecard.scorecards(centre.session, actor=centre.bank.world.actor("hq_admin"),
                                 level=level, month=month)
        assert caught.value.field == field

    def test_an_agent_may_not_read_scorecards(self, centre: Centre) -> None:
        with pytest.raises(Forbidden):
            scorecard.scorecards(centre.session, actor=centre.bank.world.actor("bj1_agent"),
                                 level="agent", month="2026-10")

    def test_other_weights_change_the_total(self, centre: Centre) -> None:
        only_qa = weights.parse_weights(
            'version: "t"\nlevels:\n  agent: {qa: 1}\n  team: {qa: 1}\n'
            "  outlet: {inspection: 1}\n  branch: {inspection: 1}\n")
        cards = scorecard.scorecards(centre.session, actor=centre.bank.world.actor("pbc_lead"),
                                     level="agent", month="2026-10", config=only_qa)
        assert cards.card("a1").total == pytest.approx(220 / 3)
        assert cards.weights_version == "t"

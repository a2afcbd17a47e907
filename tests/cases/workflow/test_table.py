"""The workflow table: every legal step, and nothing else."""

from __future__ import annotations

from bankvoc.cases.enums import CLOSED_STATUSES, CaseStatus
from bankvoc.cases.workflow.table import TRANSITIONS, Action, actions_in, rule_for
from bankvoc.orgs.permissions import PERMISSIONS


class TestTable:
    def test_every_rule_names_a_known_permission(self) -> None:
        assert {rule.permission for rule in TRANSITIONS.values()} <= PERMISSIONS.keys()

    def test_the_loop_runs_from_receipt_to_archive(self) -> None:
        status = CaseStatus.received
        for action in (Action.accept, Action.assign, Action.investigate, Action.propose,
                       Action.resolve, Action.close, Action.archive):
            rule = rule_for(status, action)
            assert rule is not None, f"{action} from {status}"
            assert rule.to is not None
            status = rule.to
        assert status == CaseStatus.archived

    def test_nothing_but_a_note_of_appeal_moves_a_finished_case(self) -> None:
        for status in (CaseStatus.archived, CaseStatus.withdrawn, CaseStatus.merged):
            assert actions_in(status) == []

    def test_a_refused_case_can_only_be_reopened_or_told(self) -> None:
        assert set(actions_in(CaseStatus.not_accepted)) == {Action.reopen, Action.tell}

    def test_no_step_is_possible_twice_from_a_closed_status_without_reopening(self) -> None:
        for status in CLOSED_STATUSES - {CaseStatus.closed, CaseStatus.not_accepted}:
            assert not actions_in(status)

    def test_a_decision_cannot_be_resolved_before_it_is_proposed(self) -> None:
        assert rule_for(CaseStatus.investigating, Action.resolve) is None
        assert rule_for(CaseStatus.received, Action.propose) is None

    def test_the_clock_can_only_be_extended_or_paused_once_accepted(self) -> None:
        for action in (Action.extend, Action.pause):
            assert rule_for(CaseStatus.received, action) is None
            assert rule_for(CaseStatus.investigating, action) is not None

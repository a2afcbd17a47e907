"""Callbacks after resolution and satisfaction surveys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bankvoc.cases.models import Case
from bankvoc.cases.workflow import schemas
from bankvoc.cases.workflow import service as workflow
from bankvoc.cases.workflow.config import CallbackPolicy
from bankvoc.core.errors import Conflict
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs.models import Org
from bankvoc.surveys import service
from bankvoc.surveys.models import Callback, SurveyResponse
from bankvoc.surveys.schemas import CallbackResult, SurveyCreate
from tests.conftest import World

STEP = schemas.STEP_ADAPTER
NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def resolved_case(world: World, source_id: str = "1", **fields: Any) -> Case:
    data = CaseCreate.model_validate({"text": "网点排队两个小时", "source_id": source_id,
                                      "customer_phone": "13812345678",
                                      "received_at": "2026-09-22 10:00", **fields})
    draft = intake_service.register_case(world.session, actor=world.actor("bj_handler"),
                                         data=data)
    case = world.session.get_one(Case, draft.case_id)
    for payload in ({"action": "accept"}, {"action": "assign", "user": "bj_handler"},
                    {"action": "investigate"},
                    {"action": "propose", "decision": "explanation", "basis": "排队规定"},
                    {"action": "resolve", "told_via": "phone", "summary": "已解释"}):
        workflow.apply(world.session, actor=world.actor("bj_handler"), case=case, now=NOW,
                       step=STEP.validate_python({**payload, "version": case.version}))
    return case


def callback_of(world: World, case: Case) -> Callback:
    found = world.session.scalar(select(Callback).where(Callback.case_id == case.id)
                                 .order_by(Callback.round.desc()))
    assert found is not None
    return found


class TestPolicy:
    def _case(self, **fields: Any) -> Case:
        return Case(reference=fields.pop("reference", "TS20261001000001"), **fields)

    def test_urgent_and_major_cases_are_always_called_back(self) -> None:
        policy = CallbackPolicy(sample_percent=0)
        status, reason = service.decide(self._case(severity="urgent", origin="direct"), policy)
        assert (status, reason) == ("pending", "every urgent case is called back")

    def test_regulator_transfers_are_always_called_back(self) -> None:
        policy = CallbackPolicy(sample_percent=0)
        assert service.decide(self._case(severity="general", origin="12378"),
                              policy)[0] == "pending"

    def test_the_sample_is_about_the_configured_share_and_stable(self) -> None:
        policy = CallbackPolicy(sample_percent=30)
        chosen = [service.decide(self._case(severity="general", origin="direct",
                                            reference=f"TS20261001{i:06d}"), policy)[0]
                  for i in range(2000)]
        share = chosen.count("pending") / len(chosen)
        assert 0.27 < share < 0.33
        again = service.decide(self._case(severity="general", origin="direct",
                                          reference="TS20261001000007"), policy)
        assert again[0] == chosen[7]


class TestScheduling:
    def test_each_resolved_case_gets_one_decision_however_often_the_job_runs(
        self, world: World
    ) -> None:
        case = resolved_case(world, severity="urgent")
        first = service.schedule_due(world.session, now=NOW)
        second = service.schedule_due(world.session, now=NOW)
        assert (first.scheduled, second.scheduled) == (1, 0)
        callback = callback_of(world, case)
        assert (callback.status, callback.round) == ("pending", 0)
        assert callback.due_at is not None

    def test_only_recent_resolutions_are_looked_at_unless_asked_to_look_further(
        self, world: World
    ) -> None:
        case = resolved_case(world, severity="urgent")  # resolved at NOW
        later = NOW + service.LOOKBACK + timedelta(days=1)
        assert service.schedule_due(world.session, now=later).scheduled == 0
        caught_up = service.schedule_due(world.session, now=later, since=NOW - timedelta(days=1))
        assert caught_up.scheduled == 1
        assert callback_of(world, case).status == "pending"

    def test_a_case_resolved_just_inside_the_window_is_decided(self, world: World) -> None:
        resolved_case(world, severity="urgent")
        assert service.schedule_due(world.session,
                                    now=NOW + service.LOOKBACK).scheduled == 1

    def test_open_cases_get_no_callback(self, world: World) -> None:
        data = CaseCreate.model_validate({"text": "x", "source_id": "open"})
        intake_service.register_case(world.session, actor=world.actor("bj_handler"), data=data)
        assert service.schedule_due(world.session, now=NOW).as_dict() == {
            "scheduled": 0, "skipped": 0}


class TestResults:
    def _pending(self, world: World) -> tuple[Case, Callback]:
        case = resolved_case(world, severity="urgent")
        service.schedule_due(world.session, now=NOW)
        return case, callback_of(world, case)

    def test_a_satisfied_customer_closes_the_case(self, world: World) -> None:
        case, callback = self._pending(world)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, now=NOW,
                              result=CallbackResult(csat=5, nps=9, solved=True,
                                                    comment="很满意，谢谢"))
        assert (callback.status, case.status) == ("done", "closed")
        assert callback.sentiment is not None
        assert callback.sentiment > 0

    def test_an_unhappy_answer_reopens_and_escalates_the_case(self, world: World) -> None:
        case, callback = self._pending(world)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, now=NOW,
                              result=CallbackResult(csat=2, nps=3, solved=True,
                                                    comment="还是不满意，电话13812345678"))
        assert (case.status, case.reopen_count, case.escalation_level) == (
            "investigating", 1, 1)
        assert "138****5678" in (callback.comment_masked or "")

    def test_an_unsolved_problem_reopens_it_whatever_the_score(self, world: World) -> None:
        case, callback = self._pending(world)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, now=NOW,
                              result=CallbackResult(csat=4, solved=False))
        assert case.status == "investigating"

    def test_resolved_again_after_reopening_it_gets_a_new_round(self, world: World) -> None:
        case, callback = self._pending(world)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, now=NOW,
                              result=CallbackResult(csat=1, solved=False))
        for payload in ({"action": "propose", "decision": "correction", "basis": "重新核实"},
                        {"action": "resolve", "told_via": "phone", "summary": "已纠正"}):
            workflow.apply(world.session, actor=world.actor("bj_handler"), case=case, now=NOW,
                           step=STEP.validate_python({**payload, "version": case.version}))
        service.schedule_due(world.session, now=NOW)
        assert callback_of(world, case).round == 1

    def test_an_unreachable_customer_leaves_the_case_as_it_is(self, world: World) -> None:
        case, callback = self._pending(world)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, now=NOW,
                              result=CallbackResult(reached=False))
        assert (callback.status, case.status) == ("unreachable", "resolved")

    def test_a_callback_is_recorded_once(self, world: World) -> None:
        _, callback = self._pending(world)
        result = CallbackResult(csat=5, solved=True)
        service.record_result(world.session, actor=world.actor("bj_handler"),
                              callback_id=callback.id, result=result, now=NOW)
        with pytest.raises(Conflict, match="done already"):
            service.record_result(world.session, actor=world.actor("bj_handler"),
                                  callback_id=callback.id, result=result, now=NOW)

    def test_the_queue_shows_only_cases_in_scope(self, world: World) -> None:
        self._pending(world)
        assert len(service.callback_queue(world.session, actor=world.actor("bj_handler"))) == 1
        assert service.callback_queue(world.session, actor=world.actor("sh_handler")) == []


class TestSurveys:
    def _survey(self, **fields: Any) -> SurveyCreate:
        return SurveyCreate.model_validate({
            "source_id": "s1", "org": "BJ01", "channel": "branch", "touchpoint": "branch_visit",
            "answered_at": "2026-10-01 10:00", "csat": 4, "nps": 8, **fields})

    def test_an_answer_is_stored_once_per_source_id(self, world: World) -> None:
        actor = world.actor("bj_handler")
        first = service.add_survey(world.session, actor=actor, data=self._survey())
        again = service.add_survey(world.session, actor=actor, data=self._survey())
        assert first[1] is True
        assert again == (first[0], False)

    def test_an_import_looks_each_org_up_once(self, world: World) -> None:
        actor = world.actor("bj_handler")
        orgs: dict[str, Org] = {}
        service.add_survey(world.session, actor=actor, data=self._survey(), orgs=orgs)
        assert list(orgs) == ["BJ01"]
        cached = orgs["BJ01"]
        survey_id, stored = service.add_survey(world.session, actor=actor, orgs=orgs,
                                               data=self._survey(source_id="s2"))
        assert stored is True
        assert orgs == {"BJ01": cached}
        answer = world.session.get_one(SurveyResponse, survey_id)
        assert answer.org_id == cached.id

    def test_an_org_outside_scope_is_refused(self, world: World) -> None:
        with pytest.raises(Exception, match="outside your scope"):
            service.add_survey(world.session, actor=world.actor("bj_handler"),
                               data=self._survey(org="SH01"))

    def test_an_answer_needs_a_score(self) -> None:
        with pytest.raises(ValueError, match="at least one of csat"):
            self._survey(csat=None, nps=None)

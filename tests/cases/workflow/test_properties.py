"""The case workflow as a state machine under random steps by random people.

Hypothesis drives one case through random actions (allowed or not in its status) taken by
people of different roles, and checks after each step what the workflow promises:

- a step the table does not allow in the status raises IllegalTransition and changes nothing;
  one the actor's roles do not permit raises Forbidden and changes nothing;
- a step that goes through bumps the version by exactly one, moves to the table's next status
  (or keeps the status), and appends exactly one event;
- a step refused by a guard (a domain error) changes nothing once its unit of work is rolled
  back, as the API's would be;
- the event chain always verifies; the terminal statuses (archived, merged, withdrawn) stay
  terminal: nothing at all is allowed in them.

The budget is the hypothesis profile's (tests/conftest.py), scaled down: each example is a
sequence of database steps.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from bankvoc.cases.enums import CaseStatus
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Case, CaseEvent
from bankvoc.cases.workflow import schemas, service
from bankvoc.cases.workflow.service import IllegalTransition
from bankvoc.cases.workflow.table import TRANSITIONS, Action, actions_in, rule_for
from bankvoc.core.errors import BankvocError, Forbidden
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from tests.cases.workflow.test_service import NOW
from tests.conftest import World

TERMINAL = frozenset({CaseStatus.archived, CaseStatus.merged, CaseStatus.withdrawn})
# People of the Beijing branch and head office (the `bank` fixture), and an analyst who may
# work no case at all.
PEOPLE = ["bj_handler", "bj_handler2", "bj_lead", "bj_manager", "hq_cpo", "hq_analyst"]
TEXT = "已与客户核实"
ROOT_CAUSE = {"category": "process", "what": "排队过长", "why": "窗口开放不足"}

# One well-formed payload per action (the workflow's guards still decide whether it is taken).
PAYLOADS: dict[Action, dict[str, Any]] = {
    Action.accept: {}, Action.refuse: {"reason": "不属于投诉受理范围"},
    Action.assign: {"user": "bj_handler2"}, Action.investigate: {},
    Action.note: {"text": TEXT}, Action.approve: {},
    Action.propose: {"decision": "explanation", "basis": "信用卡章程第十二条"},
    Action.resolve: {"told_via": "phone", "summary": "已解释并退还年费",
                     "root_cause": ROOT_CAUSE},
    Action.tell: {"via": "sms", "summary": TEXT},
    Action.customer_answer: {"satisfied": False, "comment": "仍不满意"},
    Action.close: {}, Action.archive: {}, Action.reopen: {"reason": "客户不满意"},
    Action.transfer: {"to_org": "BJ01", "reason": "由网点处理"},
    Action.add_cohandler: {"org": "SH"},
    Action.add_complainant: {"phone": "13900001111", "name": "李四"},
    Action.escalate: {"reason": "客户情绪激动"}, Action.extend: {"reason": "案情复杂"},
    Action.pause: {"reason": "appraisal"}, Action.resume: {},
    Action.merge: {"into": "__other__"}, Action.withdraw: {"reason": "客户撤诉"},
    Action.answer_regulator: {"via": "platform", "summary": TEXT},
}


class CaseWorkflow(RuleBasedStateMachine):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.session = world.session
        self.example = self.session.begin_nested()  # each example starts from the same world
        self.case = self._register("信用卡年费被多扣了200元，要求退还")
        self.other = self._register("网点排队两个小时没人管")  # a case to merge into
        self.terminal_seen: CaseStatus | None = None

    def _register(self, text: str) -> Case:
        data = CaseCreate.model_validate({"text": text, "customer_phone": "13812345678",
                                          "received_at": "2026-09-22 15:30", "org": "BJ"})
        draft = intake_service.register_case(self.session, actor=self.world.actor("bj_handler"),
                                             data=data)
        case = self.session.get(Case, draft.case_id)
        assert case is not None
        return case

    def _events(self) -> int:
        return self.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == self.case.id)) or 0

    def _seen(self) -> tuple[str, int, int]:
        self.session.refresh(self.case)
        return self.case.status, self.case.version, self._events()

    @rule(action=st.sampled_from(list(Action)), who=st.sampled_from(PEOPLE))
    def take_any_step(self, action: Action, who: str) -> None:
        self._take(action, who)

    @rule(data=st.data(), who=st.sampled_from(PEOPLE))
    def take_a_step_the_table_allows(self, data: st.DataObject, who: str) -> None:
        """Mostly forward: so that the random walk gets past the first statuses."""
        allowed = actions_in(self._seen()[0])
        if allowed:
            self._take(data.draw(st.sampled_from(allowed)), who)

    def _take(self, action: Action, who: str) -> None:
        status, version, events = self._seen()
        payload = dict(PAYLOADS[action])
        if action is Action.merge:
            payload["into"] = self.other.reference
        step = schemas.STEP_ADAPTER.validate_python(
            {"action": action.value, "version": version, **payload})
        actor = self.world.actor(who)
        table_rule = rule_for(status, action)
        savepoint = self.session.begin_nested()
        try:
            service.act(self.session, actor=actor, reference=self.case.reference, step=step,
                        now=NOW)
        except IllegalTransition:
            assert table_rule is None, f"{action} refused in {status} though the table allows it"
            assert self._seen() == (status, version, events)  # refused before any change
            savepoint.rollback()
            return
        except Forbidden:  # the table allows the step, not to this person
            assert table_rule is not None, f"{action} in {status} is not in the table"
            savepoint.rollback()
            assert self._seen() == (status, version, events)
            return
        except BankvocError:  # a guard of the step: the unit of work is rolled back
            assert table_rule is not None, f"{action} in {status} is not in the table"
            assert actor.can(table_rule.permission), f"{who} may not {action}: not Forbidden"
            savepoint.rollback()
            assert self._seen() == (status, version, events)
            return
        savepoint.commit()
        assert table_rule is not None, f"{action} went through in {status}"
        assert actor.can(table_rule.permission)
        new_status, new_version, new_events = self._seen()
        assert new_version == version + 1
        assert new_events == events + 1
        assert new_status == (table_rule.to or status)

    def teardown(self) -> None:
        self.example.rollback()

    @invariant()
    def the_chain_verifies(self) -> None:
        check = verify_chain(self.session, case_id=self.case.id)
        assert check.ok, check

    @invariant()
    def a_terminal_status_stays(self) -> None:
        status = CaseStatus(self.case.status)
        if self.terminal_seen is not None:
            assert status == self.terminal_seen
        if status in TERMINAL:
            self.terminal_seen = status
            assert not [a for (s, a) in TRANSITIONS if s == status]


def test_random_steps_keep_the_workflow_s_promises(bank: World) -> None:
    org_service.get_user(bank.session, username="hq_analyst")  # present in the test world
    budget = settings(settings(), max_examples=max(2, settings().max_examples // 3),
                      stateful_step_count=25, suppress_health_check=list(HealthCheck))
    run_state_machine_as_test(lambda: CaseWorkflow(bank), settings=budget)  # type: ignore[arg-type]

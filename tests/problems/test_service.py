"""The problem library: root causes, problems and their cases, similar problems, recurrence,
and telling customers about a fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import CaseEvent
from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound
from bankvoc.notify.models import Notification
from bankvoc.problems import service
from bankvoc.problems.enums import CauseCategory, ProblemStatus
from bankvoc.problems.models import Problem, RootCause
from bankvoc.problems.schemas import ProblemCreate, ProblemUpdate, RootCauseIn
from tests.conftest import World
from tests.problems.conftest import register

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
CAUSE = RootCauseIn(category=CauseCategory.system, what="年费重复扣收",
                    why="系统未识别首年免年费标记，经办人电话13812345678",
                    where="信用卡核心系统", how="修复免年费标记的批处理")


def problem(world: World, code: str = "P-FEE-01", **fields: object) -> Problem:
    data = ProblemCreate.model_validate({
        "code": code, "title_zh": "信用卡年费重复扣收", "title_en": "Card fee charged twice",
        "description": "首年免年费的信用卡仍被扣收年费", "product": "credit_card",
        "category": "fee_dispute", **fields})
    return service.create_problem(world.session, actor=world.actor("hq_cpo"), data=data,
                                  now=NOW)


def events(world: World, case_id: int, type_: str) -> list[CaseEvent]:
    return list(world.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.type == type_).order_by(CaseEvent.seq)))


class TestRecordRootCause:
    def test_the_cause_is_stored_masked_and_put_on_the_case_timeline(self, bank: World) -> None:
        case = register(bank, "信用卡年费被多扣了")
        cause = service.record_root_cause(bank.session, actor=bank.actor("bj_handler"),
                                          case=case, data=CAUSE, now=NOW)
        assert (cause.category, cause.what, cause.where) == ("system", "年费重复扣收",
                                                             "信用卡核心系统")
        assert "13812345678" not in cause.why
        (event,) = events(bank, case.id, "root_cause")
        assert event.data["category"] == "system"
        assert event.data["replaced"] is False
        assert "13812345678" not in str(event.data)
        assert verify_chain(bank.session, case_id=case.id).ok

    def test_recording_again_replaces_it_and_says_so(self, bank: World) -> None:
        case = register(bank, "信用卡年费被多扣了")
        actor = bank.actor("bj_handler")
        service.record_root_cause(bank.session, actor=actor, case=case, data=CAUSE, now=NOW)
        service.record_root_cause(bank.session, actor=actor, case=case, now=NOW,
                                  data=CAUSE.model_copy(update={"category": CauseCategory.process}))
        causes = list(bank.session.scalars(select(RootCause).where(
            RootCause.case_id == case.id)))
        assert [c.category for c in causes] == ["process"]
        assert [e.data["replaced"] for e in events(bank, case.id, "root_cause")] == [False, True]

    def test_a_role_that_does_not_work_cases_may_not(self, bank: World) -> None:
        case = register(bank, "信用卡年费被多扣了")
        with pytest.raises(Forbidden):
            service.record_root_cause(bank.session, actor=bank.actor("hq_analyst"), case=case,
                                      data=CAUSE)

    def test_a_cause_needs_its_what_and_why(self) -> None:
        with pytest.raises(ValueError, match="why"):
            RootCauseIn.model_validate({"category": "people", "what": "态度差"})


class TestUntraced:
    def test_a_resolved_complaint_without_a_cause_is_listed_until_one_is_recorded(
        self, bank: World
    ) -> None:
        from tests.cases.closing import Loop

        case = register(bank, "网点排队两个小时")
        loop = Loop(bank, case, NOW)
        for payload in ({"action": "accept"}, {"action": "assign", "user": "bj_handler"},
                        {"action": "investigate"},
                        {"action": "propose", "decision": "explanation", "basis": "规定"},
                        {"action": "resolve", "told_via": "phone", "summary": "已解释"}):
            loop.step("bj_handler", **payload)
        actor = bank.actor("bj_handler")
        assert [c.reference for c in service.untraced(bank.session, actor=actor)] == [
            case.reference]
        assert service.untraced(bank.session, actor=bank.actor("sh_handler")) == []
        service.record_root_cause(bank.session, actor=actor, case=case, data=CAUSE)
        assert service.untraced(bank.session, actor=actor) == []


class TestCreateProblem:
    def test_a_problem_starts_open_with_its_texts_masked(self, bank: World) -> None:
        created = problem(bank, description="客户张三丰13812345678反映年费问题")
        assert created.status == "open"
        assert "13812345678" not in created.description

    def test_a_code_is_used_once(self, bank: World) -> None:
        problem(bank)
        with pytest.raises(Conflict, match="exists already") as raised:
            problem(bank)
        assert raised.value.field == "code"

    def test_taxonomy_codes_are_checked(self, bank: World) -> None:
        with pytest.raises(Invalid) as raised:
            problem(bank, product="spaceships")
        assert raised.value.field == "product"

    def test_only_the_librarys_curators_create_problems(self, bank: World) -> None:
        with pytest.raises(Forbidden):
            service.create_problem(bank.session, actor=bank.actor("bj_handler"),
                                   data=ProblemCreate(code="X1", title_zh="x"))


class TestUpdateProblem:
    def _linked(self, bank: World) -> tuple[Problem, list[str]]:
        found = problem(bank)
        references = []
        for phone, text in (("13811110001", "信用卡年费被重复扣了"),
                            ("13811110002", "首年免年费却扣了年费"),
                            ("13811110001", "又被扣了年费")):  # the same customer twice
            case = register(bank, text, customer_phone=phone, customer_name="李四")
            service.link_case(bank.session, actor=bank.actor("bj_handler"),
                              problem_id=found.id, reference=case.reference, now=NOW)
            references.append(case.reference)
        register(bank, "不相关的表扬", customer_phone="13811110003", kind="praise")
        return found, references

    def test_marking_it_fixed_tells_each_customer_once(self, bank: World) -> None:
        found, references = self._linked(bank)
        fixed, told = service.update_problem(
            bank.session, actor=bank.actor("hq_cpo"), problem_id=found.id, now=NOW,
            data=ProblemUpdate(status=ProblemStatus.fixed))
        assert (fixed.status, fixed.fixed_at, told) == ("fixed", NOW, 2)
        messages = list(bank.session.scalars(select(Notification).where(
            Notification.template == "problem_fixed").order_by(Notification.recipient_ref)))
        assert len(messages) == 2
        assert all("李四" not in m.body and "1381111" not in m.body for m in messages)
        assert "信用卡年费重复扣收" in messages[0].body
        # About the customer's latest case.
        assert {m.body.split("编号")[1][:16] for m in messages} == {references[1],
                                                                     references[2]}

    def test_marking_it_fixed_again_tells_nobody_twice(self, bank: World) -> None:
        found, _ = self._linked(bank)
        actor = bank.actor("hq_cpo")
        service.update_problem(bank.session, actor=actor, problem_id=found.id, now=NOW,
                               data=ProblemUpdate(status=ProblemStatus.fixed))
        service.update_problem(bank.session, actor=actor, problem_id=found.id, now=NOW,
                               data=ProblemUpdate(status=ProblemStatus.open))
        _, told = service.update_problem(bank.session, actor=actor, problem_id=found.id,
                                         now=NOW, data=ProblemUpdate(status=ProblemStatus.fixed))
        assert told == 0

    def test_a_closed_problem_can_only_be_reopened(self, bank: World) -> None:
        found = problem(bank)
        actor = bank.actor("hq_cpo")
        service.update_problem(bank.session, actor=actor, problem_id=found.id,
                               data=ProblemUpdate(status=ProblemStatus.closed))
        with pytest.raises(Conflict, match="closed problem cannot become fixed"):
            service.update_problem(bank.session, actor=actor, problem_id=found.id,
                                   data=ProblemUpdate(status=ProblemStatus.fixed))


class TestLinkCase:
    def test_a_link_is_stored_once_and_put_on_the_timeline(self, bank: World) -> None:
        found = problem(bank)
        case = register(bank, "年费多扣")
        actor = bank.actor("bj_handler")
        first, _ = service.link_case(bank.session, actor=actor, problem_id=found.id,
                                     reference=case.reference)
        again, _ = service.link_case(bank.session, actor=actor, problem_id=found.id,
                                     reference=case.reference)
        assert first.id == again.id
        assert [e.data for e in events(bank, case.id, "problem_linked")] == [
            {"problem": "P-FEE-01"}]

    def test_another_branchs_case_cannot_be_linked(self, bank: World) -> None:
        found = problem(bank)
        case = register(bank, "年费多扣")
        with pytest.raises(NotFound):
            service.link_case(bank.session, actor=bank.actor("sh_handler"),
                              problem_id=found.id, reference=case.reference)

    def test_counts_and_lists_show_only_the_cases_in_scope(self, bank: World) -> None:
        found = problem(bank)
        case = register(bank, "年费多扣")
        service.link_case(bank.session, actor=bank.actor("bj_handler"), problem_id=found.id,
                          reference=case.reference)
        for user, expected in (("bj_handler", 1), ("sh_handler", 0), ("hq_cpo", 1)):
            actor = bank.actor(user)
            assert service.linked_counts(bank.session, actor=actor,
                                         problems=[found]).get(found.id, 0) == expected
            assert len(service.linked_cases(bank.session, actor=actor,
                                            problem_id=found.id)) == expected

    def test_unlinking_removes_it_and_is_on_the_timeline(self, bank: World) -> None:
        found = problem(bank)
        case = register(bank, "年费多扣")
        actor = bank.actor("bj_handler")
        service.link_case(bank.session, actor=actor, problem_id=found.id,
                          reference=case.reference)
        service.unlink_case(bank.session, actor=actor, problem_id=found.id,
                            reference=case.reference)
        assert service.linked_cases(bank.session, actor=actor, problem_id=found.id) == []
        assert len(events(bank, case.id, "problem_unlinked")) == 1
        with pytest.raises(NotFound, match="is not linked"):
            service.unlink_case(bank.session, actor=actor, problem_id=found.id,
                                reference=case.reference)


class TestSuggestProblems:
    def _library(self, bank: World) -> tuple[Problem, Problem, Problem]:
        fee = problem(bank)
        queue = problem(bank, code="P-QUEUE-01", title_zh="网点排队等候时间过长",
                        title_en="Long queues at outlets", product=None,
                        category="process_waiting", description="高峰期窗口开放不足")
        app = problem(bank, code="P-APP-01", title_zh="手机银行转账失败",
                      title_en="Mobile transfers fail", product="digital_banking",
                      category="system_failure", description="转账提示系统繁忙")
        case = register(bank, "周六去网点办业务排队等了两个小时，窗口只开一个")
        service.link_case(bank.session, actor=bank.actor("bj_handler"), problem_id=queue.id,
                          reference=case.reference)
        return fee, queue, app

    def test_the_most_similar_problem_comes_first_with_the_words_it_shares(
        self, bank: World
    ) -> None:
        fee, queue, _ = self._library(bank)
        new = register(bank, "网点排队太久了，等了一个多小时，窗口太少")
        found = service.suggest_problems(bank.session, case=new)
        assert found[0].problem.id == queue.id
        assert {"排队", "窗口"} <= set(found[0].shared_words)
        assert all(m.problem.id != fee.id for m in found)  # nothing in common
        assert found == sorted(found, key=lambda m: -m.score)

    def test_a_problem_already_linked_or_closed_is_not_offered(self, bank: World) -> None:
        _, queue, app = self._library(bank)
        new = register(bank, "手机银行转账一直失败，提示系统繁忙；网点排队也很久")
        service.link_case(bank.session, actor=bank.actor("bj_handler"), problem_id=queue.id,
                          reference=new.reference)
        service.update_problem(bank.session, actor=bank.actor("hq_cpo"), problem_id=app.id,
                               data=ProblemUpdate(status=ProblemStatus.closed))
        assert service.suggest_problems(bank.session, case=new) == []

    def test_a_case_like_no_problem_is_offered_none(self, bank: World) -> None:
        self._library(bank)
        new = register(bank, "感谢客户经理的耐心服务", kind="praise")
        assert service.suggest_problems(bank.session, case=new) == []


class TestRecurring:
    def test_cases_after_the_fix_flag_the_problem_with_the_reason(self, bank: World) -> None:
        found = problem(bank)
        fixed_on = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
        service.update_problem(bank.session, actor=bank.actor("hq_cpo"), problem_id=found.id,
                               data=ProblemUpdate(status=ProblemStatus.fixed), now=fixed_on)
        for received in ("2026-08-20 10:00", "2026-09-22 10:00", "2026-09-25 10:00"):
            case = register(bank, "年费又被扣了", received_at=received)
            service.link_case(bank.session, actor=bank.actor("bj_handler"),
                              problem_id=found.id, reference=case.reference)
        (flag,) = service.recurring(bank.session, actor=bank.actor("hq_cpo"), now=NOW)
        assert flag.cases_since_fixed == 2
        assert flag.reasons == ["2 new case(s) since it was marked fixed on 2026-09-10"]

    def test_a_rising_month_is_flagged_and_a_steady_one_is_not(self, bank: World) -> None:
        rising, steady = problem(bank), problem(bank, code="P-STEADY")
        months = {rising.id: [1, 1, 1, 4], steady.id: [2, 2, 2, 2]}
        for problem_id, counts in months.items():
            for month, count in zip((6, 7, 8, 9), counts, strict=True):
                for day in range(count):
                    case = register(bank, "年费问题",
                                    received_at=f"2026-{month:02d}-{day + 10} 10:00")
                    service.link_case(bank.session, actor=bank.actor("bj_handler"),
                                      problem_id=problem_id, reference=case.reference)
        flags = service.recurring(bank.session, actor=bank.actor("hq_cpo"), now=NOW)
        assert [f.problem.code for f in flags] == ["P-FEE-01"]
        assert flags[0].reasons == [
            "rising: 4 case(s) in 2026-09 against 1.0 a month in the three months before"]
        assert (flags[0].monthly[-2][0].isoformat(), flags[0].monthly[-2][1]) == (
            "2026-09-01", 4)

    def test_counts_only_the_cases_in_scope(self, bank: World) -> None:
        found = problem(bank)
        service.update_problem(bank.session, actor=bank.actor("hq_cpo"), problem_id=found.id,
                               data=ProblemUpdate(status=ProblemStatus.fixed),
                               now=NOW - timedelta(days=30))
        case = register(bank, "年费又被扣了", received_at="2026-09-25 10:00")
        service.link_case(bank.session, actor=bank.actor("bj_handler"), problem_id=found.id,
                          reference=case.reference)
        assert len(service.recurring(bank.session, actor=bank.actor("bj_handler"), now=NOW)) == 1
        assert service.recurring(bank.session, actor=bank.actor("sh_handler"), now=NOW) == []

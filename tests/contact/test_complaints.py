"""Complaint intents found in calls: which customer words are one (`complaint_intent`), and a
call imported with one becoming a complaint-intent case linked to it, once however often the
call is imported."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bankvoc.cases.models import Case
from bankvoc.contact import complaints, interactions
from bankvoc.contact.models import Interaction
from bankvoc.contact.schemas import Turn
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.orgs import service as org_service
from tests.conftest import World
from tests.contact.conftest import CLEAN, A, C, Spec
from tests.contact.test_reviews import turns

PHONE = "13812345678"
UPSET = [*CLEAN[:6], (C, 60.0, 63.0, "扣了我两次年费，我要投诉你们！"), *CLEAN[7:]]


def said(*customer: str, agent: str = "您好，请问有什么可以帮您？") -> list[Turn]:
    out = [Turn(speaker="agent", start_ms=0, end_ms=3000, text=agent)]
    out += [Turn(speaker="customer", start_ms=4000 * (i + 1), end_ms=4000 * (i + 1) + 3000,
                 text=text) for i, text in enumerate(customer)]
    return out


class TestComplaintIntent:
    @pytest.mark.parametrize(("words", "reasons"), [
        ("我要投诉你们这个收费。", ("words",)),
        ("你们今天必须给我个说法。", ("words", "emotion")),  # a demand: anger too
        ("再不处理我就去银保监反映。", ("escalation",)),
        ("我已经打了12378。", ("escalation",)),
        ("我找记者曝光你们，投诉到底！", ("words", "escalation", "emotion")),
        ("气死我了！你们这什么破银行，一点用都没有！", ("emotion",)),
    ])
    def test_a_customer_s_words(self, words: str, reasons: tuple[str, ...]) -> None:
        found = complaints.complaint_intent(said("我想查一下余额。", words))
        assert found is not None
        assert found.reasons == reasons
        assert found.turns == (2,)

    @pytest.mark.parametrize("words", [
        "我不是要投诉，就是问问。", "不用投诉了，谢谢。", "我想查一下信用卡账单。",
        "卡被冻结了，怎么办？",  # a problem told calmly
    ])
    def test_no_intent(self, words: str) -> None:
        assert complaints.complaint_intent(said(words)) is None

    def test_the_agent_s_words_do_not_count(self) -> None:
        assert complaints.complaint_intent(said("好的。", agent="您可以拨打12378投诉。")) is None

    def test_the_case_text_is_the_customer_s_turns(self) -> None:
        text = complaints.case_text(said("你好。", "我要投诉。"))
        assert text == "客户：你好。\n客户：我要投诉。"


def _store(world: World, specs: list[Spec], **fields: Any) -> str:
    values = {"id": "CALL-1", "agent": "A1001", "org": "PBC", "phone": PHONE,
              "started_at": "2026-03-02T09:00:00", "turns": turns(specs), **fields}
    data = interactions.parse(values, source_system="asr")
    return interactions.store(world.session, actor=world.actor("hq_admin"), data=data)


def _cases(world: World) -> int:
    return world.session.scalar(select(func.count()).select_from(Case)) or 0


def _call(world: World) -> Interaction:
    return world.session.scalars(select(Interaction)).one()


@pytest.fixture
def world(world: World) -> World:
    s = world.session
    org_service.create_user(s, username="A1001", display_name="A1001",
                            org=org_service.get_org_by_code(s, code="PBC"), roles=["agent"])
    s.flush()
    return world


class TestRegisteredOnImport:
    def test_a_call_with_a_complaint_becomes_a_linked_case(self, world: World) -> None:
        _store(world, UPSET)
        call = _call(world)
        assert call.case_id is not None
        case = world.session.get_one(Case, call.case_id)
        assert (case.kind, case.channel, case.source_system, case.source_id) == (
            "complaint_intent", "hotline", "call:asr", "CALL-1")
        assert case.customer_id == call.customer_id is not None
        assert case.org_id == org_service.get_org_by_code(world.session, code="PBC").id
        assert case.received_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        assert "我要投诉你们" in case.text_masked
        assert "余额" in case.text_masked  # the customer's other turns
        assert "工号1234" not in case.text_masked  # not the agent's

    def test_a_re_import_registers_nothing_twice(self, world: World) -> None:
        assert [_store(world, UPSET) for _ in range(2)] == ["accepted", "unchanged"]
        first = _call(world).case_id
        corrected = [*UPSET[:6], (C, 60.0, 63.0, "扣了我两次年费，我要投诉你们，太过分了！"),
                     *UPSET[7:]]
        assert _store(world, corrected) == "updated"
        assert _cases(world) == 1
        assert _call(world).case_id == first

    def test_a_calm_call_registers_no_case(self, world: World) -> None:
        _store(world, CLEAN)
        assert (_cases(world), _call(world).case_id) == (0, None)

    def test_a_call_linked_to_a_case_already_registers_none(self, world: World) -> None:
        draft = intake_service.register_case(
            world.session, actor=world.actor("hq_admin"),
            data=CaseCreate.model_validate({"text": "信用卡年费重复扣收", "source_id": "K1"}))
        case = world.session.get_one(Case, draft.case_id)
        _store(world, UPSET, case=case.reference)
        assert (_cases(world), _call(world).case_id) == (1, case.id)

    def test_the_agent_s_case_link_survives_a_resend_without_it(self, world: World) -> None:
        _store(world, UPSET)
        linked = _call(world).case_id
        _store(world, [*UPSET, (A, 70.0, 74.0, "已为您登记，工单号稍后短信告知，再见。")])
        assert _call(world).case_id == linked

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from bankvoc.cases.events import append_event, verify_chain, verify_chains
from bankvoc.cases.models import Case
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World


def _case(world: World, phone: str = "13812345678") -> Case:
    draft = intake_service.register_case(
        world.session, actor=world.actor("hq_admin"),
        data=CaseCreate(text="转账未到账，请尽快处理", customer_phone=phone))
    case = world.session.get(Case, draft.case_id)
    assert case is not None
    append_event(world.session, case=case, type="note", actor_user_id=None,
                 data={"text": "已联系客户"})
    append_event(world.session, case=case, type="note", actor_user_id=None,
                 data={"text": "等待核实"})
    return case


class TestVerifyChain:
    def test_an_untouched_timeline_verifies(self, world: World) -> None:
        case = _case(world)
        check = verify_chain(world.session, case_id=case.id)
        assert (check.ok, check.events) == (True, 3)

    def test_altered_event_content_is_detected(self, world: World, session: Session) -> None:
        case = _case(world)
        session.execute(text("UPDATE case_event SET data = :d WHERE case_id = :c AND seq = 2"),
                        {"d": '{"text": "客户已满意"}', "c": case.id})
        session.expire_all()
        check = verify_chain(session, case_id=case.id)
        assert (check.ok, check.broken_at_seq, check.reason) == (
            False, 2, "event content altered")

    def test_a_deleted_event_is_detected(self, world: World, session: Session) -> None:
        case = _case(world)
        session.execute(text("DELETE FROM case_event WHERE case_id = :c AND seq = 2"),
                        {"c": case.id})
        session.expire_all()
        check = verify_chain(session, case_id=case.id)
        assert (check.ok, check.broken_at_seq) == (False, 2)

    def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(
        self, world: World, session: Session
    ) -> None:
        case = _case(world)
        session.execute(text("UPDATE case_event SET hash = :h WHERE case_id = :c AND seq = 2"),
                        {"h": "f" * 64, "c": case.id})
        session.expire_all()
        check = verify_chain(session, case_id=case.id)
        assert not check.ok
        assert check.broken_at_seq == 2


class TestVerifyChains:
    def test_checks_each_case_apart_and_gives_its_last_hash(
        self, world: World, session: Session
    ) -> None:
        intact, altered = _case(world), _case(world, phone="13900000002")
        session.execute(text("UPDATE case_event SET data = :d WHERE case_id = :c AND seq = 3"),
                        {"d": '{"text": "客户已满意"}', "c": altered.id})
        session.expire_all()
        checks = verify_chains(session, case_ids=[intact.id, altered.id, -1])
        assert (checks[intact.id].ok, checks[intact.id].events) == (True, 3)
        assert (checks[altered.id].ok, checks[altered.id].broken_at_seq) == (False, 3)
        assert checks[-1] == verify_chain(session, case_id=-1)
        assert (checks[-1].ok, checks[-1].events, checks[-1].last_hash) == (True, 0, None)
        last = session.scalar(text("SELECT hash FROM case_event WHERE case_id = :c AND seq = 3"),
                              {"c": intact.id})
        assert checks[intact.id].last_hash == last

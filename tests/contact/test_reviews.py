"""Quality inspection stored and reviewed: an imported transcript is kept encrypted with a masked
copy and inspected in the same store (once: a resend stores nothing, a correction is inspected
again); low scores and risky calls are queued; an inspector confirms or overrides, with a
reason, audited; everything scoped to the user's subtree."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from bankvoc.contact import interactions, reviews
from bankvoc.contact.inspection import inspect
from bankvoc.contact.models import (
    Interaction,
    InteractionTranscript,
    QaHit,
    QaResult,
    QaReviewEvent,
)
from bankvoc.contact.rules import load_ruleset, parse_ruleset
from bankvoc.core.errors import Forbidden, Invalid, NotFound
from bankvoc.customers import service as customers_service
from bankvoc.customers.models import PiiAccess
from bankvoc.orgs import service as org_service
from tests.conftest import World
from tests.contact.conftest import CLEAN, A, C, Spec, call

PHONE = "13812345678"
# The clean call, its customer saying a phone number.
WITH_PHONE = [*CLEAN[:3], (C, 18.0, 19.5, f"手机号{PHONE}。"), *CLEAN[4:]]
# The clean call, its agent brushing the customer off at turn 4.
RUDE = [*CLEAN[:4], (A, 20.0, 28.0, "这个我也不知道，你自己去查吧，我们管不了。"), *CLEAN[5:]]


def turns(specs: list[Spec]) -> list[dict[str, Any]]:
    return [{"speaker": s, "start_ms": round(a * 1000), "end_ms": round(b * 1000), "text": t}
            for s, a, b, t in specs]


def record(specs: list[Spec] | None = CLEAN, **fields: Any) -> dict[str, Any]:
    """A line of the speech-recognition platform's JSON Lines, as the import reads it."""
    values: dict[str, Any] = {"id": "CALL-1", "agent": "A1001", "team": "T1", "queue": "借记卡",
                              "product": "debit_card", "started_at": "2026-03-02T09:00:00",
                              **fields}
    if specs is not None:
        values["turns"] = turns(specs)
    return values


def store(world: World, specs: list[Spec] | None = CLEAN, username: str = "hq_admin",
          lookups: interactions.Lookups | None = None, **fields: Any) -> str:
    data = interactions.parse(record(specs, **fields), source_system="asr")
    return interactions.store(world.session, actor=world.actor(username), data=data,
                              lookups=lookups)


def result(world: World, source_id: str = "CALL-1") -> QaResult:
    return world.session.scalars(select(QaResult).join(
        Interaction, Interaction.id == QaResult.interaction_id).where(
        Interaction.source_id == source_id)).one()


def count(world: World, model: Any) -> int:
    return world.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(world: World) -> World:
    """The test world plus the phone-banking centre's agent A1001 and QA inspector, and an
    inspector of the Shanghai branch."""
    s = world.session
    pbc = org_service.get_org_by_code(s, code="PBC")
    sh = org_service.get_org_by_code(s, code="SH")
    for name, org, roles in (("A1001", pbc, ["agent"]), ("pbc_inspector", pbc, ["qa_inspector"]),
                             ("sh_inspector", sh, ["qa_inspector"]),
                             ("A1002", pbc, ["agent", "qa_inspector"])):
        org_service.create_user(s, username=name, display_name=name, org=org, roles=roles)
    s.flush()
    return world


class TestStoringTheTranscript:
    def test_the_texts_are_encrypted_and_a_masked_copy_kept(self, world: World) -> None:
        assert store(world, WITH_PHONE) == "accepted"
        stored = world.session.scalars(select(InteractionTranscript)).one()
        assert PHONE not in stored.texts_enc
        assert PHONE not in orjson.dumps(stored.turns).decode()
        assert [t["speaker"] for t in stored.turns] == [s for s, *_ in WITH_PHONE]
        assert stored.turns[3]["text"].startswith("手机号138")
        texts = orjson.loads(customers_service.current_keyring().decrypt(
            stored.texts_enc, field=reviews.TEXT_FIELD))
        assert texts == [t for *_, t in WITH_PHONE]

    def test_a_record_with_a_transcript_needs_no_answered_flag(self, world: World) -> None:
        store(world)
        assert world.session.scalars(select(Interaction)).one().answered is True

    def test_a_record_without_a_transcript_is_not_inspected(self, world: World) -> None:
        store(world, None, answered="1")
        assert count(world, InteractionTranscript) == count(world, QaResult) == 0

    def test_turns_given_as_json_text_in_a_csv_cell(self, world: World) -> None:
        store(world, None, turns=orjson.dumps(turns(RUDE)).decode())
        assert result(world).machine_score < 100

    @pytest.mark.parametrize(("value", "field"), [
        ("[{", "turns"),
        ([{"speaker": "agent", "start_ms": 5, "end_ms": 1, "text": "您好"}], "turns.0"),
        ([{"speaker": "robot", "start_ms": 0, "end_ms": 1, "text": "您好"}],
         "turns.0.speaker"),
    ])
    def test_a_bad_transcript_names_its_field(self, world: World, value: Any,
                                              field: str) -> None:
        with pytest.raises(Invalid) as caught:
            interactions.parse(record(None, turns=value), source_system="asr")
        assert caught.value.field == field


class TestInspectingOnImport:
    def test_every_transcript_is_inspected_as_qa_inspect_scores_it(self, world: World) -> None:
        store(world, RUDE)
        expected = inspect(call(RUDE), load_ruleset())
        found = result(world)
        assert (found.machine_score, found.rules_version) == (expected.score, 1)
        assert found.human_score is None
        hits = world.session.scalars(select(QaHit).order_by(QaHit.seq)).all()
        assert [(h.category, h.rule, h.turn) for h in hits] == [
            (h.category, h.rule, h.turn) for h in expected.hits]
        assert ("forbidden_phrase", 4) in {(h.category, h.turn) for h in hits}

    def test_the_evidence_is_stored_masked(self, world: World) -> None:
        said = f"您的手机号是{PHONE}，这个我也不知道。"
        store(world, [*CLEAN[:4], (A, 20.0, 28.0, said), *CLEAN[5:]])
        evidence = [h.evidence for h in world.session.scalars(select(QaHit))]
        assert evidence
        assert not any(PHONE in e for e in evidence)

    def test_a_clean_call_passes_and_is_not_queued(self, world: World) -> None:
        store(world)
        found = result(world)
        assert (found.machine_score, found.status, found.reasons) == (100, "pass", [])

    def test_a_risky_call_is_queued_with_its_reasons(self, world: World) -> None:
        store(world, RUDE)
        found = result(world)
        assert found.status == "pending"
        assert "category:forbidden_phrase" in found.reasons
        assert "critical:forbidden_phrases" in found.reasons

    def test_the_inspection_is_an_event_of_the_trail(self, world: World) -> None:
        store(world, RUDE)
        event = world.session.scalars(select(QaReviewEvent)).one()
        assert (event.action, event.actor_username, event.score_before, event.score_after) == (
            "inspected", "hq_admin", None, result(world).machine_score)

    def test_the_same_transcript_again_stores_nothing(self, world: World) -> None:
        assert [store(world, RUDE) for _ in range(3)] == ["accepted", "unchanged", "unchanged"]
        assert [count(world, m) for m in (InteractionTranscript, QaResult, QaReviewEvent)] == [
            1, 1, 1]
        assert count(world, QaHit) == len(inspect(call(RUDE), load_ruleset()).hits)

    def test_a_corrected_transcript_is_inspected_again(self, world: World) -> None:
        store(world, RUDE)
        reviews.review(world.session, actor=world.actor("pbc_inspector"),
                       result_id=result(world).id, decision="override", score=70,
                       reason="坐席态度尚可")
        assert store(world, CLEAN) == "updated"
        found = result(world)
        assert (found.machine_score, found.human_score, found.status) == (100, None, "pass")
        assert {h.category for h in world.session.scalars(select(QaHit))} == set()
        trail = reviews.events_of(world.session, result=found)
        assert [(e.action, e.score_before, e.score_after) for e in trail][-1] == (
            "reinspected", 70, 100)
        assert count(world, InteractionTranscript) == 1

    def test_a_new_follow_up_is_a_correction(self, world: World) -> None:
        store(world)
        assert store(world, follow_up="CB-1") == "updated"


class TestQueueReasons:
    RULES = """\
version: 7
review: {threshold: 90, categories: [closing]}
rules:
  - {id: closing, category: closing, check: required, scope: last_agent_turns, weight: 20,
     match: {phrases: [再见]}}
  - {id: rude, category: forbidden_phrase, check: forbidden, weight: 5, critical: true,
     match: {phrases: [不知道]}}
"""

    def test_the_threshold_and_the_risky_categories_come_from_the_rule_set(self) -> None:
        rules = parse_ruleset(self.RULES)
        no_closing: list[Spec] = [(A, 0, 3, "您好，很高兴为您服务。"), (C, 4, 6, "查余额。")]
        found = inspect(call(no_closing), rules)
        assert found.score == 80
        assert reviews.queue_reasons(found, rules) == ["low_score", "category:closing"]

    def test_a_critical_rule_queues_the_call_whatever_its_score(self) -> None:
        rules = parse_ruleset(self.RULES)
        found = inspect(call([(A, 0, 3, "您好，这个我不知道，再见。")]), rules)
        assert found.score == 95
        assert reviews.queue_reasons(found, rules) == ["critical:rude"]

    def test_the_shipped_policy(self) -> None:
        policy = load_ruleset().review
        assert (policy.threshold, policy.categories) == (
            60, ("risk_disclosure", "forbidden_phrase", "emotion"))

    def test_an_import_uses_the_rule_set_it_is_given(self, world: World) -> None:
        rules = parse_ruleset(self.RULES)
        store(world, lookups=interactions.Lookups(rules=rules))
        assert (result(world).rules_version, result(world).status) == (7, "pass")


class TestListing:
    def test_the_queue_holds_the_pending_calls_of_the_subtree(self, world: World) -> None:
        store(world, RUDE)
        store(world, CLEAN, id="CALL-2")
        rows, total = reviews.list_results(world.session, actor=world.actor("pbc_inspector"))
        assert total == 1
        assert [r.interaction.source_id for r in rows] == ["CALL-1"]
        every, total = reviews.list_results(world.session, actor=world.actor("pbc_inspector"),
                                            cut=reviews.ReviewFilter(status=None))
        assert (total, [r.result.score for r in every]) == (2, [every[0].result.score, 100])

    @pytest.mark.parametrize(("cut", "found"), [
        ({"agent": "A1001"}, ["CALL-1"]), ({"agent": "A9"}, []), ({"team": "T2"}, ["CALL-2"]),
        ({"queue": "信用卡"}, ["CALL-2"]), ({"queue": "借记卡", "team": "T1"}, ["CALL-1"]),
    ])
    def test_filters_by_agent_team_and_queue(self, world: World, cut: dict[str, str],
                                             found: list[str]) -> None:
        store(world, RUDE)
        store(world, RUDE, id="CALL-2", agent="A1002", team="T2", queue="信用卡")
        rows, _ = reviews.list_results(world.session, actor=world.actor("hq_admin"),
                                       cut=reviews.ReviewFilter(**cut))  # type: ignore[arg-type]
        assert [r.interaction.source_id for r in rows] == found

    def test_another_branch_sees_nothing_of_it(self, world: World) -> None:
        store(world, RUDE)
        rows, total = reviews.list_results(world.session, actor=world.actor("sh_inspector"))
        assert (rows, total) == ([], 0)
        with pytest.raises(NotFound):
            reviews.get_result(world.session, actor=world.actor("sh_inspector"),
                               result_id=result(world).id)

    def test_an_agent_may_not_read_the_results(self, world: World) -> None:
        with pytest.raises(Forbidden):
            reviews.list_results(world.session, actor=world.actor("A1001"))


class TestTranscriptOf:
    def test_masked_by_default_and_nothing_recorded(self, world: World) -> None:
        store(world, WITH_PHONE)
        found = reviews.get_result(world.session, actor=world.actor("hq_admin"),
                                   result_id=result(world).id)
        shown = reviews.transcript_of(world.session, actor=world.actor("hq_admin"),
                                      reviewed=found)
        assert PHONE not in shown[3].text
        assert (shown[3].speaker, shown[3].start_ms, shown[3].end_ms) == ("customer", 18000,
                                                                          19500)
        assert count(world, PiiAccess) == 0

    def test_revealed_to_a_role_that_reads_personal_data_and_recorded(self,
                                                                      world: World) -> None:
        store(world, WITH_PHONE)
        found = reviews.get_result(world.session, actor=world.actor("hq_admin"),
                                   result_id=result(world).id)
        shown = reviews.transcript_of(world.session, actor=world.actor("hq_admin"),
                                      reviewed=found, reveal=True)
        assert PHONE in shown[3].text
        access = world.session.scalars(select(PiiAccess)).one()
        assert (access.subject, access.username, access.fields) == (
            "transcript", "hq_admin", ["transcript"])
        assert PHONE not in access.detail

    def test_an_inspector_may_not_reveal(self, world: World) -> None:
        store(world, WITH_PHONE)
        actor = world.actor("pbc_inspector")
        found = reviews.get_result(world.session, actor=actor, result_id=result(world).id)
        with pytest.raises(Forbidden):
            reviews.transcript_of(world.session, actor=actor, reviewed=found, reveal=True)


class TestReview:
    def _review(self, world: World, username: str = "pbc_inspector", **given: Any) -> QaResult:
        values: dict[str, Any] = {"decision": "override", "score": 75, "reason": "客户情绪系误判",
                                  **given}
        return reviews.review(world.session, actor=world.actor(username),
                              result_id=result(world).id, **values)

    def test_an_override_keeps_the_machine_score_beside_the_human_one(self,
                                                                     world: World) -> None:
        store(world, RUDE)
        machine = result(world).machine_score
        reviewed = self._review(world)
        assert (reviewed.machine_score, reviewed.human_score, reviewed.score,
                reviewed.status) == (machine, 75, 75, "overridden")
        assert reviewed.reviewer_id == org_service.get_user(world.session,
                                                            username="pbc_inspector").id

    def test_each_decision_is_an_audited_event(self, world: World) -> None:
        store(world, RUDE)
        machine = result(world).machine_score
        hit = world.session.scalars(select(QaHit).where(
            QaHit.category == "forbidden_phrase")).first()
        assert hit is not None
        self._review(world, dismiss=[hit.id])
        self._review(world, "hq_admin", decision="confirm", score=None, reason="复核后维持")
        trail = reviews.events_of(world.session, result=result(world))
        assert [(e.action, e.actor_username, e.machine_score, e.score_before, e.score_after)
                for e in trail] == [("inspected", "hq_admin", machine, None, machine),
                                    ("overridden", "pbc_inspector", machine, machine, 75),
                                    ("confirmed", "hq_admin", machine, 75, machine)]
        assert trail[1].reason == "客户情绪系误判"
        assert trail[1].dismissed == [{"rule": hit.rule, "category": "forbidden_phrase",
                                       "turn": 4}]
        assert not any(h.dismissed for h in reviews.hits_of(world.session,
                                                            result=result(world)))

    def test_a_dismissed_hit_is_marked(self, world: World) -> None:
        store(world, RUDE)
        hit = world.session.scalars(select(QaHit)).first()
        assert hit is not None
        self._review(world, dismiss=[hit.id], score=result(world).machine_score)
        dismissed = [h.id for h in reviews.hits_of(world.session, result=result(world))
                     if h.dismissed]
        assert dismissed == [hit.id]

    def test_a_confirmation_takes_the_machine_score(self, world: World) -> None:
        store(world, RUDE)
        reviewed = self._review(world, decision="confirm", score=None)
        assert (reviewed.human_score, reviewed.status) == (reviewed.machine_score, "confirmed")

    @pytest.mark.parametrize(("given", "field", "words"), [
        ({"reason": "  "}, "reason", "give the reason"),
        ({"reason": "长" * 1001}, "reason", "at most 1000"),
        ({"score": None}, "score", "give the score"),
        ({"score": 101}, "score", "between 0 and 100"),
        ({"score": -1}, "score", "between 0 and 100"),
        ({"score": "machine"}, "score", "changes the score or dismisses"),
        ({"dismiss": [999999]}, "dismiss", "not one of this call's"),
        ({"decision": "confirm", "score": 3}, "score", "keeps the machine's score"),
        ({"decision": "reject"}, "decision", "not a decision"),
    ])
    def test_a_bad_decision_names_its_field(self, world: World, given: dict[str, Any],
                                            field: str, words: str) -> None:
        store(world, RUDE)
        if given.get("score") == "machine":
            given["score"] = result(world).machine_score
        with pytest.raises(Invalid) as caught:
            self._review(world, **given)
        assert caught.value.field == field
        assert words in caught.value.message
        assert result(world).status == "pending"
        assert count(world, QaReviewEvent) == 1

    def test_nobody_reviews_their_own_call(self, world: World) -> None:
        store(world, RUDE, agent="A1002")
        with pytest.raises(Forbidden):
            self._review(world, "A1002")

    def test_an_agent_may_not_review(self, world: World) -> None:
        store(world, RUDE)
        with pytest.raises(Forbidden):
            self._review(world, "A1001")

    def test_another_branch_s_inspector_finds_no_such_call(self, world: World) -> None:
        store(world, RUDE)
        with pytest.raises(NotFound):
            self._review(world, "sh_inspector")

    def test_no_message_carries_the_transcript(self, world: World) -> None:
        store(world, WITH_PHONE)
        with pytest.raises(Invalid) as caught:
            self._review(world, reason="")
        assert not re.search(r"\d{11}", caught.value.message)

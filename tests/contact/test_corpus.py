"""The generated corpus plants what it says, where it says, and nothing else by accident."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bankvoc.contact import corpus
from bankvoc.contact import corpus_phrases as P
from bankvoc.contact.corpus import GeneratedCall, generate, generate_one, spoken
from bankvoc.contact.schemas import Interaction

N = 600


@pytest.fixture(scope="module")
def calls() -> list[GeneratedCall]:
    return list(generate(N, seed=11, rate=0.3))


def planted(call: GeneratedCall, category: str) -> list[int | None]:
    return [p.turn for p in call.planted if p.category == category]


def agent_turns(record: dict[str, Any]) -> list[int]:
    return [i for i, t in enumerate(record["turns"]) if t["speaker"] == "agent"]


def filled(pool: tuple[str, ...], text: str) -> bool:
    """Whether `text` starts with one of the pool's templates filled in."""
    return any(re.match(re.sub(r"\\\{\w+\\\}", ".+?", re.escape(t)), text) for t in pool)


class TestDeterminism:
    def test_same_seed_same_calls_in_any_order(self) -> None:
        assert generate_one(7, seed=3) == list(generate(10, seed=3))[7]
        assert generate_one(7, seed=3) == list(generate(2, seed=3, start=6))[1]
        assert generate_one(7, seed=3) != generate_one(7, seed=4)

    def test_records_are_valid_interactions(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            Interaction.model_validate(call.record)


class TestPlanted:
    def test_every_category_is_planted(self, calls: list[GeneratedCall]) -> None:
        found = {p.category for call in calls for p in call.planted}
        assert found == set(corpus.CATEGORIES)

    def test_turn_bound_categories_name_a_turn(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            for p in call.planted:
                if p.category in corpus.TURN_BOUND:
                    assert p.turn is not None
                    assert call.record["turns"][p.turn]["speaker"] == "agent"

    def test_greeting_and_closing(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            agent = agent_turns(call.record)
            turns = call.record["turns"]
            first, last = turns[agent[0]]["text"], turns[agent[-1]]["text"]
            assert (planted(call, "greeting") == [agent[0]]) == filled(P.NO_GREETING, first)
            assert (planted(call, "closing") == [agent[-1]]) == (last in P.NO_CLOSING)

    def test_forbidden_words_at_their_turn(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            said = [i for i in agent_turns(call.record) if turns[i]["text"] in P.FORBIDDEN]
            assert planted(call, "forbidden_phrase") == said

    def test_silence_before_the_planted_turn_only(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            long_gaps = []
            end = turns[0]["end_ms"]
            for i, turn in enumerate(turns[1:], start=1):
                gap = turn["start_ms"] - end
                before = next(t["text"] for t in reversed(turns[:i]) if t["speaker"] == "agent")
                held = any(h in before for h in P.HOLD) and gap <= 60_000
                if turn["speaker"] == "agent" and gap > 10_000 and not held:
                    long_gaps.append(i)
                end = max(end, turn["end_ms"])
            assert planted(call, "silence") == long_gaps

    def test_overlaps_over_a_second_only_where_planted(self,
                                                       calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            over = [i for i in range(1, len(turns)) if turns[i]["speaker"] == "agent"
                    and turns[i - 1]["speaker"] == "customer"
                    and turns[i - 1]["end_ms"] - turns[i]["start_ms"] > 1_000]
            assert planted(call, "interruption") == over

    def test_speech_rate_out_of_band_only_where_planted(self,
                                                       calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            out = []
            for i in agent_turns(call.record):
                t = turns[i]
                chars = spoken(t["text"])
                cpm = chars * 60_000 / (t["end_ms"] - t["start_ms"])
                if chars >= 10 and not 120 <= cpm <= 320:
                    out.append(i)
            assert planted(call, "speech_rate") == out

    def test_risk_disclosure_only_on_wealth_calls(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            texts = [t["text"] for t in call.record["turns"]]
            disclosed = any(t in P.RISK_FULL for t in texts)
            if call.record["product"] == "wealth":
                assert (planted(call, "risk_disclosure") == [None]) == (not disclosed)
            else:
                assert planted(call, "risk_disclosure") == []
                assert not disclosed

    def test_emotion_calm_then_angry(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            said = [t["text"] for t in call.record["turns"] if t["speaker"] == "customer"]
            angry_end = all(t in P.CUSTOMER_ANGRY for t in said[-2:])
            upset_start = said[1] in P.CUSTOMER_UPSET
            assert (planted(call, "emotion") == [None]) == (angry_end and not upset_start)

    def test_a_worsening_customer_says_nothing_angry_before_the_end(
            self, calls: list[GeneratedCall]) -> None:
        upset = set(P.CUSTOMER_ANGRY + P.CUSTOMER_UPSET) | {
            t for s in P.SCENARIOS for t in s.angry_issue}
        worsening = [c for c in calls if planted(c, "emotion")]
        assert len(worsening) > N * 0.15
        for call in worsening:
            said = [t["text"] for t in call.record["turns"] if t["speaker"] == "customer"]
            assert len(said) >= 4
            assert not upset & set(said[:-2])
            assert not set(said[-2:]) & set(P.CUSTOMER_THANKS)

    def test_calls_not_worsening_end_calm_or_started_angry(
            self, calls: list[GeneratedCall]) -> None:
        first = {t for s in P.SCENARIOS for t in s.angry_issue}
        for call in calls:
            if planted(call, "emotion"):
                continue
            said = [t["text"] for t in call.record["turns"] if t["speaker"] == "customer"]
            ends_angry = said[-1] in P.CUSTOMER_ANGRY
            assert not ends_angry or (said[0] in first and said[1] in P.CUSTOMER_UPSET)

    def test_identity_details_told_without_a_check(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            asked = [i for i in agent_turns(call.record)
                     if any(turns[i]["text"].endswith(a + "。") for a in P.ID_ASK)]
            for turn in planted(call, "identity_check"):
                assert turn is not None
                assert not asked
                assert any(filled((d,), turns[turn]["text"])
                           for s in P.SCENARIOS for d in s.details)

    def test_promises_not_kept(self, calls: list[GeneratedCall]) -> None:
        for call in calls:
            turns = call.record["turns"]
            for turn in planted(call, "promise"):
                assert turn is not None
                later = [t["text"] for t in turns[turn + 1:]]
                assert "follow_up" not in call.record
                assert not any(filled(P.CHECK_DELIVERY + P.CALLBACK_RECORDED, t) for t in later)


class TestNearMisses:
    def test_planted_as_often_as_violations(self, calls: list[GeneratedCall]) -> None:
        texts = [t for call in calls for t in call.record["turns"]]
        customer_says = sum(t["speaker"] == "customer" and t["text"] in P.CUSTOMER_NOT_SURE
                            for t in texts)
        agent_says = sum(t["speaker"] == "agent" and t["text"] in P.AGENT_NOT_FORBIDDEN
                         for t in texts)
        assert customer_says > N * 0.1
        assert agent_says > N * 0.1

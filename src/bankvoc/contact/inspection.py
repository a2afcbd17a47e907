"""Inspect one interaction against a rule set: its score and every hit with its evidence.

`inspect(interaction, rules)` is a pure function (no database, no clock): the batch command,
the later import job and the review screens all call it. The score starts at 100; each rule
takes off its `weight` per hit, at most `max_hits` times, and the score stops at 0. Every hit
names its category, rule, the 0-based index of its turn in `turns` and its evidence: the words
matched for a phrase rule (`span` gives where in the turn), otherwise the turn's text (the
first agent turn that did not greet, the turn after a silence, the agent turn that talked over
the customer, the customer turn at the low point of the mood). `turn` is None only when the
rule concerns a turn the call does not have (a greeting in a call where the agent never spoke).

Speed: the agent's turns are searched joined into one text, once per phrase rule, so a rule
costs one regular-expression scan per call whatever the number of turns; a match is placed in
its turn by bisection. Timing rules walk the turns once each. Mood is read on customer
turns only, by `contact.emotion.customer_mood` (the shipped lexicon scorer with the anger
customers voice on the phone) through a per-process cache (greetings and thanks repeat from
call to call).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bankvoc.contact.emotion import customer_mood
from bankvoc.contact.rules import (
    EmotionRule,
    ForbiddenRule,
    InterruptionRule,
    PromiseRule,
    RequiredBeforeRule,
    RequiredRule,
    Rule,
    RuleSet,
    SilenceRule,
    SpeechRateRule,
    guarded,
)
from bankvoc.contact.schemas import Interaction

# Evidence taken from a whole turn is cut to this many characters.
EVIDENCE_CHARS = 120
# Not spoken: white space and punctuation, Chinese and Western (speech rate counts the rest).
_NOT_SPOKEN = re.compile(r"[\s，。！？、；：“”‘’（）《》【】…—·,.!?;:'\"()\[\]<>~\-]+")

Mood = Callable[[str], float]


@dataclass(frozen=True)
class QaHit:
    """One rule broken at one turn."""

    category: str
    rule: str
    turn: int | None
    evidence: str
    span: tuple[int, int] | None = None  # where in the turn's text the evidence is
    value: float | None = None  # the measure: seconds of silence or overlap, characters/min, mood

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "rule": self.rule, "turn": self.turn,
                "evidence": self.evidence}


@dataclass(frozen=True)
class QaResult:
    id: str
    score: int
    hits: tuple[QaHit, ...]
    rules_version: int
    critical: bool = False  # a rule marked critical was broken: the call goes to a person

    def to_dict(self) -> dict[str, Any]:
        """The JSON Lines object of `bankvoc qa inspect --json`."""
        return {"id": self.id, "score": self.score, "hits": [h.to_dict() for h in self.hits]}

    def categories(self) -> set[str]:
        return {h.category for h in self.hits}


@dataclass
class _Call:
    """What the rules share about one interaction, worked out once."""

    interaction: Interaction
    agent: list[int] = field(default_factory=list)  # indices of the agent's turns
    starts: list[int] = field(default_factory=list)  # where each agent turn starts in `text`
    text: str = ""  # the agent's turns joined by newlines

    @classmethod
    def of(cls, interaction: Interaction) -> _Call:
        call = cls(interaction)
        pieces = []
        at = 0
        for i, turn in enumerate(interaction.turns):
            if turn.speaker == "agent":
                call.agent.append(i)
                call.starts.append(at)
                pieces.append(turn.text)
                at += len(turn.text) + 1
        call.text = "\n".join(pieces)
        return call

    def place(self, position: int) -> tuple[int, int]:
        """The agent turn (index into `turns`) holding a position of `text`, and the
        position's offset in that turn."""
        k = bisect_right(self.starts, position) - 1
        return self.agent[k], position - self.starts[k]

    def phrase_hit(self, rule: Rule, match: re.Match[str], group: str = "m") -> QaHit:
        turn, offset = self.place(match.start(group))
        said = match.group(group)
        return QaHit(rule.category, rule.id, turn, said, (offset, offset + len(said)))

    def turn_hit(self, rule: Rule, turn: int | None, value: float | None = None) -> QaHit:
        said = "" if turn is None else self.interaction.turns[turn].text
        return QaHit(rule.category, rule.id, turn, said[:EVIDENCE_CHARS], None, value)


Check = Callable[[_Call, Mood], Iterable[QaHit]]


def inspect(interaction: Interaction, rules: RuleSet, *, mood: Mood = customer_mood) -> QaResult:
    """Score one interaction against `rules`; `mood` gives a text's polarity (-1 … 1)."""
    call = _Call.of(interaction)
    hits: list[QaHit] = []
    deducted = 0
    critical = False
    for rule, check in _plan(rules):
        found = list(check(call, mood))
        if found:
            hits += found
            deducted += rule.weight * min(len(found), rule.max_hits)
            critical = critical or rule.critical
    hits.sort(key=lambda h: (-1 if h.turn is None else h.turn))
    return QaResult(interaction.id, max(0, RuleSet.PASS - deducted), tuple(hits), rules.version,
                    critical)


_plans: dict[int, tuple[RuleSet, list[tuple[Rule, Check]]]] = {}


def _plan(rules: RuleSet) -> list[tuple[Rule, Check]]:
    """Each rule with its check, its expressions compiled: once per rule set and process."""
    found = _plans.get(id(rules))
    if found is None or found[0] is not rules:
        if len(_plans) >= 16:
            _plans.clear()
        found = _plans[id(rules)] = (rules, [(rule, _compile(rule)) for rule in rules.rules])
    return found[1]


def _compile(rule: Rule) -> Check:
    if isinstance(rule, RequiredRule):
        return partial(_required, rule, rule.match.regex(),
                       rule.mentions.regex() if rule.mentions else None)
    if isinstance(rule, RequiredBeforeRule):
        return partial(_required_before, rule, rule.regex())
    if isinstance(rule, ForbiddenRule):
        return partial(_forbidden, rule, guarded(rule.match, rule.unless))
    if isinstance(rule, PromiseRule):
        return partial(_promises, rule, guarded(rule.match, rule.unless), rule.kept_by.regex())
    if isinstance(rule, SilenceRule):
        return partial(_silences, rule, rule.hold.regex() if rule.hold else None)
    if isinstance(rule, InterruptionRule):
        return partial(_interruptions, rule)
    if isinstance(rule, SpeechRateRule):
        return partial(_speech_rates, rule)
    return partial(_emotion, rule)


def _required(rule: RequiredRule, regex: re.Pattern[str], mentions: re.Pattern[str] | None,
              call: _Call, mood: Mood) -> Iterator[QaHit]:
    turns = call.interaction.turns
    where: int | None = None  # the turn the missing words are reported at
    if rule.products or mentions is not None:
        if call.interaction.product in rule.products:
            where = call.agent[0] if call.agent else None
        elif mentions is not None:
            where = next((i for i, t in enumerate(turns) if mentions.search(t.text)), None)
            if where is None:
                return  # the call is not about what the rule concerns
        else:
            return
    if not call.agent:
        yield call.turn_hit(rule, where)
        return
    if rule.scope == "first_agent_turn":
        where, text = call.agent[0], turns[call.agent[0]].text
    elif rule.scope == "last_agent_turns":
        last = call.agent[-rule.last_turns:]
        where, text = call.agent[-1], "\n".join(turns[i].text for i in last)
    else:
        where, text = (call.agent[0] if where is None else where), call.text
    if regex.search(text) is None:
        yield call.turn_hit(rule, where)


def _required_before(rule: RequiredBeforeRule, regex: re.Pattern[str], call: _Call,
                     mood: Mood) -> Iterator[QaHit]:
    first = regex.search(call.text)
    if first is not None and first.lastgroup == "t":
        yield call.phrase_hit(rule, first, "t")


def _forbidden(rule: ForbiddenRule, regex: re.Pattern[str], call: _Call,
               mood: Mood) -> Iterator[QaHit]:
    return (call.phrase_hit(rule, m) for m in regex.finditer(call.text) if m.lastgroup == "m")


def _promises(rule: PromiseRule, regex: re.Pattern[str], kept: re.Pattern[str], call: _Call,
              mood: Mood) -> Iterator[QaHit]:
    if rule.record_keeps and call.interaction.follow_up:
        return
    found = [m for m in regex.finditer(call.text) if m.lastgroup == "m"]
    if not found:
        return
    # kept by the words that keep it, said after it (in a later turn, or later in its own)
    last_kept = max((m.start() for m in kept.finditer(call.text, found[0].end())), default=-1)
    for m in found:
        if last_kept < m.end("m"):
            yield call.phrase_hit(rule, m)


def _silences(rule: SilenceRule, hold: re.Pattern[str] | None, call: _Call,
              mood: Mood) -> Iterator[QaHit]:
    turns = call.interaction.turns
    limit, hold_limit = rule.seconds * 1000, rule.hold_seconds * 1000
    last_end = turns[0].end_ms
    last_agent: str | None = turns[0].text if turns[0].speaker == "agent" else None
    for i in range(1, len(turns)):
        turn = turns[i]
        gap = turn.start_ms - last_end
        if gap > limit and (rule.speaker == "any" or turn.speaker == "agent"):
            held = (hold is not None and last_agent is not None and gap <= hold_limit
                    and hold.search(last_agent) is not None)
            if not held:
                yield call.turn_hit(rule, i, gap / 1000)
        if turn.end_ms > last_end:
            last_end = turn.end_ms
        if turn.speaker == "agent":
            last_agent = turn.text


def _interruptions(rule: InterruptionRule, call: _Call, mood: Mood) -> Iterator[QaHit]:
    limit = rule.seconds * 1000
    customer_start = customer_end = -1
    for i, turn in enumerate(call.interaction.turns):
        if turn.speaker == "customer":
            if turn.end_ms > customer_end:
                customer_start, customer_end = turn.start_ms, turn.end_ms
        elif customer_start <= turn.start_ms < customer_end:
            overlap = min(turn.end_ms, customer_end) - turn.start_ms
            if overlap > limit:
                yield call.turn_hit(rule, i, overlap / 1000)


def spoken_chars(text: str) -> int:
    """Characters a speaker says: punctuation and white space do not count."""
    return len(_NOT_SPOKEN.sub("", text))


def _speech_rates(rule: SpeechRateRule, call: _Call, mood: Mood) -> Iterator[QaHit]:
    turns = call.interaction.turns
    for i in call.agent:
        turn = turns[i]
        ms = turn.end_ms - turn.start_ms
        if ms <= 0:
            continue  # no duration: nothing to measure
        chars = spoken_chars(turn.text)
        if chars < rule.min_chars:
            continue
        cpm = chars * 60_000 / ms
        if cpm < rule.min_cpm or cpm > rule.max_cpm:
            yield call.turn_hit(rule, i, round(cpm, 1))


def _emotion(rule: EmotionRule, call: _Call, mood: Mood) -> Iterator[QaHit]:
    turns = call.interaction.turns
    customer = [i for i, t in enumerate(turns) if t.speaker == "customer" and t.text]
    if len(customer) < rule.min_turns:
        return
    window = min(rule.window, len(customer) // 2)
    head = [mood(turns[i].text) for i in customer[:window]]
    tail = [(mood(turns[i].text), i) for i in customer[-window:]]
    start = sum(head) / window
    end = sum(p for p, _ in tail) / window
    if start >= rule.start_at_least and end <= rule.end_at_most and start - end >= rule.drop:
        _, at = min(tail)
        yield call.turn_hit(rule, at, round(end, 3))

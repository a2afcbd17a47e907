"""Generated contact-centre calls with planted quality violations, for evaluation and demos.

`generate(n, seed=...)` yields `GeneratedCall`s: an interaction record (the JSON Lines object
`bankvoc qa inspect` reads) and the violations planted in it, each with its category and, for
the categories bound to a turn, the 0-based index of that turn. Call `i` of a seed is drawn from
its own `random.Random(seed, i)`, so the same seed gives the same calls byte for byte, however
many are asked for and in whatever order (a process pool may make them).

A call is a scenario (credit card, debit card, personal loan, mortgage, wealth, transfers, the
app) played as the turns of a real call: greeting, the customer's issue, an identity check,
account details, a question, a look-up with a hold and its result or a promise to call back,
the risk disclosure on wealth calls, advice, the customer's reaction and the closing. The
wording comes from `corpus_phrases`, which is not the rules' lexicon. Each category is
violated in about `rate` of the calls where it can be (the risk disclosure only on wealth calls,
the identity check only where account details are told); near misses are planted as often: the
customer's own 不知道, an agent's 办法总是有的, a long silence announced as a hold, a silence
before the customer's turn, overlaps under a second or by the customer, speech just inside the
band, a customer angry from the start (not a worsening) or calming down.

What is planted, exactly (the definitions `bench/qa_eval.py` scores against):

- greeting: the agent's first turn greets no one (喂，说吧); turn = that turn.
- identity_check: account details told with no identity check before them; turn = the turn that
  tells them.
- closing: neither of the agent's last two turns closes the call; turn = the last agent turn.
- risk_disclosure: a wealth call without 理财非存款、产品有风险、投资须谨慎 in any wording (a vaguer
  hint of risk may stand in its place); turn = None.
- forbidden_phrase: an agent turn with dismissive words (这事不归我管); turn = that turn.
- silence: more than 10 s of dead air before an agent turn, no hold announced in the agent's
  turn before it (or an announced hold longer than 60 s); turn = the agent turn after it.
- interruption: an agent turn starting 1.3-3 s before the customer's turn ends; turn = that
  agent turn.
- speech_rate: an agent turn of at least 16 characters spoken at 370-480 or 55-95 characters a
  minute (ordinary turns: 175-280); turn = that turn.
- emotion: a customer calm in their first two turns and angry in their last two; turn = None.
- promise: a look-up promised and its result never given, or a call-back promised and neither
  registered in the call nor recorded (`follow_up`); turn = the promise's turn.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bankvoc.contact import corpus_phrases as P

DEFAULT_SEED = 20_260_8
DEFAULT_RATE = 0.12
START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai

# Categories whose planted violations name a turn; the others belong to the call.
TURN_BOUND = frozenset({"identity_check", "forbidden_phrase", "silence", "interruption",
                        "speech_rate", "promise"})
QUEUES = {"credit_card": "信用卡", "debit_card": "借记卡", "personal_loan": "个人贷款",
          "mortgage": "个人贷款", "wealth": "理财", "payments": "支付结算",
          "digital_banking": "电子银行"}
AMOUNTS_ZH = ("一万五千", "三千二百", "两千", "五百八十", "八万", "一千二百五十")


CATEGORIES = ("greeting", "identity_check", "closing", "risk_disclosure", "forbidden_phrase",
              "silence", "interruption", "speech_rate", "emotion", "promise")


@dataclass(frozen=True)
class Planted:
    category: str
    turn: int | None


@dataclass(frozen=True)
class GeneratedCall:
    record: dict[str, Any]
    planted: tuple[Planted, ...]


@dataclass
class _Beat:
    speaker: str
    text: str
    hold: bool = False  # the agent announces a hold here
    gap: float | None = None  # seconds of silence before the turn (else an ordinary pause)
    overlap: float | None = None  # seconds the turn starts before the previous one ends
    rate: float | None = None  # characters a minute (else an ordinary rate)
    planted: list[str] = field(default_factory=list)  # categories violated at this turn


def spoken(text: str) -> int:
    """Characters said aloud: letters, digits and hanzi."""
    return sum(ch.isalnum() for ch in text)


class _Builder:
    """One call, beat by beat, with what it violates."""

    def __init__(self, rng: random.Random, index: int, rate: float) -> None:
        self.rng, self.index = rng, index
        self.scenario = rng.choice(P.SCENARIOS)
        self.product = self.scenario.product
        self.beats: list[_Beat] = []
        self.call_level: list[str] = []
        self.follow_up: str | None = None
        self.checked = False  # whether the agent checked the customer's identity
        name = rng.choice(P.SURNAMES) + rng.choice(P.GIVEN)
        self.fields = {
            "bank": rng.choice(P.BANKS), "id": str(rng.randint(1001, 9899)),
            "n": str(rng.randint(2, 48)), "surname": rng.choice(P.SURNAMES), "name": name,
            "d4": f"{rng.randint(0, 9999):04d}", "day": str(rng.randint(1, 28)),
            "thing": rng.choice(self.scenario.thing), "amount": self._amount(),
        }
        chance = {c: rng.random() < rate for c in (
            "greeting", "identity_check", "closing", "forbidden_phrase", "silence",
            "interruption", "speech_rate", "emotion", "promise")}
        chance["risk_disclosure"] = self.product == "wealth" and rng.random() < 2.5 * rate
        self.want = chance

    def _amount(self) -> str:
        r = self.rng.random()
        if r < 0.2:
            return self.rng.choice(AMOUNTS_ZH)
        if r < 0.6:
            return f"{self.rng.randint(50, 90_000):,}"
        return f"{self.rng.randint(100, 500_000) / 100:.2f}"

    def say(self, template: str) -> str:
        return template.format(**self.fields)

    def pick(self, pool: Sequence[str]) -> str:
        return self.say(self.rng.choice(pool))

    def add(self, speaker: str, text: str, **kwargs: Any) -> _Beat:
        beat = _Beat(speaker, text, **kwargs)
        self.beats.append(beat)
        return beat

    def agent(self, text: str, **kwargs: Any) -> _Beat:
        return self.add("agent", text, **kwargs)

    def customer(self, text: str, **kwargs: Any) -> _Beat:
        return self.add("customer", text, **kwargs)

    # --- the conversation ----------------------------------------------------------------------

    def build(self) -> None:
        rng, want = self.rng, self.want
        mood = ("worsening" if want["emotion"] else
                rng.choices(("calm", "angry", "calming"), (0.8, 0.1, 0.1))[0])
        self._greeting()
        issue = self.scenario.angry_issue if mood in ("angry", "calming") else self.scenario.issue
        self.customer(self.pick(issue))
        if mood in ("angry", "calming"):
            self.agent(self.pick(P.ACK))
            self.customer(self.pick(P.CUSTOMER_UPSET))
        self._details(tells=want["identity_check"] or rng.random() < 0.75)
        if rng.random() < 0.2:
            self.customer(self.pick(P.CUSTOMER_NOT_SURE))
            self.agent(self.pick(P.AGENT_NOT_FORBIDDEN))
        if self.product == "wealth":
            self._risk()
        if want["forbidden_phrase"]:
            for _ in range(2 if rng.random() < 0.15 else 1):
                self.customer(self.pick(self.scenario.question))
                self.agent(self.pick(P.FORBIDDEN), planted=["forbidden_phrase"])
        self._promise(checked=self.checked)
        if rng.random() < 0.3:
            self.agent(self.pick(P.ADVICE))
        self._reaction(mood)
        self._closing(short=mood in ("worsening", "angry"))
        self._timing_violations()

    def _greeting(self) -> None:
        if self.want["greeting"]:
            self.agent(self.pick(P.NO_GREETING), planted=["greeting"])
            return
        parts = [self.rng.choice(P.GREET_SALUTE), self.rng.choice(P.GREET_ORG),
                 self.rng.choice(P.GREET_ID), self.rng.choice(P.GREET_TAIL)]
        self.agent(self.say("".join(parts)).lstrip("，"))

    def _details(self, *, tells: bool) -> None:
        rng = self.rng
        if not tells:  # a general question: no account details, no identity check needed
            self.agent(self.pick(P.ACK))
            self.customer(self.pick(self.scenario.question))
            return
        if not self.want["identity_check"]:
            self.agent(rng.choice(P.ID_LEAD) + self.pick(P.ID_ASK) + "。")
            if rng.random() < 0.15:  # the customer looks for their card: their silence
                self.customer("稍等，我找一下卡。")
                self.customer(self.pick(P.ID_ANSWER), gap=rng.uniform(11, 20))
            else:
                self.customer(self.pick(P.ID_ANSWER))
            self.agent(self.pick(P.ID_OK))
            self.checked = True
        else:
            self.agent(self.pick(P.ACK))
        planted = ["identity_check"] if self.want["identity_check"] else []
        self.agent(self.pick(self.scenario.details), planted=planted)
        self.customer(self.pick(self.scenario.question))

    def _risk(self) -> None:
        if not self.want["risk_disclosure"]:
            self.agent(self.pick(P.RISK_FULL))
            self.customer(self.pick(P.CUSTOMER_NEUTRAL))
            return
        self.call_level.append("risk_disclosure")
        if self.rng.random() < 0.5:
            self.agent(self.pick(P.RISK_PARTIAL))
            self.customer(self.pick(P.CUSTOMER_NEUTRAL))

    def _promise(self, *, checked: bool) -> None:
        """A look-up (its result tells account details, so only after an identity check,
        unless the promise is dropped) or a promise to call back."""
        rng = self.rng
        kind = rng.choices(("check", "callback", "none"), (0.55, 0.25, 0.2))[0]
        if self.want["promise"] and kind == "none":
            kind = rng.choice(("check", "callback"))
        if kind == "check" and not checked and not self.want["promise"]:
            kind = "callback"
        if kind == "check":
            hold = rng.random() < 0.8
            text = self.pick(P.CHECK_PROMISE) + (self.pick(P.HOLD) if hold else "")
            if self.want["promise"]:
                self.agent(text, hold=hold, planted=["promise"])
                self.customer(self.pick(P.CUSTOMER_NEUTRAL))
                self.agent(self.pick(P.CHECK_DROPPED))
            else:
                self.agent(text, hold=hold)
                # An announced hold may be long; one not announced stays short.
                pause = rng.uniform(12, 50) if hold else rng.uniform(2, 8)
                result = self.say(rng.choice(self.scenario.result))
                self.agent(self.say(rng.choice(P.CHECK_DELIVERY).replace("{result}", result)),
                           gap=pause)
            self.customer(self.pick(P.CUSTOMER_NEUTRAL))
        elif kind == "callback":
            if self.want["promise"]:
                self.agent(self.pick(P.CALLBACK_PROMISE), planted=["promise"])
            else:
                self.agent(self.pick(P.CALLBACK_PROMISE))
                if rng.random() < 0.6:
                    self.customer(self.pick(P.CUSTOMER_NEUTRAL))
                    self.agent(self.pick(P.CALLBACK_RECORDED))
                else:
                    self.follow_up = f"CB-{self.index:07d}"
            self.customer(self.pick(P.CUSTOMER_NEUTRAL))

    def _reaction(self, mood: str) -> None:
        if mood in ("worsening", "angry"):
            self.customer(self.pick(P.CUSTOMER_ANGRY))
            self.agent(self.pick(P.ACK))
            self.customer(self.pick(P.CUSTOMER_ANGRY))
            if mood == "worsening":
                self.call_level.append("emotion")
        else:
            self.customer(self.pick(P.CUSTOMER_THANKS))

    def _closing(self, *, short: bool) -> None:
        """The closing; `short`: in one turn (an angry customer's last words stay last)."""
        if self.want["closing"]:
            self.agent(self.pick(P.NO_CLOSING), planted=["closing"])
            return
        head = self.pick(P.CLOSE_HEAD)
        if head and not short and self.rng.random() < 0.5:
            self.agent(head)
            self.customer("没有了，谢谢。")
            self.agent(self.pick(P.CLOSE_TAIL))
        else:
            self.agent(head + self.pick(P.CLOSE_TAIL))

    # --- timing -------------------------------------------------------------------------------

    def _agent_turns(self, start: int = 1) -> list[int]:
        return [i for i in range(start, len(self.beats)) if self.beats[i].speaker == "agent"]

    def _timing_violations(self) -> None:
        rng, beats, want = self.rng, self.beats, self.want
        held = [i for i in self._agent_turns() if beats[i].gap is not None
                and self._held_before(i)]
        if want["silence"] and held and rng.random() < 0.2:  # a hold announced, but too long
            i = rng.choice(held)
            beats[i].gap = rng.uniform(65, 90)
            beats[i].planted.append("silence")
        elif want["silence"]:
            candidates = [i for i in self._agent_turns() if beats[i].gap is None
                          and not self._held_before(i)]
            if candidates:
                i = rng.choice(candidates)
                beats[i].gap = rng.uniform(11, 30)
                beats[i].planted.append("silence")
        else:  # near misses: an agent's pause just under the limit
            for i in self._agent_turns():
                if beats[i].gap is None and rng.random() < 0.05:
                    beats[i].gap = rng.uniform(6, 9.5)
        if want["interruption"]:
            candidates = [i for i in self._agent_turns() if beats[i - 1].speaker == "customer"
                          and spoken(beats[i - 1].text) >= 12 and spoken(beats[i].text) >= 8
                          and beats[i].gap is None]
            if candidates:
                i = rng.choice(candidates)
                beats[i].overlap = rng.uniform(1.3, 3.0)
                beats[i].planted.append("interruption")
        for i in range(1, len(beats)):  # near misses: short overlaps, the customer's overlaps
            if (beats[i].overlap is None and beats[i].gap is None
                    and beats[i].speaker != beats[i - 1].speaker and rng.random() < 0.06):
                agent_after_customer = (beats[i].speaker == "agent"
                                        and beats[i - 1].speaker == "customer")
                beats[i].overlap = (rng.uniform(0.2, 0.8) if agent_after_customer
                                    else rng.uniform(0.2, 1.0))
        if want["speech_rate"]:
            candidates = [i for i in self._agent_turns(0) if spoken(beats[i].text) >= 16
                          and beats[i].overlap is None]
            if candidates:
                i = rng.choice(candidates)
                beats[i].rate = rng.choice((rng.uniform(370, 480), rng.uniform(55, 95)))
                beats[i].planted.append("speech_rate")
        for i in self._agent_turns(0):  # near misses: just inside the band
            if beats[i].rate is None and beats[i].overlap is None and rng.random() < 0.05:
                beats[i].rate = rng.choice((rng.uniform(290, 312), rng.uniform(128, 150)))

    def _held_before(self, i: int) -> bool:
        """Whether the agent's last turn before beat `i` announced a hold."""
        return next((b.hold for b in reversed(self.beats[:i]) if b.speaker == "agent"), False)

    def turns(self) -> list[dict[str, Any]]:
        rng = self.rng
        out: list[dict[str, Any]] = []
        end_max = 0
        for beat in self.beats:
            if beat.rate is not None:
                rate = beat.rate
            elif beat.speaker == "agent":
                rate = rng.uniform(175, 280)
            else:
                rate = rng.uniform(150, 300)
            duration = max(300, round(spoken(beat.text) * 60_000 / rate))
            if not out:
                start = rng.randint(200, 1500)
            elif beat.overlap is not None:
                previous = out[-1]
                length = previous["end_ms"] - previous["start_ms"]
                # An overlap never reaches back past the start of the turn it overlaps.
                overlap = min(round(beat.overlap * 1000), length - 200)
                start = previous["end_ms"] - overlap
                duration = max(duration, overlap + 300)
            elif beat.gap is not None:
                start = end_max + round(beat.gap * 1000)
            else:
                start = end_max + rng.randint(200, 2500)
            out.append({"speaker": beat.speaker, "start_ms": start, "end_ms": start + duration,
                        "text": beat.text})
            end_max = max(end_max, start + duration)
        return out

    def call(self, seed: int) -> GeneratedCall:
        self.build()
        turns = self.turns()
        planted: list[Planted] = []
        for i, beat in enumerate(self.beats):
            planted += [Planted(category, i) for category in beat.planted]
        planted += [Planted(c, None) for c in self.call_level]
        started = START + timedelta(seconds=self.index * 37)
        record: dict[str, Any] = {
            "id": f"QA{seed}-{self.index:07d}", "agent": f"A{1000 + self.index % 240:04d}",
            "queue": QUEUES[self.product], "product": self.product,
            "started_at": started.isoformat().replace("+00:00", "Z"), "turns": turns,
        }
        if self.follow_up is not None:
            record["follow_up"] = self.follow_up
        return GeneratedCall(record, tuple(planted))


def generate_one(index: int, *, seed: int = DEFAULT_SEED,
                 rate: float = DEFAULT_RATE) -> GeneratedCall:
    """Call number `index` of `seed`: the same every time."""
    rng = random.Random(seed * 10_000_019 + index)
    return _Builder(rng, index, rate).call(seed)


def generate(n: int, *, seed: int = DEFAULT_SEED, rate: float = DEFAULT_RATE,
             start: int = 0) -> Iterator[GeneratedCall]:
    """Calls `start` … `start + n - 1` of `seed`."""
    for index in range(start, start + n):
        yield generate_one(index, seed=seed, rate=rate)

"""Regulator risk: how likely an open complaint is to reach the regulator, as an explainable score.

Pure: the facts of one case in, a score (0-100) and its reasons out. Each factor of the rules
file (`regulator_risk.factors`) adds its points and one reason, so a handler sees why a case is
at the top of the list: it names the regulator or its hotline (12378, 银保监, 人民银行 …), the
media or a lawyer; it has been reopened or escalated; it is severe, angry, repeated by the same
customer, or near or past its deadline. The weights are the bank's to tune, not learned: the
list must be explainable to the regulator itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bankvoc.alerts.config import RiskRules, WordFactor


@dataclass(frozen=True)
class CaseFacts:
    """What the score looks at (no personal data: the text is the masked one)."""

    text: str
    severity: str
    origin: str
    reopen_count: int
    escalation_level: int
    sentiment: float | None
    due_at: datetime | None
    earlier_complaints: int = 0  # by the same customer within the rules' window


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: list[str] = field(default_factory=list)
    # Per factor: its points, for screens that show the breakdown.
    parts: dict[str, int] = field(default_factory=dict)


def _words(pattern: re.Pattern[str] | None, text: str) -> list[str]:
    if pattern is None:
        return []
    found: list[str] = []
    for match in pattern.finditer(text):
        word = match.group(0)
        if word not in found:
            found.append(word)
    return found


class Scorer:
    """The score of many cases under one set of rules (word lists compiled once)."""

    def __init__(self, rules: RiskRules) -> None:
        self.rules = rules
        f = rules.factors
        self._wordings: list[tuple[str, WordFactor, re.Pattern[str] | None, str]] = [
            ("regulator", f.regulator, f.regulator.pattern(), "names the regulator"),
            ("media", f.media, f.media.pattern(), "threatens the media"),
            ("litigation", f.litigation, f.litigation.pattern(), "threatens legal action"),
        ]

    def score(self, facts: CaseFacts, *, now: datetime) -> Risk:
        """The case's regulator-risk score (capped at 100), a reason per contributing factor."""
        rules = self.rules
        f = rules.factors
        parts: dict[str, int] = {}
        reasons: list[str] = []

        def add(name: str, points: int, reason: str) -> None:
            if points > 0:
                parts[name] = points
                reasons.append(f"{reason} (+{points})")

        for name, factor, pattern, what in self._wordings:
            found = _words(pattern, facts.text)
            if found:
                add(name, factor.points, f"{what}: {', '.join(found[:3])}")
        if facts.origin != "direct":
            add("transferred", f.transferred,
                f"transferred by a regulator before ({facts.origin})")
        if facts.reopen_count > 0:
            add("reopened", min(f.max_reopen, f.per_reopen * facts.reopen_count),
                f"reopened {facts.reopen_count} time(s)")
        if facts.escalation_level > 0:
            add("escalated", min(f.max_escalation, f.per_escalation * facts.escalation_level),
                f"escalated to level {facts.escalation_level}")
        add("severity", f.severity.get(facts.severity, 0), f"severity {facts.severity}")
        if facts.sentiment is not None and facts.sentiment <= f.negative_sentiment.at_most:
            add("sentiment", f.negative_sentiment.points,
                f"strongly negative words (sentiment {facts.sentiment:.2f})")
        if facts.earlier_complaints > 0:
            add("repeat", min(f.max_repeat, f.per_repeat * facts.earlier_complaints),
                f"{facts.earlier_complaints} earlier complaint(s) by the same customer in "
                f"{rules.repeat_within_days} days")
        if facts.due_at is not None:
            if facts.due_at <= now:
                add("overdue", f.overdue, "past its deadline")
            elif facts.due_at - now <= timedelta(hours=f.due_soon.within_hours):
                add("due_soon", f.due_soon.points,
                    f"due within {f.due_soon.within_hours} hours")
        return Risk(min(100, sum(parts.values())), reasons, parts)

"""Severity (一般/重要/紧急/重大) from explainable rules; every grade carries its reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

VERSION = 1

SEVERITIES = ("general", "important", "urgent", "major")

# Threats to take the matter outside the bank: regulators, media, courts, police. Hotlines count
# only as whole numbers (not inside a phone number); English words only as whole words.
_ESCALATION = (
    r"(?<!\d)(?:12378|12363|12345)(?!\d)|银保监|金融监管|监管局|人民银行|银监|消协|"
    r"媒体|曝光|记者|电视台|微博|抖音|网上发帖|律师|起诉|法院|诉讼|仲裁|报警|公安|派出所|"
    r"\b(?:regulators?|media|journalists?|lawyers?|sue|suing|court|police|CFPB)\b")
_MASS = r"集体|群体|很多人|大家都|多名客户|联名|一群|\b(?:collective|class action)\b"
_VULNERABLE = r"老人|老年人|残疾|盲人|聋|病重|住院|孕妇|\b(?:elderly|disabled|blind)\b"
_ANGER = (r"气愤|愤怒|非常不满|极其|忍无可忍|太过分|欺骗|骗子|垃圾|无耻|"
          r"\b(?:furious|outrageous|disgusting|scam)\b")

# One pass over the text finds every kind of signal; each rule: (group, severity, reason).
_SIGNALS = re.compile(
    f"(?P<escalation>{_ESCALATION})|(?P<mass>{_MASS})|(?P<vulnerable>{_VULNERABLE})|"
    f"(?P<anger>{_ANGER})", re.IGNORECASE)
_RULES = (
    ("escalation", "urgent", "threatens to escalate outside the bank"),
    ("mass", "urgent", "possible group complaint"),
    ("vulnerable", "important", "vulnerable customer"),
    ("anger", "important", "strong negative emotion"),
)


@dataclass(frozen=True)
class GradingRules:
    important_amount: Decimal = Decimal("50000")
    urgent_amount: Decimal = Decimal("500000")
    major_amount: Decimal = Decimal("5000000")


@dataclass
class Grade:
    severity: str = "general"
    reasons: list[str] = field(default_factory=list)

    def raise_to(self, severity: str, reason: str) -> None:
        self.reasons.append(reason)
        if SEVERITIES.index(severity) > SEVERITIES.index(self.severity):
            self.severity = severity


def grade(text: str, *, amount: Decimal | None, rules: GradingRules = GradingRules()) -> Grade:
    result = Grade()
    if amount is not None:
        if amount >= rules.major_amount:
            result.raise_to("major", f"amount {amount} ≥ {rules.major_amount}")
        elif amount >= rules.urgent_amount:
            result.raise_to("urgent", f"amount {amount} ≥ {rules.urgent_amount}")
        elif amount >= rules.important_amount:
            result.raise_to("important", f"amount {amount} ≥ {rules.important_amount}")
    first: dict[str, str] = {}
    for match in _SIGNALS.finditer(text):
        group = match.lastgroup
        if group is not None and group not in first:
            first[group] = match.group(0)
    for group, severity, reason in _RULES:
        if group in first:
            result.raise_to(severity, f"{reason} ({first[group]})")
    return result

"""Find and mask personal data in free text (IDs, mobiles, cards, e-mails).

Numbers only count when they pass their checks (ID checksum, Luhn), so amounts, dates, case
references and hotlines such as 95533 stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bankvoc.customers.masking import id_checksum_ok, mask_id_number, mask_phone

_ID = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?![\d])")
_CARD = re.compile(r"(?<![\d])(\d{4}(?:[-\s]?\d{4}){2,3}(?:[-\s]?\d{1,3})?)(?![\d])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

@dataclass(frozen=True)
class PiiSpan:
    type: str
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    def add(kind: str, start: int, end: int) -> None:
        spans.append(PiiSpan(kind, start, end))
        taken.append((start, end))

    for m in _ID.finditer(text):
        if id_checksum_ok(m.group(1)):
            add("id_number", m.start(1), m.end(1))
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if 16 <= len(digits) <= 19 and luhn_ok(digits) and free(m.start(1), m.end(1)):
            add("bank_card", m.start(1), m.end(1))
    for m in _MOBILE.finditer(text):
        if free(m.start(), m.end()):
            add("mobile", m.start(), m.end())
    for m in _EMAIL.finditer(text):
        if free(m.start(), m.end()):
            add("email", m.start(), m.end())
    return sorted(spans, key=lambda s: s.start)


def _mask_span(kind: str, value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if kind == "id_number":
        return mask_id_number(value.upper())
    if kind == "mobile":
        return mask_phone(digits[-11:])
    if kind == "bank_card":
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    if kind == "email":
        user, _, domain = value.partition("@")
        return user[:1] + "***@" + domain
    return "*" * len(value)


def mask_text(text: str, spans: list[PiiSpan] | None = None) -> str:
    spans = find_pii(text) if spans is None else spans
    if not spans:
        return text
    out: list[str] = []
    cursor = 0
    for span in spans:
        out.append(text[cursor:span.start])
        out.append(_mask_span(span.type, text[span.start:span.end]))
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)

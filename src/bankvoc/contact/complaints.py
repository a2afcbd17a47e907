"""Complaint intents found in calls (投诉意向), registered as cases linked to the call.

A customer turn shows a complaint intent when it says so in words (我要投诉, 我要举报, 给我个
说法, 要求赔偿; not negated: 我不是要投诉), threatens to go outside the bank (the grading rules'
`escalation` signal: the regulator, 12378, the press, a lawyer, the courts), or voices strong
negative emotion (its mood, as the QA emotion rule reads it, at most `STRONG`).

Such a call becomes a case through the intake pipeline like any other channel's record (kind
complaint intent, channel hotline, received when the call started, the customer by the
caller's phone, the org of the call; its text the customer's turns), keyed by the call's source
system and id, so a re-import registers nothing twice. The case is linked to the call
(`interaction.case_id`). Never commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bankvoc.cases.enums import CaseKind, Channel
from bankvoc.contact.emotion import customer_mood
from bankvoc.contact.models import Interaction
from bankvoc.contact.schemas import Turn
from bankvoc.core.errors import Invalid
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.nlp.grading import GradingRules, load_grading_rules
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor

# A customer turn this upset, or more, is a complaint intent on its own.
STRONG = -0.6
SOURCE_PREFIX = "call:"  # the cases' source system: "call:" + the call's
COMPLAINT = re.compile(
    r"投诉|举报|申诉|(?:给|要)(?:我)?(?:个|一个)?(?:说法|交代)|要求(?:你们)?赔偿|索赔|我要反映")
# Said just before the words, they are no complaint: 我不是要投诉, 不用投诉, 没想投诉.
_NEGATED = re.compile(r"(?:不|没|没有|别|不是|并不|不会|不用|不想|不必|无需)"
                      r"(?:是|会|要|想|去|再)?$")

Mood = Callable[[str], float]


@dataclass(frozen=True)
class Intent:
    """Why the call is a complaint intent (`words`, `escalation`, `emotion`) and at which
    turns (0-based indices into the turns)."""

    reasons: tuple[str, ...]
    turns: tuple[int, ...]


def _says_complaint(text: str) -> bool:
    return any(_NEGATED.search(text, max(0, m.start() - 4), m.start()) is None
               for m in COMPLAINT.finditer(text))


def complaint_intent(turns: Sequence[Turn], *, grading: GradingRules | None = None,
                     mood: Mood = customer_mood) -> Intent | None:
    """The complaint intent the customer's turns show, or None."""
    grading = grading if grading is not None else load_grading_rules()
    reasons: dict[str, None] = {}
    where: list[int] = []
    for i, turn in enumerate(turns):
        if turn.speaker != "customer" or not turn.text.strip():
            continue
        found = []
        if _says_complaint(turn.text):
            found.append("words")
        if "escalation" in grading.signal_hits(turn.text):
            found.append("escalation")
        if mood(turn.text) <= STRONG:
            found.append("emotion")
        if found:
            reasons.update(dict.fromkeys(found))
            where.append(i)
    if not where:
        return None
    order = ("words", "escalation", "emotion")
    return Intent(tuple(r for r in order if r in reasons), tuple(where))


def case_text(turns: Sequence[Turn]) -> str:
    """What the case says: the customer's turns, one a line."""
    return "\n".join(f"客户：{t.text.strip()}" for t in turns
                     if t.speaker == "customer" and t.text.strip())


def register(session: Session, *, actor: Actor, interaction: Interaction,
             turns: Sequence[Turn], phone: str | None = None,
             grading: GradingRules | None = None) -> int | None:
    """Register the call's complaint intent as a case and link it to the call; the case's id,
    or None when the call shows none (or is linked to a case already). Invalid (field `turns`)
    when intake refuses the case."""
    if interaction.case_id is not None:
        return None
    intent = complaint_intent(turns, grading=grading)
    if intent is None:
        return None
    org = session.get_one(Org, interaction.org_id)
    data = CaseCreate(
        text=case_text(turns), kind=CaseKind.complaint_intent, channel=Channel.hotline,
        received_at=interaction.started_at, customer_phone=phone, org=org.code,
        source_system=(SOURCE_PREFIX + interaction.source_system)[:64],
        source_id=interaction.source_id)
    draft = intake_service.register_case(session, actor=actor, data=data)
    if draft.rejected:
        raise Invalid(f"the complaint found in the call was not registered: {draft.error}",
                      field="turns")
    case_id = draft.case_id or draft.existing_case_id or draft.merge_into_case_id
    interaction.case_id = case_id
    session.flush()
    return case_id

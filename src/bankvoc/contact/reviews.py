"""Quality inspection stored, and the human review queue (质检复核). Never commits.

Every interaction imported with a transcript is inspected, not a sample (`record_transcript`,
called by the import in the row's own savepoint): the transcript is kept with each turn's
text encrypted with the key ring (one JSON list, field "transcript") and a PII-masked copy to
show (`nlp.pii`, as intake masks case text), and it is scored by the rule set in force. The
result keeps the score, the rules' version and every hit with its category, rule, turn and
evidence (masked). A resend of the same transcript stores nothing; a corrected one is
inspected again (its earlier review no longer applies, and the trail says so).

A result goes to a human inspector (status `pending`) when the rule set's `review` policy says
so: a score below its threshold, a hit in one of its risky categories, or a broken critical
rule. An inspector (`qa.review`) confirms the machine's score or overrides it, and may dismiss
hits that were no fault; a reason is always given. The machine's score stays beside the human
one, and every inspection and review is an event of `qa_review_event` (who, when, the scores
before and after, the hits dismissed, why), written in the transaction of the change, as the
directory's changes are.

Every list and detail query goes through `orgs.service.in_scope` on the interaction's org: a
call outside the actor's subtree does not exist for them. The unmasked transcript is shown only
to a role that may read personal data (`pii.read`), and each such look is recorded
(`customers.disclosure`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case
from bankvoc.contact import inspection
from bankvoc.contact.models import (
    Interaction,
    InteractionTranscript,
    QaHit,
    QaResult,
    QaReviewEvent,
)
from bankvoc.contact.rules import CATEGORIES, RuleSet
from bankvoc.contact.schemas import Interaction as Call
from bankvoc.contact.schemas import Turn
from bankvoc.core.errors import Forbidden, Invalid, NotFound
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import disclosure
from bankvoc.customers import service as customers_service
from bankvoc.customers.disclosure import DIRECT, Via
from bankvoc.nlp import pii
from bankvoc.orgs.models import Org
from bankvoc.orgs.service import Actor, in_scope, org_visible

TEXT_FIELD = "transcript"  # the encryption context of the turns' texts
REASON_MAX = 1000
MAX_PAGE = 200
SYSTEM = "system"  # the actor of an inspection made without a user


class Status(StrEnum):
    passed = "pass"  # not queued
    pending = "pending"  # queued for an inspector
    confirmed = "confirmed"
    overridden = "overridden"


class Action(StrEnum):
    inspected = "inspected"
    reinspected = "reinspected"
    confirmed = "confirmed"
    overridden = "overridden"


Decision = Literal["confirm", "override"]
Recorded = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class TranscriptIn:
    """What the inspection reads of an imported interaction besides its row: the turns, the
    product the call was about, and a follow-up recorded for it (a case or callback)."""

    turns: tuple[Turn, ...]
    product: str | None = None
    follow_up: str | None = None


# --- the queue's rule ---------------------------------------------------------------------------

def queue_reasons(result: inspection.QaResult, rules: RuleSet) -> list[str]:
    """Why a result goes to a person (empty: it does not): `low_score`, `category:<c>` for a
    hit in a risky category, `critical:<rule>` for a broken critical rule."""
    reasons = []
    if result.score < rules.review.threshold:
        reasons.append("low_score")
    found = result.categories()
    reasons += [f"category:{c}" for c in CATEGORIES if c in rules.review.categories
                and c in found]
    critical = {r.id for r in rules.rules if r.critical}
    broken = dict.fromkeys(h.rule for h in result.hits if h.rule in critical)
    reasons += [f"critical:{rule}" for rule in broken]
    return reasons


# --- storing and inspecting a transcript --------------------------------------------------------

def _shape(turns: Iterable[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(t["speaker"], t["start_ms"], t["end_ms"]) for t in turns]


def _same(stored: InteractionTranscript, transcript: TranscriptIn) -> bool:
    if (stored.product, stored.follow_up) != (transcript.product, transcript.follow_up):
        return False
    if _shape(stored.turns) != [(t.speaker, t.start_ms, t.end_ms) for t in transcript.turns]:
        return False
    ring = customers_service.current_keyring()
    texts = orjson.loads(ring.decrypt(stored.texts_enc, field=TEXT_FIELD))
    return bool(texts == [t.text for t in transcript.turns])


def record_transcript(session: Session, *, actor: Actor | None, interaction: Interaction,
                      transcript: TranscriptIn, rules: RuleSet,
                      now: datetime | None = None) -> Recorded:
    """Store an interaction's transcript and its inspection by `rules`: "new" the first time,
    "updated" when the transcript differs from the one stored (inspected again), "unchanged"
    when it is the same (nothing is written)."""
    now = now or utcnow()
    stored = session.get(InteractionTranscript, interaction.id)
    result = session.scalar(select(QaResult).where(QaResult.interaction_id == interaction.id))
    if stored is not None and result is not None and _same(stored, transcript):
        return "unchanged"
    ring = customers_service.current_keyring()
    texts = [t.text for t in transcript.turns]
    masked = [{"speaker": t.speaker, "start_ms": t.start_ms, "end_ms": t.end_ms,
               "text": pii.mask_text(t.text)} for t in transcript.turns]
    if stored is None:
        stored = InteractionTranscript(interaction_id=interaction.id, created_at=now)
        session.add(stored)
    stored.turns = masked
    stored.texts_enc = ring.encrypt(orjson.dumps(texts).decode(), field=TEXT_FIELD)
    stored.product = transcript.product
    stored.follow_up = transcript.follow_up
    stored.updated_at = now
    found = inspection.inspect(Call(
        id=interaction.source_id, agent=interaction.agent or "-", queue=interaction.queue,
        product=transcript.product, started_at=interaction.started_at,
        turns=transcript.turns, follow_up=transcript.follow_up), rules)
    reasons = queue_reasons(found, rules)
    status = Status.pending if reasons else Status.passed
    if result is None:
        outcome: Recorded = "new"
        before = None
        result = QaResult(interaction_id=interaction.id)
        session.add(result)
    else:
        outcome = "updated"
        before = result.score
        session.execute(delete(QaHit).where(QaHit.result_id == result.id))
    result.rules_version = found.rules_version
    result.machine_score = found.score
    result.human_score = None
    result.critical = found.critical
    result.status = status.value
    result.reasons = reasons
    result.inspected_at = now
    result.reviewed_at = None
    result.reviewer_id = None
    session.flush()
    session.add_all(QaHit(result_id=result.id, seq=i, category=h.category, rule=h.rule,
                          turn=h.turn, evidence=pii.mask_text(h.evidence), value=h.value,
                          dismissed=False) for i, h in enumerate(found.hits))
    _event(session, actor=actor, result=result, now=now, score_before=before,
           action=Action.inspected if outcome == "new" else Action.reinspected)
    session.flush()
    return outcome


def _event(session: Session, *, actor: Actor | None, result: QaResult, action: Action,
           now: datetime, score_before: int | None, dismissed: Sequence[QaHit] = (),
           reason: str = "") -> QaReviewEvent:
    row = QaReviewEvent(
        result_id=result.id, at=now, action=action.value,
        actor_user_id=actor.user_id if actor else None,
        actor_username=(actor.username if actor else SYSTEM)[:64],
        rules_version=result.rules_version, machine_score=result.machine_score,
        score_before=score_before, score_after=result.score,
        dismissed=[{"rule": h.rule, "category": h.category, "turn": h.turn}
                   for h in dismissed], reason=reason)
    session.add(row)
    return row


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewFilter:
    """Which results: by status (None: any), the agent, team and queue as the platform wrote
    them."""

    status: Status | None = Status.pending
    agent: str | None = None
    team: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class Reviewed:
    """A result with its interaction."""

    result: QaResult
    interaction: Interaction


def list_results(session: Session, *, actor: Actor, cut: ReviewFilter | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[Reviewed], int]:
    """Results of the calls in the actor's subtree, lowest score first, then the newest call;
    (page, total)."""
    actor.require("qa.read")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    cut = cut or ReviewFilter()
    stmt = (select(QaResult, Interaction)
            .join(Interaction, Interaction.id == QaResult.interaction_id)
            .where(in_scope(actor, Interaction.org_id)))
    if cut.status is not None:
        stmt = stmt.where(QaResult.status == cut.status.value)
    for column, value in ((Interaction.agent, cut.agent), (Interaction.team, cut.team),
                          (Interaction.queue, cut.queue)):
        if value:
            stmt = stmt.where(column == value)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    score = func.coalesce(QaResult.human_score, QaResult.machine_score)
    rows = session.execute(stmt.order_by(score, Interaction.started_at.desc(), QaResult.id)
                           .limit(limit).offset(max(0, offset)))
    return [Reviewed(r, i) for r, i in rows], int(total)


def get_result(session: Session, *, actor: Actor, result_id: int) -> Reviewed:
    actor.require("qa.read")
    row = session.execute(
        select(QaResult, Interaction).join(Interaction,
                                           Interaction.id == QaResult.interaction_id)
        .where(QaResult.id == result_id, in_scope(actor, Interaction.org_id))).first()
    if row is None:
        raise NotFound(f"no inspected call {result_id}", field="result")
    return Reviewed(row[0], row[1])


def result_of(session: Session, *, interaction_id: int) -> QaResult | None:
    """The inspection of an interaction, if it had a transcript (no scope check: the caller
    holds the interaction)."""
    return session.scalar(select(QaResult).where(QaResult.interaction_id == interaction_id))


def case_reference(session: Session, *, actor: Actor, interaction: Interaction) -> str | None:
    """The reference of the case linked to the call, when the actor may see it."""
    if interaction.case_id is None:
        return None
    case = session.get(Case, interaction.case_id)
    if case is None or not actor.can("case.read"):
        return None
    org = session.get(Org, case.org_id)
    return case.reference if org is not None and org_visible(actor, org) else None


def hits_of(session: Session, *, result: QaResult) -> list[QaHit]:
    return list(session.scalars(select(QaHit).where(QaHit.result_id == result.id)
                                .order_by(QaHit.seq)))


def events_of(session: Session, *, result: QaResult) -> list[QaReviewEvent]:
    """The result's trail, oldest first."""
    return list(session.scalars(select(QaReviewEvent).where(
        QaReviewEvent.result_id == result.id).order_by(QaReviewEvent.id)))


@dataclass(frozen=True)
class TurnShown:
    speaker: str
    start_ms: int
    end_ms: int
    text: str


def transcript_of(session: Session, *, actor: Actor, reviewed: Reviewed, reveal: bool = False,
                  via: Via = DIRECT) -> list[TurnShown]:
    """The call's turns, masked; unmasked with `reveal` for a role that may read personal
    data (else Forbidden), the look recorded."""
    actor.require("qa.read")
    stored = session.get(InteractionTranscript, reviewed.interaction.id)
    if stored is None:
        return []
    texts = [str(t["text"]) for t in stored.turns]
    if reveal:
        actor.require("pii.read")
        texts = orjson.loads(customers_service.current_keyring().decrypt(
            stored.texts_enc, field=TEXT_FIELD))
        disclosure.record(session, actor=actor, subject="transcript", via=via,
                          customer_ids=[c for c in (reviewed.interaction.customer_id,) if c],
                          fields=["transcript"],
                          detail=f"interaction {reviewed.interaction.id}")
    return [TurnShown(speaker=str(t["speaker"]), start_ms=int(str(t["start_ms"])),
                      end_ms=int(str(t["end_ms"])), text=text)
            for t, text in zip(stored.turns, texts, strict=True)]


# --- the human review ---------------------------------------------------------------------------

def review(session: Session, *, actor: Actor, result_id: int, decision: Decision,
           reason: str, score: int | None = None, dismiss: Iterable[int] = (),
           now: datetime | None = None) -> QaResult:
    """An inspector's decision on a result: `confirm` the machine's score, or `override` it
    with `score` (0-100) and/or `dismiss` hits (their ids) that were no fault. A reason is
    always given. Audited; the machine's score is kept."""
    actor.require("qa.review")
    found = get_result(session, actor=actor, result_id=result_id)
    result = found.result
    if found.interaction.agent_user_id is not None \
            and found.interaction.agent_user_id == actor.user_id:
        raise Forbidden("nobody reviews a call of their own", field="result")
    reason = reason.strip()
    if not reason:
        raise Invalid("give the reason for the decision", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(f"the reason is at most {REASON_MAX} characters", field="reason")
    hits = {h.id: h for h in hits_of(session, result=result)}
    dismissed = sorted(set(dismiss))
    unknown = [i for i in dismissed if i not in hits]
    if unknown:
        raise Invalid(f"hit {unknown[0]} is not one of this call's", field="dismiss")
    if decision == "confirm":
        if dismissed:
            raise Invalid("a confirmation dismisses no hit: override instead", field="dismiss")
        if score is not None and score != result.machine_score:
            raise Invalid("a confirmation keeps the machine's score: override instead",
                          field="score")
        new_score, status, action = result.machine_score, Status.confirmed, Action.confirmed
    elif decision == "override":
        if score is None:
            raise Invalid("give the score (0-100)", field="score")
        if not 0 <= score <= 100:
            raise Invalid("the score is between 0 and 100", field="score")
        if score == result.machine_score and not dismissed:
            raise Invalid("an override changes the score or dismisses a hit", field="score")
        new_score, status, action = score, Status.overridden, Action.overridden
    else:
        raise Invalid(f"{decision!r} is not a decision (confirm or override)",
                      field="decision")
    now = now or utcnow()
    before = result.score
    for hit_id, hit in hits.items():
        hit.dismissed = hit_id in dismissed
    result.human_score = new_score
    result.status = status.value
    result.reviewed_at = now
    result.reviewer_id = actor.user_id
    _event(session, actor=actor, result=result, action=action, now=now, score_before=before,
           dismissed=[hits[i] for i in dismissed], reason=reason)
    session.flush()
    return result

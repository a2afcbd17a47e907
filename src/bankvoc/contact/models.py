"""The contact centre's tables: one row per call or chat as the ACD / chat platform recorded it
(timings, agent, outcome, customer, linked case); its transcript (the turns' texts encrypted,
a PII-masked copy to show); the quality inspection of that transcript (`QaResult`, its
`QaHit`s) with the human review it may be queued for, and the audit trail of every
inspection and review (`QaReviewEvent`). The caller's phone is never stored here: the
customer is linked through the customers feature (encrypted identity, blind index)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Interaction(Base):
    """A call or chat: routed to a person or not, answered or abandoned, and its timings."""

    __tablename__ = "interaction"
    __table_args__ = (
        UniqueConstraint("source_system", "source_id"),
        Index("ix_interaction_org_id_started_at", "org_id", "started_at"),
        # first-contact resolution looks for the same customer's later contacts
        Index("ix_interaction_customer_id_started_at", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))  # the call or chat id in that system
    kind: Mapped[str] = mapped_column(String(8))  # call|chat
    agent: Mapped[str | None] = mapped_column(String(64))  # username as the platform wrote it
    agent_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    team: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    started_at: Mapped[datetime] = mapped_column()
    routed_to_agent: Mapped[bool] = mapped_column(Boolean)  # offered to a person (not IVR only)
    answered: Mapped[bool] = mapped_column(Boolean)  # answered by a person
    abandoned: Mapped[bool] = mapped_column(Boolean)  # the customer hung up while waiting
    transferred: Mapped[bool] = mapped_column(Boolean)
    wait_s: Mapped[int] = mapped_column(Integer)
    talk_s: Mapped[int] = mapped_column(Integer)
    hold_s: Mapped[int] = mapped_column(Integer)
    wrap_s: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))  # resolved|unresolved|callback|…
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    issue_key: Mapped[str | None] = mapped_column(String(120))  # what a repeat contact is about
    csat: Mapped[int | None] = mapped_column(Integer)  # 1-5
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InteractionTranscript(Base):
    """What was said in an interaction: each turn's speaker and times with its text masked
    (`turns`: [{"speaker", "start_ms", "end_ms", "text"}], the text PII-masked), and the turns'
    own texts encrypted together with the key ring (`texts_enc`: a JSON list, field
    "transcript"). `product` and `follow_up` are what the inspection read besides the turns."""

    __tablename__ = "interaction_transcript"

    interaction_id: Mapped[int] = mapped_column(ForeignKey("interaction.id"), primary_key=True)
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    texts_enc: Mapped[str] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(String(60))
    follow_up: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QaResult(Base):
    """The quality inspection of one interaction's transcript, by the rule set of
    `rules_version`, and its human review: `machine_score` as the rules scored it, `human_score`
    once an inspector confirmed or overrode it (None before), `status` pass (not queued) |
    pending (queued for an inspector) | confirmed | overridden; `reasons` why it was queued
    (low_score, category:<category>, critical:<rule>)."""

    __tablename__ = "qa_result"
    __table_args__ = (Index("ix_qa_result_status_inspected_at", "status", "inspected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interaction.id"), unique=True)
    rules_version: Mapped[int] = mapped_column(Integer)
    machine_score: Mapped[int] = mapped_column(Integer)
    human_score: Mapped[int | None] = mapped_column(Integer)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    inspected_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    @property
    def score(self) -> int:
        """The score that counts: the inspector's once given, else the machine's."""
        return self.machine_score if self.human_score is None else self.human_score


class QaHit(Base):
    """One rule broken at one turn (`turn`: 0-based index into the transcript's turns; None
    when the call lacks the turn the rule concerns), its evidence masked; `dismissed` by the
    inspector who found it was no fault."""

    __tablename__ = "qa_hit"
    __table_args__ = (Index("ix_qa_hit_result_id_seq", "result_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("qa_result.id"))
    seq: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)  # PII-masked
    value: Mapped[float | None] = mapped_column(Float)
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)


class QaReviewEvent(Base):
    """The audit trail of a result: each inspection by the rules (`inspected`, `reinspected`
    after a corrected transcript) and each human review (`confirmed`, `overridden`), with who,
    when, the machine's score beside the scores before and after, the hits dismissed (rule and
    turn, so they outlive a re-inspection) and the reviewer's reason. Append-only."""

    __tablename__ = "qa_review_event"
    __table_args__ = (Index("ix_qa_review_event_result_id", "result_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("qa_result.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(12))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[int] = mapped_column(Integer)
    machine_score: Mapped[int] = mapped_column(Integer)
    score_before: Mapped[int | None] = mapped_column(Integer)
    score_after: Mapped[int] = mapped_column(Integer)
    dismissed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")

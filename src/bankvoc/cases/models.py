from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import Customer
from bankvoc.orgs.models import Org, User


class Case(Base):
    """One complaint, complaint intent, suggestion, hard question or praise."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_org_id_received_at", "org_id", "received_at"),
        Index("ix_case_received_at_id", "received_at", "id"),
        Index("ix_case_customer_id_text_hash", "customer_id", "text_hash"),
        # How many complaints said this (one template's copies alike) on a day: possible mass
        # complaints, and the clusters of similar cases.
        Index("ix_case_similar_key_received_at", "similar_key", "received_at"),
        Index("ix_case_status", "status"),
        Index("ix_case_status_received_at_id", "status", "received_at", "id"),
        Index("ix_case_assignee_id_status", "assignee_id", "status"),
        Index("ix_case_handling_org_id_status", "handling_org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(12))
    # Polarity of the customer's words, -1 (angry) … 1 (pleased).
    sentiment: Mapped[float | None] = mapped_column(Float)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    product: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    # The text as analytics, screens and exports see it (personal data masked) …
    text_masked: Mapped[str] = mapped_column(Text)
    # … and the customer's own words, encrypted like any other personal data.
    text_enc: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    # nlp.similarity.template_key of the text: one key for the copies of a templated text.
    similar_key: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    received_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    source_system: Mapped[str | None] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(128))
    merged_count: Mapped[int] = mapped_column(default=0)
    # An automatic decision below the confidence threshold waits for a handler's review.
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    # Each automatic decision: {field: {value, confidence, reason, source: "stage@version"}}.
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    # -- the workflow (cases/workflow): every column a bulk insert may leave out has a server
    # default or is nullable.
    # Direct, or transferred by a regulator (nfra, pboc, 12378, 12345) under its reference.
    origin: Mapped[str] = mapped_column(String(10), default="direct", server_default="direct")
    origin_reference: Mapped[str | None] = mapped_column(String(64))
    # The department or queue working the case (routing), and the person within it.
    handling_org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # 首问负责: whoever first took the case stays accountable through every transfer.
    first_responder_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    transfer_count: Mapped[int] = mapped_column(default=0, server_default="0")
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # 回避: the employee and the outlet complained about never handle the case.
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    subject_org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    accepted_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    paused_since: Mapped[datetime | None] = mapped_column()
    # The decision: explanation, correction, refund, compensation or refused; amounts above the
    # decider's authority need a recorded approval.
    decision_type: Mapped[str | None] = mapped_column(String(20))
    decision_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    decision_needs_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    decision_approved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Deadline alarms (cases/workflow/alarms): the planned warnings and escalations of the
    # case's clocks, and the instant the next is due; the SLA sweep claims cases by it. A new
    # open case comes with `sla_next_at` = receipt and no plan: the sweep plans it.
    sla_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sla_next_at: Mapped[datetime | None] = mapped_column(index=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own contract

    org: Mapped[Org] = relationship(lazy="joined", foreign_keys=[org_id])
    customer: Mapped[Customer | None] = relationship(lazy="joined")
    handling_org: Mapped[Org | None] = relationship(lazy="selectin",
                                                    foreign_keys=[handling_org_id])
    assignee: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[assignee_id])
    first_responder: Mapped[User | None] = relationship(lazy="selectin",
                                                        foreign_keys=[first_responder_id])


# The case table as Core sees it, for the statements that bypass the ORM's version counter.
CASE_TABLE = cast(Table, Case.__table__)


class CaseEvent(Base):
    """Append-only timeline; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    seq: Mapped[int] = mapped_column()
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferenceCounter(Base):
    """The last sequence number handed out per reference prefix and day (TS20261122000123)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column()


class LabelCorrection(Base):
    """A handler's correction of an automatic decision: kept as training data."""

    __tablename__ = "label_correction"
    __table_args__ = (Index("ix_label_correction_field_created_at", "field", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(String(100))
    new_value: Mapped[str] = mapped_column(String(100))
    # The masked text as it was corrected: training never needs the personal data.
    text: Mapped[str] = mapped_column(Text)
    corrected_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Callbacks after a case is resolved, and satisfaction answers from any touchpoint."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Callback(Base):
    """The callback decision for one resolution of a case (a reopened case resolved again gets
    a new round): pending in the queue, done, unreachable, or skipped by the sampling policy."""

    __tablename__ = "callback"
    __table_args__ = (
        UniqueConstraint("case_id", "round"),
        Index("ix_callback_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    round: Mapped[int] = mapped_column(Integer)  # the case's reopen count at resolution
    status: Mapped[str] = mapped_column(String(12))  # pending|done|unreachable|skipped
    reason: Mapped[str] = mapped_column(String(200))  # why it was (not) scheduled
    due_at: Mapped[datetime | None] = mapped_column()
    csat: Mapped[int | None] = mapped_column(Integer)  # 1-5
    nps: Mapped[int | None] = mapped_column(Integer)  # 0-10
    solved: Mapped[bool | None] = mapped_column(Boolean)
    comment_masked: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[float | None] = mapped_column(Float)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """A satisfaction answer after a branch visit, a call or an app transaction."""

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("source_system", "source_id"),
        Index("ix_survey_response_org_id_answered_at", "org_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(128))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    channel: Mapped[str] = mapped_column(String(20))
    touchpoint: Mapped[str] = mapped_column(String(60))  # e.g. branch_visit, call, app_transfer
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    comment_masked: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

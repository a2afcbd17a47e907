"""Tables of training: a session (topic, date, trainer, org, the QA rule categories it covers,
its pass mark) and each attendee's assessment result."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow

DEFAULT_PASS_MARK = 60.0


class TrainingSession(Base):
    """One training session, keyed by the code the training file gives it."""

    __tablename__ = "training_session"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(200))
    session_date: Mapped[date] = mapped_column(Date, index=True)
    trainer: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # QA rule categories
    pass_mark: Mapped[float] = mapped_column(Float, default=DEFAULT_PASS_MARK)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingResult(Base):
    """An attendee of a session and their assessment score (None: attended, not assessed)."""

    __tablename__ = "training_result"
    __table_args__ = (UniqueConstraint("session_id", "attendee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"))
    attendee: Mapped[str] = mapped_column(String(64))  # username
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def passed(self, pass_mark: float) -> bool | None:
        return None if self.score is None else self.score >= pass_mark

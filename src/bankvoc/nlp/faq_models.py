"""The FAQ knowledge base behind answer suggestions: one row per standard question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class FaqEntry(Base):
    """A standard question, its answer, its category and other ways customers ask it.

    The question text is the entry's identity: imports match on it, so importing the same file
    twice changes nothing.
    """

    __tablename__ = "faq_entry"
    __table_args__ = (UniqueConstraint("question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(100))
    phrasings: Mapped[list[str]] = mapped_column(JSON)
    # Where the entry last came from (an import file's name, "api", ...).
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The customer's page keeps three things of its own: one-time codes (hashed), customers'
short sessions (hashed tokens) and the hits its rate limits count. Every row is shared state:
several API processes read and write the same rows, so they enforce the limits together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class PortalChallenge(Base):
    """One request for a code: made for every request, whether the reference and phone matched
    or not (`case_id` is None then, and no code was sent), so the page answers both alike.
    Only an HMAC of the code is kept; the browser holds the challenge's token (a cookie)."""

    __tablename__ = "portal_challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    # sms | email: where the code went (None when nothing was sent).
    channel: Mapped[str | None] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # Used (the code was right) or replaced by a newer request for the same case.
    used_at: Mapped[datetime | None] = mapped_column()


class PortalSession(Base):
    """A customer's short session after a right code: it shows that one case and nothing else."""

    __tablename__ = "portal_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column()


class PortalHit(Base):
    """One counted event of a rate limit (a filing, a code request, a wrong code, a supplement)
    under a key: an HMAC of the client address, reference or phone, never the value itself."""

    __tablename__ = "portal_hit"
    __table_args__ = (Index("ix_portal_hit_action_key_at", "action", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)

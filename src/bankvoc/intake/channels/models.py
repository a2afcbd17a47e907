"""What the channel adapters keep besides the case: who a message came from, and the social-media
mentions being monitored (most of which never become cases)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class ChannelMessage(Base):
    """One message a channel adapter received (an e-mail, a WeChat or chat message, a social
    post that was a complaint): the case it became and how to answer its sender, or why it
    became none (`status` ignored or held, with the `reason`).

    The sender's address (an e-mail address, a WeChat openid, a chat or social account id) is
    personal data: stored encrypted, found by its blind index, shown masked. The blind index
    also counts a sender's messages for the flood guard, across every process.
    """

    __tablename__ = "channel_message"
    __table_args__ = (UniqueConstraint("source_system", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(160))
    # None for a message that became no case (ignored or held).
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    # See `channels.enums.MessageStatus`: case, ignored or held.
    status: Mapped[str] = mapped_column(String(20), default="case", server_default="case")
    # Why a message became no case (never personal data: the header or rule that decided).
    reason: Mapped[str | None] = mapped_column(String(300))
    # "email" (an address) or "channel_user" (the channel's opaque id of the sender).
    contact_kind: Mapped[str | None] = mapped_column(String(20))
    contact_enc: Mapped[str | None] = mapped_column(Text)
    contact_bidx: Mapped[str | None] = mapped_column(String(48), index=True)
    contact_masked: Mapped[str | None] = mapped_column(String(120))
    # The name the sender gave (an e-mail's display name), encrypted.
    contact_name_enc: Mapped[str | None] = mapped_column(Text)
    # The text of a held message, encrypted, for the person who reviews it.
    text_enc: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitoredMention(Base):
    """A social-media post about the bank. It becomes a case only when it is a complaint (see
    `channels.mentions.complaint_rule`); the rest are kept for monitoring and trends."""

    __tablename__ = "monitored_mention"
    __table_args__ = (Index("ix_monitored_mention_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    # The platform's post id: a post delivered twice is stored once.
    source_id: Mapped[str] = mapped_column(String(160), unique=True)
    # The author's handle masked for display, and encrypted in full.
    author: Mapped[str | None] = mapped_column(String(120))
    author_enc: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))
    text_masked: Mapped[str] = mapped_column(Text)
    # Polarity of the post, -1 (angry) … 1 (pleased).
    sentiment: Mapped[float] = mapped_column(Float)
    is_complaint: Mapped[bool] = mapped_column()
    # Why it is or is not a complaint: the rule that fired and the words behind it.
    reason: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    received_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

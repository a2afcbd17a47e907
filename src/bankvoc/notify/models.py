"""The notification outbox: one row per message to a customer or a staff member.

Rows are written in the same transaction as the change they announce and sent after commit by
the dispatcher (bankvoc.notify.service.dispatch_due). The recipient's address is personal data:
it is stored encrypted with the PII key ring and shown only masked. Bodies are rendered from
masked context (names masked, no ID or card numbers), and are never logged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow

_STATUSES = "'pending', 'sending', 'sent', 'failed', 'dead'"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        # The dispatcher's claim: due rows by status, oldest first.
        Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    # customer | user (staff)
    recipient_kind: Mapped[str] = mapped_column(String(10))
    # A non-personal reference to the recipient (a username, a customer id), for audit.
    recipient_ref: Mapped[str | None] = mapped_column(String(64))
    # Phone, e-mail address, WeChat openid or webhook URL: encrypted, and masked for display.
    recipient_enc: Mapped[str] = mapped_column(Text)
    recipient_masked: Mapped[str] = mapped_column(String(120))
    # sms | email | wechat | webhook
    channel: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[str] = mapped_column(String(20))
    # zh | en
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    # Claims so far; a claim counts even if the dispatcher dies before it records the result.
    attempts: Mapped[int] = mapped_column(default=0)
    # When a dispatcher should next act: send a pending/failed row, or take over a "sending"
    # row whose claim has expired. Null once sent or dead.
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The same key is never enqueued twice ("case:123:escalation:2").
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    # Stable across retries: receivers drop repeats by it (webhook X-BankVOC-Delivery header).
    delivery_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Customer(Base):
    """Identity fields are ciphertexts; `*_bidx` find a customer; `*_masked` are for display."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_enc: Mapped[str | None] = mapped_column(Text)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    email_enc: Mapped[str | None] = mapped_column(Text)
    phone_bidx: Mapped[str | None] = mapped_column(String(48), index=True)
    id_number_bidx: Mapped[str | None] = mapped_column(String(48), index=True)
    # Of the normalised (lower-case) address, under the same field name as a channel message's
    # e-mail sender (`channel_message.contact_bidx`), so the two match.
    email_bidx: Mapped[str | None] = mapped_column(String(48), index=True)
    name_masked: Mapped[str | None] = mapped_column(String(100))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    email_masked: Mapped[str | None] = mapped_column(String(120))
    birth_year: Mapped[int | None] = mapped_column()
    segment: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

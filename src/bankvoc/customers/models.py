from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
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


class CustomerValue(Base):
    """A customer's value in one month, from the bank's imported customer-value file: recency,
    frequency and monetary value (RFM), their 1–5 quintile scores over that month's imported
    population, the segment they name (`customers/segments.yaml`), and the day the customer
    closed all accounts (`attrited_on`), when they did. One row per customer and month: a file
    imported again replaces the month's rows it names, never adds to them."""

    __tablename__ = "customer_value"
    __table_args__ = (
        UniqueConstraint("customer_id", "as_of"),
        Index("ix_customer_value_as_of_segment", "as_of", "segment"),
        Index("ix_customer_value_attrited_on", "attrited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    as_of: Mapped[date] = mapped_column(Date)  # the first day of the month
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    r_score: Mapped[int] = mapped_column(Integer)
    f_score: Mapped[int] = mapped_column(Integer)
    m_score: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(32))
    attrited_on: Mapped[date | None] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PiiAccess(Base):
    """One view or export of unmasked personal data (customers.disclosure): who (`user_id`,
    `username`, the API token when one was used), when, what (`subject`: a case's dossier, a
    customer's identity, a case's senders, an attachment; the case's reference and the
    customers' ids; `fields`, the names of the fields shown, never their values), and through
    which route (`via`: api, page, cli or job; `route`, e.g. "GET /api/v1/cases/{reference}/
    dossier"). Append-only; no foreign key to the case, so the record outlives what it names."""

    __tablename__ = "pii_access"
    __table_args__ = (Index("ix_pii_access_user_id_at", "user_id", "at"),
                      Index("ix_pii_access_case_reference", "case_reference"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(32))
    case_reference: Mapped[str | None] = mapped_column(String(32))
    customer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[str] = mapped_column(String(200), default="")

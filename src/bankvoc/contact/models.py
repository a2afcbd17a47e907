"""The contact centre's table: one row per call or chat as the ACD / chat platform recorded it
(timings, agent, outcome, customer, linked case). The caller's phone is never stored here: the
customer is linked through the customers feature (encrypted identity, blind index)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
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

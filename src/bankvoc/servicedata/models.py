"""The tables of operational service data, one per kind of source. Each row carries its
natural key (the unique constraint) so a re-import stores nothing twice and a corrected row
updates the stored one: a queue ticket by outlet, day and ticket number (queue systems start
their numbers again every day), a channel's daily figures by channel, org and day, a process
by its type and record id, digital usage by org and month."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class QueueTicket(Base):
    """One ticket of an outlet's queue system (排队叫号): issued, called to a counter, finished.
    Wait = called − issued, handling = finished − called (seconds); a ticket never called (the
    customer left) has neither."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("org_id", "service_date", "ticket_id"),
        Index("ix_queue_ticket_service_date", "service_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    service_date: Mapped[date] = mapped_column(Date)  # the bank's local day of issue
    ticket_id: Mapped[str] = mapped_column(String(64))
    business_type: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime] = mapped_column()
    called_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    wait_s: Mapped[int | None] = mapped_column(Integer)
    handle_s: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelDay(Base):
    """A digital channel's figures for one day as its monitoring reports them: availability
    (% of the day in service), average and P95 response time (ms), requests served."""

    __tablename__ = "channel_day"
    __table_args__ = (
        UniqueConstraint("channel", "org_id", "day"),
        Index("ix_channel_day_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    day: Mapped[date] = mapped_column(Date)
    availability_pct: Mapped[float] = mapped_column(Float)
    response_avg_ms: Mapped[float] = mapped_column(Float)
    response_p95_ms: Mapped[float | None] = mapped_column(Float)
    requests: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessRecord(Base):
    """One run of a business process from start to finish (account opening, loan approval,
    card issuance …); still open while `finished_at` is empty."""

    __tablename__ = "process_record"
    __table_args__ = (
        UniqueConstraint("process_type", "record_id"),
        Index("ix_process_record_org_id_finished_at", "org_id", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    finish_date: Mapped[date | None] = mapped_column(Date)  # the bank's local day it finished
    duration_s: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigitalUsage(Base):
    """An org's use of the digital tools in one month: app monthly active users,
    transactions done at self-service machines and at the counter, smart-assistant sessions and
    those the assistant resolved without a person."""

    __tablename__ = "digital_usage"
    __table_args__ = (UniqueConstraint("org_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    month: Mapped[date] = mapped_column(Date)  # its first day
    app_mau: Mapped[int | None] = mapped_column(Integer)
    self_service_txns: Mapped[int | None] = mapped_column(Integer)
    counter_txns: Mapped[int | None] = mapped_column(Integer)
    assistant_sessions: Mapped[int | None] = mapped_column(Integer)
    assistant_resolved: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

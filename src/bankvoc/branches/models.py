"""Tables of outlet inspections: a visit, its answer to each checklist item, its photos and the
findings (整改事项) its failed items became, each with an owner and a due date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Inspection(Base):
    """A branch check or a mystery-shopper visit of an outlet, scored against the checklist."""

    __tablename__ = "inspection"
    __table_args__ = (Index("ix_inspection_org_id_visited_at", "org_id", "visited_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))  # the outlet visited
    kind: Mapped[str] = mapped_column(String(20))  # inspection|mystery_shopper
    visited_at: Mapped[datetime] = mapped_column()
    inspector_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    checklist_version: Mapped[str] = mapped_column(String(40))
    checklist_checksum: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)  # 0-100; None: nothing applicable
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectionAnswer(Base):
    """The visit's answer to one checklist item."""

    __tablename__ = "inspection_answer"
    __table_args__ = (UniqueConstraint("inspection_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(4))  # pass|fail|na
    remark: Mapped[str] = mapped_column(Text, default="")


class InspectionPhoto(Base):
    """A photo taken at the visit (of one item, or of the visit), stored by its content."""

    __tablename__ = "inspection_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_code: Mapped[str | None] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(20))  # image/jpeg|image/png|image/webp
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InspectionFinding(Base):
    """A failed item to put right (整改), its owner and due date."""

    __tablename__ = "inspection_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), index=True)  # open|done
    done_at: Mapped[datetime | None] = mapped_column()

"""Early-warning alerts: hot issues, emerging topics, possible mass complaints, regulator risk."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Alert(Base):
    """One warning raised by the daily scan. Holds no personal data: cases are named by id and
    shown through their masked text; words and labels come from masked texts.

    `dedupe_key` is unique: a re-run of the scan for the same day (or two at once) stores each
    alert once.
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_day_kind", "day", "kind"),
        Index("ix_alert_org_id_day", "org_id", "day"),
        Index("ix_alert_status_day", "status", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # hot_issue|emerging_topic|mass_complaint|…
    # What was counted: category|product|org|org_category (hot issues), topic, similar_key,
    # wording (mass complaints), case (regulator risk); and its value (fee_dispute,
    # credit_card, an org code, a case reference …).
    dimension: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(120))
    # The org whose series it is (data scope); None: the whole bank.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    day: Mapped[date] = mapped_column(Date)  # the bank's local day scanned
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float | None] = mapped_column(Float)
    ratio: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    # z of a spike, or the score of a regulator risk (0-100) or an emerging topic's recent share.
    score: Mapped[float | None] = mapped_column(Float)
    case_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # typical cases
    words: Mapped[list[str]] = mapped_column(JSON, default=list)  # a topic's words, matched …
    label: Mapped[str] = mapped_column(String(200))  # a short title, no personal data
    # How it was found: method, window, rules version, reasons, who was notified.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|acknowledged
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_note: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

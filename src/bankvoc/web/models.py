"""The pages' own table: each user's saved inbox views (a name and the list's query string)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow

NAME_MAX = 60
QUERY_MAX = 1000


class SavedView(Base):
    """A user's named set of case-list filters, kept as the query string that reproduces it."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    query: Mapped[str] = mapped_column(String(QUERY_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

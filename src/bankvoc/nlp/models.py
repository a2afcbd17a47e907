"""Stored text models: every trained version, and which one is active for each field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class ModelVersion(Base):
    """One trained version of a named model, with what it was trained on and how it scored.

    The fitted estimator itself is stored in the row (joblib bytes) so that every process that
    reaches the database, on any machine, loads the same model; its SHA-256 is checked on load.
    """

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    # What it does: "classifier" (product, category, ...), "sentiment" or "pairs" (duplicates).
    kind: Mapped[str] = mapped_column(String(20), default="classifier",
                                      server_default="classifier")
    # The field it may be activated for (product, category, ...); None: any field.
    field: Mapped[str | None] = mapped_column(String(50))
    labels: Mapped[list[str]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SHA-256 of the normalised, sorted (text, label) pairs: the same data gives the same hash.
    data_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    # Deferred: listing versions must not read megabytes of model per row.
    estimator: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    estimator_sha256: Mapped[str] = mapped_column(String(64))
    estimator_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class ModelActivation(Base):
    """One activation of a model version for a field; the rows are the history.

    At most one row per field is active (a partial unique index). `previous_id` points to the
    activation this one replaced, so rollbacks walk back through the history like an undo stack.
    """

    __tablename__ = "model_activation"
    __table_args__ = (
        Index("uq_model_activation_field_active", "field", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(50))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"), index=True)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("model_activation.id"))
    action: Mapped[str] = mapped_column(String(20))  # "activate" | "rollback"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

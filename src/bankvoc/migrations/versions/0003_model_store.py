"""model store: trained text model versions and their activation per field

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("estimator", sa.LargeBinary(), nullable=False),
        sa.Column("estimator_sha256", sa.String(length=64), nullable=False),
        sa.Column("estimator_size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_model_version_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_model_version_name_version")),
    )
    op.create_table(
        "model_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["activated_by"], ["app_user.id"],
                                name=op.f("fk_model_activation_activated_by_app_user")),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_version.id"],
                                name=op.f("fk_model_activation_model_version_id_model_version")),
        sa.ForeignKeyConstraint(["previous_id"], ["model_activation.id"],
                                name=op.f("fk_model_activation_previous_id_model_activation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_activation")),
    )
    with op.batch_alter_table("model_activation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_activation_model_version_id"),
                              ["model_version_id"], unique=False)
        # At most one active model per field, enforced by the database even under races.
        batch_op.create_index("uq_model_activation_field_active", ["field"], unique=True,
                              sqlite_where=sa.text("active"), postgresql_where=sa.text("active"))


def downgrade() -> None:
    with op.batch_alter_table("model_activation", schema=None) as batch_op:
        batch_op.drop_index("uq_model_activation_field_active")
        batch_op.drop_index(batch_op.f("ix_model_activation_model_version_id"))

    op.drop_table("model_activation")
    op.drop_table("model_version")

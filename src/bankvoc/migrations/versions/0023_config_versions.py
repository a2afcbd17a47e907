"""Versioned configuration edited on the admin screens: every saved version of the taxonomy,
deadline policy, calendar, templates, workflow, grading and alert rules, and every activation

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"],
                                name=op.f("fk_config_version_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
        sa.UniqueConstraint("kind", "version", name=op.f("uq_config_version_kind_version")),
    )
    # At most one active version per kind, even for two activations at once.
    op.create_index("ix_config_version_active_kind", "config_version", ["kind"], unique=True,
                    sqlite_where=sa.text("active"), postgresql_where=sa.text("active"))
    op.create_table(
        "config_activation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["by_user"], ["app_user.id"],
                                name=op.f("fk_config_activation_by_user_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_activation")),
    )
    op.create_index("ix_config_activation_kind_at", "config_activation", ["kind", "at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_config_activation_kind_at", table_name="config_activation")
    op.drop_table("config_activation")
    op.drop_index("ix_config_version_active_kind", table_name="config_version")
    op.drop_table("config_version")

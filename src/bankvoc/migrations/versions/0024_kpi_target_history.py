"""KPI targets kept with their history, set on the admin screen

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_target_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("kpi", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("before_value", sa.Float(), nullable=True),
        sa.Column("after_value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["app_user.id"],
                                name=op.f("fk_kpi_target_change_actor_user_id_app_user")),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_kpi_target_change_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_target_change")),
    )
    op.create_index("ix_kpi_target_change_kpi_at", "kpi_target_change", ["kpi", "at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_kpi_target_change_kpi_at", table_name="kpi_target_change")
    op.drop_table("kpi_target_change")

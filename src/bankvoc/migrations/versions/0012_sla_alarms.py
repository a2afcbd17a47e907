"""SLA alarms: each open case's plan of warnings and escalations; staff notification addresses

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("sla_plan", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("sla_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_case_sla_next_at", ["sla_next_at"])
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("mobile", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("mobile")
        batch.drop_column("email")
    with op.batch_alter_table("case") as batch:
        batch.drop_index("ix_case_sla_next_at")
        batch.drop_column("sla_next_at")
        batch.drop_column("sla_plan")

"""Contact-centre interactions: calls and chats with their timings, for the operational KPIs

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_system", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("agent_user_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_to_agent", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("wait_s", sa.Integer(), nullable=False),
        sa.Column("talk_s", sa.Integer(), nullable=False),
        sa.Column("hold_s", sa.Integer(), nullable=False),
        sa.Column("wrap_s", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("issue_key", sa.String(length=120), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_user_id"], ["app_user.id"],
                                name=op.f("fk_interaction_agent_user_id_app_user")),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_interaction_org_id_org")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_interaction_customer_id_customer")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_interaction_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction")),
        sa.UniqueConstraint("source_system", "source_id",
                            name=op.f("uq_interaction_source_system_source_id")),
    )
    op.create_index("ix_interaction_org_id_started_at", "interaction",
                    ["org_id", "started_at"], unique=False)
    op.create_index("ix_interaction_customer_id_started_at", "interaction",
                    ["customer_id", "started_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_interaction_customer_id_started_at", table_name="interaction")
    op.drop_index("ix_interaction_org_id_started_at", table_name="interaction")
    op.drop_table("interaction")

"""Training sessions and their assessment results

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("trainer", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_training_session_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_session")),
        sa.UniqueConstraint("code", name=op.f("uq_training_session_code")),
    )
    op.create_index("ix_training_session_session_date", "training_session", ["session_date"],
                    unique=False)
    op.create_table(
        "training_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("attendee", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["training_session.id"],
                                name=op.f("fk_training_result_session_id_training_session")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_result")),
        sa.UniqueConstraint("session_id", "attendee",
                            name=op.f("uq_training_result_session_id_attendee")),
    )


def downgrade() -> None:
    op.drop_table("training_result")
    op.drop_index("ix_training_session_session_date", table_name="training_session")
    op.drop_table("training_session")

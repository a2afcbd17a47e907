"""case review queue, label corrections and sentiment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_case_needs_review"), ["needs_review"], unique=False)
        batch_op.add_column(sa.Column("sentiment", sa.Float(), nullable=True))
        batch_op.create_index("ix_case_text_hash_received_at", ["text_hash", "received_at"],
                              unique=False)

    op.create_table(
        "label_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=100), nullable=True),
        sa.Column("new_value", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("corrected_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_label_correction_case_id_case")),
        sa.ForeignKeyConstraint(["corrected_by"], ["app_user.id"],
                                name=op.f("fk_label_correction_corrected_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_correction")),
    )
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_correction_case_id"), ["case_id"],
                              unique=False)
        batch_op.create_index("ix_label_correction_field_created_at", ["field", "created_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("label_correction")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_text_hash_received_at")
        batch_op.drop_column("sentiment")
        batch_op.drop_index(batch_op.f("ix_case_needs_review"))
        batch_op.drop_column("needs_review")

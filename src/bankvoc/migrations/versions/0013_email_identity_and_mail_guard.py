"""Customer e-mail identity (encrypted, blind index, masked); channel messages that became no
case (auto-replies and bounces ignored, floods held) with their status and reason

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("email_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("email_bidx", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("email_masked", sa.String(length=120), nullable=True))
        batch.create_index(batch.f("ix_customer_email_bidx"), ["email_bidx"], unique=False)
    with op.batch_alter_table("channel_message") as batch:
        # Every message stored so far became a case.
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False,
                                   server_default="case"))
        batch.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("text_enc", sa.Text(), nullable=True))
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Messages that became no case cannot live in the older table, whose case is required.
    op.execute("DELETE FROM channel_message WHERE case_id IS NULL")
    with op.batch_alter_table("channel_message") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("text_enc")
        batch.drop_column("reason")
        batch.drop_column("status")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a copy of the table: cases refer to
    # customers, and SQLite will not drop a referenced table while foreign keys are on.
    with op.batch_alter_table("customer", recreate="never") as batch:
        batch.drop_index(batch.f("ix_customer_email_bidx"))
        batch.drop_column("email_masked")
        batch.drop_column("email_bidx")
        batch.drop_column("email_enc")

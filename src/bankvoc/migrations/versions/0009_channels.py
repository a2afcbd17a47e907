"""channels: monitored social-media mentions and channel messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("source_system", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("contact_kind", sa.String(length=20), nullable=True),
        sa.Column("contact_enc", sa.Text(), nullable=True),
        sa.Column("contact_bidx", sa.String(length=48), nullable=True),
        sa.Column("contact_masked", sa.String(length=120), nullable=True),
        sa.Column("contact_name_enc", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_channel_message_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_message")),
        sa.UniqueConstraint("source_system", "source_id",
                            name=op.f("uq_channel_message_source_system_source_id")),
    )
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_message_case_id"), ["case_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_channel_message_contact_bidx"), ["contact_bidx"],
                              unique=False)

    op.create_table(
        "monitored_mention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=160), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=True),
        sa.Column("author_enc", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("text_masked", sa.Text(), nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("is_complaint", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_monitored_mention_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitored_mention")),
        sa.UniqueConstraint("source_id", name=op.f("uq_monitored_mention_source_id")),
    )
    with op.batch_alter_table("monitored_mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitored_mention_case_id"), ["case_id"],
                              unique=False)
        batch_op.create_index("ix_monitored_mention_received_at", ["received_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("monitored_mention", schema=None) as batch_op:
        batch_op.drop_index("ix_monitored_mention_received_at")
        batch_op.drop_index(batch_op.f("ix_monitored_mention_case_id"))
    op.drop_table("monitored_mention")
    with op.batch_alter_table("channel_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_message_contact_bidx"))
        batch_op.drop_index(batch_op.f("ix_channel_message_case_id"))
    op.drop_table("channel_message")

"""Quality inspection stored: transcripts (texts encrypted, masked copy), results and hits, the
human review queue and its audit trail

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "interaction_transcript",
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("turns", sa.JSON(), nullable=False),
        sa.Column("texts_enc", sa.Text(), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=True),
        sa.Column("follow_up", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"],
                                name=op.f("fk_interaction_transcript_interaction_id_interaction")),
        sa.PrimaryKeyConstraint("interaction_id", name=op.f("pk_interaction_transcript")),
    )
    op.create_table(
        "qa_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("machine_score", sa.Integer(), nullable=False),
        sa.Column("human_score", sa.Integer(), nullable=True),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"],
                                name=op.f("fk_qa_result_interaction_id_interaction")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["app_user.id"],
                                name=op.f("fk_qa_result_reviewer_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_result")),
        sa.UniqueConstraint("interaction_id", name=op.f("uq_qa_result_interaction_id")),
    )
    op.create_index("ix_qa_result_status_inspected_at", "qa_result",
                    ["status", "inspected_at"], unique=False)
    op.create_table(
        "qa_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("dismissed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["result_id"], ["qa_result.id"],
                                name=op.f("fk_qa_hit_result_id_qa_result")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_hit")),
    )
    op.create_index("ix_qa_hit_result_id_seq", "qa_hit", ["result_id", "seq"], unique=False)
    op.create_table(
        "qa_review_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("machine_score", sa.Integer(), nullable=False),
        sa.Column("score_before", sa.Integer(), nullable=True),
        sa.Column("score_after", sa.Integer(), nullable=False),
        sa.Column("dismissed", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["result_id"], ["qa_result.id"],
                                name=op.f("fk_qa_review_event_result_id_qa_result")),
        sa.ForeignKeyConstraint(["actor_user_id"], ["app_user.id"],
                                name=op.f("fk_qa_review_event_actor_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_review_event")),
    )
    op.create_index("ix_qa_review_event_result_id", "qa_review_event", ["result_id", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_qa_review_event_result_id", table_name="qa_review_event")
    op.drop_table("qa_review_event")
    op.drop_index("ix_qa_hit_result_id_seq", table_name="qa_hit")
    op.drop_table("qa_hit")
    op.drop_index("ix_qa_result_status_inspected_at", table_name="qa_result")
    op.drop_table("qa_result")
    op.drop_table("interaction_transcript")

"""The customer's public page: one-time codes and rate limits

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_portal_challenge_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_challenge")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_challenge_token_hash")),
    )
    op.create_index(op.f("ix_portal_challenge_case_id"), "portal_challenge", ["case_id"])
    op.create_index(op.f("ix_portal_challenge_expires_at"), "portal_challenge", ["expires_at"])
    op.create_table(
        "portal_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_portal_session_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_session_token_hash")),
    )
    op.create_index(op.f("ix_portal_session_case_id"), "portal_session", ["case_id"])
    op.create_index(op.f("ix_portal_session_expires_at"), "portal_session", ["expires_at"])
    op.create_table(
        "portal_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_hit")),
    )
    op.create_index("ix_portal_hit_action_key_at", "portal_hit", ["action", "key", "at"])
    op.create_index(op.f("ix_portal_hit_at"), "portal_hit", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_hit_at"), table_name="portal_hit")
    op.drop_index("ix_portal_hit_action_key_at", table_name="portal_hit")
    op.drop_table("portal_hit")
    op.drop_index(op.f("ix_portal_session_expires_at"), table_name="portal_session")
    op.drop_index(op.f("ix_portal_session_case_id"), table_name="portal_session")
    op.drop_table("portal_session")
    op.drop_index(op.f("ix_portal_challenge_expires_at"), table_name="portal_challenge")
    op.drop_index(op.f("ix_portal_challenge_case_id"), table_name="portal_challenge")
    op.drop_table("portal_challenge")

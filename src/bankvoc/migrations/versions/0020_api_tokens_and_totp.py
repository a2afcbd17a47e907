"""Scoped, expiring API tokens and TOTP second factors; the record of every view or export of
unmasked personal data (`pii_access`)

Tokens made before keep all of their user's permissions (`scopes` NULL) and never expire
(`expires_at` NULL): revoke and re-issue them to scope them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on SQLite too, never a copy of the table (which SQLite
    # would refuse to drop while other tables' rows refer to it).
    with op.batch_alter_table("api_token", recreate="never") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("app_user", recreate="never") as batch:
        batch.add_column(sa.Column("totp_secret_enc", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "pii_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("case_reference", sa.String(length=32), nullable=True),
        sa.Column("customer_ids", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_pii_access_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_access")),
    )
    op.create_index("ix_pii_access_at", "pii_access", ["at"], unique=False)
    op.create_index("ix_pii_access_user_id_at", "pii_access", ["user_id", "at"], unique=False)
    op.create_index("ix_pii_access_case_reference", "pii_access", ["case_reference"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_pii_access_case_reference", table_name="pii_access")
    op.drop_index("ix_pii_access_user_id_at", table_name="pii_access")
    op.drop_index("ix_pii_access_at", table_name="pii_access")
    op.drop_table("pii_access")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a copy of the table, as above.
    with op.batch_alter_table("app_user", recreate="never") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_confirmed_at")
        batch.drop_column("totp_secret_enc")
    with op.batch_alter_table("api_token", recreate="never") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
        batch.drop_column("scopes")

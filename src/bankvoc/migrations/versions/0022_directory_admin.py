"""Administration of orgs, users and roles, audited: the directory's change trail

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["app_user.id"],
                                name=op.f("fk_directory_change_actor_user_id_app_user")),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_directory_change_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_change")),
    )
    op.create_index("ix_directory_change_at", "directory_change", ["at"], unique=False)
    op.create_index("ix_directory_change_org_id", "directory_change", ["org_id"], unique=False)
    op.create_index("ix_directory_change_entity", "directory_change",
                    ["entity", "entity_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_directory_change_entity", table_name="directory_change")
    op.drop_index("ix_directory_change_org_id", table_name="directory_change")
    op.drop_index("ix_directory_change_at", table_name="directory_change")
    op.drop_table("directory_change")

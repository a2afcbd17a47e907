"""case similar key: copies of one templated text share it (mass complaints, clusters)

Replaces the (text_hash, received_at) index, whose only use was counting the same text per day.
Cases stored before have no key (their text is encrypted; a re-import or correction sets it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("similar_key", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_case_text_hash_received_at")
        batch_op.create_index("ix_case_similar_key_received_at", ["similar_key", "received_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_similar_key_received_at")
        batch_op.create_index("ix_case_text_hash_received_at", ["text_hash", "received_at"],
                              unique=False)
        batch_op.drop_column("similar_key")

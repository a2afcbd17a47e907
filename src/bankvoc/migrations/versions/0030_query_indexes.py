"""Indexes for the list and KPI queries on PostgreSQL (tests/test_query_plans.py)

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Org scoping (every list and detail query) selects a subtree by `path LIKE '/1/4/%'`: in
    # a database whose collation is not C, only a pattern-ops index serves a prefix LIKE.
    op.create_index("ix_org_path_pattern", "org", ["path"], unique=False,
                    postgresql_ops={"path": "varchar_pattern_ops"})
    # The case list's pages are the newest first (received_at, id): filtered by a status, the
    # page comes off this index in order, instead of reading ix_case_received_at_id until
    # enough rows pass the filter (all of it for a rare status: seconds on 1M cases).
    op.create_index("ix_case_status_received_at_id", "case", ["status", "received_at", "id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_status_received_at_id", table_name="case")
    op.drop_index("ix_org_path_pattern", table_name="org")

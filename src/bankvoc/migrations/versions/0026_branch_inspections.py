"""Outlet inspections and mystery-shopper visits: answers, photos, findings

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("checklist_version", sa.String(length=40), nullable=False),
        sa.Column("checklist_checksum", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("critical_failed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_inspection_org_id_org")),
        sa.ForeignKeyConstraint(["inspector_id"], ["app_user.id"],
                                name=op.f("fk_inspection_inspector_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    op.create_index("ix_inspection_org_id_visited_at", "inspection", ["org_id", "visited_at"],
                    unique=False)
    op.create_table(
        "inspection_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("result", sa.String(length=4), nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspection.id"],
                                name=op.f("fk_inspection_answer_inspection_id_inspection")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_answer")),
        sa.UniqueConstraint("inspection_id", "item_code",
                            name=op.f("uq_inspection_answer_inspection_id_item_code")),
    )
    op.create_table(
        "inspection_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=True),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspection.id"],
                                name=op.f("fk_inspection_photo_inspection_id_inspection")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["app_user.id"],
                                name=op.f("fk_inspection_photo_uploaded_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photo")),
    )
    op.create_index(op.f("ix_inspection_photo_inspection_id"), "inspection_photo",
                    ["inspection_id"], unique=False)
    op.create_table(
        "inspection_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspection.id"],
                                name=op.f("fk_inspection_finding_inspection_id_inspection")),
        sa.ForeignKeyConstraint(["owner_id"], ["app_user.id"],
                                name=op.f("fk_inspection_finding_owner_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_finding")),
    )
    op.create_index(op.f("ix_inspection_finding_inspection_id"), "inspection_finding",
                    ["inspection_id"], unique=False)
    op.create_index(op.f("ix_inspection_finding_status"), "inspection_finding", ["status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inspection_finding_status"), table_name="inspection_finding")
    op.drop_index(op.f("ix_inspection_finding_inspection_id"), table_name="inspection_finding")
    op.drop_table("inspection_finding")
    op.drop_index(op.f("ix_inspection_photo_inspection_id"), table_name="inspection_photo")
    op.drop_table("inspection_photo")
    op.drop_table("inspection_answer")
    op.drop_index("ix_inspection_org_id_visited_at", table_name="inspection")
    op.drop_table("inspection")

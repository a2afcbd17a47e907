"""case workflow: assignment, first responder, parties, clocks and decisions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USER_COLUMNS = ("assignee_id", "first_responder_id", "subject_user_id", "decision_approved_by")


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=10), nullable=False,
                                      server_default="direct"))
        batch_op.add_column(sa.Column("origin_reference", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("handling_org_id", sa.Integer(), nullable=True))
        for name in _USER_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in ("transfer_count", "escalation_level", "reopen_count"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                          server_default="0"))
        batch_op.add_column(sa.Column("subject_org_id", sa.Integer(), nullable=True))
        for name in ("accepted_at", "resolved_at", "withdrawn_at", "paused_since"):
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision_type", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("decision_amount", sa.Numeric(precision=18, scale=2),
                                      nullable=True))
        batch_op.add_column(sa.Column("decision_needs_approval", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        for name in _USER_COLUMNS:
            batch_op.create_foreign_key(batch_op.f(f"fk_case_{name}_app_user"), "app_user",
                                        [name], ["id"])
        for name in ("handling_org_id", "subject_org_id"):
            batch_op.create_foreign_key(batch_op.f(f"fk_case_{name}_org"), "org", [name], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_case_merged_into_id_case"), "case",
                                    ["merged_into_id"], ["id"])
        batch_op.create_index("ix_case_assignee_id_status", ["assignee_id", "status"],
                              unique=False)
        batch_op.create_index("ix_case_handling_org_id_status", ["handling_org_id", "status"],
                              unique=False)

    op.create_table(
        "case_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_party_case_id_case")),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_case_party_org_id_org")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_case_party_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_party")),
    )
    op.create_index(op.f("ix_case_party_case_id"), "case_party", ["case_id"], unique=False)
    op.create_table(
        "case_complainant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("representative", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_case_complainant_case_id_case")),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_case_complainant_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_complainant")),
    )
    op.create_index(op.f("ix_case_complainant_case_id"), "case_complainant", ["case_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_complainant_case_id"), table_name="case_complainant")
    op.drop_table("case_complainant")
    op.drop_index(op.f("ix_case_party_case_id"), table_name="case_party")
    op.drop_table("case_party")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_handling_org_id_status")
        batch_op.drop_index("ix_case_assignee_id_status")
        batch_op.drop_constraint(batch_op.f("fk_case_merged_into_id_case"), type_="foreignkey")
        for name in ("handling_org_id", "subject_org_id"):
            batch_op.drop_constraint(batch_op.f(f"fk_case_{name}_org"), type_="foreignkey")
        for name in _USER_COLUMNS:
            batch_op.drop_constraint(batch_op.f(f"fk_case_{name}_app_user"), type_="foreignkey")
        for name in ("legal_hold", "merged_into_id", "decision_needs_approval", "decision_amount",
                     "decision_type", "paused_since", "withdrawn_at", "resolved_at",
                     "accepted_at", "subject_org_id", "reopen_count", "escalation_level",
                     "transfer_count", *_USER_COLUMNS, "handling_org_id", "origin_reference",
                     "origin"):
            batch_op.drop_column(name)

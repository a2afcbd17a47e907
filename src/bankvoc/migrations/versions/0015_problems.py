"""The known-problem library, root causes, improvement actions and staff suggestions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "root_cause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=12), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False)
          for name in ("what", "why", "where", "when", "who", "how")),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        _at("recorded_at"),
        _fk("root_cause", "case_id", "case"),
        _fk("root_cause", "recorded_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_root_cause")),
        sa.UniqueConstraint("case_id", name=op.f("uq_root_cause_case_id")),
    )
    op.create_table(
        "problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("cause_category", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        _at("fixed_at", nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _fk("problem", "created_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem")),
        sa.UniqueConstraint("code", name=op.f("uq_problem_code")),
    )
    op.create_index("ix_problem_status", "problem", ["status"], unique=False)
    op.create_table(
        "case_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Integer(), nullable=False),
        _at("linked_at"),
        _fk("case_problem", "case_id", "case"),
        _fk("case_problem", "problem_id", "problem"),
        _fk("case_problem", "linked_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_problem")),
        sa.UniqueConstraint("case_id", "problem_id",
                            name=op.f("uq_case_problem_case_id_problem_id")),
    )
    op.create_index("ix_case_problem_problem_id", "case_problem", ["problem_id"], unique=False)
    op.create_table(
        "improvement_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _fk("improvement_action", "problem_id", "problem"),
        _fk("improvement_action", "owner_id", "app_user"),
        _fk("improvement_action", "created_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_action")),
    )
    op.create_index("ix_improvement_action_problem_id", "improvement_action", ["problem_id"],
                    unique=False)
    op.create_table(
        "action_pilot_org",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        _fk("action_pilot_org", "action_id", "improvement_action"),
        _fk("action_pilot_org", "org_id", "org"),
        sa.PrimaryKeyConstraint("action_id", "org_id", name=op.f("pk_action_pilot_org")),
    )
    op.create_table(
        "suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        _at("reviewed_at", nullable=True),
        sa.Column("credit_points", sa.Integer(), nullable=False),
        _at("created_at"),
        _fk("suggestion", "author_id", "app_user"),
        _fk("suggestion", "reviewer_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion")),
    )
    op.create_index("ix_suggestion_author_id", "suggestion", ["author_id"], unique=False)
    op.create_index("ix_suggestion_status", "suggestion", ["status"], unique=False)
    op.create_table(
        "suggestion_problem",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        _fk("suggestion_problem", "suggestion_id", "suggestion"),
        _fk("suggestion_problem", "problem_id", "problem"),
        sa.PrimaryKeyConstraint("suggestion_id", "problem_id",
                                name=op.f("pk_suggestion_problem")),
    )


def downgrade() -> None:
    op.drop_table("suggestion_problem")
    op.drop_index("ix_suggestion_status", table_name="suggestion")
    op.drop_index("ix_suggestion_author_id", table_name="suggestion")
    op.drop_table("suggestion")
    op.drop_table("action_pilot_org")
    op.drop_index("ix_improvement_action_problem_id", table_name="improvement_action")
    op.drop_table("improvement_action")
    op.drop_index("ix_case_problem_problem_id", table_name="case_problem")
    op.drop_table("case_problem")
    op.drop_index("ix_problem_status", table_name="problem")
    op.drop_table("problem")
    op.drop_table("root_cause")

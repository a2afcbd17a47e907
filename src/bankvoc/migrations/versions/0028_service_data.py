"""Operational service data: queue tickets, channel days, process records, digital usage

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[datetime]]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "queue_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("business_type", sa.String(length=40), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("handle_s", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_queue_ticket_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_ticket")),
        sa.UniqueConstraint("org_id", "service_date", "ticket_id",
                            name=op.f("uq_queue_ticket_org_id_service_date_ticket_id")),
    )
    op.create_index("ix_queue_ticket_service_date", "queue_ticket", ["service_date"],
                    unique=False)
    op.create_table(
        "channel_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("availability_pct", sa.Float(), nullable=False),
        sa.Column("response_avg_ms", sa.Float(), nullable=False),
        sa.Column("response_p95_ms", sa.Float(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_channel_day_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_day")),
        sa.UniqueConstraint("channel", "org_id", "day",
                            name=op.f("uq_channel_day_channel_org_id_day")),
    )
    op.create_index("ix_channel_day_day", "channel_day", ["day"], unique=False)
    op.create_table(
        "process_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finish_date", sa.Date(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_process_record_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_record")),
        sa.UniqueConstraint("process_type", "record_id",
                            name=op.f("uq_process_record_process_type_record_id")),
    )
    op.create_index("ix_process_record_org_id_finished_at", "process_record",
                    ["org_id", "finished_at"], unique=False)
    op.create_table(
        "digital_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("app_mau", sa.Integer(), nullable=True),
        sa.Column("self_service_txns", sa.Integer(), nullable=True),
        sa.Column("counter_txns", sa.Integer(), nullable=True),
        sa.Column("assistant_sessions", sa.Integer(), nullable=True),
        sa.Column("assistant_resolved", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_digital_usage_org_id_org")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digital_usage")),
        sa.UniqueConstraint("org_id", "month", name=op.f("uq_digital_usage_org_id_month")),
    )


def downgrade() -> None:
    op.drop_table("digital_usage")
    op.drop_index("ix_process_record_org_id_finished_at", table_name="process_record")
    op.drop_table("process_record")
    op.drop_index("ix_channel_day_day", table_name="channel_day")
    op.drop_table("channel_day")
    op.drop_index("ix_queue_ticket_service_date", table_name="queue_ticket")
    op.drop_table("queue_ticket")

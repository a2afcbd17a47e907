"""Customer value (RFM) per month from an imported file, with attrition; a customer's changed
segment marks the roll-up buckets of their cases

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The roll-up's segment cut reads `customer.segment` (analytics.measures): when an import
# changes it, the buckets of that customer's cases are marked for the refresh, as 0014's
# triggers do for a changed case, so the KPIs by segment follow the new segments.
SQLITE_TRIGGER = """
    CREATE TRIGGER rollup_mark_customer_segment AFTER UPDATE OF segment ON customer
    WHEN coalesce(OLD.segment, '') <> coalesce(NEW.segment, '') BEGIN
      INSERT INTO rollup_mark (utc_day, org_id)
        SELECT DISTINCT date(received_at), org_id FROM "case" WHERE customer_id = NEW.id;
    END"""
POSTGRES_STATEMENTS = (
    """CREATE FUNCTION rollup_mark_customer_segment() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO rollup_mark (utc_day, org_id)
           SELECT DISTINCT utc_date(received_at), org_id FROM "case"
           WHERE customer_id = NEW.id;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER rollup_mark_customer_segment AFTER UPDATE OF segment ON customer
       FOR EACH ROW WHEN (OLD.segment IS DISTINCT FROM NEW.segment)
       EXECUTE FUNCTION rollup_mark_customer_segment()""",
)


def upgrade() -> None:
    op.create_table(
        "customer_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=False),
        sa.Column("f_score", sa.Integer(), nullable=False),
        sa.Column("m_score", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=False),
        sa.Column("attrited_on", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"],
                                name=op.f("fk_customer_value_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_value")),
        sa.UniqueConstraint("customer_id", "as_of",
                            name=op.f("uq_customer_value_customer_id_as_of")),
    )
    op.create_index("ix_customer_value_as_of_segment", "customer_value", ["as_of", "segment"],
                    unique=False)
    op.create_index("ix_customer_value_attrited_on", "customer_value", ["attrited_on"],
                    unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_STATEMENTS:
            op.execute(statement)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER rollup_mark_customer_segment ON customer")
        op.execute("DROP FUNCTION rollup_mark_customer_segment()")
    else:
        op.execute("DROP TRIGGER rollup_mark_customer_segment")
    op.drop_index("ix_customer_value_attrited_on", table_name="customer_value")
    op.drop_index("ix_customer_value_as_of_segment", table_name="customer_value")
    op.drop_table("customer_value")

"""KPI roll-ups kept up to date by triggers, imported org statistics (customers, outlets) and
KPI targets

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = ("cases", "complainants", "decided", "on_time", "reopened", "repeats", "escalated",
            "regulator", "first_contact", "called_back", "csat_answers", "csat_sum",
            "csat_satisfied", "nps_answers", "promoters", "detractors")

# The case columns a KPI reads: only their changes mark a bucket (not, say, the SLA plan).
CASE_COLUMNS = ("org_id", "received_at", "kind", "channel", "product", "category", "customer_id",
                "status", "resolved_at", "due_at", "reopen_count", "escalation_level", "origin",
                "transfer_count")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER rollup_mark_case_insert AFTER INSERT ON "case" BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (date(NEW.received_at), NEW.org_id);
       END""",
    f"""CREATE TRIGGER rollup_mark_case_update AFTER UPDATE OF {", ".join(CASE_COLUMNS)}
       ON "case" BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (date(NEW.received_at), NEW.org_id);
         INSERT INTO rollup_mark (utc_day, org_id) SELECT date(OLD.received_at), OLD.org_id
           WHERE OLD.org_id <> NEW.org_id OR date(OLD.received_at) <> date(NEW.received_at);
       END""",
    """CREATE TRIGGER rollup_mark_case_delete AFTER DELETE ON "case" BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (date(OLD.received_at), OLD.org_id);
       END""",
    """CREATE TRIGGER rollup_mark_callback_insert AFTER INSERT ON callback BEGIN
         INSERT INTO rollup_mark (utc_day, org_id)
           SELECT date(received_at), org_id FROM "case" WHERE id = NEW.case_id;
       END""",
    """CREATE TRIGGER rollup_mark_callback_update AFTER UPDATE OF status, csat, nps ON callback
       BEGIN
         INSERT INTO rollup_mark (utc_day, org_id)
           SELECT date(received_at), org_id FROM "case" WHERE id = NEW.case_id;
       END""",
    """CREATE TRIGGER rollup_mark_survey_insert AFTER INSERT ON survey_response BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (date(NEW.answered_at), NEW.org_id);
       END""",
)
SQLITE_TRIGGER_NAMES = ("rollup_mark_case_insert", "rollup_mark_case_update",
                        "rollup_mark_case_delete", "rollup_mark_callback_insert",
                        "rollup_mark_callback_update", "rollup_mark_survey_insert")

POSTGRES_FUNCTIONS = (
    # Timestamps are timestamptz: their day is the UTC day, whatever the session's time zone.
    """CREATE FUNCTION utc_date(at timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS
       $$ SELECT (at AT TIME ZONE 'UTC')::date $$""",
    """CREATE FUNCTION rollup_mark_case() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN
           INSERT INTO rollup_mark (utc_day, org_id) VALUES (utc_date(OLD.received_at), OLD.org_id);
         END IF;
         IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR OLD.org_id <> NEW.org_id
                                   OR utc_date(OLD.received_at) <> utc_date(NEW.received_at)) THEN
           INSERT INTO rollup_mark (utc_day, org_id) VALUES (utc_date(NEW.received_at), NEW.org_id);
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE FUNCTION rollup_mark_callback() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO rollup_mark (utc_day, org_id)
           SELECT utc_date(received_at), org_id FROM "case" WHERE id = NEW.case_id;
         RETURN NULL;
       END $$""",
    """CREATE FUNCTION rollup_mark_survey() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (utc_date(NEW.answered_at), NEW.org_id);
         RETURN NULL;
       END $$""",
    f"""CREATE TRIGGER rollup_mark_case AFTER INSERT OR DELETE OR UPDATE OF
          {", ".join(CASE_COLUMNS)} ON "case"
        FOR EACH ROW EXECUTE FUNCTION rollup_mark_case()""",
    """CREATE TRIGGER rollup_mark_callback AFTER INSERT OR UPDATE OF status, csat, nps
        ON callback FOR EACH ROW EXECUTE FUNCTION rollup_mark_callback()""",
    """CREATE TRIGGER rollup_mark_survey AFTER INSERT ON survey_response
        FOR EACH ROW EXECUTE FUNCTION rollup_mark_survey()""",
)


def upgrade() -> None:
    op.create_table(
        "case_rollup",
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dim", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES[:3]],
        sa.Column("decision_days", sa.Float(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES[3:]],
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_case_rollup_org_id_org")),
        sa.PrimaryKeyConstraint("grain", "period", "org_id", "kind", "dim", "value",
                                name=op.f("pk_case_rollup")),
    )
    op.create_index("ix_case_rollup_grain_dim_period", "case_rollup",
                    ["grain", "dim", "period"], unique=False)
    op.create_table(
        "rollup_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("utc_day", sa.Date(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_mark")),
    )
    op.create_table(
        "org_month_stat",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=True),
        sa.Column("individual_customers", sa.Integer(), nullable=True),
        sa.Column("outlets", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"],
                                name=op.f("fk_org_month_stat_org_id_org")),
        sa.PrimaryKeyConstraint("org_id", "month", name=op.f("pk_org_month_stat")),
    )
    op.create_table(
        "kpi_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["org.id"], name=op.f("fk_kpi_target_org_id_org")),
        sa.ForeignKeyConstraint(["set_by"], ["app_user.id"],
                                name=op.f("fk_kpi_target_set_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_target")),
        sa.UniqueConstraint("kpi", "org_id", "valid_from",
                            name=op.f("uq_kpi_target_kpi_org_id_valid_from")),
    )
    statements = (POSTGRES_FUNCTIONS if op.get_bind().dialect.name == "postgresql"
                  else SQLITE_TRIGGERS)
    for statement in statements:
        op.execute(statement)
    # Cases and answers already stored get their roll-up on the first refresh.
    utc_day = ("CAST({} AT TIME ZONE 'UTC' AS DATE)" if op.get_bind().dialect.name == "postgresql"
               else "date({})")
    op.execute("INSERT INTO rollup_mark (utc_day, org_id) "
               f'SELECT DISTINCT {utc_day.format("received_at")}, org_id FROM "case"')
    op.execute("INSERT INTO rollup_mark (utc_day, org_id) "
               f'SELECT DISTINCT {utc_day.format("answered_at")}, org_id FROM survey_response')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER rollup_mark_case ON "case"')
        op.execute("DROP TRIGGER rollup_mark_callback ON callback")
        op.execute("DROP TRIGGER rollup_mark_survey ON survey_response")
        for function in ("rollup_mark_case", "rollup_mark_callback", "rollup_mark_survey"):
            op.execute(f"DROP FUNCTION {function}()")
        op.execute("DROP FUNCTION utc_date(timestamptz)")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("kpi_target")
    op.drop_table("org_month_stat")
    op.drop_table("rollup_mark")
    op.drop_index("ix_case_rollup_grain_dim_period", table_name="case_rollup")
    op.drop_table("case_rollup")

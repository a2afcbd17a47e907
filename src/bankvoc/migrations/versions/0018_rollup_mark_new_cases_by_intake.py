"""A new case is marked for the roll-up by intake, once per org and day of a batch, instead of by
a trigger per row

A row trigger ran a sub-program for every inserted case: it halved SQLite's insert rate (6.8 s
for 96,475 cases, 3.7 s without it) and took bulk intake from 4,300 to 2,900 records/s.
Changed and deleted cases stay marked by their triggers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_COLUMNS = ("org_id", "received_at", "kind", "channel", "product", "category", "customer_id",
                "status", "resolved_at", "due_at", "reopen_count", "escalation_level", "origin",
                "transfer_count")
POSTGRES_TRIGGER = """CREATE TRIGGER rollup_mark_case AFTER {events} ON "case"
                      FOR EACH ROW EXECUTE FUNCTION rollup_mark_case()"""
CHANGES = f"DELETE OR UPDATE OF {', '.join(CASE_COLUMNS)}"
SQLITE_INSERT_TRIGGER = """CREATE TRIGGER rollup_mark_case_insert AFTER INSERT ON "case" BEGIN
         INSERT INTO rollup_mark (utc_day, org_id) VALUES (date(NEW.received_at), NEW.org_id);
       END"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER rollup_mark_case ON "case"')
        op.execute(POSTGRES_TRIGGER.format(events=CHANGES))
    else:
        op.execute("DROP TRIGGER rollup_mark_case_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute('DROP TRIGGER rollup_mark_case ON "case"')
        op.execute(POSTGRES_TRIGGER.format(events=f"INSERT OR {CHANGES}"))
    else:
        op.execute(SQLITE_INSERT_TRIGGER)

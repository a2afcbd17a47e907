"""Migration 0028 (operational service data) down and up again, on every database; a ticket
imported after the upgrade is stored once, however often it is sent."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.servicedata import imports
from bankvoc.servicedata.models import QueueTicket
from tests.test_schema_0023 import _migrate

TABLES = {"queue_ticket", "channel_day", "process_record", "digital_usage"}
ROW = {"org": "O1", "ticket_id": "A001", "business_type": "cash",
       "issued_at": "2026-10-09 09:00", "called_at": "2026-10-09 09:05"}


def _before() -> str:
    """The revision 0028 follows."""
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0028")
    assert before is not None
    assert isinstance(before.down_revision, str)
    return before.down_revision


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0028:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, _before(), down=True)
            assert not _tables(engine) & TABLES
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            uniques = {u["name"] for u in inspect(engine).get_unique_constraints("queue_ticket")}
            assert "uq_queue_ticket_org_id_service_date_ticket_id" in uniques
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                org_service.create_org(session, code="O1", name="网点", kind=OrgKind.outlet,
                                       parent=admin.org)
                actor = org_service.actor_for(admin)
                for _ in range(2):
                    imports.store(session, actor=actor, kind="queue",
                                  data=imports.parse("queue", ROW))
            with unit_of_work(engine) as session:
                assert session.scalar(select(func.count()).select_from(QueueTicket)) == 1
        finally:
            engine.dispose()

"""Migration 0025 (contact-centre interactions) down and up again, on every database; an
interaction imported after the upgrade is stored once."""

from __future__ import annotations

from sqlalchemy import Engine, func, inspect, select

from bankvoc.contact import interactions
from bankvoc.contact.models import Interaction
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.test_schema_0023 import _migrate

TABLES = {"interaction"}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0025:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, "0024", down=True)
            assert not _tables(engine) & TABLES
            assert "kpi_target_change" in _tables(engine)
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            indexes = {i["name"] for i in inspect(engine).get_indexes("interaction")}
            assert {"ix_interaction_org_id_started_at",
                    "ix_interaction_customer_id_started_at"} <= indexes
            row = {"id": "C1", "org": "HQ", "started_at": "2026-10-01T02:00:00Z",
                   "answered": "1", "wait_s": "5", "talk_s": "60", "phone": "13800138000"}
            for expected in ("accepted", "unchanged"):
                with unit_of_work(engine) as session:
                    actor = org_service.actor_for(
                        org_service.get_user(session, username="admin"))
                    data = interactions.parse(row, source_system="acd")
                    assert interactions.store(session, actor=actor, data=data) == expected
            with unit_of_work(engine) as session:
                assert session.scalar(select(func.count()).select_from(Interaction)) == 1
        finally:
            engine.dispose()

"""Migration 0024 (the history of KPI targets) down and up again, on every database; a target
set after the upgrade leaves its history row."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, inspect, select

from bankvoc.analytics import service
from bankvoc.analytics.models import KpiTargetChange
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.test_schema_0023 import _migrate

TABLES = {"kpi_target_change"}


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0024:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, "0023", down=True)
            assert not _tables(engine) & TABLES
            assert "kpi_target" in _tables(engine)
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            indexes = {i["name"] for i in inspect(engine).get_indexes("kpi_target_change")}
            assert "ix_kpi_target_change_kpi_at" in indexes
            with unit_of_work(engine) as session:
                actor = org_service.actor_for(org_service.get_user(session, username="admin"))
                service.set_target(session, actor=actor, kpi="on_time_rate", value=95.0,
                                   valid_from=date(2026, 1, 1), note="n")
            with unit_of_work(engine) as session:
                rows = list(session.scalars(select(KpiTargetChange)))
                assert [(r.before_value, r.after_value, r.actor_username) for r in rows] == [
                    (None, 95.0, "admin")]
        finally:
            engine.dispose()

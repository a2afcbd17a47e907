"""Migration 0031 (the figures' version token) down and up again, on every database: the upgrade
leaves a token in force, and a change to the figures committed afterwards replaces it."""

from __future__ import annotations

from datetime import date

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bankvoc.analytics import freshness
from bankvoc.analytics.models import KpiTarget
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from tests.test_schema_0023 import _migrate


def _before() -> str:
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0031")
    assert before is not None
    assert isinstance(before.down_revision, str)
    return before.down_revision


class TestMigration0031:
    def test_follows_0030(self) -> None:
        assert _before() == "0030"

    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, _before(), down=True)
            assert "figures_version" not in inspect(engine).get_table_names()
            _migrate(engine, "head")
            with unit_of_work(engine) as session:
                upgraded = freshness.current(session)
            assert upgraded
            with unit_of_work(engine) as session:
                session.add(KpiTarget(kpi="csat", value=90, valid_from=date(2026, 1, 1)))
            with unit_of_work(engine) as session:
                assert freshness.current(session) not in (None, upgraded)
        finally:
            engine.dispose()

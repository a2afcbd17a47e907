"""Migration 0029 (training sessions and results) down and up again, on every database; a
training row imported after the upgrade is stored once, however often it is sent."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.people import training
from bankvoc.people.models import TrainingResult, TrainingSession
from tests.test_schema_0023 import _migrate

TABLES = {"training_session", "training_result"}
ROW = {"session": "TR-1", "topic": "开场白规范", "date": "2026-10-09", "trainer": "王老师",
       "org": "HQ", "categories": "greeting;closing", "attendee": "a1", "score": "75"}


def _before() -> str:
    """The revision 0029 follows."""
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0029")
    assert before is not None
    assert isinstance(before.down_revision, str)
    return before.down_revision


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0029:
    def test_follows_0028(self) -> None:
        assert _before() == "0028"

    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            _migrate(engine, _before(), down=True)
            assert not _tables(engine) & TABLES
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            uniques = {u["name"] for u in inspect(engine).get_unique_constraints(
                "training_result")}
            assert "uq_training_result_session_id_attendee" in uniques
            with unit_of_work(engine) as session:
                actor = org_service.actor_for(org_service.get_user(session, username="admin"))
                for _ in range(2):
                    training.store(session, actor=actor, row=training.parse(ROW))
            with unit_of_work(engine) as session:
                assert session.scalar(select(func.count()).select_from(TrainingSession)) == 1
                assert session.scalar(select(func.count()).select_from(TrainingResult)) == 1
        finally:
            engine.dispose()

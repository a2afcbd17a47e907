"""Migration 0027 (quality inspection stored, the review queue) down and up again, on every
database; a call imported with its transcript after the upgrade is inspected and queued."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from bankvoc.contact import interactions
from bankvoc.contact.models import QaResult, QaReviewEvent
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from tests.test_schema_0023 import _migrate

TABLES = {"interaction_transcript", "qa_result", "qa_hit", "qa_review_event"}
TURNS = [{"speaker": "agent", "start_ms": 0, "end_ms": 4000, "text": "您好，这个我不知道。"},
         {"speaker": "customer", "start_ms": 5000, "end_ms": 7000, "text": "好吧。"}]


def _before() -> str:
    """The revision 0027 follows (0026, outlet inspections)."""
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("0027")
    assert before is not None
    assert isinstance(before.down_revision, str)
    return before.down_revision


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class TestMigration0027:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            assert _before() == "0026"
            _migrate(engine, _before(), down=True)
            assert not _tables(engine) & TABLES
            assert "interaction" in _tables(engine)
            _migrate(engine, "head")
            assert _tables(engine) >= TABLES
            indexes = {i["name"] for i in inspect(engine).get_indexes("qa_result")}
            assert "ix_qa_result_status_inspected_at" in indexes
            row = {"id": "C1", "org": "HQ", "started_at": "2026-10-01T02:00:00Z",
                   "turns": TURNS}
            for expected in ("accepted", "unchanged"):
                with unit_of_work(engine) as session:
                    actor = org_service.actor_for(
                        org_service.get_user(session, username="admin"))
                    data = interactions.parse(row, source_system="asr")
                    assert interactions.store(session, actor=actor, data=data) == expected
            with unit_of_work(engine) as session:
                result = session.scalars(select(QaResult)).one()
                assert result.status == "pending"
                assert len(session.scalars(select(QaReviewEvent)).all()) == 1
        finally:
            engine.dispose()

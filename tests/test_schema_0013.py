"""Migration 0013 (customer e-mail identity; channel messages without a case) down and up
again, on every database, with rows in the tables it changes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.intake.channels.email import register_email
from bankvoc.intake.channels.service import channel_actor
from tests.intake.channels.conftest import utf8_mail


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class TestMigration0013:
    def test_down_and_up_again_keeps_the_cases_messages(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                actor = channel_actor(session)
                register_email(session, actor=actor, raw=utf8_mail(message_id="<case@x>"))
                register_email(session, actor=actor, raw=utf8_mail(
                    message_id="<oof@x>", headers={"Auto-Submitted": "auto-replied"}))
            _migrate(engine, "0012", down=True)
            columns = {c["name"]: c for c in inspect(engine).get_columns("channel_message")}
            assert "status" not in columns
            assert not columns["case_id"]["nullable"]
            assert "email_bidx" not in {c["name"] for c in inspect(engine).get_columns(
                "customer")}
            with engine.connect() as connection:
                # The ignored mail had no case: the older table cannot hold it.
                assert connection.execute(text(
                    "SELECT source_id FROM channel_message")).scalars().all() == ["case@x"]
            _migrate(engine, "head")
            with engine.connect() as connection:
                assert connection.execute(text(
                    "SELECT status FROM channel_message")).scalars().all() == ["case"]
            assert migrate.current_revision(engine) == migrate.head_revision()
        finally:
            engine.dispose()

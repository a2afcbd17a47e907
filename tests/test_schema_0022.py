"""Migration 0022 (the directory's change log) down and up again, on every database, with a
change recorded."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, select

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import admin
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import DirectoryChange


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class TestMigration0022:
    def test_down_and_up_again_keeps_the_directory(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                root = org_service.get_org_by_code(session, code="HQ")
                admin.create_user(session, actor=None, username="ops", display_name="ops",
                                  org_id=root.id, roles=["auditor"])
            assert "directory_change" in inspect(engine).get_table_names()
            _migrate(engine, "0021", down=True)
            assert "directory_change" not in inspect(engine).get_table_names()
            _migrate(engine, "head")
            indexes = {i["name"] for i in inspect(engine).get_indexes("directory_change")}
            assert indexes == {"ix_directory_change_at", "ix_directory_change_org_id",
                               "ix_directory_change_entity"}
            with unit_of_work(engine) as session:
                assert org_service.get_user(session, username="ops").roles == ["auditor"]
                assert session.scalars(select(DirectoryChange)).all() == []
                admin.create_user(session, actor=None, username="ops2", display_name="ops",
                                  org_id=org_service.get_org_by_code(session, code="HQ").id,
                                  roles=["auditor"])
                assert len(session.scalars(select(DirectoryChange)).all()) == 1
        finally:
            engine.dispose()

"""Migration 0023 (versioned configuration) down and up again, on every database; and a unit of
work on a database without its tables (not migrated yet) still runs, with the files in force."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from bankvoc.config import service
from bankvoc.core import configstore, migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service

TABLES = {"config_version", "config_activation"}


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class TestMigration0023:
    def test_down_and_up_again(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        configstore.reset()
        try:
            _migrate(engine, "0022", down=True)
            assert not set(inspect(engine).get_table_names()) & TABLES
            with unit_of_work(engine) as session:  # the versions in force: none, no error
                assert configstore.refresh(session, max_age=0) == configstore.EMPTY
                assert org_service.get_user(session, username="admin")
            _migrate(engine, "head")
            assert set(inspect(engine).get_table_names()) >= TABLES
            indexes = {i["name"]: i for i in inspect(engine).get_indexes("config_version")}
            assert indexes["ix_config_version_active_kind"]["unique"]
            with unit_of_work(engine) as session:
                actor = org_service.actor_for(org_service.get_user(session, username="admin"))
                text = service.get_version(session, actor=actor, kind="workflow",
                                           version=0).content
                row = service.save_version(session, actor=actor, kind="workflow",
                                           content=text.replace("handler: 5000",
                                                                "handler: 6000"), note="n")
                service.activate(session, actor=actor, kind="workflow", version=row.version)
            with unit_of_work(engine) as session:
                assert configstore.current().refs() == {"workflow": 1}
        finally:
            engine.dispose()
            configstore.reset()

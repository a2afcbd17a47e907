"""Migration 0019 (accounts) down and up again, on every database, with a user who has a
password and a session."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service

PASSWORD = "Migration-pass-2026"


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class TestMigration0019:
    def test_down_and_up_again_keeps_the_users(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                auth.set_password(session, user=admin, password=PASSWORD, initial=True)
                auth.log_in(session, username="admin", password=PASSWORD, client_ip="10.0.0.1")
                token = org_service.issue_token(session, user=admin)
            _migrate(engine, "0018", down=True)
            tables = set(inspect(engine).get_table_names())
            assert not tables & {"user_session", "login_failure", "account_lock", "auth_event"}
            columns = {c["name"] for c in inspect(engine).get_columns("app_user")}
            assert not columns & {"password_hash", "must_change_password",
                                  "password_changed_at"}
            _migrate(engine, "head")
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                assert admin.password_hash is None
                assert not admin.must_change_password
                assert org_service.authenticate(session, token=token).username == "admin"
        finally:
            engine.dispose()

"""Migration 0020 (scoped tokens, TOTP, pii_access) down and up again, on every database: a
token made before keeps working, with all of its user's permissions and no expiry."""

from __future__ import annotations

from sqlalchemy import inspect

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.orgs import totp
from tests.test_schema_0019 import _migrate


class TestMigration0020:
    def test_down_and_up_again_keeps_the_tokens(self, fresh_db_url: str) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                token = org_service.create_token(session, user=admin, scopes=["case.read"],
                                                 days=5).token
                totp.begin(session, user=admin)
            _migrate(engine, "0019", down=True)
            assert "pii_access" not in set(inspect(engine).get_table_names())
            columns = {c["name"] for c in inspect(engine).get_columns("api_token")}
            assert not columns & {"scopes", "expires_at", "last_used_at"}
            user_columns = {c["name"] for c in inspect(engine).get_columns("app_user")}
            assert not user_columns & {"totp_secret_enc", "totp_confirmed_at", "totp_last_step"}
            _migrate(engine, "head")
            with unit_of_work(engine) as session:
                actor = org_service.authenticate(session, token=token)
                assert actor.scopes is None
                admin = org_service.get_user(session, username="admin")
                assert admin.totp_secret_enc is None
        finally:
            engine.dispose()

"""`bankvoc tokens create|list|revoke` and `bankvoc users totp-reset`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.orgs import totp
from bankvoc.orgs.service import TokenRevoked

runner = CliRunner()


def last_json(output: str) -> Any:
    return json.loads(output.strip().splitlines()[-1])


def create(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["tokens", "create", "--user", "admin", "--label", "crm",
                                 *args, "--json"])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = last_json(result.stdout)
    return found


class TestTokensCreate:
    def test_prints_the_token_once_read_only_by_default(self, database: str) -> None:
        made = create()
        assert made["token"].startswith("bv_")
        assert made["scopes"] == list(org_service.DEFAULT_SCOPES)  # admin may read them all
        assert "case.read" in made["scopes"]
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                actor = org_service.authenticate(session, token=made["token"])
                assert not actor.can("case.create")
        finally:
            engine.dispose()

    def test_scopes_and_days_as_asked(self, database: str) -> None:
        made = create("--scope", "case.create", "--scope", "case.read", "--days", "7")
        assert made["scopes"] == ["case.create", "case.read"]
        assert made["expires_at"] is not None

    def test_all_is_every_permission_of_the_user(self, database: str) -> None:
        assert create("--scope", "all")["scopes"] == "all"

    def test_an_unknown_scope_fails_naming_the_field(self, database: str) -> None:
        result = runner.invoke(app, ["tokens", "create", "--user", "admin", "--label", "x",
                                     "--scope", "case.eat"])
        assert result.exit_code == 2
        assert "unknown scope 'case.eat'" in result.output
        assert "(scope)" in result.output


class TestTokensList:
    def test_lists_without_the_token(self, database: str) -> None:
        made = create()
        result = runner.invoke(app, ["tokens", "list", "--user", "admin", "--json"])
        assert result.exit_code == 0, result.output
        assert made["token"] not in result.stdout
        listed = last_json(result.stdout)["tokens"]
        assert listed[0]["id"] == made["id"]
        assert "token" not in listed[0]


class TestTokensRevoke:
    def test_revokes_and_the_token_stops_working(self, database: str) -> None:
        made = create()
        result = runner.invoke(app, ["tokens", "revoke", str(made["id"]), "--json"])
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout)["was_live"] is True
        again = runner.invoke(app, ["tokens", "revoke", str(made["id"]), "--json"])
        assert last_json(again.stdout)["was_live"] is False
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session, pytest.raises(TokenRevoked):
                org_service.authenticate(session, token=made["token"])
        finally:
            engine.dispose()

    def test_an_unknown_id_fails(self, database: str) -> None:
        result = runner.invoke(app, ["tokens", "revoke", "999999"])
        assert result.exit_code == 2
        assert "no API token 999999" in result.output


class TestUsersTotpReset:
    def test_clears_the_second_factor(self, database: str) -> None:
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                admin = org_service.get_user(session, username="admin")
                totp.begin(session, user=admin)
            result = runner.invoke(app, ["users", "totp-reset", "admin", "--json"])
            assert result.exit_code == 0, result.output
            assert last_json(result.stdout) == {"user": "admin", "was_enrolled": True}
            with unit_of_work(engine) as session:
                assert org_service.get_user(session, username="admin").totp_secret_enc is None
        finally:
            engine.dispose()

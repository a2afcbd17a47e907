"""`bankvoc users password` and `bankvoc users unlock`."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.errors import AccountLocked, LoginFailed
from bankvoc.orgs.models import DirectoryChange

runner = CliRunner()
PASSWORD = "Initial-pass-2026"


def stored(database: str) -> tuple[str | None, bool]:
    engine = build_engine(database)
    try:
        with unit_of_work(engine) as session:
            user = org_service.get_user(session, username="admin")
            return user.password_hash, user.must_change_password
    finally:
        engine.dispose()


class TestUsersPassword:
    def test_sets_a_password_read_from_stdin_without_echo(self, database: str) -> None:
        result = runner.invoke(app, ["users", "password", "admin", "--json"],
                               input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {
            "user": "admin", "must_change_password": False}
        digest, must_change = stored(database)
        assert auth.verify_password(digest, PASSWORD)
        assert not must_change

    def test_an_initial_password_must_be_changed_at_first_log_in(self, database: str) -> None:
        result = runner.invoke(app, ["users", "password", "admin", "--initial"],
                               input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        assert "changed at first log-in" in result.stdout
        assert stored(database)[1]

    def test_a_weak_password_is_refused_naming_the_rule(self, database: str) -> None:
        result = runner.invoke(app, ["users", "password", "admin"], input="short\n")
        assert result.exit_code == 2
        assert "at least 10 characters" in result.stderr
        assert "short" not in result.stderr.replace("at least", "")
        assert stored(database)[0] is None

    def test_an_unknown_user_is_a_clear_error(self, database: str) -> None:
        result = runner.invoke(app, ["users", "password", "nobody"], input=PASSWORD + "\n")
        assert result.exit_code != 0
        assert "no user 'nobody'" in result.stderr
        assert "Traceback" not in result.output


class TestUsersPasswordAudit:
    def test_every_password_set_is_recorded_in_the_directory_trail(self,
                                                                   database: str) -> None:
        first = runner.invoke(app, ["users", "password", "admin", "--initial"],
                              input=PASSWORD + "\n")
        assert first.exit_code == 0, first.output
        second = runner.invoke(app, ["users", "password", "admin"], input=PASSWORD + "\n")
        assert second.exit_code == 0, second.output
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                rows = session.scalars(select(DirectoryChange)
                                       .order_by(DirectoryChange.id)).all()
                assert [(r.actor_username, r.actor_user_id, r.entity, r.action)
                        for r in rows] == [("cli", None, "user", "password_reset")] * 2
                assert [(r.before, r.after) for r in rows] == [
                    ({"initial_password": False}, {"initial_password": True}),
                    ({"initial_password": True}, {"initial_password": False})]
                assert PASSWORD not in json.dumps([[r.before, r.after] for r in rows])
        finally:
            engine.dispose()

    def test_a_refused_password_records_nothing(self, database: str) -> None:
        result = runner.invoke(app, ["users", "password", "admin"], input="short\n")
        assert result.exit_code != 0
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                assert session.scalars(select(DirectoryChange)).all() == []
        finally:
            engine.dispose()


class TestUsersUnlock:
    def test_lifts_a_lock_out(self, database: str) -> None:
        runner.invoke(app, ["users", "password", "admin"], input=PASSWORD + "\n")
        engine = build_engine(database)
        now = datetime.now(UTC)
        try:
            for attempt in range(5):
                with (unit_of_work(engine) as session,
                      contextlib.suppress(LoginFailed, AccountLocked)):
                    auth.log_in(session, username="admin", password="Wrong-pass-2026",
                                client_ip="10.0.0.1", now=now + timedelta(seconds=attempt))
            with unit_of_work(engine) as session:
                assert auth.lock_state(session, username="admin") is not None
            result = runner.invoke(app, ["users", "unlock", "admin", "--json"])
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout.strip().splitlines()[-1]) == {
                "user": "admin", "was_locked": True}
            with unit_of_work(engine) as session:
                assert auth.lock_state(session, username="admin") is None
                auth.log_in(session, username="admin", password=PASSWORD, client_ip=None)
            again = runner.invoke(app, ["users", "unlock", "admin"])
            assert "admin was not locked" in again.stdout
            with unit_of_work(engine) as session:
                # The lift recorded (by `cli`), the second call (nothing locked) not.
                rows = session.scalars(select(DirectoryChange).where(
                    DirectoryChange.action == "unlock")).all()
                assert [(r.actor_username, r.actor_user_id, r.entity, r.before, r.after)
                        for r in rows] == [("cli", None, "user", {"locked": True},
                                            {"locked": False})]
        finally:
            engine.dispose()


class TestUsersCreate:
    def test_writes_the_same_audit_record_as_the_admin_screens(self, database: str) -> None:
        result = runner.invoke(app, ["users", "create", "--org", "HQ", "--role", "analyst",
                                     "--name", "zhao.lei", "--json"])
        assert result.exit_code == 0, result.output
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                [row] = session.scalars(select(DirectoryChange)).all()
                assert (row.actor_username, row.actor_user_id) == ("cli", None)
                assert (row.entity, row.action) == ("user", "create")
                assert row.after is not None
                assert (row.after["username"], row.after["roles"]) == ("zhao.lei", ["analyst"])
        finally:
            engine.dispose()

    def test_a_taken_name_is_refused_in_any_case(self, database: str) -> None:
        result = runner.invoke(app, ["users", "create", "--org", "HQ", "--role", "analyst",
                                     "--name", "ADMIN"])
        assert result.exit_code == 2
        assert "user name is taken (username)" in result.stderr

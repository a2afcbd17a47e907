"""The housekeeping of accounts (`auth.cleanup`, job `orgs.auth_cleanup`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.jobs.registry import discover
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import AccountLock, AuthEvent, LoginFailure, UserSession
from tests.conftest import World

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def fill(world: World) -> None:
    """One row to keep and one to delete of each kind."""
    user = org_service.get_user(world.session, username="bj_handler")
    session = world.session
    auth.audit(session, "login", username="old", now=NOW - timedelta(days=401))
    auth.audit(session, "login", username="recent", now=NOW - timedelta(days=399))
    _token, live = auth.open_session(session, user=user, now=NOW - timedelta(minutes=5))
    _token, ended = auth.open_session(session, user=user, now=NOW - timedelta(days=2))
    del live, ended
    session.add_all([
        LoginFailure(username="x", client_ip="10.0.0.1", at=NOW - timedelta(hours=1)),
        LoginFailure(username="x", client_ip="10.0.0.1", at=NOW - timedelta(minutes=1)),
        AccountLock(username="lapsed", locked_until=NOW - timedelta(hours=1),
                    counted_from=NOW - timedelta(hours=1)),
        AccountLock(username="locked", locked_until=NOW + timedelta(minutes=5),
                    counted_from=NOW + timedelta(minutes=5)),
        AccountLock(username="counting", locked_until=None,
                    counted_from=NOW - timedelta(minutes=1)),
    ])
    session.flush()


def counts(world: World) -> dict[str, int]:
    session = world.session
    return {model.__tablename__: int(session.scalar(select(func.count()).select_from(model))
                                     or 0)
            for model in (AuthEvent, UserSession, LoginFailure, AccountLock)}


class TestCleanup:
    def test_deletes_only_what_no_longer_serves(self, world: World) -> None:
        fill(world)
        before = counts(world)
        assert auth.cleanup(world.session, now=NOW) == {
            "auth_events": 1, "sessions": 1, "login_failures": 1, "account_locks": 1}
        after = counts(world)
        assert {k: before[k] - after[k] for k in before} == {
            "auth_event": 1, "user_session": 1, "login_failure": 1, "account_lock": 1}
        kept = world.session.scalars(select(AccountLock.username)).all()
        assert set(kept) == {"locked", "counting"}
        assert world.session.scalar(select(AuthEvent.id).where(
            AuthEvent.username == "recent")) is not None

    def test_is_idempotent(self, world: World) -> None:
        fill(world)
        auth.cleanup(world.session, now=NOW)
        assert set(auth.cleanup(world.session, now=NOW).values()) == {0}

    def test_the_kept_days_are_a_setting(self, world: World,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        from bankvoc.core.settings import reset_settings

        fill(world)
        monkeypatch.setenv("BANKVOC_AUTH_EVENT_KEEP_DAYS", "30")
        reset_settings()
        assert auth.cleanup(world.session, now=NOW)["auth_events"] >= 2


class TestAuthCleanupJob:
    def test_is_registered_and_runs_in_its_own_unit_of_work(self, database: str) -> None:
        job = discover().get("orgs.auth_cleanup")
        assert job.every == timedelta(hours=6)
        engine = build_engine(database)
        try:
            with unit_of_work(engine) as session:
                auth.audit(session, "login", username="old", now=NOW - timedelta(days=500))
            assert job(NOW)["auth_events"] == 1
            assert job(NOW)["auth_events"] == 0
        finally:
            engine.dispose()

"""Accounts: passwords, log-in with throttling and lock-out, sessions, CSRF tokens, the audit
trail (SQLite and PostgreSQL; the clock is passed in, nothing sleeps)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.errors import (
    AccountLocked,
    LoginFailed,
    PasswordRejected,
    SessionInvalid,
    TooManyAttempts,
)
from bankvoc.orgs.models import LoginFailure, User, UserSession
from tests.conftest import World

PASSWORD = "Kfc-2026-complaints"
NEW_PASSWORD = "Another-one-2026"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def with_password(session: Session, username: str, *, initial: bool = False) -> User:
    user = org_service.get_user(session, username=username)
    auth.set_password(session, user=user, password=PASSWORD, initial=initial, now=T0)
    session.flush()
    return user


def fail(session: Session, username: str = "bj_handler", *, at: datetime,
         ip: str = "10.0.0.1") -> BankvocError:
    with pytest.raises(BankvocError) as refused:
        auth.log_in(session, username=username, password="Wrong-password-1", client_ip=ip,
                    now=at)
    return refused.value


def kinds(session: Session, username: str) -> list[str]:
    return [e.kind for e in auth.events(session, username=username)]


class TestCheckPasswordPolicy:
    @pytest.mark.parametrize(("password", "reason"), [
        ("Short-1", "too_short"),
        ("abcdefghijkl", "one_class"),
        ("12345678901234", "one_class"),
        ("ABCDEFGHIJKL", "one_class"),
        ("Bj_Handler", "is_username"),
        ("x1" * 200, "too_long"),
    ])
    def test_refuses_with_a_reason_naming_the_field(self, password: str, reason: str) -> None:
        with pytest.raises(PasswordRejected) as refused:
            auth.check_password_policy(password, username="bj_handler")
        assert refused.value.reason == reason
        assert refused.value.field == "password"
        assert isinstance(refused.value, Invalid)
        assert refused.value.status == 422
        assert password not in refused.value.message

    @pytest.mark.parametrize("password", ["correct horse 1", "客户之声投诉管理abc", "Abcdefghij"])
    def test_accepts_a_long_mixed_password(self, password: str) -> None:
        auth.check_password_policy(password, username="bj_handler")

    def test_the_minimum_length_is_a_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_PASSWORD_MIN_LENGTH", "16")
        reset_settings()
        with pytest.raises(PasswordRejected) as refused:
            auth.check_password_policy("Fifteen-chars-1", username="x")
        assert refused.value.params == {"min": 16}


class TestHashPassword:
    def test_an_argon2id_hash_that_verifies_only_the_password(self) -> None:
        digest = auth.hash_password(PASSWORD)
        assert digest.startswith("$argon2id$")
        assert PASSWORD not in digest
        assert auth.verify_password(digest, PASSWORD)
        assert not auth.verify_password(digest, PASSWORD.lower())
        assert not auth.verify_password(None, PASSWORD)
        assert not auth.verify_password("not a hash", PASSWORD)

    def test_the_same_password_hashes_differently_each_time(self) -> None:
        assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)

    def test_production_parameters_are_argon2_cffi_defaults(self) -> None:
        # The tests run a cheap hasher (conftest); the module's own is RFC 9106's option 2.
        real = PasswordHasher()
        assert (real.time_cost, real.memory_cost, real.parallelism) == (3, 65536, 4)


class TestSetPassword:
    def test_an_initial_password_must_be_changed(self, world: World) -> None:
        user = with_password(world.session, "bj_handler", initial=True)
        assert user.must_change_password
        assert user.password_changed_at == T0
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2")
        assert kinds(world.session, "bj_handler") == ["token_created", "password_set"]

    def test_ends_every_session_of_the_user(self, world: World) -> None:
        user = with_password(world.session, "bj_handler")
        token, row = auth.open_session(world.session, user=user, now=T0)
        auth.set_password(world.session, user=user, password=NEW_PASSWORD, now=T0)
        world.session.flush()
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token, now=T0)
        assert row.revoked_at is not None

    def test_a_refused_password_changes_nothing(self, world: World) -> None:
        user = org_service.get_user(world.session, username="bj_handler")
        with pytest.raises(PasswordRejected):
            auth.set_password(world.session, user=user, password="short")
        assert user.password_hash is None


class TestLogIn:
    def test_opens_a_session_storing_only_the_tokens_hash(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        done = auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                           client_ip="10.0.0.1", now=T0)
        assert done.user.username == "bj_handler"
        assert done.token.startswith("bvs_")
        stored = world.session.get_one(UserSession, done.user_session.id)
        assert stored.token_hash == hashlib.sha256(done.token.encode()).hexdigest()
        assert stored.expires_at == T0 + timedelta(hours=12)
        assert kinds(world.session, "bj_handler")[-1] == "login"

    def test_a_wrong_password_is_refused_and_recorded(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        refused = fail(world.session, at=T0)
        assert isinstance(refused, LoginFailed)
        assert refused.status == 401
        assert world.session.scalar(select(func.count(LoginFailure.id))) == 1
        assert kinds(world.session, "bj_handler")[-1] == "login_failed"

    def test_an_unknown_user_gets_the_same_answer(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        unknown = fail(world.session, "nobody", at=T0)
        wrong = fail(world.session, at=T0)
        assert (type(unknown), unknown.message) == (type(wrong), wrong.message)

    def test_a_user_without_a_password_or_inactive_cannot_log_in(self, world: World) -> None:
        with pytest.raises(LoginFailed):
            auth.log_in(world.session, username="sh_handler", password=PASSWORD,
                        client_ip=None, now=T0)
        user = with_password(world.session, "bj_handler")
        user.active = False
        with pytest.raises(LoginFailed):
            auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                        client_ip=None, now=T0)

    def test_five_failures_lock_the_account_even_for_the_right_password(
            self, world: World) -> None:
        with_password(world.session, "bj_handler")
        for minute in range(4):
            assert isinstance(fail(world.session, at=T0 + timedelta(minutes=minute)),
                              LoginFailed)
        locked = fail(world.session, at=T0 + timedelta(minutes=4))
        assert isinstance(locked, AccountLocked)
        assert locked.status == 423
        with pytest.raises(AccountLocked):
            auth.log_in(world.session, username="BJ_Handler ", password=PASSWORD,
                        client_ip="10.9.9.9", now=T0 + timedelta(minutes=10))
        assert auth.lock_state(world.session, username="bj_handler",
                               now=T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=19)
        assert "account_locked" in kinds(world.session, "bj_handler")
        assert kinds(world.session, "bj_handler")[-1] == "login_refused"

    def test_the_lock_ends_after_the_lock_out_time(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        for minute in range(5):
            fail(world.session, at=T0 + timedelta(minutes=minute))
        with pytest.raises(AccountLocked):
            auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                        client_ip=None, now=T0 + timedelta(minutes=18, seconds=59))
        after = T0 + timedelta(minutes=19, seconds=1)
        done = auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                           client_ip=None, now=after)
        assert done.user.username == "bj_handler"
        # The failures before the lock count no more: one more wrong password is no lock.
        assert isinstance(fail(world.session, at=after + timedelta(minutes=1)), LoginFailed)

    def test_failures_older_than_the_window_do_not_count(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        for minute in (0, 1, 2, 3):
            fail(world.session, at=T0 + timedelta(minutes=minute))
        assert isinstance(fail(world.session, at=T0 + timedelta(minutes=16)), LoginFailed)

    def test_a_successful_log_in_starts_the_count_again(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        for minute in range(4):
            fail(world.session, at=T0 + timedelta(minutes=minute))
        auth.log_in(world.session, username="bj_handler", password=PASSWORD, client_ip=None,
                    now=T0 + timedelta(minutes=5))
        for minute in range(6, 10):
            assert isinstance(fail(world.session, at=T0 + timedelta(minutes=minute)),
                              LoginFailed)

    def test_the_limits_are_settings(self, world: World,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_LOGIN_MAX_FAILURES", "2")
        monkeypatch.setenv("BANKVOC_LOGIN_LOCKOUT_MINUTES", "60")
        reset_settings()
        with_password(world.session, "bj_handler")
        fail(world.session, at=T0)
        assert isinstance(fail(world.session, at=T0), AccountLocked)
        assert auth.lock_state(world.session, username="bj_handler",
                               now=T0) == T0 + timedelta(minutes=60)

    def test_too_many_failures_from_one_address_hold_it_back(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_LOGIN_IP_MAX_FAILURES", "3")
        reset_settings()
        with_password(world.session, "bj_handler")
        for name in ("a1", "a2", "a3"):
            fail(world.session, name, at=T0, ip="192.0.2.7")
        with pytest.raises(TooManyAttempts) as held:
            auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                        client_ip="192.0.2.7", now=T0 + timedelta(minutes=1))
        assert held.value.status == 429
        # Another address is not held back, and the address is free once the failures age.
        auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                    client_ip="192.0.2.8", now=T0 + timedelta(minutes=1))
        auth.log_in(world.session, username="bj_handler", password=PASSWORD,
                    client_ip="192.0.2.7", now=T0 + timedelta(minutes=16))

    def test_an_outdated_hash_is_upgraded(self, world: World) -> None:
        user = org_service.get_user(world.session, username="bj_handler")
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1,
                                            hash_len=16, salt_len=8).hash(PASSWORD)
        old = user.password_hash
        auth.log_in(world.session, username="bj_handler", password=PASSWORD, client_ip=None,
                    now=T0)
        assert user.password_hash != old
        assert auth.verify_password(user.password_hash, PASSWORD)


class TestSharedState:
    """Two API processes (two engines, each its own transactions) count together."""

    def test_failures_in_two_processes_lock_the_account_together(
            self, fresh_db_url: str) -> None:
        first, second = build_engine(fresh_db_url), build_engine(fresh_db_url)
        try:
            with unit_of_work(first) as session:
                root = org_service.get_org_by_code(session, code="HQ")
                user = org_service.create_user(session, username="shared", display_name="s",
                                               org=root, roles=["handler"])
                auth.set_password(session, user=user, password=PASSWORD, now=T0)
            answers = []
            for attempt in range(5):
                engine = first if attempt % 2 == 0 else second
                with unit_of_work(engine) as session:
                    answers.append(type(fail(session, "shared",
                                             at=T0 + timedelta(seconds=attempt))))
            assert answers == [LoginFailed] * 4 + [AccountLocked]
            with unit_of_work(second) as session, pytest.raises(AccountLocked):
                auth.log_in(session, username="shared", password=PASSWORD, client_ip=None,
                            now=T0 + timedelta(minutes=1))
            with unit_of_work(first) as session:
                assert auth.unlock(session, username="shared", now=T0 + timedelta(minutes=2))
            with unit_of_work(second) as session:
                auth.log_in(session, username="shared", password=PASSWORD, client_ip=None,
                            now=T0 + timedelta(minutes=3))
        finally:
            first.dispose()
            second.dispose()

    def test_a_session_opened_in_one_process_is_known_to_another(
            self, fresh_db_url: str) -> None:
        first, second = build_engine(fresh_db_url), build_engine(fresh_db_url)
        try:
            with unit_of_work(first) as session:
                user = org_service.get_user(session, username="admin")
                auth.set_password(session, user=user, password=PASSWORD, now=T0)
                token = auth.log_in(session, username="admin", password=PASSWORD,
                                    client_ip=None, now=T0).token
            with unit_of_work(second) as session:
                found = auth.resolve_session(session, token=token, now=T0)
                auth.log_out(session, user_session=found, now=T0)
            with unit_of_work(first) as session, pytest.raises(SessionInvalid):
                auth.resolve_session(session, token=token, now=T0)
        finally:
            first.dispose()
            second.dispose()


class TestUnlock:
    def test_lifts_the_lock_and_forgets_the_failures(self, world: World) -> None:
        with_password(world.session, "bj_handler")
        for minute in range(5):
            fail(world.session, at=T0 + timedelta(minutes=minute))
        assert auth.unlock(world.session, username="bj_handler",
                           now=T0 + timedelta(minutes=6), by="admin")
        auth.log_in(world.session, username="bj_handler", password=PASSWORD, client_ip=None,
                    now=T0 + timedelta(minutes=7))
        assert "account_unlocked" in kinds(world.session, "bj_handler")

    def test_a_name_not_locked_says_so(self, world: World) -> None:
        assert not auth.unlock(world.session, username="bj_handler", now=T0)


class TestResolveSession:
    def open(self, world: World) -> str:
        user = with_password(world.session, "bj_handler")
        token, _ = auth.open_session(world.session, user=user, now=T0)
        return token

    def test_a_live_session_notes_its_last_request(self, world: World) -> None:
        token = self.open(world)
        found = auth.resolve_session(world.session, token=token, now=T0 + timedelta(minutes=5))
        assert found.last_seen_at == T0 + timedelta(minutes=5)
        assert found.user.username == "bj_handler"

    def test_ends_after_the_idle_time(self, world: World) -> None:
        token = self.open(world)
        auth.resolve_session(world.session, token=token, now=T0 + timedelta(minutes=29))
        auth.resolve_session(world.session, token=token, now=T0 + timedelta(minutes=58))
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token, now=T0 + timedelta(minutes=88))

    def test_ends_after_its_lifetime_however_busy(self, world: World) -> None:
        token = self.open(world)
        at = T0
        while at + timedelta(minutes=20) < T0 + timedelta(hours=12):
            at += timedelta(minutes=20)
            auth.resolve_session(world.session, token=token, now=at)
        assert at == T0 + timedelta(hours=11, minutes=40)
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token, now=T0 + timedelta(hours=12))

    def test_an_unknown_token_or_inactive_user_is_refused(self, world: World) -> None:
        token = self.open(world)
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token + "x", now=T0)
        org_service.get_user(world.session, username="bj_handler").active = False
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token, now=T0)


class TestLogOut:
    def test_revokes_the_session(self, world: World) -> None:
        user = with_password(world.session, "bj_handler")
        token, row = auth.open_session(world.session, user=user, now=T0)
        auth.log_out(world.session, user_session=row, client_ip="10.0.0.1", now=T0)
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=token, now=T0)
        assert kinds(world.session, "bj_handler")[-1] == "logout"


class TestChangePassword:
    def test_clears_the_forced_change_and_ends_the_other_sessions(self, world: World) -> None:
        user = with_password(world.session, "bj_handler", initial=True)
        here, here_row = auth.open_session(world.session, user=user, now=T0)
        there, _ = auth.open_session(world.session, user=user, now=T0)
        auth.change_password(world.session, user=user, current=PASSWORD, new=NEW_PASSWORD,
                             keep_session_id=here_row.id, now=T0 + timedelta(minutes=1))
        world.session.flush()
        assert not user.must_change_password
        assert user.password_changed_at == T0 + timedelta(minutes=1)
        assert auth.resolve_session(world.session, token=here, now=T0).id == here_row.id
        with pytest.raises(SessionInvalid):
            auth.resolve_session(world.session, token=there, now=T0)
        assert auth.verify_password(user.password_hash, NEW_PASSWORD)
        assert kinds(world.session, "bj_handler")[-1] == "password_changed"

    def test_the_current_password_must_be_right(self, world: World) -> None:
        user = with_password(world.session, "bj_handler")
        with pytest.raises(PasswordRejected) as refused:
            auth.change_password(world.session, user=user, current="Wrong-password-1",
                                 new=NEW_PASSWORD)
        assert (refused.value.field, refused.value.reason) == ("current_password",
                                                               "current_wrong")

    @pytest.mark.parametrize(("new", "reason"), [(PASSWORD, "unchanged"),
                                                 ("short", "too_short")])
    def test_the_new_password_must_pass_the_policy_and_differ(
            self, world: World, new: str, reason: str) -> None:
        user = with_password(world.session, "bj_handler")
        with pytest.raises(PasswordRejected) as refused:
            auth.change_password(world.session, user=user, current=PASSWORD, new=new)
        assert (refused.value.field, refused.value.reason) == ("new_password", reason)


class TestCsrfToken:
    def test_bound_to_the_session_and_compared_in_constant_time(self, world: World) -> None:
        user = with_password(world.session, "bj_handler")
        _, one = auth.open_session(world.session, user=user, now=T0)
        _, two = auth.open_session(world.session, user=user, now=T0)
        token = auth.session_csrf(one)
        assert token == auth.session_csrf(one)
        assert token != auth.session_csrf(two)
        assert auth.csrf_matches(token, token)
        assert not auth.csrf_matches(token, "")
        assert not auth.csrf_matches(token, auth.session_csrf(two))

    def test_depends_on_the_secret_key(self) -> None:
        assert auth.csrf_token("session:x", secret_key="a" * 32) != auth.csrf_token(
            "session:x", secret_key="b" * 32)


class TestSetMissingPasswords:
    def test_one_hash_for_the_users_without_a_password(self, world: World) -> None:
        kept = with_password(world.session, "bj_handler")
        before = kept.password_hash
        users = [org_service.get_user(world.session, username=name)
                 for name in ("bj_handler", "sh_handler", "hq_analyst")]
        assert auth.set_missing_passwords(world.session, users=users, password=NEW_PASSWORD,
                                          by="demo") == 2
        assert kept.password_hash == before
        assert not users[1].must_change_password
        assert auth.verify_password(users[2].password_hash, NEW_PASSWORD)

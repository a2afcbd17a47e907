"""Accounts: passwords (Argon2), log-in with throttling and lock-out, server-side sessions, the
CSRF token bound to a session, and the audit trail of it all.

Everything that several API processes must agree on lives in the database: failed log-ins
(`login_failure`), lock-outs (`account_lock`), sessions (`user_session`, only the SHA-256 of a
session's token is stored). Functions take the session first, flush and never commit: the
caller owns the transaction, and a refused log-in is still recorded as long as the caller
commits (the log-in page answers a refusal with a page, it does not raise).

Practice followed: OWASP Authentication, Session Management and CSRF Prevention cheat sheets
(Argon2id, generic failure messages, lock-out per account plus throttling per client, sessions
with idle and absolute time-outs, renewed at log-in, revoked at log-out and password change,
tokens compared in constant time); NIST SP 800-63B §5.1.1 (length over composition rules, no
password equal to the account name).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bankvoc.core.db import insert_skipping_taken
from bankvoc.core.settings import Settings, get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.orgs.errors import (
    AccountLocked,
    LoginFailed,
    PasswordRejected,
    SessionInvalid,
    TooManyAttempts,
)
from bankvoc.orgs.models import AccountLock, AuthEvent, LoginFailure, User, UserSession

# Argon2id with argon2-cffi's defaults (RFC 9106's second recommended option: 64 MiB, t=3,
# p=4). Tests swap in a cheaper hasher; a stored hash made with other parameters is upgraded
# at the next successful log-in.
HASHER = PasswordHasher()
# Beyond this a password is refused rather than hashed (a long input must not cost more).
PASSWORD_MAX_LENGTH = 256
SESSION_TOKEN_PREFIX = "bvs_"
# A session's last request is written down at most this often (a write per page would be a
# write per page).
TOUCH_EVERY = timedelta(seconds=60)
# Before anything was counted.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CLIENT_IP_MAX = 45


class Event:
    """What `auth_event.kind` says."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_REFUSED = "login_refused"  # locked account or throttled address: not even checked
    LOCKED = "account_locked"
    UNLOCKED = "account_unlocked"
    LOGOUT = "logout"
    PASSWORD_SET = "password_set"
    PASSWORD_CHANGED = "password_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    TOTP_ENROLLED = "totp_enrolled"
    TOTP_FAILED = "totp_failed"
    TOTP_RESET = "totp_reset"


# --- passwords -------------------------------------------------------------------------------

def _classes(password: str) -> int:
    kinds = set()
    for char in password:
        kinds.add("lower" if char.islower() else "upper" if char.isupper()
                  else "digit" if char.isdigit() else "other")
    return len(kinds)


def check_password_policy(password: str, *, username: str, field: str = "password",
                          settings: Settings | None = None) -> None:
    """Refuse a password that is too short or too long, all of one kind of character (only
    lower-case letters, only digits, …), or the user name itself."""
    minimum = (settings or get_settings()).password_min_length
    if len(password) < minimum:
        raise PasswordRejected(f"a password needs at least {minimum} characters",
                               reason="too_short", field=field, min=minimum)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {PASSWORD_MAX_LENGTH} characters",
                               reason="too_long", field=field, max=PASSWORD_MAX_LENGTH)
    if _classes(password) < 2:
        raise PasswordRejected(
            "a password mixes at least two kinds of characters (lower-case, upper-case, "
            "digits, others)", reason="one_class", field=field)
    if password.strip().casefold() == username.strip().casefold():
        raise PasswordRejected("a password may not be the user name", reason="is_username",
                               field=field)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash; a missing hash costs the same time."""
    if len(password) > PASSWORD_MAX_LENGTH:
        return False
    try:
        return HASHER.verify(stored or _dummy_hash(HASHER), password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def set_password(session: Session, *, user: User, password: str, initial: bool = False,
                 now: datetime | None = None, by: str = "") -> None:
    """An administrator (or the command line) sets `user`'s password; with `initial` the user
    must change it at the next log-in. Every session of the user ends."""
    check_password_policy(password, username=user.username)
    now = now or utcnow()
    user.password_hash = hash_password(password)
    user.must_change_password = initial
    user.password_changed_at = now
    revoke_sessions(session, user_id=user.id, now=now)
    audit(session, Event.PASSWORD_SET, username=user.username, user_id=user.id, now=now,
          detail=("initial" if initial else "") + (f" by {by}" if by else ""))


def set_missing_passwords(session: Session, *, users: list[User], password: str, by: str,
                          now: datetime | None = None) -> int:
    """Give the users without a password this one (the demo's known password: hashed once for
    all of them, not to be changed at log-in); users with a password keep theirs. Returns how
    many were given it."""
    missing = [user for user in users if user.password_hash is None]
    if not missing:
        return 0
    now = now or utcnow()
    digest = hash_password(password)
    for user in missing:
        user.password_hash = digest
        user.must_change_password = False
        user.password_changed_at = now
        audit(session, Event.PASSWORD_SET, username=user.username, user_id=user.id, now=now,
              detail=f"by {by}")
    return len(missing)


def change_password(session: Session, *, user: User, current: str, new: str,
                    keep_session_id: int | None = None, client_ip: str | None = None,
                    now: datetime | None = None) -> None:
    """The user changes their own password: the current one first, then a new one the policy
    accepts and that differs from it. The forced change is done, and every other session of
    the user ends (the one they changed it from stays)."""
    if not verify_password(user.password_hash, current):
        raise PasswordRejected("the current password is not right", reason="current_wrong",
                               field="current_password")
    check_password_policy(new, username=user.username, field="new_password")
    if new == current:
        raise PasswordRejected("the new password must differ from the current one",
                               reason="unchanged", field="new_password")
    now = now or utcnow()
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    revoke_sessions(session, user_id=user.id, keep=keep_session_id, now=now)
    audit(session, Event.PASSWORD_CHANGED, username=user.username, user_id=user.id,
          client_ip=client_ip, now=now)


# --- log-in, throttling and lock-out ---------------------------------------------------------

def lock_key(username: str) -> str:
    """Failures count per user name however it was typed (case, spaces)."""
    return username.strip().casefold()[:64]


def _ip(client_ip: str | None) -> str:
    return (client_ip or "unknown")[:CLIENT_IP_MAX]


@dataclass(frozen=True)
class LoggedIn:
    """A successful log-in: the new session's token (for the cookie, shown once) and row."""

    token: str
    user_session: UserSession
    user: User


def log_in(session: Session, *, username: str, password: str, client_ip: str | None,
           now: datetime | None = None) -> LoggedIn:
    """Check a user name and password and open a session (`check_password` then
    `complete_log_in`; the pages ask a second factor in between when the user has one)."""
    now = now or utcnow()
    user = check_password(session, username=username, password=password, client_ip=client_ip,
                          now=now)
    return complete_log_in(session, user=user, client_ip=client_ip, now=now)


def check_password(session: Session, *, username: str, password: str, client_ip: str | None,
                   now: datetime | None = None) -> User:
    """The first step of a log-in: the user whose name and password these are.

    Refused without checking while the client address has too many recent failures
    (`TooManyAttempts`) or the user name is locked (`AccountLocked`); a wrong password is
    `LoginFailed` (the same for an unknown user), and the failure that reaches the limit locks
    the user name (`AccountLocked`). Refusals are recorded: the caller must commit them.
    Nothing is reset yet: the failures count on until `complete_log_in`.
    """
    settings = get_settings()
    now = now or utcnow()
    key, ip = lock_key(username), _ip(client_ip)
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    check_not_held(session, username=username, client_ip=client_ip, now=now)
    user = session.scalar(select(User).where(User.username == username.strip()))
    good = verify_password(user.password_hash if user else None, password)
    if user is None or not good or not user.active or user.password_hash is None:
        _failed(session, key=key, ip=ip, user=user, now=now, window_start=window_start,
                settings=settings)
        raise LoginFailed("wrong user name or password", field="password")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_not_held(session: Session, *, username: str, client_ip: str | None,
                   now: datetime) -> None:
    """Refuse (and record) a log-in step from a throttled address or for a locked name."""
    settings = get_settings()
    key, ip = lock_key(username), _ip(client_ip)
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    ip_failures = session.scalar(
        select(func.count(LoginFailure.id)).where(LoginFailure.client_ip == ip,
                                                  LoginFailure.at > window_start)) or 0
    if ip_failures >= settings.login_ip_max_failures:
        audit(session, Event.LOGIN_REFUSED, username=key, client_ip=ip, now=now,
              detail="address throttled")
        raise TooManyAttempts("too many failed log-ins from this address: try again later",
                              field="username")
    lock = session.get(AccountLock, key, populate_existing=True)
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        audit(session, Event.LOGIN_REFUSED, username=key, client_ip=ip, now=now,
              detail="account locked")
        raise AccountLocked("this account is locked after too many failed log-ins: try again "
                            "later or ask an administrator", field="username")


def complete_log_in(session: Session, *, user: User, client_ip: str | None,
                    now: datetime | None = None) -> LoggedIn:
    """Every step passed: the failures so far are forgotten and a session opens."""
    now = now or utcnow()
    lock = session.get(AccountLock, lock_key(user.username), populate_existing=True)
    if lock is not None:
        lock.counted_from = now
    token, row = open_session(session, user=user, now=now)
    audit(session, Event.LOGIN, username=user.username, user_id=user.id, client_ip=_ip(client_ip),
          now=now)
    return LoggedIn(token=token, user_session=row, user=user)


def second_factor_failed(session: Session, *, user: User, client_ip: str | None,
                         now: datetime | None = None) -> None:
    """A wrong second-factor code: counted like a wrong password (`AccountLocked` when it
    reaches the limit), recorded as `totp_failed`."""
    settings = get_settings()
    now = now or utcnow()
    audit(session, Event.TOTP_FAILED, username=user.username, user_id=user.id,
          client_ip=_ip(client_ip), now=now)
    _failed(session, key=lock_key(user.username), ip=_ip(client_ip), user=user, now=now,
            window_start=now - timedelta(minutes=settings.login_window_minutes),
            settings=settings)


# The second step of a log-in waits this long for its code.
SECOND_STEP_MINUTES = 5


def second_step_token(user: User, *, now: datetime | None = None) -> str:
    """What the browser carries between the password and the code (a cookie): the user and a
    deadline, signed with the secret key and bound to the user's password hash (a changed
    password voids it). It opens no session: only a good code does."""
    deadline = int(((now or utcnow()) + timedelta(minutes=SECOND_STEP_MINUTES)).timestamp())
    payload = f"{user.id}.{deadline}"
    return f"{payload}.{_second_step_mac(payload, user)}"


def _second_step_mac(payload: str, user: User) -> str:
    key = get_settings().effective_secret_key.encode()
    return hmac.new(key, f"2fa:{payload}:{user.password_hash}".encode(),
                    hashlib.sha256).hexdigest()


def second_step_user(session: Session, *, token: str, now: datetime | None = None) -> User:
    """The user of a second-step token; `SessionInvalid` when it is forged, stale or its user
    can no longer log in (start again with the password)."""
    user_id, _, rest = token.partition(".")
    deadline, _, mac = rest.partition(".")
    user = session.get(User, int(user_id)) if user_id.isdigit() else None
    if (user is None or not deadline.isdigit() or not user.active
            or user.password_hash is None
            or not hmac.compare_digest(mac, _second_step_mac(f"{user_id}.{deadline}", user))
            or int(deadline) <= (now or utcnow()).timestamp()):
        raise SessionInvalid("the log-in took too long or was interrupted: enter your user "
                             "name and password again", field="code")
    return user


def _failed(session: Session, *, key: str, ip: str, user: User | None, now: datetime,
            window_start: datetime, settings: Settings) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at <= window_start))
    session.add(LoginFailure(username=key, client_ip=ip, at=now))
    audit(session, Event.LOGIN_FAILED, username=key, user_id=user.id if user else None,
          client_ip=ip, now=now)
    lock = _locked_row(session, key)
    since = max(window_start, lock.counted_from)
    failures = session.scalar(
        select(func.count(LoginFailure.id)).where(LoginFailure.username == key,
                                                  LoginFailure.at > since)) or 0
    if failures >= settings.login_max_failures:
        until = now + timedelta(minutes=settings.login_lockout_minutes)
        lock.locked_until = until
        lock.counted_from = until
        audit(session, Event.LOCKED, username=key, user_id=user.id if user else None,
              client_ip=ip, now=now, detail=f"{failures} failures")
        raise AccountLocked("too many failed log-ins: this account is locked for "
                            f"{settings.login_lockout_minutes} minutes", field="username")


def _locked_row(session: Session, key: str) -> AccountLock:
    """The user name's lock row, created if new and locked for this transaction (FOR UPDATE on
    PostgreSQL; SQLite has one writer at a time), so two processes count one failure after the
    other."""
    session.flush()
    session.execute(insert_skipping_taken(session, AccountLock, ["username"])
                    .values(username=key, counted_from=EPOCH, locked_until=None))
    lock = session.scalar(select(AccountLock).where(AccountLock.username == key)
                          .with_for_update().execution_options(populate_existing=True))
    assert lock is not None
    return lock


def unlock(session: Session, *, username: str, now: datetime | None = None,
           by: str = "") -> bool:
    """Lift a lock-out and forget the failures so far; False when the name was not locked."""
    now = now or utcnow()
    key = lock_key(username)
    lock = session.get(AccountLock, key, populate_existing=True)
    locked = lock is not None and lock.locked_until is not None and lock.locked_until > now
    if lock is not None:
        lock.locked_until = None
        lock.counted_from = now
    audit(session, Event.UNLOCKED, username=key, now=now, detail=f"by {by}" if by else "")
    return locked


def lock_state(session: Session, *, username: str,
               now: datetime | None = None) -> datetime | None:
    """Until when the user name is locked, or None."""
    now = now or utcnow()
    lock = session.get(AccountLock, lock_key(username), populate_existing=True)
    if lock is None or lock.locked_until is None or lock.locked_until <= now:
        return None
    return lock.locked_until


# --- sessions --------------------------------------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, user: User,
                 now: datetime | None = None) -> tuple[str, UserSession]:
    """A new session for `user`: its token (for the cookie) and its row."""
    now = now or utcnow()
    token = SESSION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, user=user, token_hash=_hash_token(token),
                      created_at=now, last_seen_at=now,
                      expires_at=now + timedelta(hours=get_settings().session_max_hours))
    session.add(row)
    session.flush()
    return token, row


def resolve_session(session: Session, *, token: str,
                    now: datetime | None = None) -> UserSession:
    """The live session of a cookie's token, its last request noted; `SessionInvalid` when it
    is unknown, revoked, idle too long, past its lifetime, or its user is inactive."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _hash_token(token)))
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if (row is None or row.revoked_at is not None or row.expires_at <= now
            or row.last_seen_at + idle <= now or not row.user.active):
        raise SessionInvalid("the session has ended: log in again", field="session")
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        # Written now, at the start of the caller's transaction: on SQLite a transaction that
        # read first and writes late may find its snapshot stale and be refused the write.
        session.flush()
    return row


def log_out(session: Session, *, user_session: UserSession, client_ip: str | None = None,
            now: datetime | None = None) -> None:
    now = now or utcnow()
    if user_session.revoked_at is None:
        user_session.revoked_at = now
    audit(session, Event.LOGOUT, username=user_session.user.username,
          user_id=user_session.user_id, client_ip=client_ip and _ip(client_ip), now=now)


def revoke_sessions(session: Session, *, user_id: int, keep: int | None = None,
                    now: datetime | None = None) -> int:
    """End every live session of the user but `keep`; returns how many ended."""
    statement = (update(UserSession)
                 .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
                 .values(revoked_at=now or utcnow())
                 .execution_options(synchronize_session="fetch"))
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


# --- CSRF ------------------------------------------------------------------------------------

def csrf_token(binding: str, *, secret_key: str | None = None) -> str:
    """The CSRF token of a session (or of a log-in form): an HMAC of what it is bound to with
    the secret key, so it cannot be made without both."""
    key = (secret_key or get_settings().effective_secret_key).encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def session_csrf(user_session: UserSession) -> str:
    # Bound to the session's secret token (its hash), not its row number: the demo's secret
    # key is public, its sessions' tokens are not.
    return csrf_token("session:" + user_session.token_hash)


def csrf_matches(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


# --- housekeeping ----------------------------------------------------------------------------

def cleanup(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what no longer serves: audit events past `BANKVOC_AUTH_EVENT_KEEP_DAYS`,
    sessions that ended (revoked, idle or past their lifetime), failed log-ins out of every
    window, and locks that lapsed and count nothing any more. Idempotent. Returns how many
    rows of each went."""
    settings = get_settings()
    now = now or utcnow()
    window_start = now - timedelta(minutes=settings.login_window_minutes)
    idle_since = now - timedelta(minutes=settings.session_idle_minutes)
    statements = {
        "auth_events": delete(AuthEvent).where(
            AuthEvent.at < now - timedelta(days=settings.auth_event_keep_days)),
        "sessions": delete(UserSession).where(
            UserSession.revoked_at.is_not(None) | (UserSession.expires_at <= now)
            | (UserSession.last_seen_at <= idle_since)),
        "login_failures": delete(LoginFailure).where(LoginFailure.at <= window_start),
        # A lock's `counted_from` still matters while it is inside the window.
        "account_locks": delete(AccountLock).where(
            AccountLock.locked_until.is_(None) | (AccountLock.locked_until <= now),
            AccountLock.counted_from <= window_start),
    }
    return {name: int(session.execute(statement.execution_options(  # type: ignore[attr-defined]
        synchronize_session=False)).rowcount or 0) for name, statement in statements.items()}


# --- audit -----------------------------------------------------------------------------------

def audit(session: Session, kind: str, *, username: str, user_id: int | None = None,
          client_ip: str | None = None, now: datetime | None = None, detail: str = "") -> None:
    session.add(AuthEvent(kind=kind, username=username[:64], user_id=user_id,
                          client_ip=client_ip, at=now or utcnow(), detail=detail[:200]))


def events(session: Session, *, username: str | None = None) -> list[AuthEvent]:
    """The audit trail, oldest first (of one user name, given as typed or as stored)."""
    query = select(AuthEvent).order_by(AuthEvent.id)
    if username is not None:
        query = query.where(AuthEvent.username.in_({username, lock_key(username)}))
    session.flush()
    return list(session.scalars(query))

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow


class Org(Base):
    """A node of the bank's org tree; `path` (/1/4/9/) makes subtree scoping one indexed LIKE."""

    __tablename__ = "org"
    # A prefix LIKE uses a b-tree index only under the C collation: on PostgreSQL, the one
    # with pattern operators does (the plain one still serves equality and order).
    __table_args__ = (Index("ix_org_path_pattern", "path",
                            postgresql_ops={"path": "varchar_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    path: Mapped[str] = mapped_column(String(500), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Org | None] = relationship(remote_side=[id])


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the staff member gets deadline warnings and escalations (work addresses).
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Log-in (orgs.auth): an Argon2 hash (None: no password, no log-in); an initial password
    # set by an administrator must be changed at the first log-in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column()
    # The TOTP second factor (orgs.totp): the secret encrypted with the PII key ring, when its
    # first code was confirmed (None: not enrolled, or enrolment begun but not confirmed), and
    # the last time step a code was accepted for (a code is good once).
    totp_secret_enc: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column()
    totp_last_step: Mapped[int | None] = mapped_column()

    org: Mapped[Org] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once.

    `scopes` are the permissions it may use (what its user's roles allow of them); None: all
    of its user's permissions. `expires_at` None: it never expires (tokens made before
    expiries existed, and the demo's). `last_used_at` is written at most once a minute."""

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    scopes: Mapped[list[str] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(Base):
    """A log-in session of the pages; only the SHA-256 of its cookie's token is stored."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """A failed log-in: counted per user name and per client address within a window, by every
    API process alike (the rows are the shared state); pruned once out of every window."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),
                      Index("ix_login_failure_client_ip_at", "client_ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(index=True)


class AccountLock(Base):
    """Per user name: locked until when, and from when failures count (a successful log-in,
    an unlock or the end of a lock-out starts the count again)."""

    __tablename__ = "account_lock"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column()
    counted_from: Mapped[datetime] = mapped_column()


class AuthEvent(Base):
    """The audit trail of accounts: log-ins, failures, lock-outs, log-outs, password changes."""

    __tablename__ = "auth_event"
    __table_args__ = (Index("ix_auth_event_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str] = mapped_column(String(200), default="")


class DirectoryChange(Base):
    """The audit trail of the directory (orgs and users): who changed what, when, and how the
    entity looked before and after, as the administrator saw it (never a password hash; work
    contacts masked). Written by `orgs.admin` in the transaction of the change itself; the
    entity's version is the number of its changes so far. `org_id` is where the entity sits
    (a user's home org after the change, an org itself): the org-subtree scope of the trail."""

    __tablename__ = "directory_change"
    __table_args__ = (Index("ix_directory_change_entity", "entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_username: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int] = mapped_column()
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")

"""Org tree, users, tokens, and the acting user every service receives."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.orgs import auth
from bankvoc.orgs.enums import OrgKind, Role
from bankvoc.orgs.models import ApiToken, Org, User
from bankvoc.orgs.permissions import PERMISSIONS, allowed

ROOT_ORG_CODE = "HQ"
ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, their roles and the org subtree their data access is scoped to."""

    user_id: int
    username: str
    org_id: int
    org_path: str
    roles: frozenset[str]
    # Acting through an API token: its id, and its scopes (None: all of the roles' permissions).
    token_id: int | None = None
    scopes: frozenset[str] | None = None

    def can(self, permission: str) -> bool:
        """The roles grant it and, through a token, the token's scopes include it."""
        return allowed(self.roles, permission) and (self.scopes is None
                                                    or permission in self.scopes)

    def require(self, permission: str) -> None:
        if not allowed(self.roles, permission):
            raise Forbidden(f"role(s) {', '.join(sorted(self.roles))} may not {permission}")
        if self.scopes is not None and permission not in self.scopes:
            raise Forbidden(f"this API token's scopes do not include {permission} (it has: "
                            f"{', '.join(sorted(self.scopes)) or 'none'})", code="token_scope",
                            field="scope")


def actor_for(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        org_id=user.org_id,
        org_path=user.org.path,
        roles=frozenset(user.roles),
    )


# --- data scoping: the one choke point every list and detail query goes through -------------

def in_scope(
    actor: Actor,
    org_id_column: ColumnElement[int] | InstrumentedAttribute[int]
    | InstrumentedAttribute[int | None],
) -> ColumnElement[bool]:
    """Filter for any query over rows owned by an org: only the actor's subtree."""
    subtree = select(Org.id).where(Org.path.startswith(actor.org_path, autoescape=True))
    return org_id_column.in_(subtree)


def org_visible(actor: Actor, org: Org) -> bool:
    return org.path.startswith(actor.org_path)


# --- orgs ------------------------------------------------------------------------------------

def get_org_by_code(session: Session, *, code: str) -> Org:
    org = session.scalar(select(Org).where(Org.code == code))
    if org is None:
        raise NotFound(f"no org with code {code!r}", field="org")
    return org


def find_orgs_by_code(session: Session, *, codes: Iterable[str]) -> dict[str, Org]:
    wanted = set(codes)
    if not wanted:
        return {}
    return {o.code: o for o in session.scalars(select(Org).where(Org.code.in_(wanted)))}


def create_org(
    session: Session,
    *,
    code: str,
    name: str,
    kind: OrgKind,
    parent: Org | None,
    name_en: str | None = None,
) -> Org:
    if session.scalar(select(Org.id).where(Org.code == code)) is not None:
        raise Conflict(f"org code {code!r} already exists", field="code")
    org = Org(code=code, name=name, name_en=name_en, kind=kind.value,
              parent_id=parent.id if parent else None, path="")
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    return org


def list_orgs(session: Session, *, actor: Actor) -> list[Org]:
    actor.require("org.read")
    return list(session.scalars(select(Org).where(in_scope(actor, Org.id)).order_by(Org.path)))


def ensure_root(session: Session) -> tuple[Org, User]:
    """A fresh database has the head office and an administrator."""
    root = session.scalar(select(Org).where(Org.code == ROOT_ORG_CODE))
    if root is None:
        root = create_org(session, code=ROOT_ORG_CODE, name="总行", name_en="Head office",
                          kind=OrgKind.head_office, parent=None)
    admin = session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    if admin is None:
        admin = User(username=ADMIN_USERNAME, display_name="系统管理员", org_id=root.id,
                     roles=[Role.admin.value])
        session.add(admin)
        session.flush()
    return root, admin


# --- users and tokens ------------------------------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_roles(raw: Iterable[str]) -> list[str]:
    roles = []
    for name in raw:
        try:
            roles.append(Role(name.strip()).value)
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise Invalid(f"unknown role {name!r}; roles are: {known}", field="role") from None
    if not roles:
        raise Invalid("a user needs at least one role", field="role")
    return roles


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    org: Org,
    roles: list[str],
    email: str | None = None,
    mobile: str | None = None,
) -> User:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="name")
    user = User(username=username, display_name=display_name, org_id=org.id,
                roles=parse_roles(roles), org=org)
    set_contact(user, email=email, mobile=mobile)
    session.add(user)
    session.flush()
    return user


def set_contact(user: User, *, email: str | None, mobile: str | None) -> None:
    """Where the user is told of deadline warnings and escalations (the rules the outbox
    sends by); an empty value clears it. Errors name the field, never the value."""
    if email is not None:
        address = masking.normalise_email(email)
        if address and not masking.valid_email(address):
            raise Invalid("not an e-mail address", field="email")
        user.email = address or None
    if mobile is not None:
        number = masking.normalise_phone(mobile)
        if number and not masking.valid_mobile(number):
            raise Invalid("not a mainland mobile number", field="mobile")
        user.mobile = number or None


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="user")
    return user


# --- API tokens ------------------------------------------------------------------------------
# A token acts for its user with at most its scopes: the permissions it may use are its scopes
# that the user's roles (as they are when it is used) also grant. Practice followed: OWASP REST
# Security and NIST SP 800-63B §7 (least privilege, limited lifetime, revocation, only a hash
# stored, the secret shown once).

TOKEN_PREFIX = "bv_"
ALL_SCOPES = "all"
# What a token gets when nobody says: reading what the user may read, personal data excepted.
DEFAULT_SCOPES = tuple(sorted(p for p in PERMISSIONS if p.endswith(".read") and p != "pii.read"))
# Its last use is written down at most this often (not a write per request).
TOKEN_TOUCH_EVERY = timedelta(seconds=60)


class TokenExpired(Unauthorized):
    code = "token_expired"


class TokenRevoked(Unauthorized):
    code = "token_revoked"


@dataclass(frozen=True)
class NewToken:
    """A token just made: the secret (shown once, never stored) and its row."""

    token: str
    row: ApiToken


def parse_scopes(raw: Iterable[str], *, user: User) -> list[str] | None:
    """The scopes asked for ("case.read", "case.read,kpi.read", "all"), checked against the
    permission table and the user's roles; None stands for all of the user's permissions.
    Nothing asked for: the read-only default (`DEFAULT_SCOPES`) the user's roles grant."""
    names = [n.strip() for value in raw for n in value.split(",") if n.strip()]
    roles = frozenset(user.roles)
    if ALL_SCOPES in names:
        if len(names) > 1:
            raise Invalid(f"scope {ALL_SCOPES!r} stands alone", field="scope")
        return None
    if not names:
        return [p for p in DEFAULT_SCOPES if allowed(roles, p)]
    for name in names:
        if name not in PERMISSIONS:
            raise Invalid(f"unknown scope {name!r}; scopes are {ALL_SCOPES!r} or permissions: "
                          f"{', '.join(sorted(PERMISSIONS))}", field="scope")
        if not allowed(roles, name):
            raise Invalid(f"user {user.username!r} may not {name} (roles "
                          f"{', '.join(sorted(roles))}), so no token of theirs may",
                          field="scope")
    return sorted(set(names))


def issue_token(session: Session, *, user: User, label: str = "",
                scopes: Iterable[str] = (ALL_SCOPES,), days: int | None = None,
                by: str = "", now: datetime | None = None) -> str:
    """Create a bearer token for `user`; the plain token is returned once and never stored."""
    return create_token(session, user=user, label=label, scopes=scopes, days=days, by=by,
                        now=now).token


def create_token(session: Session, *, user: User, label: str = "",
                 scopes: Iterable[str] = (), days: int | None = None, by: str = "",
                 now: datetime | None = None) -> NewToken:
    """A token for `user` with `scopes` (see `parse_scopes`: none given is read-only, "all"
    is every permission of the user) living `days` days (BANKVOC_API_TOKEN_DAYS unless
    told); audited as `token_created`."""
    if len(label) > 100:
        raise Invalid("a label has at most 100 characters", field="label")
    if days is not None and not 1 <= days <= 3660:
        raise Invalid("a token lives from 1 to 3660 days", field="days")
    chosen = parse_scopes(scopes, user=user)
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, user=user, token_hash=_hash_token(token), label=label,
                   created_at=now, scopes=chosen,
                   expires_at=now + timedelta(days=days or get_settings().api_token_days))
    session.add(row)
    session.flush()
    auth.audit(session, auth.Event.TOKEN_CREATED, username=user.username, user_id=user.id,
               now=now, detail=f"token {row.id} scopes {_scope_text(chosen)}"
               + (f" by {by}" if by else ""))
    return NewToken(token=token, row=row)


def _scope_text(scopes: list[str] | None) -> str:
    return ALL_SCOPES if scopes is None else ",".join(scopes) or "-"


def register_token(session: Session, *, user: User, token: str, label: str = "") -> bool:
    """Store a token chosen elsewhere (the demo's stable ones: all of the user's permissions,
    no expiry); False if already known, so a revoked token stays revoked."""
    digest = _hash_token(token)
    if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest)) is not None:
        return False
    session.add(ApiToken(user_id=user.id, token_hash=digest, label=label))
    session.flush()
    return True


def list_tokens(session: Session, *, user: User | None = None) -> list[ApiToken]:
    """Every token (of one user), newest first; never the secret, which is not stored."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, *, token_id: int, by: str = "",
                 now: datetime | None = None) -> tuple[ApiToken, bool]:
    """Revoke a token at once; (its row, whether it was live until now). Revoking it again
    changes nothing; audited as `token_revoked`."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}", field="id")
    if row.revoked_at is not None:
        return row, False
    now = now or utcnow()
    row.revoked_at = now
    auth.audit(session, auth.Event.TOKEN_REVOKED, username=row.user.username,
               user_id=row.user_id, now=now,
               detail=f"token {row.id}" + (f" by {by}" if by else ""))
    return row, True


def authenticate(session: Session, *, token: str, now: datetime | None = None) -> Actor:
    """The actor of a bearer token, carrying its scopes; 401 for an unknown, revoked or
    expired token or an inactive user. Its last use is noted (at most once a minute).

    One query of the columns it needs (token, user and org): every API request comes here
    first, and loading the three objects took a query and the ORM's bookkeeping each."""
    now = now or utcnow()
    row = session.execute(
        select(ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at,
               ApiToken.scopes, User.id.label("user_id"), User.username, User.active,
               User.roles, User.org_id, Org.path)
        .join(User, User.id == ApiToken.user_id).join(Org, Org.id == User.org_id)
        .where(ApiToken.token_hash == _hash_token(token))).one_or_none()
    if row is None or not row.active:
        raise Unauthorized("invalid token", field="Authorization")
    if row.revoked_at is not None:
        raise TokenRevoked("this API token was revoked: ask an administrator for a new one",
                           field="Authorization")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenExpired(f"this API token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC: "
                           "ask an administrator for a new one", field="Authorization")
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_EVERY:
        # Written at once, as `auth.resolve_session` does.
        session.execute(update(ApiToken).where(ApiToken.id == row.id)
                        .values(last_used_at=now))
    return Actor(user_id=row.user_id, username=row.username, org_id=row.org_id,
                 org_path=row.path, roles=frozenset(row.roles), token_id=row.id,
                 scopes=None if row.scopes is None else frozenset(row.scopes))


def get_org_by_id(session: Session, *, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound(f"no org {org_id}", field="org")
    return org

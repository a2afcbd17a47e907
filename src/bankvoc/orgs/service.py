"""Org tree, users, tokens, and the acting user every service receives."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bankvoc.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from bankvoc.customers import masking
from bankvoc.orgs.enums import OrgKind, Role
from bankvoc.orgs.models import ApiToken, Org, User
from bankvoc.orgs.permissions import allowed

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

    def can(self, permission: str) -> bool:
        return allowed(self.roles, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"role(s) {', '.join(sorted(self.roles))} may not {permission}")


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


def issue_token(session: Session, *, user: User, label: str = "") -> str:
    """Create a bearer token for `user`; the plain token is returned once and never stored."""
    token = "bv_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), label=label))
    session.flush()
    return token


def register_token(session: Session, *, user: User, token: str, label: str = "") -> bool:
    """Store a token chosen elsewhere (the demo's stable ones); False if already known, so a
    revoked token stays revoked."""
    digest = _hash_token(token)
    if session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest)) is not None:
        return False
    session.add(ApiToken(user_id=user.id, token_hash=digest, label=label))
    session.flush()
    return True


def authenticate(session: Session, *, token: str) -> Actor:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(token),
                               ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        raise Unauthorized("invalid or revoked token", field="Authorization")
    return actor_for(row.user)


def get_org_by_id(session: Session, *, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None:
        raise NotFound(f"no org {org_id}", field="org")
    return org

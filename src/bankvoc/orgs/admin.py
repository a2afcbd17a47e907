"""Administration of the directory: the org tree and the users, every change audited.

Each function takes the session first, checks the actor's permission (`org.manage`,
`user.manage`) and org-subtree scope (through `service.in_scope` / `service.org_visible`, the
one choke point), makes the change, and writes one `DirectoryChange` row with the entity's
state before and after, in the same transaction (it flushes, never commits).

The rules that keep the directory safe:
- a role is granted only by someone who holds every permission of that role (an administrator
  of a branch cannot make anyone more than they are), and a user holding a permission the
  actor lacks is not theirs to change (resetting their password would be a way in);
- nobody edits their own roles or home org, or deactivates themselves; the last active
  administrator keeps the admin role and stays active;
- an org is deactivated only once it has no active sub-org, no active user and no open case.

`actor=None` is the operator at the command line (`bankvoc users create`): trusted, unscoped,
recorded as `cli`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from bankvoc.cases import service as case_service
from bankvoc.cases.enums import CLOSED_STATUSES
from bankvoc.cases.schemas import CaseFilters
from bankvoc.core.errors import NotFound
from bankvoc.customers import masking
from bankvoc.orgs import auth, service
from bankvoc.orgs.enums import ChangeAction, ChangeEntity, OrgKind, Role
from bankvoc.orgs.errors import DirectoryConflict, DirectoryForbidden, DirectoryInvalid
from bankvoc.orgs.models import DirectoryChange, Org, User
from bankvoc.orgs.permissions import PERMISSIONS
from bankvoc.orgs.service import Actor, in_scope, org_visible

CLI_ACTOR = "cli"
ORG_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_MAX = 200
DISPLAY_NAME_MAX = 100
NOTE_MAX = 500
Q_MAX = 64
PAGE = 50


# --- who may do what ---------------------------------------------------------------------------

def _permissions(roles: Iterable[str]) -> set[str]:
    held = set(roles)
    return {name for name, holders in PERMISSIONS.items() if held & holders}


def may_grant(actor: Actor | None, role: str) -> bool:
    """Whether `actor` holds every permission of `role` (the command line may grant any)."""
    return actor is None or _permissions([role]) <= _permissions(actor.roles)


def grantable_roles(actor: Actor | None) -> list[Role]:
    return [role for role in Role if may_grant(actor, role.value)]


def _storable(ident: int) -> bool:
    """Whether `ident` could be a row's id (a larger number would overflow the column: it
    names nothing, rather than failing the query)."""
    return 0 < ident < 2**31


def _require(actor: Actor | None, permission: str) -> None:
    if actor is not None:
        actor.require(permission)


def _visible(actor: Actor | None, org: Org) -> bool:
    return actor is None or org_visible(actor, org)


# --- the audit trail ---------------------------------------------------------------------------

def org_snapshot(org: Org) -> dict[str, Any]:
    return {"code": org.code, "name": org.name, "name_en": org.name_en, "kind": org.kind,
            "parent": org.parent.code if org.parent else None, "active": org.active}


def user_snapshot(user: User) -> dict[str, Any]:
    """What the screens show of a user, work contacts masked, no password hash."""
    return {"username": user.username, "display_name": user.display_name,
            "org": user.org.code, "roles": sorted(user.roles), "active": user.active,
            "email": masking.mask_email(user.email) if user.email else None,
            "mobile": masking.mask_phone(user.mobile) if user.mobile else None}


def record(session: Session, *, actor: Actor | None, entity: ChangeEntity, entity_id: int,
           org_id: int, action: ChangeAction, before: dict[str, Any] | None,
           after: dict[str, Any] | None, note: str = "") -> DirectoryChange:
    row = DirectoryChange(
        actor_user_id=actor.user_id if actor else None,
        actor_username=actor.username if actor else CLI_ACTOR, entity=entity.value,
        entity_id=entity_id, org_id=org_id, action=action.value, before=before, after=after,
        note=_text(note, field="note", maximum=NOTE_MAX, required=False))
    session.add(row)
    session.flush()
    return row


def _user_changed(session: Session, actor: Actor | None, user: User, action: ChangeAction,
                  before: dict[str, Any] | None, note: str,
                  after: dict[str, Any] | None = None) -> DirectoryChange:
    session.flush()
    return record(session, actor=actor, entity=ChangeEntity.user, entity_id=user.id,
                  org_id=user.org_id, action=action, before=before,
                  after=after or user_snapshot(user), note=note)


def _org_changed(session: Session, actor: Actor, org: Org, action: ChangeAction,
                 before: dict[str, Any] | None, note: str) -> DirectoryChange:
    return record(session, actor=actor, entity=ChangeEntity.org, entity_id=org.id,
                  org_id=org.id, action=action, before=before, after=org_snapshot(org),
                  note=note)


def changes(session: Session, *, actor: Actor, entity: ChangeEntity | None = None,
            entity_id: int | None = None, action: ChangeAction | None = None,
            by: str | None = None, since: datetime | None = None,
            until: datetime | None = None, limit: int = PAGE,
            offset: int = 0) -> tuple[list[DirectoryChange], int]:
    """The directory's changes in the actor's subtree, newest first, and how many there are."""
    if not (actor.can("user.manage") or actor.can("org.manage")):
        actor.require("user.manage")
    query = select(DirectoryChange).where(in_scope(actor, DirectoryChange.org_id))
    if entity is not None:
        query = query.where(DirectoryChange.entity == entity.value)
    if entity_id is not None:
        query = query.where(DirectoryChange.entity_id == entity_id)
    if action is not None:
        query = query.where(DirectoryChange.action == action.value)
    if by:
        query = query.where(DirectoryChange.actor_username == by)
    if since is not None:
        query = query.where(DirectoryChange.at >= since)
    if until is not None:
        query = query.where(DirectoryChange.at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(DirectoryChange.id.desc()).limit(limit)
                           .offset(offset))
    return list(rows), total


def history(session: Session, *, actor: Actor, entity: ChangeEntity,
            entity_id: int) -> list[DirectoryChange]:
    """One org's or user's changes (those within the actor's subtree), newest first."""
    rows, _ = changes(session, actor=actor, entity=entity, entity_id=entity_id, limit=500)
    return rows


# --- checking what was typed -------------------------------------------------------------------

def _text(value: str | None, *, field: str, maximum: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DirectoryInvalid(f"{field} is required", reason="required", field=field)
    if len(text) > maximum:
        raise DirectoryInvalid(f"{field} has at most {maximum} characters", reason="too_long",
                               field=field, max=maximum)
    return text


def _roles(actor: Actor | None, raw: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in raw if name.strip()))
    if not names:
        raise DirectoryInvalid("a user needs at least one role", reason="roles_empty",
                               field="roles")
    known = {role.value for role in Role}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DirectoryInvalid(f"unknown role {unknown[0]!r}; roles are: "
                               f"{', '.join(r.value for r in Role)}", reason="role_unknown",
                               field="roles")
    beyond = [name for name in names if not may_grant(actor, name)]
    if beyond:
        raise DirectoryForbidden(f"you may not grant {', '.join(beyond)}: it holds "
                                 "permissions you do not", reason="role_beyond",
                                 field="roles", roles=", ".join(beyond))
    return [role.value for role in Role if role.value in names]


# --- orgs --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgNode:
    """An org of the tree as the actor sees it: its depth below the actor's home org, its
    active users and active sub-orgs."""

    org: Org
    depth: int
    users: int
    children: int


def org_tree(session: Session, *, actor: Actor) -> list[OrgNode]:
    """The actor's subtree, parents before children (ordered by path)."""
    actor.require("org.manage")
    orgs = service.list_orgs(session, actor=actor)
    users: dict[int, int] = {org_id: n for org_id, n in session.execute(
        select(User.org_id, func.count()).where(User.active, in_scope(actor, User.org_id))
        .group_by(User.org_id))}
    children: dict[int, int] = {}
    for org in orgs:
        if org.parent_id is not None and org.active:
            children[org.parent_id] = children.get(org.parent_id, 0) + 1
    base = actor.org_path.count("/")
    return [OrgNode(org=o, depth=o.path.count("/") - base, users=users.get(o.id, 0),
                    children=children.get(o.id, 0)) for o in orgs]


def get_org(session: Session, *, actor: Actor | None, org_id: int,
            field: str = "org") -> Org:
    """An org of the actor's subtree; another is as if it did not exist."""
    org = session.get(Org, org_id) if _storable(org_id) else None
    if org is None or not _visible(actor, org):
        raise NotFound(f"no org {org_id} in your scope", field=field)
    return org


def _active_org(session: Session, actor: Actor | None, org_id: int, field: str) -> Org:
    org = get_org(session, actor=actor, org_id=org_id, field=field)
    if not org.active:
        raise DirectoryConflict("that org is deactivated", reason="org_inactive", field=field)
    return org


def create_org(session: Session, *, actor: Actor, parent_id: int, code: str, name: str,
               kind: str, name_en: str | None = None, note: str = "") -> Org:
    """A new org under `parent_id` (an active org of the actor's subtree)."""
    actor.require("org.manage")
    parent = _active_org(session, actor, parent_id, "parent")
    code = _text(code, field="code", maximum=32)
    if not ORG_CODE.fullmatch(code):
        raise DirectoryInvalid("a code has letters, digits, - and _", reason="code_pattern",
                               field="code")
    if session.scalar(select(Org.id).where(func.upper(Org.code) == code.upper())) is not None:
        raise DirectoryConflict("that code is taken", reason="code_taken", field="code")
    if kind not in {k.value for k in OrgKind} or kind == OrgKind.head_office:
        raise DirectoryInvalid("choose the kind of org", reason="kind", field="kind")
    org = service.create_org(
        session, code=code, name=_text(name, field="name", maximum=NAME_MAX),
        name_en=_text(name_en, field="name_en", maximum=NAME_MAX, required=False) or None,
        kind=OrgKind(kind), parent=parent)
    org.parent = parent
    _org_changed(session, actor, org, ChangeAction.create, None, note)
    return org


def update_org(session: Session, *, actor: Actor, org_id: int, name: str,
               name_en: str | None, note: str = "") -> DirectoryChange | None:
    """Rename an org (in Chinese and English): the change recorded, None when nothing
    changed (nothing is written then)."""
    actor.require("org.manage")
    org = get_org(session, actor=actor, org_id=org_id)
    before = org_snapshot(org)
    org.name = _text(name, field="name", maximum=NAME_MAX)
    org.name_en = _text(name_en, field="name_en", maximum=NAME_MAX, required=False) or None
    if org_snapshot(org) == before:
        return None
    return _org_changed(session, actor, org, ChangeAction.update, before, note)


def deactivate_org(session: Session, *, actor: Actor, org_id: int, note: str = "") -> Org:
    """Deactivate an org that has no active sub-org, no active user and no open case (owned
    or worked there); never the root, never the actor's own home org."""
    actor.require("org.manage")
    org = get_org(session, actor=actor, org_id=org_id)
    if not org.active:
        raise DirectoryConflict("the org is already deactivated", reason="already_inactive")
    if org.parent_id is None:
        raise DirectoryConflict("the head office stays active", reason="root")
    if org.id == actor.org_id:
        raise DirectoryForbidden("you may not deactivate your own home org", reason="own_org")
    children = session.scalar(select(func.count()).select_from(Org).where(
        Org.parent_id == org.id, Org.active)) or 0
    if children:
        raise DirectoryConflict(f"{children} active sub-org(s): deactivate them first",
                                reason="active_children", n=children)
    users = session.scalar(select(func.count()).select_from(User).where(
        User.org_id == org.id, User.active)) or 0
    if users:
        raise DirectoryConflict(f"{users} active user(s): move or deactivate them first",
                                reason="active_users", n=users)
    closed = [s.value for s in CLOSED_STATUSES]
    owned, worked, both = (case_service.count_cases(session, actor=actor, filters=filters,
                                                    exclude_statuses=closed)
                           for filters in (CaseFilters(org=org.code),
                                           CaseFilters(handling_org=org.code),
                                           CaseFilters(org=org.code, handling_org=org.code)))
    open_cases = owned + worked - both  # owned there (or below) or worked there
    if open_cases:
        raise DirectoryConflict(f"{open_cases} open case(s) there: close or move them first",
                                reason="open_cases", n=open_cases)
    before = org_snapshot(org)
    org.active = False
    _org_changed(session, actor, org, ChangeAction.deactivate, before, note)
    return org


def reactivate_org(session: Session, *, actor: Actor, org_id: int, note: str = "") -> Org:
    actor.require("org.manage")
    org = get_org(session, actor=actor, org_id=org_id)
    if org.active:
        raise DirectoryConflict("the org is active", reason="already_active")
    if org.parent is not None and not org.parent.active:
        raise DirectoryConflict("its parent org is deactivated", reason="parent_inactive")
    before = org_snapshot(org)
    org.active = True
    _org_changed(session, actor, org, ChangeAction.reactivate, before, note)
    return org


# --- users -------------------------------------------------------------------------------------

def _has_role(role: Role) -> Any:
    return cast(User.roles, String).contains(f'"{role.value}"', autoescape=True)


def list_users(session: Session, *, actor: Actor, q: str | None = None,
               org_id: int | None = None, role: Role | None = None,
               active: bool | None = None, limit: int = PAGE,
               offset: int = 0) -> tuple[list[User], int]:
    """Users of the actor's subtree (of `org_id`'s subtree when given), by user name."""
    actor.require("user.manage")
    query = select(User).join(Org, Org.id == User.org_id).where(in_scope(actor, User.org_id))
    if org_id is not None:
        org = get_org(session, actor=actor, org_id=org_id)
        query = query.where(Org.path.startswith(org.path, autoescape=True))
    if q:
        pattern = f"%{q[:Q_MAX].lower()}%"
        query = query.where(or_(func.lower(User.username).like(pattern),
                                func.lower(User.display_name).like(pattern)))
    if role is not None:
        query = query.where(_has_role(role))
    if active is not None:
        query = query.where(User.active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(User.username).limit(limit).offset(offset))
    return list(rows), total


def get_user(session: Session, *, actor: Actor | None, user_id: int) -> User:
    """A user of the actor's subtree; another is as if they did not exist."""
    _require(actor, "user.manage")
    user = session.get(User, user_id) if _storable(user_id) else None
    if user is None or not _visible(actor, user.org):
        raise NotFound(f"no user {user_id} in your scope", field="user")
    return user


def _manageable(session: Session, actor: Actor | None, user_id: int) -> User:
    """A user the actor may change: in their subtree, holding no permission they lack."""
    user = get_user(session, actor=actor, user_id=user_id)
    if actor is not None and not _permissions(user.roles) <= _permissions(actor.roles):
        raise DirectoryForbidden("this user holds permissions you do not", reason="outranks")
    return user


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(
        User.active, _has_role(Role.admin))) or 0


def _keep_an_admin(session: Session, user: User, field: str | None) -> None:
    if user.active and Role.admin.value in user.roles and _active_admins(session) <= 1:
        raise DirectoryConflict("the last active administrator stays one", reason="last_admin",
                                field=field)


def _check_username(session: Session, username: str) -> str:
    name = _text(username, field="username", maximum=64)
    if not USERNAME.fullmatch(name):
        raise DirectoryInvalid("a user name has letters, digits, '.', '-' and '_'",
                               reason="username_pattern", field="username")
    taken = session.scalar(select(User.id).where(func.lower(User.username) == name.lower()))
    if taken is not None:
        raise DirectoryConflict("that user name is taken", reason="username_taken",
                                field="username")
    return name


def create_user(session: Session, *, actor: Actor | None, username: str, display_name: str,
                org_id: int, roles: Sequence[str], email: str | None = None,
                mobile: str | None = None, password: str | None = None,
                note: str = "") -> User:
    """A new user of an active org of the actor's subtree, with roles the actor may grant and
    an initial password (to be changed at the first log-in; None: no log-in yet)."""
    _require(actor, "user.manage")
    name = _check_username(session, username)
    shown = _text(display_name, field="display_name", maximum=DISPLAY_NAME_MAX)
    org = _active_org(session, actor, org_id, "org")
    granted = _roles(actor, roles)
    if password is not None:
        if not password:
            raise DirectoryInvalid("an initial password is required", reason="required",
                                   field="password")
        auth.check_password_policy(password, username=name)
    user = service.create_user(session, username=name, display_name=shown, org=org,
                               roles=granted, email=email, mobile=mobile)
    if password is not None:
        auth.set_password(session, user=user, password=password, initial=True,
                          by=actor.username if actor else CLI_ACTOR)
    _user_changed(session, actor, user, ChangeAction.create, None, note)
    return user


def update_user(session: Session, *, actor: Actor, user_id: int, display_name: str,
                org_id: int, roles: Sequence[str], email: str | None, mobile: str | None,
                note: str = "") -> DirectoryChange | None:
    """Edit a user: name, home org, roles, work contacts. The change recorded (`roles` when
    the roles changed, else `update`), None when nothing changed (nothing is written)."""
    actor.require("user.manage")
    user = _manageable(session, actor, user_id)
    before = user_snapshot(user)
    granted = _roles(actor, roles)
    if user.id == actor.user_id and set(granted) != set(user.roles):
        raise DirectoryForbidden("you may not change your own roles", reason="own_roles",
                                 field="roles")
    if user.id == actor.user_id and org_id != user.org_id:
        raise DirectoryForbidden("you may not move yourself", reason="own_org", field="org")
    if Role.admin.value not in granted:
        _keep_an_admin(session, user, "roles")
    shown = _text(display_name, field="display_name", maximum=DISPLAY_NAME_MAX)
    if org_id != user.org_id:
        org = _active_org(session, actor, org_id, "org")
        user.org_id, user.org = org.id, org
    user.display_name = shown
    user.roles = granted
    service.set_contact(user, email=email or "", mobile=mobile or "")
    if user_snapshot(user) == before:
        return None
    action = ChangeAction.roles if before["roles"] != sorted(granted) else ChangeAction.update
    return _user_changed(session, actor, user, action, before, note)


def deactivate_user(session: Session, *, actor: Actor, user_id: int, note: str = "") -> User:
    """Deactivate a user: no log-in, no API token, and every session of theirs ends now."""
    actor.require("user.manage")
    user = _manageable(session, actor, user_id)
    if user.id == actor.user_id:
        raise DirectoryForbidden("you may not deactivate yourself", reason="self")
    if not user.active:
        raise DirectoryConflict("the user is already deactivated", reason="already_inactive")
    _keep_an_admin(session, user, None)
    before = user_snapshot(user)
    user.active = False
    auth.revoke_sessions(session, user_id=user.id)
    _user_changed(session, actor, user, ChangeAction.deactivate, before, note)
    return user


def reactivate_user(session: Session, *, actor: Actor, user_id: int, note: str = "") -> User:
    actor.require("user.manage")
    user = _manageable(session, actor, user_id)
    if user.active:
        raise DirectoryConflict("the user is active", reason="already_active")
    if not user.org.active:
        raise DirectoryConflict("the user's org is deactivated", reason="org_inactive",
                                field="org")
    before = user_snapshot(user)
    user.active = True
    _user_changed(session, actor, user, ChangeAction.reactivate, before, note)
    return user


def reset_password(session: Session, *, actor: Actor | None, user_id: int, password: str,
                   note: str = "", initial: bool = True) -> User:
    """A new password, by default an initial one (changed at the next log-in; the command
    line may set a final one, `initial=False`); the user's sessions end."""
    _require(actor, "user.manage")
    user = _manageable(session, actor, user_id)
    if not password:
        raise DirectoryInvalid("enter the new initial password" if initial
                               else "enter the new password", reason="required",
                               field="password")
    before = {"initial_password": user.must_change_password}
    auth.set_password(session, user=user, password=password, initial=initial,
                      by=actor.username if actor else CLI_ACTOR)
    _user_changed(session, actor, user, ChangeAction.password_reset, before, note,
                  after={"initial_password": initial})
    return user


def unlock_user(session: Session, *, actor: Actor | None, user_id: int,
                note: str = "") -> bool:
    """Lift a lock-out after failed log-ins; recorded only when the user was locked."""
    _require(actor, "user.manage")
    user = _manageable(session, actor, user_id)
    was_locked = auth.unlock(session, username=user.username,
                             by=actor.username if actor else CLI_ACTOR)
    if was_locked:
        _user_changed(session, actor, user, ChangeAction.unlock, {"locked": True}, note,
                      after={"locked": False})
    return was_locked

"""The administration screens on screen: the admin home (a list of areas driven by
`ADMIN_AREAS`), the org tree, users, the read-only permission table and the directory's change
log. Everything goes through `orgs.admin`, which checks the permission and the org subtree;
a refused form leaves nothing behind (the service call runs in a savepoint) and comes back
with what to fix next to its field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bankvoc.analytics import service as analytics
from bankvoc.analytics.kpis import REGISTRY, get_kpi
from bankvoc.core.errors import BankvocError, Forbidden, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import as_utc
from bankvoc.orgs import admin, auth
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import ChangeAction, ChangeEntity, OrgKind, Role
from bankvoc.orgs.errors import DirectoryRefused, PasswordRejected
from bankvoc.orgs.models import DirectoryChange, Org, User
from bankvoc.orgs.permissions import PERMISSIONS
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import Posted
from bankvoc.web.present import Choice, Fact, Labeller, Problem

T = TypeVar("T")
OFFSET_MAX = 1_000_000  # deeper than any directory: a larger offset is as good


# --- the admin home: one line per area ---------------------------------------------------------

@dataclass(frozen=True)
class AdminArea:
    """A link of the admin home: its address, the permission that shows it, its group and
    its `ui` keys (`<key>` the title, `<key>_text` what it is for)."""

    path: str
    permission: str
    group: str
    key: str


ADMIN_GROUPS = ("directory", "configuration")
ADMIN_AREAS: list[AdminArea] = [
    # --- directory: orgs, users, roles (web/admin_pages.py) ---
    AdminArea("/admin/orgs", "org.manage", "directory", "admin.area.orgs"),
    AdminArea("/admin/users", "user.manage", "directory", "admin.area.users"),
    AdminArea("/admin/roles", "user.manage", "directory", "admin.area.roles"),
    AdminArea("/admin/audit", "user.manage", "directory", "admin.area.audit"),
    # --- configuration: taxonomy, SLA, templates, routing, KPI targets (one line each) ---
    AdminArea("/admin/config", "config.read", "configuration", "admin.area.config"),
    AdminArea("/admin/kpi-targets", "kpi.manage", "configuration", "admin.area.kpi_targets"),
]


@dataclass(frozen=True)
class AreaLink:
    url: str
    title: str
    text: str


@dataclass(frozen=True)
class AreaGroup:
    name: str
    title: str
    links: list[AreaLink]


def admin_home(actor: Actor, lab: Labeller, root: str = "") -> list[AreaGroup]:
    """The areas the actor may open, by group (a group with none is left out)."""
    groups = []
    for group in ADMIN_GROUPS:
        links = [AreaLink(root + a.path, lab(a.key), lab(a.key + "_text"))
                 for a in ADMIN_AREAS if a.group == group and actor.can(a.permission)]
        if links:
            groups.append(AreaGroup(group, lab(f"admin.group.{group}"), links))
    return groups


# --- forms and what went wrong with them -------------------------------------------------------

@dataclass
class FormState:
    """A form as typed, and what to fix: a message per field and a summary at the top."""

    values: dict[str, str] = field(default_factory=dict)
    roles: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    problem: Problem | None = None
    status: int = 200

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, name: str) -> str:
        return self.errors.get(name, "")


def _message(exc: BankvocError, lab: Labeller) -> str:
    if isinstance(exc, DirectoryRefused):
        return lab(f"admin.why.{exc.reason}", **exc.params)
    if isinstance(exc, PasswordRejected):
        return lab(f"auth.policy.{exc.reason}", **exc.params)
    if isinstance(exc, NotFound):
        return lab("admin.why.org_unknown")
    if exc.field in ("email", "mobile"):
        return lab(f"admin.why.{exc.field}")
    return lab("admin.why.invalid")


def attempt(session: Session, form: FormState, fields: tuple[str, ...],
            change: Callable[[], T], lab: Labeller, prefix: str = "f-") -> T | None:
    """Run `change` in a savepoint: its result, or None with `form` saying what to fix (by
    its field when the form has it). A missing permission, or a page's own org or user that
    does not exist, is raised (the 403 and 404 pages)."""
    try:
        with session.begin_nested():
            return change()
    except BankvocError as exc:
        refused = isinstance(exc, DirectoryRefused | PasswordRejected)
        if isinstance(exc, Forbidden) and not refused:
            raise
        if isinstance(exc, NotFound) and exc.field not in fields:
            raise
        message = _message(exc, lab)
        name = exc.field if exc.field in fields else None
        if name:
            form.errors[name] = message
        form.problem = Problem(field=f"{prefix}{name}" if name else None,
                               label=lab(f"admin.field.{name}") if name else "",
                               message=message)
        form.status = exc.status
        return None


def _posted(posted: Posted, names: tuple[str, ...]) -> FormState:
    return FormState(values={n: posted.get(n).strip() for n in names if n != "password"},
                     roles=posted.getlist("roles"))


def _int(value: str) -> int:
    """A posted org id: one that names nothing when it is not a number (so: not found)."""
    try:
        return int(value)
    except ValueError:
        return 0


def _offset(params: Mapping[str, str]) -> int:
    try:
        return min(max(0, int(params.get("offset", "0") or 0)), OFFSET_MAX)
    except ValueError:
        return 0


@dataclass(frozen=True)
class Pager:
    total: int
    prev_url: str | None
    next_url: str | None


def _pager(url: str, query: dict[str, str], offset: int, total: int) -> Pager:
    def at(start: int) -> str:
        return f"{url}?{urlencode({**query, 'offset': str(start)})}"

    return Pager(total=total,
                 prev_url=at(max(0, offset - admin.PAGE)) if offset > 0 else None,
                 next_url=at(offset + admin.PAGE) if offset + admin.PAGE < total else None)


# --- history (the change log of one entity, or of all) ----------------------------------------

@dataclass(frozen=True)
class ChangeLine:
    id: int
    at: str
    by: str
    entity: str
    entity_label: str
    url: str
    action: str
    action_label: str
    changes: list[str]
    note: str
    version: int = 0


def _shown(key: str, value: Any, lab: Labeller) -> str:
    if value is None or value == "" or value == []:
        return lab("none")
    if isinstance(value, bool):
        return lab("admin.yes") if value else lab("admin.no")
    if key == "roles" and isinstance(value, list):
        return "、".join(lab(f"admin.role.{r}") for r in value) if lab.lang == "zh" \
            else ", ".join(lab(f"admin.role.{r}") for r in value)
    if key == "kind":
        return lab(f"admin.kind.{value}")
    return str(value)


# Keys of the change log that are not form fields.
CHANGE_KEYS = frozenset({"initial_password", "locked", "active"})


def _key_label(key: str, lab: Labeller) -> str:
    return lab(f"admin.change.key.{key}" if key in CHANGE_KEYS else f"admin.field.{key}")


def describe(change: DirectoryChange, lab: Labeller) -> list[str]:
    """What changed, field by field, in words (a new entity: what it was created with)."""
    before, after = change.before or {}, change.after or {}
    keys = [k for k in after if before.get(k) != after.get(k)] if before else list(after)
    lines = []
    for key in keys:
        now = _shown(key, after.get(key), lab)
        was = f"{_shown(key, before.get(key), lab)} → " if before else ""
        lines.append(f"{_key_label(key, lab)}{lab('colon')}{was}{now}")
    return lines


def change_lines(rows: list[DirectoryChange], lab: Labeller, root: str,
                 versions: bool = False) -> list[ChangeLine]:
    total = len(rows)
    return [ChangeLine(
        id=c.id, at=lab.when(c.at), by=c.actor_username, entity=c.entity,
        entity_label=lab(f"admin.entity.{c.entity}") + f" #{c.entity_id}",
        url=f"{root}/admin/{c.entity}s/{c.entity_id}", action=c.action,
        action_label=lab(f"admin.action.{c.action}"), changes=describe(c, lab), note=c.note,
        version=total - i if versions else 0) for i, c in enumerate(rows)]


# --- the org tree ------------------------------------------------------------------------------

ORG_FIELDS = ("parent", "code", "name", "name_en", "kind", "note")
RENAME_FIELDS = ("name", "name_en", "note")


@dataclass(frozen=True)
class OrgLine:
    id: int
    code: str
    name: str
    other_name: str
    kind: str
    depth: int
    active: bool
    users: int
    children: int


@dataclass
class OrgsView:
    lines: list[OrgLine]
    parents: list[Choice]
    kinds: list[Choice]
    form: FormState


def _org_name(org: Org, lab: Labeller) -> str:
    return org.name_en if lab.lang == "en" and org.name_en else org.name


def _kinds(lab: Labeller) -> list[Choice]:
    return [Choice(k.value, lab(f"admin.kind.{k.value}")) for k in OrgKind
            if k is not OrgKind.head_office]


def _org_choices(session: Session, actor: Actor, lab: Labeller) -> list[Choice]:
    nodes = admin.org_tree(session, actor=actor)
    return [Choice(str(n.org.id), "\u3000" * n.depth + f"{_org_name(n.org, lab)} ({n.org.code})")
            for n in nodes if n.org.active]


def orgs_view(session: Session, *, actor: Actor, lab: Labeller,
              form: FormState | None = None) -> OrgsView:
    nodes = admin.org_tree(session, actor=actor)
    lines = [OrgLine(
        id=n.org.id, code=n.org.code, name=_org_name(n.org, lab),
        other_name=(n.org.name if lab.lang == "en" else n.org.name_en or ""),
        kind=lab(f"admin.kind.{n.org.kind}"), depth=n.depth, active=n.org.active,
        users=n.users, children=n.children) for n in nodes]
    return OrgsView(lines=lines, parents=_org_choices(session, actor, lab), kinds=_kinds(lab),
                    form=form or FormState())


def create_org(session: Session, *, actor: Actor, posted: Posted,
               lab: Labeller) -> tuple[Org | None, FormState]:
    form = _posted(posted, ORG_FIELDS)
    org = attempt(session, form, ORG_FIELDS, lambda: admin.create_org(
        session, actor=actor, parent_id=_int(form.get("parent")), code=form.get("code"),
        name=form.get("name"), name_en=form.get("name_en"), kind=form.get("kind"),
        note=form.get("note")), lab)
    return org, form


@dataclass
class OrgPage:
    id: int
    code: str
    name: str
    active: bool
    facts: list[Fact]
    rename: FormState
    status_form: FormState
    history: list[ChangeLine]
    done: str
    own: bool

    @property
    def status_code(self) -> int:
        return max(self.rename.status, self.status_form.status)


def org_page(session: Session, *, actor: Actor, org_id: int, lab: Labeller, root: str,
             done: str = "", rename: FormState | None = None,
             status_form: FormState | None = None) -> OrgPage:
    actor.require("org.manage")
    org = admin.get_org(session, actor=actor, org_id=org_id)
    nodes = {n.org.id: n for n in admin.org_tree(session, actor=actor)}
    node = nodes.get(org.id)
    facts = [
        Fact(lab("admin.field.code"), org.code),
        Fact(lab("admin.field.name"), org.name),
        Fact(lab("admin.field.name_en"), org.name_en or lab("none")),
        Fact(lab("admin.field.kind"), lab(f"admin.kind.{org.kind}")),
        Fact(lab("admin.field.parent"), _org_name(org.parent, lab) if org.parent
             else lab("none")),
        Fact(lab("admin.field.status"), lab("admin.active" if org.active else "admin.inactive")),
        Fact(lab("admin.field.users"), str(node.users if node else 0)),
        Fact(lab("admin.orgs.sub"), str(node.children if node else 0)),
    ]
    rows = admin.history(session, actor=actor, entity=ChangeEntity.org, entity_id=org.id)
    return OrgPage(
        id=org.id, code=org.code, name=_org_name(org, lab), active=org.active, facts=facts,
        rename=rename or FormState(values={"name": org.name, "name_en": org.name_en or ""}),
        status_form=status_form or FormState(), history=change_lines(rows, lab, root, True),
        done=_done(done, lab), own=org.id == actor.org_id)


def rename_org(session: Session, *, actor: Actor, org_id: int, posted: Posted,
               lab: Labeller) -> FormState:
    form = _posted(posted, RENAME_FIELDS)
    attempt(session, form, RENAME_FIELDS, lambda: admin.update_org(
        session, actor=actor, org_id=org_id, name=form.get("name"),
        name_en=form.get("name_en"), note=form.get("note")) or "nothing", lab, "r-")
    return form


def set_org_active(session: Session, *, actor: Actor, org_id: int, active: bool,
                   posted: Posted, lab: Labeller) -> FormState:
    form = _posted(posted, ("note",))
    change = admin.reactivate_org if active else admin.deactivate_org
    attempt(session, form, ("note",), lambda: change(session, actor=actor, org_id=org_id,
                                                     note=form.get("note")), lab, "s-")
    return form


def _done(done: str, lab: Labeller) -> str:
    known = {a.value for a in ChangeAction} | {"not_locked", "nothing"}
    key = "update" if done == "roles" else done
    return lab(f"admin.done.{key}") if done in known else ""


# --- users -------------------------------------------------------------------------------------

USER_FIELDS = ("username", "display_name", "org", "roles", "email", "mobile", "password",
               "note")
EDIT_FIELDS = ("display_name", "org", "roles", "email", "mobile", "note")
STATUS_CHOICES = ("active", "inactive")
# The account's actions on the user page: (the form's name, its fields' id prefix).
ACTION_FORMS = {"deactivate": ("status", "s-"), "reactivate": ("status", "s-"),
                "password": ("password", "p-"), "unlock": ("unlock", "u-")}


@dataclass(frozen=True)
class UserLine:
    id: int
    username: str
    display_name: str
    org: str
    roles: str
    active: bool
    must_change: bool


@dataclass
class UsersView:
    q: str
    org: str
    role: str
    status: str
    orgs: list[Choice]
    roles: list[Choice]
    lines: list[UserLine]
    pager: Pager
    problem: Problem | None = None

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _role_names(roles: list[str], lab: Labeller) -> str:
    return ("、" if lab.lang == "zh" else ", ").join(lab(f"admin.role.{r}") for r in roles)


def _role_choices(roles: list[Role], lab: Labeller) -> list[Choice]:
    return [Choice(r.value, lab(f"admin.role.{r.value}")) for r in roles]


def users_view(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
               root: str) -> UsersView:
    q = str(params.get("q", "")).strip()[:admin.Q_MAX]
    org = str(params.get("org", "")).strip()
    role = str(params.get("role", "")).strip()
    status = str(params.get("status", "")).strip()
    offset = _offset(params)
    view = UsersView(q=q, org=org, role=role if role in set(Role) else "",
                     status=status if status in STATUS_CHOICES else "",
                     orgs=_org_choices(session, actor, lab),
                     roles=_role_choices(list(Role), lab), lines=[],
                     pager=Pager(0, None, None))
    try:
        users, total = admin.list_users(
            session, actor=actor, q=q or None, org_id=_int(org) if org else None,
            role=Role(view.role) if view.role else None,
            active=None if not view.status else view.status == "active", offset=offset)
    except NotFound:
        view.org = ""
        view.problem = Problem(field="f-org", label=lab("admin.field.org"),
                               message=lab("admin.why.org_unknown"))
        return view
    view.lines = [UserLine(id=u.id, username=u.username, display_name=u.display_name,
                           org=_org_name(u.org, lab), roles=_role_names(u.roles, lab),
                           active=u.active, must_change=u.must_change_password)
                  for u in users]
    query = {k: v for k, v in (("q", q), ("org", view.org), ("role", view.role),
                               ("status", view.status)) if v}
    view.pager = _pager(f"{root}/admin/users", query, offset, total)
    return view


@dataclass
class NewUserView:
    orgs: list[Choice]
    roles: list[Choice]
    form: FormState
    min_length: int


def new_user_view(session: Session, *, actor: Actor, lab: Labeller,
                  form: FormState | None = None) -> NewUserView:
    actor.require("user.manage")
    return NewUserView(orgs=_org_choices(session, actor, lab),
                       roles=_role_choices(admin.grantable_roles(actor), lab),
                       form=form or FormState(), min_length=get_settings().password_min_length)


def create_user(session: Session, *, actor: Actor, posted: Posted,
                lab: Labeller) -> tuple[User | None, FormState]:
    form = _posted(posted, USER_FIELDS)
    user = attempt(session, form, USER_FIELDS, lambda: admin.create_user(
        session, actor=actor, username=form.get("username"),
        display_name=form.get("display_name"), org_id=_int(form.get("org")), roles=form.roles,
        email=form.get("email"), mobile=form.get("mobile"), password=posted.get("password"),
        note=form.get("note")), lab)
    return user, form


@dataclass
class UserPage:
    id: int
    username: str
    display_name: str
    active: bool
    locked: bool
    facts: list[Fact]
    orgs: list[Choice]
    roles: list[Choice]
    edit: FormState
    status_form: FormState
    password_form: FormState
    unlock_form: FormState
    history: list[ChangeLine]
    done: str
    own: bool
    outranks: bool
    min_length: int

    @property
    def status_code(self) -> int:
        return max(f.status for f in (self.edit, self.status_form, self.password_form,
                                      self.unlock_form))


def user_page(session: Session, *, actor: Actor, user_id: int, lab: Labeller, root: str,
              done: str = "", forms: Mapping[str, FormState] | None = None) -> UserPage:
    user = admin.get_user(session, actor=actor, user_id=user_id)
    forms = forms or {}
    until = auth.lock_state(session, username=user.username)
    facts = [
        Fact(lab("admin.field.username"), user.username),
        Fact(lab("admin.field.display_name"), user.display_name),
        Fact(lab("admin.field.org"), f"{_org_name(user.org, lab)} ({user.org.code})"),
        Fact(lab("admin.field.roles"), _role_names(user.roles, lab)),
        Fact(lab("admin.field.status"), lab("admin.active" if user.active else "admin.inactive")),
        Fact(lab("admin.field.locked"), lab("admin.locked_until", until=lab.when(until))
             if until else lab("admin.not_locked")),
        Fact(lab("admin.field.must_change"),
             lab("admin.yes" if user.must_change_password else "admin.no")),
        Fact(lab("admin.field.password_changed_at"), lab.when(user.password_changed_at)),
        Fact(lab("admin.field.created_at"), lab.when(user.created_at)),
    ]
    edit = forms.get("edit") or FormState(
        values={"display_name": user.display_name, "org": str(user.org_id),
                "email": user.email or "", "mobile": user.mobile or ""},
        roles=list(user.roles))
    grantable = admin.grantable_roles(actor)
    roles = [r for r in Role if r in grantable or r.value in user.roles]
    rows = admin.history(session, actor=actor, entity=ChangeEntity.user, entity_id=user.id)
    return UserPage(
        id=user.id, username=user.username, display_name=user.display_name,
        active=user.active, locked=until is not None, facts=facts,
        orgs=_org_choices(session, actor, lab), roles=_role_choices(roles, lab), edit=edit,
        status_form=forms.get("status") or FormState(),
        password_form=forms.get("password") or FormState(),
        unlock_form=forms.get("unlock") or FormState(),
        history=change_lines(rows, lab, root, True), done=_done(done, lab),
        own=user.id == actor.user_id,
        outranks=not all(admin.may_grant(actor, r) for r in user.roles),
        min_length=get_settings().password_min_length)


def edit_user(session: Session, *, actor: Actor, user_id: int, posted: Posted,
              lab: Labeller) -> tuple[str, FormState]:
    """Save the edit form: ("roles"/"update"/"nothing", the form) or ("", the refused form)."""
    form = _posted(posted, EDIT_FIELDS)
    change = attempt(session, form, EDIT_FIELDS, lambda: admin.update_user(
        session, actor=actor, user_id=user_id, display_name=form.get("display_name"),
        org_id=_int(form.get("org")), roles=form.roles, email=form.get("email"),
        mobile=form.get("mobile"), note=form.get("note")) or "nothing", lab, "e-")
    if change is None:
        return "", form
    return (change if isinstance(change, str) else change.action), form


def user_action(session: Session, *, actor: Actor, user_id: int, action: str,
                posted: Posted, lab: Labeller) -> tuple[str, FormState]:
    """Deactivate, reactivate, reset the password or unlock: (what was done, the form) or
    ("", the refused form)."""
    fields = ("password", "note") if action == "password" else ("note",)
    form = _posted(posted, fields)
    note = form.get("note")
    changes: dict[str, Callable[[], object]] = {
        "deactivate": lambda: admin.deactivate_user(session, actor=actor, user_id=user_id,
                                                    note=note),
        "reactivate": lambda: admin.reactivate_user(session, actor=actor, user_id=user_id,
                                                    note=note),
        "password": lambda: admin.reset_password(session, actor=actor, user_id=user_id,
                                                 password=posted.get("password"), note=note),
        "unlock": lambda: admin.unlock_user(session, actor=actor, user_id=user_id, note=note),
    }
    done = attempt(session, form, fields, changes[action], lab, ACTION_FORMS[action][1])
    if done is None:
        return "", form
    if action == "unlock":
        return ("unlock" if done else "not_locked"), form
    return {"password": "password_reset"}.get(action, action), form


# --- roles and permissions ---------------------------------------------------------------------

@dataclass(frozen=True)
class PermissionRow:
    name: str
    label: str
    held: list[bool]


@dataclass(frozen=True)
class RolesView:
    roles: list[Choice]
    rows: list[PermissionRow]


def roles_view(actor: Actor, lab: Labeller) -> RolesView:
    actor.require("user.manage")
    return RolesView(
        roles=_role_choices(list(Role), lab),
        rows=[PermissionRow(name=name, label=lab(f"admin.perm.{name}"),
                            held=[role in holders for role in Role])
              for name, holders in PERMISSIONS.items()])


# --- the change log ----------------------------------------------------------------------------

@dataclass
class AuditView:
    entity: str
    action: str
    by: str
    since: str
    until: str
    entities: list[Choice]
    actions: list[Choice]
    lines: list[ChangeLine]
    pager: Pager
    problem: Problem | None = None

    @property
    def status_code(self) -> int:
        return 422 if self.problem else 200


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def audit_view(session: Session, *, actor: Actor, params: Mapping[str, str], lab: Labeller,
               root: str) -> AuditView:
    values = {k: str(params.get(k, "")).strip()[:64]
              for k in ("entity", "action", "by", "since", "until")}
    entity = values["entity"] if values["entity"] in set(ChangeEntity) else ""
    action = values["action"] if values["action"] in set(ChangeAction) else ""
    view = AuditView(
        entity=entity, action=action, by=values["by"], since=values["since"],
        until=values["until"],
        entities=[Choice(e.value, lab(f"admin.entity.{e.value}")) for e in ChangeEntity],
        actions=[Choice(a.value, lab(f"admin.action.{a.value}")) for a in ChangeAction],
        lines=[], pager=Pager(0, None, None))
    days = {k: _day(values[k]) for k in ("since", "until")}
    for name in ("since", "until"):
        if values[name] and days[name] is None:
            view.problem = Problem(field=f"f-{name}", label=lab(f"admin.field.{name}"),
                                   message=lab("admin.audit.filter_error"))
            return view
    tz = get_settings().tz
    since, until = days["since"], days["until"]
    offset = _offset(params)
    rows, total = admin.changes(
        session, actor=actor, entity=ChangeEntity(entity) if entity else None,
        action=ChangeAction(action) if action else None, by=values["by"] or None,
        since=as_utc(datetime.combine(since, time.min), tz) if since else None,
        until=as_utc(datetime.combine(until + timedelta(days=1), time.min), tz)
        if until else None, offset=offset)
    view.lines = change_lines(rows, lab, root)
    query = {k: v for k, v in (("entity", entity), ("action", action), ("by", values["by"]),
                               ("since", values["since"]), ("until", values["until"])) if v}
    view.pager = _pager(f"{root}/admin/audit", query, offset, total)
    return view


# --- KPI targets -------------------------------------------------------------------------------

KPI_TARGET_FIELDS = ("kpi", "scope", "value", "valid_from", "note")
BANK_WIDE = "bank"  # the scope select's value for a bank-wide target
HEAD_OFFICE_DEPTH = 2  # "/1/": an actor this high may set bank-wide targets


@dataclass(frozen=True)
class OrgTarget:
    org: str
    value: str
    valid_from: str


@dataclass(frozen=True)
class KpiTargetLine:
    code: str
    label: str
    unit: str
    bank_wide: str
    bank_wide_from: str
    orgs: list[OrgTarget]


@dataclass(frozen=True)
class TargetChangeLine:
    at: str
    by: str
    kpi: str
    org: str
    valid_from: str
    before: str
    after: str
    note: str


@dataclass
class KpiTargetsView:
    lines: list[KpiTargetLine]
    kpis: list[Choice]
    orgs: list[Choice]
    history: list[TargetChangeLine]
    form: FormState
    done: str
    may_set: bool


def _figure(value: float | None, lab: Labeller) -> str:
    return lab("none") if value is None else f"{value:g}"


def _month(value: date) -> str:
    return value.strftime("%Y-%m")


def kpi_targets_view(session: Session, *, actor: Actor, lab: Labeller, done: str = "",
                     form: FormState | None = None) -> KpiTargetsView:
    """Each KPI of the registry with the targets in force today (bank-wide, and per org of the
    viewer's subtree), the form to set one and the latest settings."""
    actor.require("kpi.read")
    orgs = org_service.list_orgs(session, actor=actor)
    by_id = {o.id: o for o in orgs}
    today = datetime.now(get_settings().tz).date()
    in_force = analytics.targets_in_force(session, actor=actor, on=today)
    lines = []
    for code, kpi in REGISTRY.items():
        mine = [t for t in in_force if t.kpi == code]
        bank = next((t for t in mine if t.org_id is None), None)
        per_org = sorted((t for t in mine if t.org_id in by_id),
                         key=lambda t: by_id[t.org_id or 0].path)
        lines.append(KpiTargetLine(
            code=code, label=kpi.label(lab.lang), unit=lab(f"admin.kpi.unit.{kpi.unit}"),
            bank_wide=_figure(bank.value if bank else None, lab),
            bank_wide_from=_month(bank.valid_from) if bank else "",
            orgs=[OrgTarget(org=f"{_org_name(by_id[t.org_id or 0], lab)} "
                                f"({by_id[t.org_id or 0].code})",
                            value=_figure(t.value, lab), valid_from=_month(t.valid_from))
                  for t in per_org]))
    base = actor.org_path.count("/")
    choices = [Choice(BANK_WIDE, lab("admin.kpi.bank_wide"))] if base <= HEAD_OFFICE_DEPTH \
        else []
    choices += [Choice(str(o.id), "\u3000" * (o.path.count("/") - base)
                       + f"{_org_name(o, lab)} ({o.code})") for o in orgs if o.active]

    def org_label(org_id: int | None) -> str:
        if org_id is None:
            return lab("admin.kpi.bank_wide")
        org = by_id.get(org_id)
        return f"{_org_name(org, lab)} ({org.code})" if org else f"#{org_id}"

    history = [TargetChangeLine(
        at=lab.when(c.at), by=c.actor_username,
        kpi=REGISTRY[c.kpi].label(lab.lang) if c.kpi in REGISTRY else c.kpi,
        org=org_label(c.org_id), valid_from=_month(c.valid_from),
        before=_figure(c.before_value, lab), after=_figure(c.after_value, lab), note=c.note)
        for c in analytics.target_changes(session, actor=actor)]
    return KpiTargetsView(
        lines=lines, kpis=[Choice(code, kpi.label(lab.lang)) for code, kpi in REGISTRY.items()],
        orgs=choices, history=history, form=form or FormState(),
        done=lab("admin.kpi.done") if done == "set" else "", may_set=actor.can("kpi.manage"))


def _target_month(value: str) -> date:
    try:
        month = datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise Invalid("valid_from: a month as YYYY-MM", field="valid_from") from None
    return month


def _target_value(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Invalid("value: a number", field="value") from None
    if not math.isfinite(number):
        raise Invalid("value: a number", field="value")
    return number


def set_kpi_target(session: Session, *, actor: Actor, posted: Posted,
                   lab: Labeller) -> tuple[bool, FormState]:
    """Set a target from the form: (True, the form) or (False, the form saying what to fix).
    A missing permission is raised (the 403 page); a bank-wide target asked for by a branch
    comes back on the org field with 403."""
    actor.require("kpi.manage")
    form = _posted(posted, KPI_TARGET_FIELDS)
    missing = [n for n in ("kpi", "scope", "value", "valid_from") if not form.get(n)]

    def change() -> object:
        if missing:
            raise Invalid(f"{missing[0]}: required", field=missing[0])
        kpi = get_kpi(form.get("kpi")).code
        code: str | None = None
        if form.get("scope") != BANK_WIDE:
            org = session.get(Org, _int(form.get("scope")))
            if org is None or not org_service.org_visible(actor, org):
                raise NotFound("scope: not within your scope", field="scope")
            code = org.code
        return analytics.set_target(
            session, actor=actor, kpi=kpi, value=_target_value(form.get("value")),
            valid_from=_target_month(form.get("valid_from")), org=code,
            note=form.get("note"))

    try:
        with session.begin_nested():
            change()
    except BankvocError as exc:
        name = "scope" if exc.field == "org" else exc.field or ""  # the service's org
        if name not in KPI_TARGET_FIELDS:
            raise
        if name in missing:
            message = lab("admin.why.required")
        elif name == "scope" and isinstance(exc, Forbidden):
            message = lab("admin.kpi.why.bank_wide" if form.get("scope") == BANK_WIDE
                          else "admin.why.org_unknown")
        elif name == "scope":
            message = lab("admin.why.org_unknown")
        else:
            message = lab(f"admin.kpi.why.{name}")
        form.errors[name] = message
        form.problem = Problem(field=f"f-{name}", label=lab(f"admin.field.{name}"),
                               message=message)
        form.status = exc.status
        return False, form
    return True, form

"""The configuration screens (/admin/config): every kind with the version in force, each kind's
versions and activations (who, when, why), a version's text with its differences from the one
in force, an editor that saves a new version, and the forms that put a version in force or roll
back.

Everything goes through `config.service`, which checks `config.read` / `config.manage` (the
route table's gate refuses other roles first). A refused edit leaves nothing behind (the service
runs in a savepoint) and comes back with each problem's line and reason next to the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from bankvoc.api.deps import DbSession
from bankvoc.config import service
from bankvoc.config.kinds import ConfigInvalid, get_kind
from bankvoc.core.errors import BankvocError
from bankvoc.orgs.service import Actor
from bankvoc.web.forms import Posted
from bankvoc.web.present import Labeller
from bankvoc.web.rendering import CurrentViewer, Lab, PageRoute, PostedForm, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

BASE = "/admin/config"
DONE = ("saved", "activated", "rollback")


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _kind_url(root: str, kind: str) -> str:
    return f"{root}{BASE}/{quote(kind)}"


# --- views ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindLine:
    code: str
    label: str
    active: int
    latest: int
    versions: int
    changed_at: str
    changed_by: str
    url: str


@dataclass(frozen=True)
class VersionLine:
    version: int
    created_at: str
    created_by: str
    note: str
    based_on: int
    active: bool
    url: str


@dataclass(frozen=True)
class ActivationLine:
    at: str
    by: str
    action: str
    version: int
    previous: int
    note: str


@dataclass(frozen=True)
class Refusal:
    """What stopped a form: a message, and each problem of a refused text (line, where, why)."""

    message: str
    problems: list[tuple[int | None, str, str]] = field(default_factory=list)


@dataclass
class KindPage:
    code: str
    label: str
    file_source: str
    active: int
    versions: list[VersionLine]
    activations: list[ActivationLine]
    can_manage: bool
    done: str = ""
    refusal: Refusal | None = None
    status_code: int = 200


@dataclass
class VersionPage:
    code: str
    label: str
    version: int
    active: int
    content: str
    note: str
    created_at: str
    created_by: str
    source: str
    against: int
    diff: list[tuple[str, str]]  # (css class, line)
    can_manage: bool
    saved: bool = False


@dataclass
class EditPage:
    code: str
    label: str
    content: str
    note: str
    based_on: int
    refusal: Refusal | None = None
    status_code: int = 200


def _refusal(exc: BankvocError, lab: Labeller) -> Refusal:
    if isinstance(exc, ConfigInvalid):
        return Refusal(lab("cfg.refused_text", n=len(exc.problems)),
                       [(p.line, p.path, p.reason) for p in exc.problems])
    key = {"config_conflict": "cfg.refused_conflict", "config_in_force": "cfg.refused_in_force",
           "config_unchanged": "cfg.refused_unchanged",
           "config_version_not_found": "cfg.refused_not_found"}.get(exc.code, "cfg.refused")
    return Refusal(lab(key), [(None, exc.field or "", exc.message)])


def overview(session: Session, *, actor: Actor, lab: Labeller, root: str) -> list[KindLine]:
    return [KindLine(code=r.kind.code, label=r.kind.label(lab.lang), active=r.active,
                     latest=r.latest, versions=r.versions, changed_at=lab.when(r.changed_at),
                     changed_by=r.changed_by or lab("none"),
                     url=_kind_url(root, r.kind.code))
            for r in service.overview(session, actor=actor)]


def kind_page(session: Session, *, actor: Actor, kind: str, lab: Labeller, root: str,
              done: str = "", refusal: Refusal | None = None, status: int = 200) -> KindPage:
    found = get_kind(kind)
    url = _kind_url(root, kind)
    rows = service.history(session, actor=actor, kind=kind)
    return KindPage(
        code=kind, label=found.label(lab.lang), file_source=found.file_source(),
        active=service.active_version(session, kind=kind),
        versions=[VersionLine(version=v.version, created_at=lab.when(v.created_at),
                              created_by=v.created_by_name, note=v.note, based_on=v.based_on,
                              active=v.active, url=f"{url}/versions/{v.version}") for v in rows],
        activations=[ActivationLine(at=lab.when(a.at), by=a.by_name,
                                    action=lab(f"cfg.action_{a.action}"), version=a.version,
                                    previous=a.previous, note=a.note)
                     for a in service.activations(session, actor=actor, kind=kind)],
        can_manage=actor.can(service.MANAGE), done=done if done in DONE else "",
        refusal=refusal, status_code=status)


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-file"
    return {"+": "diff-add", "-": "diff-del", "@": "diff-hunk"}.get(line[:1], "diff-ctx")


def version_page(session: Session, *, actor: Actor, kind: str, version: int, lab: Labeller,
                 against: str = "", saved: bool = False) -> VersionPage:
    found = get_kind(kind)
    text = service.get_version(session, actor=actor, kind=kind, version=version)
    active = service.active_version(session, kind=kind)
    other = int(against) if against.isdigit() else (active if version != active
                                                    else text.based_on)
    lines = service.diff(session, actor=actor, kind=kind, old=other, new=version)
    return VersionPage(
        code=kind, label=found.label(lab.lang), version=version, active=active,
        content=text.content, note=text.note, created_at=lab.when(text.created_at),
        created_by=text.created_by or lab("none"), source=text.source, against=other,
        diff=[(_diff_class(line), line) for line in lines],
        can_manage=actor.can(service.MANAGE), saved=saved)


def edit_page(session: Session, *, actor: Actor, kind: str, lab: Labeller,
              start: str = "") -> EditPage:
    found = get_kind(kind)
    actor.require(service.MANAGE)
    version = int(start) if start.isdigit() else service.active_version(session, kind=kind)
    text = service.get_version(session, actor=actor, kind=kind, version=version)
    return EditPage(code=kind, label=found.label(lab.lang), content=text.content, note="",
                    based_on=version)


def save(session: Session, *, actor: Actor, kind: str, posted: Posted,
         lab: Labeller) -> tuple[int | None, EditPage]:
    """Save the posted text: (its version, the page) or (None, the page with the problems)."""
    found = get_kind(kind)
    based = posted.get("based_on").strip()
    page = EditPage(code=kind, label=found.label(lab.lang), content=posted.get("content"),
                    note=posted.get("note"), based_on=int(based) if based.isdigit() else 0)
    try:
        with session.begin_nested():
            row = service.save_version(session, actor=actor, kind=kind, content=page.content,
                                       note=page.note,
                                       based_on=page.based_on if based.isdigit() else None)
    except BankvocError as exc:
        if exc.status == 403:
            raise
        page.refusal, page.status_code = _refusal(exc, lab), exc.status
        return None, page
    return row.version, page


# --- routes ---------------------------------------------------------------------------------------

@router.get(BASE)
def config_home(request: Request, session: DbSession, who: CurrentViewer,
                lab: Lab) -> Response:
    """Every kind of configuration with the version in force."""
    lines = overview(session, actor=who.actor, lab=lab, root=_root(request))
    return render(request, "admin/config.html", {"lines": lines, "nav": "admin"}, lab=lab,
                  who=who)


@router.get(BASE + "/{kind}")
def config_kind(request: Request, kind: str, session: DbSession, who: CurrentViewer,
                lab: Lab) -> Response:
    """A kind's versions and what was put in force when, with the forms to change it."""
    page = kind_page(session, actor=who.actor, kind=kind, lab=lab, root=_root(request),
                     done=request.query_params.get("done", ""))
    return render(request, "admin/config_kind.html", {"page": page, "nav": "admin"}, lab=lab,
                  who=who)


@router.get(BASE + "/{kind}/edit")
def config_edit(request: Request, kind: str, session: DbSession, who: CurrentViewer,
                lab: Lab) -> Response:
    """The editor, holding the version in force (or `?from=N`)."""
    page = edit_page(session, actor=who.actor, kind=kind, lab=lab,
                     start=request.query_params.get("from", ""))
    return render(request, "admin/config_edit.html", {"page": page, "nav": "admin"}, lab=lab,
                  who=who)


@router.post(BASE + "/{kind}/versions")
def config_save(request: Request, kind: str, session: DbSession, who: CurrentViewer, lab: Lab,
                posted: PostedForm) -> Response:
    """Save the edit as a new version: 303 to it; refused: the editor again with each
    problem's line and reason (422, 409 when someone saved at the same moment)."""
    version, page = save(session, actor=who.actor, kind=kind, posted=posted, lab=lab)
    url = _kind_url(_root(request), kind)
    if version is not None:
        return RedirectResponse(f"{url}/versions/{version}?saved=1", status_code=303)
    return render(request, "admin/config_edit.html", {"page": page, "nav": "admin"}, lab=lab,
                  who=who, status=page.status_code, page_url=f"{url}/edit")


@router.get(BASE + "/{kind}/versions/{version}")
def config_version(request: Request, kind: str, version: int, session: DbSession,
                   who: CurrentViewer, lab: Lab) -> Response:
    """A version's text and its differences from the one in force (or `?against=N`)."""
    page = version_page(session, actor=who.actor, kind=kind, version=version, lab=lab,
                        against=request.query_params.get("against", ""),
                        saved=request.query_params.get("saved") == "1")
    return render(request, "admin/config_version.html", {"page": page, "nav": "admin"},
                  lab=lab, who=who)


def _change(request: Request, session: Session, who: CurrentViewer, lab: Labeller, kind: str,
            change: str, posted: Posted, version: int = 0) -> Response:
    note = posted.get("note")
    try:
        with session.begin_nested():
            if change == "rollback":
                service.rollback(session, actor=who.actor, kind=kind, note=note)
            else:
                service.activate(session, actor=who.actor, kind=kind, version=version,
                                 note=note)
    except BankvocError as exc:
        if exc.status in (403, 404) and not isinstance(exc, ConfigInvalid):
            raise
        url = _kind_url(_root(request), kind)
        page = kind_page(session, actor=who.actor, kind=kind, lab=lab, root=_root(request),
                         refusal=_refusal(exc, lab), status=exc.status)
        return render(request, "admin/config_kind.html", {"page": page, "nav": "admin"},
                      lab=lab, who=who, status=exc.status, page_url=url)
    query = urlencode({"done": change})
    return RedirectResponse(f"{_kind_url(_root(request), kind)}?{query}#history",
                            status_code=303)


@router.post(BASE + "/{kind}/versions/{version}/activate")
def config_activate(request: Request, kind: str, version: int, session: DbSession,
                    who: CurrentViewer, lab: Lab, posted: PostedForm) -> Response:
    """Put a version in force (0: the file): 303 to the kind, which says so; refused (in force
    already, no longer valid): the kind's page with the reason."""
    return _change(request, session, who, lab, kind, "activated", posted, version)


@router.post(BASE + "/{kind}/rollback")
def config_rollback(request: Request, kind: str, session: DbSession, who: CurrentViewer,
                    lab: Lab, posted: PostedForm) -> Response:
    """Put back the version in force before the last change."""
    return _change(request, session, who, lab, kind, "rollback", posted)

"""Versioned configuration: save an edit as a new version, compare versions, put one in force,
roll back.

Nothing is overwritten: every save is a new `ConfigVersion` (numbered per kind from 1; version 0
is the kind's file), every activation, rollback or return to the file a new `ConfigActivation`,
both with who, when and why; together they are the audit trail of configuration. An edit is
checked by its feature's own parser before it is saved (and again before it is put in force, in
case the application changed since): a bad one is refused with the line and reason of each
problem and saves nothing.

Reading needs `config.read`, changing `config.manage`. Functions take the session first,
flush and never commit; putting a version in force invalidates this process's view of the
versions in force when the transaction commits (other processes re-read it within
`configstore.REFRESH_SECONDS`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bankvoc.config.errors import ConfigConflict, NothingChanged, VersionNotFound
from bankvoc.config.kinds import KINDS, ConfigInvalid, Kind, get_kind
from bankvoc.core import configstore
from bankvoc.core.configstore import ConfigActivation, ConfigVersion, content_hash
from bankvoc.core.errors import Invalid
from bankvoc.core.yamlfile import Problem
from bankvoc.orgs.service import Actor

FILE_VERSION = 0
MAX_CHARS = 1_000_000
NOTE_MAX = 500
READ, MANAGE = "config.read", "config.manage"


@dataclass(frozen=True)
class KindStatus:
    """A kind with the version in force (0: its file) and its history's size."""

    kind: Kind
    active: int
    latest: int
    versions: int
    changed_at: datetime | None
    changed_by: str


@dataclass(frozen=True)
class VersionText:
    """A version's text and record; version 0 is the kind's file."""

    kind: str
    version: int
    content: str
    sha256: str
    active: bool
    note: str = ""
    based_on: int = 0
    created_at: datetime | None = None
    created_by: str = ""
    source: str = ""


def normal_text(content: str) -> str:
    """The text as stored: Unix line ends (a browser's textarea posts CRLF), one final end."""
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n" if text.strip() else ""


def _note(note: str, *, required: bool) -> str:
    note = " ".join(note.split())
    if required and not note:
        raise Invalid("note: say why the configuration changes (it is kept with the version)",
                      field="note")
    if len(note) > NOTE_MAX:
        raise Invalid(f"note: at most {NOTE_MAX} characters", field="note")
    return note


def _active_row(session: Session, kind: str) -> ConfigVersion | None:
    return session.scalar(select(ConfigVersion).where(ConfigVersion.kind == kind,
                                                      ConfigVersion.active))


def _row(session: Session, kind: str, version: int) -> ConfigVersion:
    found = session.scalar(select(ConfigVersion).where(ConfigVersion.kind == kind,
                                                       ConfigVersion.version == version))
    if found is None:
        raise VersionNotFound(f"{kind} has no version {version}", field="version")
    return found


# --- reading --------------------------------------------------------------------------------------

def overview(session: Session, *, actor: Actor) -> list[KindStatus]:
    """Every kind with the version in force and when it was last put in force."""
    actor.require(READ)
    counts = {kind: (latest, n) for kind, latest, n in session.execute(
        select(ConfigVersion.kind, func.max(ConfigVersion.version), func.count())
        .group_by(ConfigVersion.kind))}
    active = {kind: version for kind, version in session.execute(
        select(ConfigVersion.kind, ConfigVersion.version).where(ConfigVersion.active))}
    last_at = (select(ConfigActivation.kind, func.max(ConfigActivation.id).label("last"))
               .group_by(ConfigActivation.kind).subquery())
    changed = {row.kind: (row.at, row.by_name) for row in session.scalars(
        select(ConfigActivation).join(last_at, ConfigActivation.id == last_at.c.last))}
    return [KindStatus(kind=kind, active=active.get(code, FILE_VERSION),
                       latest=counts.get(code, (0, 0))[0], versions=counts.get(code, (0, 0))[1],
                       changed_at=changed.get(code, (None, ""))[0],
                       changed_by=changed.get(code, (None, ""))[1])
            for code, kind in KINDS.items()]


def history(session: Session, *, actor: Actor, kind: str) -> list[ConfigVersion]:
    """The saved versions of a kind, newest first."""
    actor.require(READ)
    get_kind(kind)
    return list(session.scalars(select(ConfigVersion).where(ConfigVersion.kind == kind)
                                .order_by(ConfigVersion.version.desc())))


def activations(session: Session, *, actor: Actor, kind: str,
                limit: int = 100) -> list[ConfigActivation]:
    """What was put in force, when, by whom and why: newest first."""
    actor.require(READ)
    get_kind(kind)
    return list(session.scalars(select(ConfigActivation).where(ConfigActivation.kind == kind)
                                .order_by(ConfigActivation.id.desc()).limit(limit)))


def active_version(session: Session, *, kind: str) -> int:
    """The version of `kind` in force (0: its file)."""
    row = _active_row(session, kind)
    return row.version if row is not None else FILE_VERSION


def get_version(session: Session, *, actor: Actor, kind: str, version: int) -> VersionText:
    """A version's text and record (0: the kind's file)."""
    actor.require(READ)
    found = get_kind(kind)
    if version == FILE_VERSION:
        text = found.file_text()
        return VersionText(kind=kind, version=FILE_VERSION, content=text,
                           sha256=content_hash(text), source=found.file_source(),
                           active=_active_row(session, kind) is None)
    row = _row(session, kind, version)
    return VersionText(kind=kind, version=row.version, content=row.content,
                       sha256=row.content_sha256, active=row.active, note=row.note,
                       based_on=row.based_on, created_at=row.created_at,
                       created_by=row.created_by_name, source=f"{kind} v{row.version}")


def diff(session: Session, *, actor: Actor, kind: str, old: int, new: int,
         context: int = 3) -> list[str]:
    """The unified diff from version `old` to `new` (lines without their ends)."""
    before = get_version(session, actor=actor, kind=kind, version=old)
    after = get_version(session, actor=actor, kind=kind, version=new)
    return list(difflib.unified_diff(before.content.splitlines(), after.content.splitlines(),
                                     fromfile=f"{kind} v{old}", tofile=f"{kind} v{new}",
                                     n=context, lineterm=""))


def check(*, kind: str, content: str) -> object:
    """What `content` configures, or ConfigInvalid with the line and reason of each problem."""
    found = get_kind(kind)
    text = normal_text(content)
    if not text:
        raise ConfigInvalid("content: the configuration is empty",
                            problems=[Problem((), "the configuration is empty", 1)])
    if len(text) > MAX_CHARS:
        raise ConfigInvalid(f"content: at most {MAX_CHARS} characters",
                            problems=[Problem((), f"longer than {MAX_CHARS} characters")])
    return found.validate(text, source=f"{kind} (edit)")


# --- changing -------------------------------------------------------------------------------------

def save_version(session: Session, *, actor: Actor, kind: str, content: str, note: str,
                 based_on: int | None = None) -> ConfigVersion:
    """Save an edit as the kind's next version (not yet in force). Refused, saving nothing:
    a text its feature's parser refuses (ConfigInvalid, with each problem's line and reason),
    no note, or a text identical to the version it was edited from."""
    actor.require(MANAGE)
    get_kind(kind)
    note = _note(note, required=True)
    check(kind=kind, content=content)
    text = normal_text(content)
    base = active_version(session, kind=kind) if based_on is None else based_on
    if get_version(session, actor=actor, kind=kind, version=base).content == text:
        raise NothingChanged(f"content: identical to version {base}: nothing to save",
                             field="content")
    latest = session.scalar(select(func.max(ConfigVersion.version))
                            .where(ConfigVersion.kind == kind)) or 0
    row = ConfigVersion(kind=kind, version=latest + 1, content=text,
                        content_sha256=content_hash(text), based_on=base, note=note,
                        created_by=actor.user_id, created_by_name=actor.username, active=False)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ConfigConflict(f"another version of {kind} was saved at the same moment: "
                             "reload and save again", field="version") from None
    return row


def activate(session: Session, *, actor: Actor, kind: str, version: int, note: str = "",
             action: str = "activate") -> ConfigActivation:
    """Put a version in force (0: back to the file). It is checked again first: a version the
    application no longer accepts is refused (ConfigInvalid) and nothing changes."""
    actor.require(MANAGE)
    get_kind(kind)
    note = _note(note, required=False)
    current = _active_row(session, kind)
    previous = current.version if current is not None else FILE_VERSION
    if version == previous:
        raise ConfigConflict(f"{kind} version {version} is in force already", field="version",
                             code="config_in_force")
    target = None if version == FILE_VERSION else _row(session, kind, version)
    if target is not None:
        check(kind=kind, content=target.content)
    try:
        with session.begin_nested():
            session.execute(update(ConfigVersion)
                            .where(ConfigVersion.kind == kind, ConfigVersion.active)
                            .values(active=False).execution_options(synchronize_session="fetch"))
            if target is not None:
                target.active = True
            record = ConfigActivation(
                kind=kind, version=version, previous=previous,
                action="file" if target is None and action == "activate" else action,
                note=note, by_user=actor.user_id, by_name=actor.username)
            session.add(record)
    except IntegrityError:
        raise ConfigConflict(f"another version of {kind} was put in force at the same moment: "
                             "reload and try again", field="version") from None
    configstore.invalidate_after_commit(session)
    return record


def rollback(session: Session, *, actor: Actor, kind: str, note: str = "") -> ConfigActivation:
    """Put back the version that was in force before the last change of `kind`."""
    actor.require(MANAGE)
    get_kind(kind)
    last = session.scalar(select(ConfigActivation).where(ConfigActivation.kind == kind)
                          .order_by(ConfigActivation.id.desc()).limit(1))
    if last is None:
        raise Invalid(f"{kind} has never been changed: nothing to roll back", field="version")
    return activate(session, actor=actor, kind=kind, version=last.previous, note=note,
                    action="rollback")

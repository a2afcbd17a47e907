"""Versioned configuration: every edit of a bank-editable file is kept, one version in force.

The files a bank edits without code (the taxonomy, the deadline policy and calendar, the
notification templates, routing rules and authority limits, grading and alert rules) are
edited on the admin screens (`bankvoc.config`), each save a new `ConfigVersion` of its kind
(nothing is overwritten) and each activation, rollback or return to the file an appended
`ConfigActivation`: together they are the record of who changed what, when and why.

Version 0 of each kind is its file: the bank's own (its `BANKVOC_*_FILE` setting), else the
one shipped in the package. It is in force until an administrator activates a stored version.

How processes pick up an activation (several API processes, workers, imports):

- Each process keeps a view of the versions in force (`current()`: kind -> version, hash and
  text). The owner of every unit of work (`core.db.transaction`: API requests and pages, jobs,
  CLI commands, each stored import batch) calls `refresh(session)` as it begins; it reads the
  database at most once every `REFRESH_SECONDS` (one small query of kind/version/hash; the
  text only of a kind whose version changed). Another process therefore uses a newly
  activated version at most `REFRESH_SECONDS` after the activation commits (a unit of work
  already running finishes with the view it began with); the process that activates, at once
  (its view is invalidated when the activating transaction commits).
- Loaders read the view, never the database: a dict look-up per call, nothing in hot loops.
  What they make of a version (a parsed policy, compiled lexicons) is cached by its content
  hash (`parsed`), so derived state is keyed by version and built once per process.
- An import takes the view once when it starts (`IntakeContext.config`) and hands it to its
  worker processes: one import is classified, graded and routed under one configuration.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bankvoc.core.models import Base
from bankvoc.core.timeutil import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

# How old a process's view of the versions in force may get before a unit of work re-reads it.
REFRESH_SECONDS = 5.0
# Parsed versions kept per kind (the one in force, and a few recent ones being compared).
PARSED_PER_KIND = 4


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- tables --------------------------------------------------------------------------------------

class ConfigVersion(Base):
    """One saved version of a kind of configuration: the YAML text as edited, never changed.

    At most one version of a kind is `active` (a partial unique index holds it so, even for
    two administrators activating at once); none active means the kind's file is in force.
    """

    __tablename__ = "config_version"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    # The version the edit started from (0: the file), so the history shows what it changed.
    based_on: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_by_name: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=False)


# One active version per kind: a partial unique index over the active rows.
Index("ix_config_version_active_kind", ConfigVersion.kind, unique=True,
      sqlite_where=ConfigVersion.active, postgresql_where=ConfigVersion.active)


class ConfigActivation(Base):
    """Append-only: which version of a kind was put in force, by whom, when and why
    (`action`: activate, rollback, or file: back to version 0)."""

    __tablename__ = "config_activation"
    __table_args__ = (Index("ix_config_activation_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)  # 0: the file
    previous: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_user: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    by_name: Mapped[str] = mapped_column(String(64), default="")


# --- the process's view of the versions in force -------------------------------------------------

@dataclass(frozen=True)
class Active:
    """A stored version in force."""

    kind: str
    version: int
    sha256: str
    text: str

    @property
    def source(self) -> str:
        """How problems in it are located: `taxonomy v3`."""
        return f"{self.kind} v{self.version}"


@dataclass(frozen=True)
class Snapshot:
    """The stored versions in force, by kind (a kind left out: its file is in force)."""

    versions: Mapping[str, Active] = field(default_factory=dict)

    def get(self, kind: str) -> Active | None:
        return self.versions.get(kind)

    def refs(self) -> dict[str, int]:
        """kind -> version in force (0 for none stored)."""
        return {kind: active.version for kind, active in sorted(self.versions.items())}


EMPTY = Snapshot()

_lock = threading.Lock()
_view: Snapshot = EMPTY
_checked_at = float("-inf")  # time.monotonic() of the last read


def current() -> Snapshot:
    """The versions this process has in force: no database read."""
    return _view


def refresh(session: Session, *, max_age: float = REFRESH_SECONDS) -> Snapshot:
    """The versions in force, re-read through `session` when the view is older than `max_age`
    seconds (0: now). A database without the tables yet (before migration 0023) has none."""
    global _view, _checked_at
    if time.monotonic() - _checked_at < max_age:
        return _view
    try:
        with session.begin_nested():
            rows = session.execute(
                select(ConfigVersion.kind, ConfigVersion.version, ConfigVersion.content_sha256)
                .where(ConfigVersion.active)).all()
            known = _view
            changed = [kind for kind, version, sha in rows
                       if (old := known.get(kind)) is None or old.version != version
                       or old.sha256 != sha]
            texts = {kind: text for kind, text in session.execute(
                select(ConfigVersion.kind, ConfigVersion.content)
                .where(ConfigVersion.active, ConfigVersion.kind.in_(changed)))} if changed else {}
    except (OperationalError, ProgrammingError) as exc:
        # No table yet, or a locked database: keep the view, try again next time.
        log.debug("versions in force not read: %s", type(exc).__name__)
        return _view
    versions = {kind: known.versions[kind] if kind not in texts
                else Active(kind, version, sha, texts[kind])
                for kind, version, sha in rows if kind in texts or kind in known.versions}
    with _lock:
        _view, _checked_at = Snapshot(versions), time.monotonic()
    return _view


def invalidate() -> None:
    """Re-read the versions at the next unit of work (after an activation here)."""
    global _checked_at
    with _lock:
        _checked_at = float("-inf")


def invalidate_after_commit(session: Session) -> None:
    """Invalidate the view once `session`'s transaction commits (nothing if it rolls back)."""
    event.listen(session, "after_commit", lambda _s: invalidate(), once=True)


def install(snapshot: Snapshot) -> None:
    """Put `snapshot` in force in this process (worker processes of an import)."""
    global _view, _checked_at
    with _lock:
        _view, _checked_at = snapshot, time.monotonic()


def reset() -> None:
    """Forget the view and everything parsed (tests)."""
    global _view, _checked_at
    with _lock:
        _view, _checked_at = EMPTY, float("-inf")
        _parsed.clear()


# --- what loaders make of a version -------------------------------------------------------------

_parsed: OrderedDict[tuple[str, str], Any] = OrderedDict()


def parsed(kind: str, parse: Callable[[str, str], T], *,
           snapshot: Snapshot | None = None) -> T | None:
    """`parse(text, source)` of the version of `kind` in force (in `snapshot`, else in this
    process), made once per content; None when the kind's file is in force."""
    active = (snapshot or _view).get(kind)
    if active is None:
        return None
    key = (kind, active.sha256)
    try:
        found: T = _parsed[key]
    except KeyError:
        found = parse(active.text, active.source)
        with _lock:
            _parsed[key] = found
            mine = [k for k in _parsed if k[0] == kind]
            for old in mine[:-PARSED_PER_KIND]:
                del _parsed[old]
    return found

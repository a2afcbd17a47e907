"""The figures' version: a token that every committed change to what the KPI figures are made
of (the roll-up, the imported denominators, the targets, the org tree) replaces, so a process
may keep figures it worked out and reuse them for as long as the token it read them under is
still the one in the database.

Nothing has to remember to move it: the session events below see every write to those tables
made through a session (ORM objects flushed, or insert/update/delete statements executed) and
replace the token in the same transaction, just before it commits. A new token is random, never
the old one plus one, so a change that rolled back can never be mistaken for a later one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any, TypeVar

from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from bankvoc.analytics.models import CaseRollup, FiguresVersion, KpiTarget, OrgMonthStat
from bankvoc.core.db import insert_skipping_taken
from bankvoc.orgs.models import Org

SOURCES: tuple[type[Any], ...] = (CaseRollup, OrgMonthStat, KpiTarget, Org)
_CHANGED = "bankvoc.analytics.figures_changed"
_ROW = 1


def changed_in(session: Session) -> bool:
    """Whether this transaction has written what the figures are made of (not committed yet)."""
    return bool(session.info.get(_CHANGED))


def current(session: Session) -> str | None:
    """The token in force (None in a database that has never had one)."""
    return session.scalar(select(FiguresVersion.token).where(FiguresVersion.id == _ROW))


def _replace_token(session: Session) -> None:
    token = secrets.token_hex(12)
    done = session.execute(update(FiguresVersion).where(FiguresVersion.id == _ROW)
                           .values(token=token).execution_options(synchronize_session=False))
    if not getattr(done, "rowcount", 0):
        session.execute(insert_skipping_taken(session, FiguresVersion, ("id",))
                        .values(id=_ROW, token=token))


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and \
            state.bind_mapper is not None and state.bind_mapper.class_ in SOURCES:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if not session.info.get(_CHANGED) and any(
            isinstance(obj, SOURCES)
            for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _on_commit(session: Session) -> None:
    session.flush()  # so the flush's own changes are seen before the token is replaced
    if session.info.pop(_CHANGED, False):
        _replace_token(session)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_T = TypeVar("_T")


class FiguresCache:
    """Figures worked out under one token, reused while it stays in force (per process; each
    use reads the token, so API processes never serve each other's stale figures)."""

    def __init__(self, most: int = 2048) -> None:
        self.most = most
        self._token: str | None = None
        self._entries: dict[Hashable, Any] = {}
        self._lock = Lock()

    def get(self, session: Session, key: Hashable, work_out: Callable[[], _T]) -> _T:
        token = current(session)  # first: reading flushes what the session still holds
        if token is None or changed_in(session):  # no token yet, or changes of its own
            return work_out()
        with self._lock:
            if token != self._token:
                self._token, self._entries = token, {}
            elif key in self._entries:
                return self._entries[key]  # type: ignore[no-any-return]
        value = work_out()
        with self._lock:
            if token == self._token:
                if len(self._entries) >= self.most:
                    self._entries.clear()
                self._entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._token, self._entries = None, {}

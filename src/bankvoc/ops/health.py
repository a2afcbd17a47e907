"""Liveness and readiness.

Liveness (`/healthz`) says the process answers; it touches nothing, so a slow or absent
database never gets a live process restarted. Readiness (`/readyz`) says the process may be
given traffic: its database answers and its schema is at the migrations' head (a process of a
new release waits for `bankvoc db upgrade`; one of an old release stops taking traffic once the
schema moved past it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core import migrate

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def schema_head() -> str | None:
    return migrate.head_revision()


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks}


def readiness(sessions: sessionmaker[Session]) -> Readiness:
    """Whether the database answers and its schema is at head (never raises)."""
    head = schema_head()
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
            current = session.scalar(text("SELECT version_num FROM alembic_version"))
            session.rollback()
    except SQLAlchemyError as exc:
        if _no_version_table(exc):
            return Readiness(False, {"database": "ok", "schema": f"at none, expected {head}"})
        # The type only: a driver's message may carry the connection string.
        log.warning("readiness: database unavailable (%s)", type(exc).__name__)
        return Readiness(False, {"database": "unavailable", "schema": "unknown"})
    if current != head:
        return Readiness(False, {"database": "ok",
                                 "schema": f"at {current or 'none'}, expected {head}"})
    return Readiness(True, {"database": "ok", "schema": str(head)})


def _no_version_table(exc: SQLAlchemyError) -> bool:
    return "alembic_version" in str(getattr(exc, "orig", exc))

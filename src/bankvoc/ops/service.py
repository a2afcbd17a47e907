"""Operational status: which database, which schema version, how much is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core import migrate
from bankvoc.customers.models import Customer
from bankvoc.intake.models import IntakeRecord
from bankvoc.orgs.models import Org, User


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def status(session: Session, *, engine: Engine) -> dict[str, Any]:
    url = engine.url
    return {
        "database": url.get_backend_name(),
        "database_url": url.render_as_string(hide_password=True),
        "migration": migrate.current_revision(engine),
        "migration_head": migrate.head_revision(),
        "cases": _count(session, Case),
        "records": _count(session, IntakeRecord),
        "events": _count(session, CaseEvent),
        "customers": _count(session, Customer),
        "orgs": _count(session, Org),
        "users": _count(session, User),
    }

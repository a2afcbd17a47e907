"""Jobs of accounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.jobs.registry import job
from bankvoc.orgs import auth


@job("orgs.auth_cleanup", every=timedelta(hours=6))
def auth_cleanup(now: datetime) -> dict[str, Any]:
    """Delete old auth events, ended sessions, stale failed log-ins and lapsed locks."""
    with unit_of_work(get_engine()) as session:
        return auth.cleanup(session, now=now)

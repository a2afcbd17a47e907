"""Jobs of callbacks and surveys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.jobs.registry import job
from bankvoc.surveys import service


@job("surveys.schedule_callbacks", every=timedelta(minutes=1))
def schedule_callbacks(now: datetime) -> dict[str, Any]:
    """Decide the callback of every newly resolved case (queue it or skip it by policy)."""
    with unit_of_work(get_engine()) as session:
        return service.schedule_due(session, now=now).as_dict()

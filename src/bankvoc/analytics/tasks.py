"""Jobs of the VOC numbers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.analytics import service
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.jobs.registry import job


@job("analytics.rollup_refresh", every=timedelta(minutes=1))
def rollup_refresh(now: datetime) -> dict[str, Any]:
    """Rebuild the roll-up rows of every case changed since the last run."""
    with unit_of_work(get_engine()) as session:
        return service.refresh_rollup(session).as_dict()

"""Jobs of early warning."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.alerts import service
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.jobs.registry import job


@job("alerts.scan", every=timedelta(days=1))
def scan(now: datetime) -> dict[str, Any]:
    """Raise yesterday's early-warning alerts (hot issues, emerging topics, mass complaints,
    regulator risk) and tell the consumer-protection office; a re-run changes nothing."""
    with unit_of_work(get_engine()) as session:
        return service.scan(session, now=now).as_dict()

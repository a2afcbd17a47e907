"""Jobs of the notification outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.jobs.registry import job
from bankvoc.notify import service


@job("notify.dispatch", every=timedelta(seconds=30))
def dispatch(now: datetime) -> dict[str, Any]:
    """Send the due notifications of the outbox (retries, back-off, dead letter)."""
    return service.dispatch_due(now=now).as_dict()

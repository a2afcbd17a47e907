"""Jobs of cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.cases import retention
from bankvoc.cases.workflow import sweep
from bankvoc.core.db import get_engine
from bankvoc.jobs.registry import job


@job("cases.retention", every=timedelta(days=1))
def purge_past_retention(now: datetime) -> dict[str, Any]:
    """Anonymise the finished cases kept past the retention period (never under legal hold)."""
    return retention.purge_due(get_engine(), now=now).as_dict()


@job("cases.sla_sweep", every=timedelta(minutes=1))
def sla_sweep(now: datetime) -> dict[str, Any]:
    """Fire the deadline warnings and escalations that are due, each once."""
    return sweep.sweep(now).as_dict()


@job("cases.sla_replan", every=timedelta(hours=1))
def sla_replan(now: datetime) -> dict[str, Any]:
    """Re-plan the open cases planned under another deadline policy version (once per process
    and version; run it at once after editing the policy: bankvoc jobs run cases.sla_replan)."""
    return {"replanned": sweep.replan_policy_change(now)}

"""Jobs of the reports: the monthly VOC reports, written and announced on the first days of a
month (reports/delivery.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.jobs.registry import job
from bankvoc.reports import delivery


@job("reports.monthly", every=timedelta(hours=6))
def monthly_reports(now: datetime) -> dict[str, Any]:
    """On the first days of a month, write last month's VOC report of head office and every
    branch and e-mail consumer protection and branch managers; a re-run e-mails nobody twice."""
    month = delivery.due_month(now)
    if month is None:
        return delivery.DeliveryReport(month=None, skipped="not the first days of a month"
                                       ).as_dict()
    with unit_of_work(get_engine()) as session:
        return delivery.deliver_month(session, month=month, now=now).as_dict()

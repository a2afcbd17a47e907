"""Deadlines. The first working default: the regulator's decision period per kind of case."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bankvoc.sla.calendar import period_end

# NFRA complaint measures (2020 No. 3): a decision within 15 days of receipt. Suggestions and
# hard questions get the same period until SLA policies (configuration) say otherwise.
DEFAULT_DECISION_DAYS = {
    "complaint": 15,
    "complaint_intent": 15,
    "suggestion": 15,
    "hard_question": 15,
}


def decision_due(kind: str, received_at: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    days = DEFAULT_DECISION_DAYS.get(kind)
    return None if days is None else period_end(received_at, days, tz)

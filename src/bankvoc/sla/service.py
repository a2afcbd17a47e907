"""Deadlines for other features: the configured policy, calendar and time zone applied.

`case_clocks` is what the case workflow calls with a case's facts and clock events (built from
its timeline) whenever they change; `decision_due` is the one number intake needs at receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bankvoc.core.settings import get_settings
from bankvoc.sla.calendar import get_calendar
from bankvoc.sla.clocks import CaseClocks, ClockEvent, compute_clocks
from bankvoc.sla.enums import Origin
from bankvoc.sla.policy import DECISION, CaseFacts, load_policy


def decision_due(kind: str, received_at: dt.datetime, tz: ZoneInfo,
                 origin: str = Origin.direct) -> dt.datetime | None:
    """When the decision on a case received at `received_at` is due (UTC), before any event;
    None for a kind the policy gives no decision clock (praise)."""
    rule = load_policy().statutory_rule(DECISION, CaseFacts(kind=kind, origin=origin))
    return None if rule is None else get_calendar().period_end(received_at, rule.days, tz)


def case_clocks(*, kind: str, received_at: dt.datetime, now: dt.datetime,
                events: Sequence[ClockEvent] = (), origin: str = Origin.direct,
                channel: str | None = None, severity: str | None = None) -> CaseClocks:
    """Every clock of a case as things stand at `now`, under the configured policy.

    Raises ClockEventInvalid, ExtensionRefused or ApproverNotAllowed for events the policy does
    not allow, so the workflow can refuse the action that would record them.
    """
    facts = CaseFacts(kind=kind, origin=origin, channel=channel, severity=severity)
    return compute_clocks(load_policy(), facts, received_at, events, now=now,
                          tz=get_settings().tz, calendar=get_calendar())

"""Regulatory periods counted as the Civil Code counts them.

Civil Code art. 201: the day of receipt is not counted. Art. 203: when the last day is a rest
day it moves to the next working day, and the period ends at 24:00. Rest and working days follow
the State Council's holiday notice, adjusted working weekends (调休) included, via chinese-calendar.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # A year the holiday notice has not covered yet: fall back to plain weekends.
        return day.weekday() < 5


@lru_cache(maxsize=8192)
def last_day(received: dt.date, days: int) -> dt.date:
    """The last day of a period of `days` days starting the day after `received`."""
    day = received + dt.timedelta(days=days)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def period_end(received_at: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    """The instant (UTC) a period of `days` days from `received_at` runs out: 24:00 local."""
    local_day = received_at.astimezone(tz).date()
    end = last_day(local_day, days) + dt.timedelta(days=1)
    return dt.datetime.combine(end, dt.time(), tzinfo=tz).astimezone(dt.UTC)

"""Times are stored in UTC and shown in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, local_tz: ZoneInfo) -> datetime:
    """A naive time is local time in the bank's zone; an aware one keeps its own offset."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_tz)
    return value.astimezone(UTC)


def ensure_aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def to_local(value: datetime, local_tz: ZoneInfo) -> datetime:
    return ensure_aware(value).astimezone(local_tz)

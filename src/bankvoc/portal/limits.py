"""Rate limits of the customer's page, counted in the database (`portal_hit`), so every API
process enforces them together.

A limit is "at most N of one action under one key within the last hour". Keys are HMACs of
what is counted (a client address, a case reference, a phone number) under the secret key, so
the table holds no personal data. Processes racing at the limit may each let one more through,
which is as exact as a guard against abuse needs to be. Rows older than a day are pruned as new
ones are written.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bankvoc.core.settings import get_settings
from bankvoc.portal.errors import RateLimited
from bankvoc.portal.models import PortalHit

WINDOW = timedelta(hours=1)
KEEP = timedelta(days=1)

# What is counted.
FILING = "filing"
CODE_REQUEST = "code_request"
CODE_FAILURE = "code_failure"
SUPPLEMENT = "supplement"


def key(kind: str, value: str) -> str:
    """The counted key of `value` (kind: ip, reference, phone, case): an HMAC, not the value."""
    secret = get_settings().effective_secret_key.encode()
    return hmac.new(secret, f"portal-limit:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def ip_key(client_ip: str | None) -> str:
    return key("ip", client_ip or "unknown")


def count(session: Session, *, action: str, key: str, now: datetime) -> int:
    return session.scalar(select(func.count(PortalHit.id)).where(
        PortalHit.action == action, PortalHit.key == key, PortalHit.at > now - WINDOW)) or 0


def check(session: Session, *, action: str, limits: list[tuple[str, int]],
          now: datetime) -> None:
    """Refuse (`RateLimited`) when any (key, limit) has reached its limit within the hour."""
    for counted, limit in limits:
        if count(session, action=action, key=counted, now=now) >= limit:
            raise RateLimited(f"too many {action.replace('_', ' ')}s: try again later",
                              action=action, minutes=int(WINDOW.total_seconds() // 60))


def record(session: Session, *, action: str, keys: list[str], now: datetime) -> None:
    """Count one `action` under each key (and forget the rows no window needs any more)."""
    session.execute(delete(PortalHit).where(PortalHit.at < now - KEEP))
    session.add_all(PortalHit(action=action, key=counted, at=now) for counted in keys)
    session.flush()


def hit(session: Session, *, action: str, limits: list[tuple[str, int]],
        now: datetime) -> None:
    """`check`, then `record` under the same keys."""
    check(session, action=action, limits=limits, now=now)
    record(session, action=action, keys=[counted for counted, _ in limits], now=now)

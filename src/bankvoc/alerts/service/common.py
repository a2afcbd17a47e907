"""What every finding of the scan is made of: the scan's report, local days, the org tree,
the cases counted, typical cases picked by their texts, and the alert row itself."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bankvoc.alerts.enums import AlertKind, AlertStatus
from bankvoc.cases.enums import SEVERITY_RANK, CaseKind, CaseStatus, Severity
from bankvoc.cases.models import Case
from bankvoc.core.timeutil import ensure_aware
from bankvoc.nlp.tfidf import NgramTfidf
from bankvoc.orgs.models import Org

COUNTED_KINDS = (CaseKind.complaint.value, CaseKind.complaint_intent.value)
_SEVERITIES = frozenset(s.value for s in Severity)


@dataclass
class ScanReport:
    day: date
    series_tested: int = 0
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AlertKind, 0))
    stored: int = 0  # new alerts (a re-run stores none)
    notifications: int = 0
    unreachable: int = 0  # staff to tell without a work address on file
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "series_tested": self.series_tested,
                **{f"{kind}s": count for kind, count in self.found.items()},
                "stored": self.stored, "notifications": self.notifications,
                "unreachable": self.unreachable, "warnings": self.warnings}


# --- days and orgs -------------------------------------------------------------------------------

def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local day."""
    start = datetime.combine(day, time(), tzinfo=tz)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(),
                                                    tzinfo=tz).astimezone(UTC)


def default_day(now: datetime, tz: ZoneInfo) -> date:
    """The day a scan at `now` looks at: yesterday in the bank's zone (the last whole day)."""
    return ensure_aware(now).astimezone(tz).date() - timedelta(days=1)


@dataclass(frozen=True)
class OrgInfo:
    id: int
    code: str
    name: str
    parent_id: int | None
    chain: tuple[int, ...]  # root first, the org itself last


class Orgs:
    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Org.id, Org.code, Org.name, Org.parent_id, Org.path)).all()
        self.by_id = {r.id: OrgInfo(r.id, r.code, r.name, r.parent_id,
                                     tuple(int(p) for p in r.path.strip("/").split("/") if p))
                      for r in rows}
        self.root_ids = {r.id for r in rows if r.parent_id is None}

    def ancestors(self, org_id: int) -> tuple[int, ...]:
        """The org and the orgs above it, the root left out (the root is the whole bank)."""
        info = self.by_id.get(org_id)
        return tuple(o for o in info.chain if o not in self.root_ids) if info else ()

    def common(self, org_ids: Iterable[int]) -> int | None:
        """The lowest org holding all of them; None when only the whole bank does."""
        chains = [self.by_id[o].chain for o in set(org_ids) if o in self.by_id]
        if not chains:
            return None
        shared: int | None = None
        for level in zip(*chains, strict=False):
            if len(set(level)) != 1:
                break
            shared = level[0]
        return None if shared is None or shared in self.root_ids else shared

    def name(self, org_id: int | None) -> str:
        info = self.by_id.get(org_id) if org_id is not None else None
        return info.name if info else "全行"


# --- typical cases -------------------------------------------------------------------------------

def pick_typical(texts: Sequence[str], severities: Sequence[str], count: int) -> list[int]:
    """Indexes of the `count` most typical texts: closest (cosine of character n-grams) to what
    the texts say together, the more severe first among near-equals."""
    if len(texts) <= count:
        return list(range(len(texts)))
    bonus = np.array([0.05 * SEVERITY_RANK.get(Severity(s), 0) if s in _SEVERITIES else 0.0
                      for s in severities])
    try:
        vectors = NgramTfidf(kind="char", ngram_range=(2, 3)).fit_transform(list(texts))
    except ValueError:  # no n-gram at all (empty texts)
        return list(range(count))
    centre = np.asarray(vectors.mean(axis=0)).ravel()
    closeness = np.asarray(vectors @ centre).ravel()
    order = np.lexsort((np.arange(len(texts)), -(closeness + bonus)))
    return [int(i) for i in order[:count]]


def counted(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [Case.received_at >= start, Case.received_at < end, Case.kind.in_(COUNTED_KINDS),
            Case.status != CaseStatus.merged.value]


# --- the alert row -------------------------------------------------------------------------------

def alert_row(kind: AlertKind, dimension: str, key: str, org_id: int | None, day: date, *,
         observed: int, label: str, detail: dict[str, Any], case_ids: list[int],
         expected: float | None = None, ratio: float | None = None,
         p_value: float | None = None, score: float | None = None,
         words: list[str] | None = None, dedupe_key: str | None = None) -> dict[str, Any]:
    if dedupe_key is None:
        dedupe_key = f"{kind.value}:{day.isoformat()}:{dimension}:{key}:{org_id or 'bank'}"
        if len(dedupe_key) > 200:  # a long key (topic words) is shortened to its digest
            dedupe_key = dedupe_key[:150] + ":" + hashlib.sha256(dedupe_key.encode()).hexdigest()
            dedupe_key = dedupe_key[:200]
    return {"kind": kind.value, "dimension": dimension, "key": key, "org_id": org_id,
            "day": day, "observed": int(observed), "expected": _finite(expected),
            "ratio": _finite(ratio), "p_value": _finite(p_value), "score": _finite(score),
            "case_ids": case_ids, "words": words or [], "label": label[:200], "detail": detail,
            "status": AlertStatus.open.value, "dedupe_key": dedupe_key}


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)

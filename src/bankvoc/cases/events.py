"""The hash-chained case timeline: append events, and prove nobody rewrote them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case, CaseEvent
from bankvoc.core.jsonutil import canonical_json
from bankvoc.core.timeutil import ensure_aware, utcnow

GENESIS_HASH = "0" * 64


def compute_hash(
    *,
    prev_hash: str,
    case_id: int,
    seq: int,
    type: str,
    at: datetime,
    actor_user_id: int | None,
    data: dict[str, Any],
) -> str:
    head = "|".join([prev_hash, str(case_id), str(seq), type, ensure_aware(at).isoformat(),
                     str(actor_user_id or ""), ""])
    return hashlib.sha256(head.encode() + canonical_json(data)).hexdigest()


def event_row(
    *,
    case_id: int,
    seq: int,
    type: str,
    at: datetime,
    actor_user_id: int | None,
    data: dict[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """A ready-to-insert event row, for bulk writers that already know the chain's tip."""
    return {
        "case_id": case_id, "seq": seq, "type": type, "at": at,
        "actor_user_id": actor_user_id, "data": data, "prev_hash": prev_hash,
        "hash": compute_hash(prev_hash=prev_hash, case_id=case_id, seq=seq, type=type, at=at,
                             actor_user_id=actor_user_id, data=data),
    }


def chain_tips(session: Session, *, case_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """For each case, the (seq, hash) of its latest event."""
    ids = list(set(case_ids))
    tips: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        latest = (select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq"))
                  .where(CaseEvent.case_id.in_(chunk)).group_by(CaseEvent.case_id).subquery())
        rows = session.execute(
            select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash).join(
                latest, (CaseEvent.case_id == latest.c.case_id) & (CaseEvent.seq == latest.c.seq)
            )
        )
        tips.update({case_id: (seq, digest) for case_id, seq, digest in rows})
    return tips


def append_event(
    session: Session,
    *,
    case: Case,
    type: str,
    actor_user_id: int | None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    """Append one event; the (case, seq) unique key refuses a forked chain under concurrency."""
    tip = session.execute(
        select(CaseEvent.seq, CaseEvent.hash).where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq.desc()).limit(1)).first()
    seq, prev = (tip[0], tip[1]) if tip is not None else (0, GENESIS_HASH)
    event = CaseEvent(**event_row(case_id=case.id, seq=seq + 1, type=type, at=at or utcnow(),
                                  actor_user_id=actor_user_id, data=data or {}, prev_hash=prev))
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    broken_at_seq: int | None = None
    reason: str | None = None
    # The hash of the timeline's last event (None for an empty one), verified or not.
    last_hash: str | None = None


def check_chain(events: Sequence[CaseEvent]) -> ChainCheck:
    """Recompute every hash of one case's timeline, its events given in seq order (already
    loaded, so nothing is read); the first mismatch says where it was altered."""
    prev = GENESIS_HASH
    count = len(events)
    last = events[-1].hash if events else None
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainCheck(False, count, expected_seq, "an event is missing", last)
        if event.prev_hash != prev:
            return ChainCheck(False, count, event.seq, "link to the previous event broken",
                              last)
        digest = compute_hash(prev_hash=event.prev_hash, case_id=event.case_id, seq=event.seq,
                              type=event.type, at=event.at, actor_user_id=event.actor_user_id,
                              data=event.data)
        if digest != event.hash:
            return ChainCheck(False, count, event.seq, "event content altered", last)
        prev = event.hash
    return ChainCheck(True, count, last_hash=last)


def verify_chains(session: Session, *, case_ids: Iterable[int]) -> dict[int, ChainCheck]:
    """`check_chain` for each case, reading the timelines in one ordered query per 500 cases;
    a case without events has an empty (verified) timeline."""
    ids = list(set(case_ids))
    timelines: dict[int, list[CaseEvent]] = {case_id: [] for case_id in ids}
    for start in range(0, len(ids), 500):
        for event in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id.in_(ids[start:start + 500]))
                .order_by(CaseEvent.case_id, CaseEvent.seq)):
            timelines[event.case_id].append(event)
    return {case_id: check_chain(events) for case_id, events in timelines.items()}


def verify_chain(session: Session, *, case_id: int) -> ChainCheck:
    """Recompute every hash of a case's timeline; the first mismatch says where it was altered."""
    return verify_chains(session, case_ids=[case_id])[case_id]

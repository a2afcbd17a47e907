"""Readable unique case references: prefix + local receipt date + 6-digit day sequence."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bankvoc.cases.models import ReferenceCounter


def reserve_blocks(session: Session, *, wanted: Mapping[tuple[str, str], int]) -> dict[
    tuple[str, str], int
]:
    """Reserve `count` consecutive numbers for each (prefix, day); returns each block's first.

    One upsert per batch bumps every counter; the bumped rows stay locked by this transaction
    (row locks on PostgreSQL, the write lock on SQLite) until it ends, so reading them back
    tells exactly which block is ours even with concurrent writers.
    """
    if not wanted:
        return {}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(ReferenceCounter)
    stmt = stmt.on_conflict_do_update(
        index_elements=["prefix", "day"], set_={"last": ReferenceCounter.last + stmt.excluded.last}
    )
    # Sorted, so concurrent batches lock counters in the same order and cannot deadlock.
    keys = sorted(wanted)
    session.execute(stmt, [{"prefix": p, "day": d, "last": wanted[(p, d)]} for p, d in keys])
    rows = session.execute(
        select(ReferenceCounter.prefix, ReferenceCounter.day, ReferenceCounter.last).where(
            tuple_(ReferenceCounter.prefix, ReferenceCounter.day).in_(keys)
        )
    )
    return {(p, d): last - wanted[(p, d)] + 1 for p, d, last in rows}


def reserve(session: Session, *, prefix: str, day: str, count: int) -> int:
    """Reserve `count` consecutive numbers for one (prefix, day); returns the first."""
    return reserve_blocks(session, wanted={(prefix, day): count})[(prefix, day)]


def format_reference(prefix: str, day: str, number: int) -> str:
    return f"{prefix}{day}{number:06d}"

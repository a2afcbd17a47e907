"""Readable unique case references: prefix + local receipt date + 6-digit day sequence."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bankvoc.cases.models import ReferenceCounter


def reserve(session: Session, *, prefix: str, day: str, count: int) -> int:
    """Reserve `count` consecutive numbers for (prefix, day); returns the first one.

    One atomic upsert, so concurrent writers on PostgreSQL never share a number.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(ReferenceCounter)
        .values(prefix=prefix, day=day, last=count)
        .on_conflict_do_update(
            index_elements=["prefix", "day"], set_={"last": ReferenceCounter.last + count}
        )
        .returning(ReferenceCounter.last)
    )
    last = session.execute(stmt).scalar_one()
    return int(last) - count + 1


def format_reference(prefix: str, day: str, number: int) -> str:
    return f"{prefix}{day}{number:06d}"

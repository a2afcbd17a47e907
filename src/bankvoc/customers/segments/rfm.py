"""RFM scores by quintile over a month's customers, and storing a month: one `customer_value`
row per customer and month, the month rescored as a whole, each customer's latest segment
written onto `customer.segment`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from bankvoc.core.db import bulk_insert
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import Customer, CustomerValue
from bankvoc.customers.segments.config import SegmentMap, load_segments
from bankvoc.orgs.service import Actor

# Importing customer values sets the KPIs' segment cut (orgs/permissions.py says who may).
IMPORT_PERMISSION = "customer.value_import"
_CHUNK = 900  # ids per IN list: under SQLite's bound-parameter limit


# --- scores --------------------------------------------------------------------------------------

def quintile_scores(values: Sequence[Any]) -> list[int]:
    """1–5 by quintile of `values` (a higher value, a higher score), in their order.

    A value stands at the middle of the values equal to it: p = (values below it + half of
    those equal to it, itself included) ÷ n, and its score is 1 + ⌊5p⌋. So ties share one
    score whatever order the file lists them in; with distinct values the lowest fifth scores 1
    and the highest fifth 5; when every value is equal, all score 3.
    """
    n = len(values)
    scores = [0] * n
    order = sorted(range(n), key=values.__getitem__)
    start = 0
    while start < n:
        end = start
        while end < n and values[order[end]] == values[order[start]]:
            end += 1
        # p = (below + equal / 2) / n, in halves to stay in integers
        score = 1 + (5 * (2 * start + (end - start))) // (2 * n)
        for k in range(start, end):
            scores[order[k]] = score
        start = end
    return scores


@dataclass(frozen=True)
class ValueRow:
    """A customer's figures in a month's file."""

    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    attrited_on: date | None = None


@dataclass(frozen=True)
class Scored:
    recency_days: int
    frequency: int
    monetary: Decimal
    attrited_on: date | None
    r_score: int
    f_score: int
    m_score: int
    segment: str


def score_population(rows: Sequence[ValueRow], segments: SegmentMap) -> dict[int, Scored]:
    """Each customer's R, F, M scores and segment, over this population: recency scores 5 for
    the fewest days since the last transaction, frequency and monetary 5 for the most."""
    recency = quintile_scores([-row.recency_days for row in rows])
    frequency = quintile_scores([row.frequency for row in rows])
    monetary = quintile_scores([row.monetary for row in rows])
    return {row.customer_id: Scored(row.recency_days, row.frequency, row.monetary,
                                    row.attrited_on, r, f, m, segments.segment_of(r, f, m))
            for row, r, f, m in zip(rows, recency, frequency, monetary, strict=True)}


# --- storing a month -----------------------------------------------------------------------------

@dataclass
class MonthReport:
    month: date
    stored: int = 0  # new rows of the file
    updated: int = 0  # rows of the file whose figures, scores or segment changed
    unchanged: int = 0
    rescored: int = 0  # earlier rows of the month whose scores moved with the population
    segments_changed: int = 0  # customers whose current segment (`customer.segment`) changed
    by_segment: dict[str, int] = field(default_factory=dict)  # the month's customers


_SCORED_COLUMNS = ("recency_days", "frequency", "monetary", "attrited_on", "r_score", "f_score",
                   "m_score", "segment")


def store_month(session: Session, *, actor: Actor, month: date, rows: Sequence[ValueRow],
                segments: SegmentMap | None = None) -> MonthReport:
    """Store a month's customer values (one row per customer: `rows` replace those of the
    same customers) and rescore the whole month; storing the same rows again changes nothing.
    Each customer's segment of their latest month becomes `customer.segment`."""
    actor.require(IMPORT_PERMISSION)
    segments = segments or load_segments()
    month = month.replace(day=1)
    report = MonthReport(month=month)
    existing: dict[int, tuple[int, Scored]] = {}
    for row in session.execute(select(CustomerValue.id, CustomerValue.customer_id,
                                      *[getattr(CustomerValue, c) for c in _SCORED_COLUMNS])
                               .where(CustomerValue.as_of == month)):
        existing[row.customer_id] = (row.id, Scored(*[row[i + 2] for i in range(8)]))
    given = {row.customer_id: row for row in rows}
    population = [given.get(cid) or ValueRow(cid, s.recency_days, s.frequency, s.monetary,
                                             s.attrited_on)
                  for cid, (_, s) in existing.items()]
    population += [row for cid, row in given.items() if cid not in existing]
    scored = score_population(population, segments)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = utcnow()
    for cid, target in scored.items():
        before = existing.get(cid)
        if before is None:
            inserts.append({"customer_id": cid, "as_of": month, "imported_at": now,
                            **_columns(target)})
            report.stored += 1
        elif before[1] != target:
            updates.append({"row_id": before[0], "imported_at": now, **_columns(target)})
            if cid in given:
                report.updated += 1
            else:
                report.rescored += 1
        elif cid in given:
            report.unchanged += 1
        report.by_segment[target.segment] = report.by_segment.get(target.segment, 0) + 1
    bulk_insert(session, CustomerValue, inserts)
    if updates:
        values = cast(Table, CustomerValue.__table__)
        session.execute(update(values).where(values.c.id == bindparam("row_id")), updates)
    report.segments_changed = _set_current_segments(session, month=month, scored=scored)
    return report


def _columns(scored: Scored) -> dict[str, Any]:
    return {name: getattr(scored, name) for name in _SCORED_COLUMNS}


def _set_current_segments(session: Session, *, month: date,
                          scored: Mapping[int, Scored]) -> int:
    """Write the month's segment onto the customers for whom it is their latest month."""
    later = set(session.scalars(select(CustomerValue.customer_id).distinct()
                                .where(CustomerValue.as_of > month)))
    wanted = {cid: s.segment for cid, s in scored.items() if cid not in later}
    ids = list(wanted)
    changes: list[dict[str, Any]] = []
    for at in range(0, len(ids), _CHUNK):
        for cid, current in session.execute(select(Customer.id, Customer.segment)
                                            .where(Customer.id.in_(ids[at:at + _CHUNK]))):
            if current != wanted[cid]:
                changes.append({"customer": cid, "segment": wanted[cid]})
    if changes:
        table = cast(Table, Customer.__table__)
        session.execute(update(table).where(table.c.id == bindparam("customer"))
                        .values(segment=bindparam("segment")), changes)
    return len(changes)

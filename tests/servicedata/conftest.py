"""Helpers of the service-data tests: rows stored through the import, as a file gives them."""

from __future__ import annotations

from typing import Any

from bankvoc.core.rowimport import ImportCounts
from bankvoc.servicedata import imports
from tests.conftest import World


def load(world: World, kind: imports.Kind, rows: list[dict[str, Any]],
         username: str = "hq_admin") -> tuple[ImportCounts, list[tuple[int, str, str]]]:
    """Import `rows` (numbered from 2, as under a header row); the counts and the refusals."""
    refused: list[tuple[int, str, str]] = []
    counts = imports.import_rows(
        world.session, actor=world.actor(username), kind=kind,
        rows=((n, row, None) for n, row in enumerate(rows, start=2)),
        on_reject=lambda n, f, r: refused.append((n, f or "", r)))
    return counts, refused


def ticket(number: str, issued: str, wait_min: float | None, handle_min: float | None = None,
           *, org: str = "BJ01", business: str = "cash") -> dict[str, Any]:
    """A ticket issued at `issued` (local time, 'YYYY-MM-DD HH:MM'), called `wait_min` later
    and finished `handle_min` after that (None: never called / not finished)."""
    from datetime import datetime, timedelta

    start = datetime.strptime(issued, "%Y-%m-%d %H:%M")
    row: dict[str, Any] = {"org": org, "ticket_id": number, "business_type": business,
                           "issued_at": start.isoformat(sep=" ")}
    if wait_min is not None:
        called = start + timedelta(minutes=wait_min)
        row["called_at"] = called.isoformat(sep=" ")
        if handle_min is not None:
            row["finished_at"] = (called + timedelta(minutes=handle_min)).isoformat(sep=" ")
    return row

"""Bulk import of a file: read, map headers, run the pipeline a batch at a time, report.

Each batch is its own transaction (this runner owns it), and every stored row leaves an intake
record; so a run killed half way and run again stores every row exactly once.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from bankvoc.core.db import unit_of_work
from bankvoc.intake import service
from bankvoc.intake.context import IntakeContext
from bankvoc.intake.draft import Outcome
from bankvoc.intake.mapping import HeaderMapping, build_mapping, header_score
from bankvoc.intake.readers import SourceRow, open_rows
from bankvoc.orgs.service import Actor

OUTCOMES = (Outcome.NEW, Outcome.MERGED, Outcome.UPDATED, Outcome.UNCHANGED, Outcome.REJECTED)


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    rejects_file: Path | None = None
    rows: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.counts[Outcome.NEW], "merged": self.counts[Outcome.MERGED],
            "updated": self.counts[Outcome.UPDATED],
            "unchanged": self.counts[Outcome.UNCHANGED],
            "rejected": self.counts[Outcome.REJECTED],
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
        }


def default_rejects_path(source: Path) -> Path:
    name = source.name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".json"):
        name = name.removesuffix(suffix)
    return source.with_name(f"{name}.rejects.csv")


class RejectsWriter:
    """The rejects CSV: row as a spreadsheet shows it, field and reason. Opened on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: TextIO | None = None
        self._writer: Any = None

    def write(self, row: int, field_name: str | None, reason: str | None) -> None:
        if self._writer is None:
            # utf-8-sig so Excel shows the Chinese reasons correctly.
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["row", "field", "reason"])
        self._writer.writerow([row, field_name or "", reason or ""])

    @property
    def used(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _batches(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while batch := list(islice(rows, size)):
        yield batch


def import_file(
    path: Path,
    *,
    engine: Engine,
    actor: Actor,
    channel: str | None = None,
    mapping_file: Path | None = None,
    rejects_path: Path | None = None,
    source_system: str = "import",
    batch_size: int = 2000,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    """Import one file; `on_progress(rows_done, rows_total)` is called after every batch."""
    started = time.perf_counter()
    source = open_rows(path, header_hint=header_score)
    total = source.count_rows() if on_progress else None
    mapping = build_mapping(source.headers, mapping_file)
    report = ImportReport()
    rejects = RejectsWriter(rejects_path or default_rejects_path(path))
    ctx: IntakeContext | None = None
    try:
        for batch in _batches(iter(source), batch_size):
            ctx = _import_batch(batch, mapping, engine=engine, actor=actor, channel=channel,
                                source_system=source_system, ctx=ctx, report=report,
                                rejects=rejects)
            report.rows += len(batch)
            if on_progress:
                on_progress(report.rows, total)
    finally:
        rejects.close()
    if rejects.used:
        report.rejects_file = rejects.path
    elif rejects.path.exists():
        rejects.path.unlink()  # a clean run leaves no stale rejects from an earlier one
    report.seconds = time.perf_counter() - started
    return report


def _import_batch(
    batch: list[SourceRow],
    mapping: HeaderMapping,
    *,
    engine: Engine,
    actor: Actor,
    channel: str | None,
    source_system: str,
    ctx: IntakeContext | None,
    report: ImportReport,
    rejects: RejectsWriter,
) -> IntakeContext:
    records = []
    refused: list[tuple[int, str | None, str | None]] = []
    for row in batch:
        if row.error:
            report.counts[Outcome.REJECTED] += 1
            refused.append((row.number, "row", row.error))
            continue
        records.append((row.number, mapping.apply(row.values)))
    with unit_of_work(engine) as session:
        if ctx is None:
            ctx = service.build_context(session, actor=actor, source_system=source_system,
                                        default_channel=channel)
        drafts = service.register_many(session, actor=actor, records=records,
                                       source_system=source_system, ctx=ctx)
    for draft in drafts:
        report.counts[draft.outcome] += 1
        if draft.rejected:
            refused.append((draft.row, draft.error_field, draft.error))
    for number, field_name, reason in sorted(refused, key=lambda r: r[0]):
        rejects.write(number, field_name, reason)
    return ctx


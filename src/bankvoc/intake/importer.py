"""Bulk import of a file: read, map headers, run the pipeline a batch at a time, report.

Each batch is its own transaction (this runner owns it), and every stored row leaves an intake
record; so a run killed half way and run again stores every row exactly once. On large files the
stages that need no database run in worker processes, a few batches ahead of the batch being
stored (and here, when the workers fall behind), so that both cores work; batches are still
stored one after another, in file order.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from bankvoc.core import configstore, tables
from bankvoc.core.db import background_checkpoints, plan_each_statement, unit_of_work
from bankvoc.core.gctune import bulk_collection
from bankvoc.core.workers import exit_with_parent, spawning_without_main
from bankvoc.intake import service
from bankvoc.intake.context import IntakeContext, StageContext
from bankvoc.intake.draft import Draft, Outcome, new_draft
from bankvoc.intake.mapping import HeaderMapping, build_mapping, header_score
from bankvoc.intake.pipeline import understand
from bankvoc.intake.readers import SourceRow, open_rows
from bankvoc.orgs.service import Actor

# Below this many rows, starting worker processes costs more than it saves.
PARALLEL_FROM_ROWS = 5_000


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    rejects_file: Path | None = None
    rows: int = 0
    seconds: float = 0.0
    workers: int = 0

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


def default_workers(rows: int | None) -> int:
    """One worker per spare core, for files large enough to be worth it."""
    if rows is not None and rows < PARALLEL_FROM_ROWS:
        return 0
    return max(0, min(4, (os.cpu_count() or 1) - 1))


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
        # The field and reason may quote the file's own text (a column name, a value): one
        # that Excel would run as a formula (=HYPERLINK(...)) is written as text.
        self._writer.writerow([row, *(tables.as_csv_text(text or "")
                                      for text in (field_name, reason))])

    @property
    def used(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


@dataclass
class _Batch:
    size: int
    unreadable: list[SourceRow]
    rows: list[SourceRow]
    drafts: list[Draft] = field(default_factory=list)


def _batches(rows: Iterator[SourceRow], size: int) -> Iterator[_Batch]:
    while chunk := list(islice(rows, size)):
        yield _Batch(len(chunk), [r for r in chunk if r.error], [r for r in chunk if not r.error])


def _prepare(rows: list[SourceRow], mapping: HeaderMapping, ctx: StageContext) -> list[Draft]:
    """Map the rows' columns and run the stages that need no database."""
    return understand([new_draft(r.number, mapping.apply(r.values)) for r in rows], ctx)


# --- preparing in worker processes ---------------------------------------------------------------

_worker_setup: tuple[HeaderMapping, StageContext] | None = None


def _init_worker(mapping: HeaderMapping, ctx: StageContext) -> None:
    global _worker_setup
    exit_with_parent()
    _worker_setup = (mapping, ctx)
    configstore.install(ctx.config)  # the configuration in force where the import began


def _prepare_in_worker(rows: list[SourceRow]) -> list[Draft]:
    assert _worker_setup is not None
    with bulk_collection():
        return [draft.shed() for draft in _prepare(rows, *_worker_setup)]


def _prepared(batches: Iterator[_Batch], mapping: HeaderMapping, ctx: StageContext,
              workers: int, warm_up: Callable[[], None] | None = None) -> Iterator[_Batch]:
    """The batches with their drafts, in file order; with workers, the next batches are
    prepared while the caller stores this one, and `warm_up` runs while the first ones are."""
    if workers <= 0:
        for batch in batches:
            batch.drafts = _prepare(batch.rows, mapping, ctx)
            yield batch
        return
    # spawn, not fork: this process holds database connections and maybe a progress thread.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_init_worker, initargs=(mapping, ctx)) as pool:
        with spawning_without_main():  # the pool starts its processes on its first batch
            ahead = ReadAhead(batches, pool=pool, there=_prepare_in_worker,
                              here=lambda rows: _prepare(rows, mapping, ctx), workers=workers)
        if warm_up is not None:
            warm_up()
        yield from ahead


class ReadAhead:
    """The batches read ahead of the one being stored, in file order, most of them prepared
    `there` (in the pool). When the oldest is not ready (the workers are still starting, or
    preparing is slower than storing), a later one is prepared `here` rather than wait, a few
    at most: so neither side idles for long, whichever is the slower."""

    def __init__(self, batches: Iterator[_Batch], *, pool: Executor,
                 there: Callable[[list[SourceRow]], list[Draft]],
                 here: Callable[[list[SourceRow]], list[Draft]], workers: int) -> None:
        self.batches, self.pool, self.there, self.here = batches, pool, there, here
        self.in_pool = 2 * workers + 1  # enough queued that a worker never waits for work
        self.here_at_most = workers + 1
        self.queue: deque[tuple[_Batch, Future[list[Draft]] | None]] = deque()
        self.read_all = False
        # The workers take a second or two to start: the first batch is prepared here
        # meanwhile, and the pool (which starts its processes on its first batch) gets the next.
        first = self._read()
        self._top_up()
        if first is not None:
            first.drafts = here(first.rows)
            self.queue.appendleft((first, None))

    def __iter__(self) -> Iterator[_Batch]:
        while self.queue:
            batch, future = self.queue[0]
            if future is not None and not future.done() and self._prepare_one_here():
                continue
            self.queue.popleft()
            if future is not None:
                batch.drafts = future.result()
            self._top_up()
            if self.read_all and all(f is None for _, f in self.queue):
                # Nothing left for the workers: let them exit while the last batches are stored.
                self.pool.shutdown(wait=False)
            yield batch

    def _read(self) -> _Batch | None:
        batch = next(self.batches, None)
        self.read_all = batch is None
        return batch

    def _top_up(self) -> None:
        while not self.read_all and sum(f is not None for _, f in self.queue) < self.in_pool:
            batch = self._read()
            if batch is not None:
                self.queue.append((batch, self.pool.submit(self.there, batch.rows)))

    def _prepare_one_here(self) -> bool:
        if sum(f is None for _, f in self.queue) >= self.here_at_most:
            return False
        batch = None if self.read_all else self._read()
        if batch is None:
            return False
        batch.drafts = self.here(batch.rows)
        self.queue.append((batch, None))
        return True


# --- the run -----------------------------------------------------------------------------------

def import_file(
    path: Path,
    *,
    engine: Engine,
    actor: Actor,
    channel: str | None = None,
    mapping_file: Path | None = None,
    rejects_path: Path | None = None,
    source_system: str = "import",
    batch_size: int = 5000,
    workers: int | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    """Import one file; `on_progress(rows_done, rows_total)` is called after every batch.

    `workers`: processes that prepare rows ahead of storage (None: chosen by file size).
    """
    started = time.perf_counter()
    source = open_rows(path, header_hint=header_score)
    mapping = build_mapping(source.headers, mapping_file)
    total = source.count_rows()
    report = ImportReport(workers=default_workers(total) if workers is None else workers)
    rejects = RejectsWriter(rejects_path or default_rejects_path(path))
    with unit_of_work(engine) as session:
        actor.require("case.import")
        ctx = service.build_context(session, actor=actor, source_system=source_system,
                                    default_channel=channel)
    with bulk_collection(), closing(rejects), background_checkpoints(engine) as checkpoints:
        batches = _batches(iter(source), batch_size)
        for batch in _prepared(batches, mapping, ctx.pure(), report.workers, ctx.warm_up):
            _store(batch, engine=engine, actor=actor, ctx=ctx, report=report, rejects=rejects)
            if checkpoints is not None:
                checkpoints.request()
            if on_progress:
                on_progress(report.rows, total)
    if rejects.used:
        report.rejects_file = rejects.path
    elif rejects.path.exists():
        rejects.path.unlink()  # a clean run leaves no stale rejects from an earlier one
    report.seconds = time.perf_counter() - started
    return report


def _store(
    batch: _Batch,
    *,
    engine: Engine,
    actor: Actor,
    ctx: IntakeContext,
    report: ImportReport,
    rejects: RejectsWriter,
) -> None:
    with unit_of_work(engine) as session:
        plan_each_statement(session)
        drafts = service.register_drafts(session, actor=actor, drafts=batch.drafts, ctx=ctx,
                                         understood=True)
    refused: list[tuple[int, str | None, str | None]] = [
        (r.number, "row", r.error) for r in batch.unreadable]
    refused += [(d.row, d.error_field, d.error) for d in drafts if d.rejected]
    for draft in drafts:
        report.counts[draft.outcome] += 1
    report.counts[Outcome.REJECTED] += len(batch.unreadable)
    for number, field_name, reason in sorted(refused, key=lambda r: r[0]):
        rejects.write(number, field_name, reason)
    report.rows += batch.size

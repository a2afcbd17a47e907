"""Running jobs: once on demand (`run_job`), or on their schedule in this process.

The in-process scheduler is APScheduler's BackgroundScheduler: one thread per due job, at most
one run of a job at a time in this process, missed runs coalesced into one. Jobs are written
to be safe when another process runs them at the same time, so several `bankvoc scheduler` or
`bankvoc serve` processes may each run one. A distributed engine takes over by calling the
same `run_job(name, now)` from its own task (`now` travels as an ISO-8601 string).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from sqlalchemy.exc import OperationalError

from bankvoc.core.db import is_write_conflict
from bankvoc.core.errors import BankvocError
from bankvoc.core.timeutil import ensure_aware, utcnow
from bankvoc.jobs.registry import JobRegistry, discover

log = logging.getLogger(__name__)

WRITE_CONFLICT_ATTEMPTS = 5


def run_job(name: str, now: datetime | None = None, *,
            registry: JobRegistry | None = None, args: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """Run job `name` once for time `now` (default: the time), with the keyword arguments it
    was enqueued with (`args`), and return its result."""
    job = (registry or discover()).get(name)
    now = ensure_aware(now or utcnow())
    started = time.monotonic()
    for attempt in range(1, WRITE_CONFLICT_ATTEMPTS + 1):
        try:
            result = job(now, **(args or {}))
            break
        except OperationalError as exc:
            # SQLite: a unit of work that read first and then found another writer had
            # committed cannot take the write lock; its work was rolled back, and a job is
            # idempotent: run it again (PostgreSQL waits for the lock instead).
            if not is_write_conflict(exc) or attempt == WRITE_CONFLICT_ATTEMPTS:
                raise
            log.info("job %s: write conflict, run again (attempt %d)", name, attempt + 1)
            time.sleep(0.05 * attempt + random.random() * 0.1)
    log.info("job %s done in %.2fs: %s", name, time.monotonic() - started,
             {k: v for k, v in result.items() if isinstance(v, int | float | bool)})
    return result


def _run_scheduled(name: str, registry: JobRegistry | None) -> None:
    """A scheduled run: failures are logged (kind and message only) and the schedule goes on."""
    try:
        run_job(name, registry=registry)
    except BankvocError as exc:
        log.error("job %s failed: %s", name, exc.message)
    except Exception as exc:
        log.error("job %s failed: %s", name, type(exc).__name__)


_lock = threading.Lock()
_scheduler: Any = None


def start_scheduler(*, names: Iterable[str] | None = None, registry: JobRegistry | None = None,
                    run_now: bool = True) -> Any:
    """Start this process's scheduler with every periodic job (or only `names`); idempotent.

    Returns the APScheduler `BackgroundScheduler`. `run_now`: each job's first run at once
    rather than one period after the start.
    """
    global _scheduler
    with _lock:
        if _scheduler is not None:
            return _scheduler
        jobs = (registry or discover()).all()
        if names is not None:
            wanted = set(names)
            jobs = [j for j in jobs if j.name in wanted]
        scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        for job in jobs:
            every = job.interval()
            if every is None:
                continue
            scheduler.add_job(_run_scheduled, IntervalTrigger(seconds=every.total_seconds(),
                                                              timezone=UTC),
                              args=[job.name, registry], id=job.name, name=job.name,
                              # Leaving next_run_time out: the first run one period from now.
                              **({"next_run_time": utcnow()} if run_now else {}))
        scheduler.start()
        log.info("scheduler started: %s",
                 ", ".join(f"{j.name} every {j.interval()}" for j in jobs if j.every) or "no jobs")
        _scheduler = scheduler
        return scheduler


def stop_scheduler(*, wait: bool = True) -> None:
    """Stop this process's scheduler (waiting for running jobs to finish unless told not to)."""
    global _scheduler
    with _lock:
        scheduler, _scheduler = _scheduler, None
    if scheduler is not None:
        scheduler.shutdown(wait=wait)
        log.info("scheduler stopped")


def scheduler_running() -> bool:
    return _scheduler is not None

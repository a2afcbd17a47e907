"""Follow-up jobs of a transaction: `enqueue_job(session, name, **args)`.

A service that leaves work for later (send the notifications it queued, classify what it
imported) enqueues a job in the caller's session. Nothing leaves until that session's
transaction commits (SQLAlchemy's `after_commit` session event); a rollback drops what it
enqueued. The same job enqueued twice in one transaction (same name and arguments) runs once.

Where it runs after the commit:
- with `BANKVOC_BROKER_URL`: published to the broker, a `bankvoc worker` runs it;
- without, per `BANKVOC_JOBS_LOCAL`: "thread" in a small thread pool of this process, so the
  committing request does not wait; "inline" in the committing thread before the unit of work
  returns; "off" not at all (the periodic run does the work); "auto" (the default): "thread"
  in a process that runs the in-process scheduler (`bankvoc serve`, `bankvoc scheduler`),
  "off" in any other (one-shot commands).

The commit is done when the job is sent, so a failure to send (the broker down longer than
the publish retries, about two seconds) is logged and not raised. Nothing is lost with it:
the work itself is in the database (outbox rows, cases to classify), and the job's periodic
run, which the scheduler sends again once the broker is back, does it. A job enqueued inside a
savepoint that is rolled back still runs: it finds nothing to do, jobs being idempotent.
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import ensure_aware
from bankvoc.jobs import runner
from bankvoc.jobs.registry import discover

log = logging.getLogger(__name__)

_PENDING = "bankvoc.jobs.pending"
_LISTENING = "bankvoc.jobs.listening"


@dataclass(frozen=True)
class Pending:
    name: str
    now_iso: str | None
    args_json: str

    @property
    def args(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.args_json)
        return loaded


def enqueue_job(session: Session, name: str, *, now: datetime | None = None,
                **args: Any) -> None:
    """Run job `name` (with keyword `args`, for time `now`, default the time it runs) once
    the transaction of `session` commits; never if it rolls back.

    Raises `UnknownJob` for a name no module registered and `Invalid` for arguments that are
    not JSON values, at once, not after the commit."""
    discover().get(name)
    try:
        args_json = json.dumps(args, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise Invalid(f"job {name!r}: its arguments must be JSON values (ids, strings, "
                      "numbers)", field="args") from None
    item = Pending(name, None if now is None else ensure_aware(now).isoformat(), args_json)
    if not session.in_transaction():
        session.begin()  # the job belongs to this transaction, even before its first SQL
    if not session.info.get(_LISTENING):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)
        session.info[_LISTENING] = True
    pending: list[Pending] = session.info.setdefault(_PENDING, [])
    if item not in pending:
        pending.append(item)


def pending_jobs(session: Session) -> list[Pending]:
    """What `session` will send when it commits."""
    return list(session.info.get(_PENDING, ()))


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    # Every rollback of the session's transaction, also one that had not reached the database
    # yet; a savepoint's rollback (begin_nested) keeps them (see the module's docstring).
    if previous.nested:
        return
    dropped = session.info.pop(_PENDING, [])
    if dropped:
        log.info("rolled back: %d job(s) not sent (%s)", len(dropped),
                 ", ".join(p.name for p in dropped))


def _after_commit(session: Session) -> None:
    for item in session.info.pop(_PENDING, []):
        _send(item)


def _send(item: Pending) -> None:
    settings = get_settings()
    if settings.broker_url:
        from bankvoc.jobs import engine  # Celery is imported only where a broker is used

        try:
            engine.send(item.name, item.now_iso, item.args)
        except Exception as exc:  # the commit stands; the periodic run does the work
            log.error("job %s not sent after commit: broker unreachable (%s); its next "
                      "periodic run does the work", item.name, type(exc).__name__)
        return
    mode = settings.jobs_local
    if mode == "auto":
        mode = "thread" if runner.scheduler_running() else "off"
    if mode == "off":
        log.debug("job %s left to its periodic run (BANKVOC_JOBS_LOCAL=off)", item.name)
    elif mode == "inline":
        _run_local(item)
    else:
        _submit(item)


def _run_local(item: Pending) -> None:
    now = datetime.fromisoformat(item.now_iso) if item.now_iso else None
    try:
        runner.run_job(item.name, now, args=item.args)
    except BankvocError as exc:
        log.error("job %s failed: %s", item.name, exc.message)
    except Exception as exc:
        log.error("job %s failed: %s", item.name, type(exc).__name__)


_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_futures: set[Future[None]] = set()


_waiting: set[Pending] = set()


def _submit(item: Pending) -> None:
    """Queue `item` in the pool, unless the same job is queued and not started yet: that run
    will see this commit's work too (a burst of commits, e.g. a bulk import's batches, runs
    the job at most once at a time plus once more, not once per commit)."""
    global _executor
    with _lock:
        if item in _waiting:
            return
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bankvoc-job")
        _waiting.add(item)
        future = _executor.submit(_start_local, item)
        _futures.add(future)
    future.add_done_callback(_forget)


def _start_local(item: Pending) -> None:
    with _lock:
        _waiting.discard(item)
    _run_local(item)


def _forget(future: Future[None]) -> None:
    with _lock:
        _futures.discard(future)


def wait_local_jobs(timeout: float | None = None) -> bool:
    """Wait for the jobs this process runs in its thread pool; False if some still run."""
    with _lock:
        futures = set(_futures)
    _, running = wait_futures(futures, timeout=timeout)
    return not running

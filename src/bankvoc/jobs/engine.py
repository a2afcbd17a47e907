"""The distributed engine: Celery over Redis or RabbitMQ, when `BANKVOC_BROKER_URL` is set.

One Celery app, built from the settings the first time it is needed (nothing at import time),
and one generic task, `bankvoc.run_job(name, now_iso, **args)`, that calls the same
`runner.run_job` as the in-process scheduler: the job code is the same either way.

Delivery is at least once, and the jobs are idempotent, so a repeat is harmless:
- the task is acknowledged only after it ran (`acks_late`), and a worker process that dies
  mid-job (SIGKILL, out of memory) hands its message back (`reject_on_worker_lost`);
  RabbitMQ redelivers a dead connection's unacknowledged messages at once, Redis once they
  have been unacknowledged for `broker_visibility_timeout_seconds`;
- each worker process reserves one message at a time (prefetch multiplier 1), so a dying
  worker holds back as little as possible;
- a job that raises is logged (its kind and message, never its data) and acknowledged: its
  next periodic run, or a re-run by hand, does the work.

Celery beat (`bankvoc scheduler`) sends every periodic job on its interval (`Job.interval`);
run one beat per installation (several would send each job several times: harmless, wasted).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from bankvoc.core.db import reset_engines
from bankvoc.core.errors import BankvocError, ConfigurationError
from bankvoc.core.settings import Settings, get_settings
from bankvoc.jobs import runner
from bankvoc.jobs.registry import discover

log = logging.getLogger(__name__)

TASK_NAME = "bankvoc.run_job"

# Publishing gives up after about two seconds of a broker that does not answer, so a request
# that commits during an outage is not held for long (see enqueue.py: the work is not lost).
PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5,
                 "interval_max": 1.0}


class JobFailed(Exception):
    """A job's failure as the engine reports it: its name and the kind of error only (the
    original may carry data, e.g. a database error's SQL parameters, which Celery would log)."""


def run_job_task(name: str, now_iso: str | None = None, **args: Any) -> dict[str, Any]:
    """The body of the one Celery task: run job `name` for `now_iso` (None: the time)."""
    now = datetime.fromisoformat(now_iso) if now_iso else None
    try:
        return runner.run_job(name, now, args=args)
    except BankvocError as exc:
        log.error("job %s failed: %s", name, exc.message)
        raise JobFailed(f"job {name} failed: {exc.code}") from None
    except Exception as exc:
        log.error("job %s failed: %s", name, type(exc).__name__)
        raise JobFailed(f"job {name} failed: {type(exc).__name__}") from None


def _fresh_connections(**_kwargs: Any) -> None:
    """A forked worker process opens its own database connections, never its parent's."""
    reset_engines()


worker_process_init.connect(_fresh_connections, weak=False)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Celery beat's entries: every periodic job on its interval, run for the time it runs."""
    schedule: dict[str, dict[str, Any]] = {}
    for job in discover().all():
        every = job.interval()
        if every is not None:
            schedule[job.name] = {"task": TASK_NAME, "schedule": every.total_seconds(),
                                  "args": (job.name, None)}
    return schedule


def transport_options(settings: Settings) -> dict[str, Any]:
    """The broker connection's options. Redis: redeliver what a dead worker held after the
    visibility timeout, and notice a dead connection (time-outs, keep-alive, health checks)
    rather than wait on it for ever, a known way for a worker to stop consuming after the
    broker restarts (celery/celery#8030, #8091). RabbitMQ redelivers a closed connection's
    unacknowledged messages itself and has heartbeats."""
    if not (settings.broker_url or "").startswith(("redis://", "rediss://")):
        return {}
    return {"visibility_timeout": settings.broker_visibility_timeout_seconds,
            "socket_timeout": 30.0, "socket_connect_timeout": 5.0, "socket_keepalive": True,
            "retry_on_timeout": True, "health_check_interval": 10}


def build_app(settings: Settings) -> Celery:
    """A Celery app for `settings.broker_url` (ConfigurationError when it is unset)."""
    if not settings.broker_url:
        raise ConfigurationError(
            "no broker configured: set BANKVOC_BROKER_URL (redis://host:6379/0 or "
            "amqp://user:password@host:5672//) to run jobs on Celery; without it `bankvoc "
            "scheduler` or `bankvoc serve` runs them in process", field="broker_url")
    queue = settings.broker_queue
    app = Celery("bankvoc", broker=settings.broker_url, set_as_current=False)
    if settings.broker_url.startswith("redis://"):
        app.conf.broker_transport = "bankvoc.jobs.redis_transport:Transport"
    app.conf.update(
        task_default_queue=queue, task_default_exchange=queue,
        task_default_routing_key=queue,
        task_serializer="json", accept_content=["json"],
        task_ignore_result=True, result_backend=None,
        task_acks_late=True, task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_publish_retry=True, task_publish_retry_policy=PUBLISH_RETRY,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False, worker_send_task_events=False,
        broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        broker_connection_timeout=2.0,
        broker_transport_options=transport_options(settings),
        timezone="UTC", enable_utc=True,
        beat_schedule=beat_schedule(),
    )
    app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)(run_job_task)
    return app


_lock = threading.Lock()
_apps: dict[tuple[str, str, float, str], Celery] = {}


def celery_app() -> Celery:
    """The Celery app of the current settings (built once per broker, queue and schedule)."""
    settings = get_settings()
    key = (settings.broker_url or "", settings.broker_queue,
           settings.broker_visibility_timeout_seconds,
           repr(sorted(settings.job_intervals.items())) + settings.job_modules)
    with _lock:
        app = _apps.get(key)
        if app is None:
            app = _apps[key] = build_app(settings)
        return app


def send(name: str, now_iso: str | None, args: dict[str, Any]) -> str:
    """Publish one run of job `name`; returns the message id (raises if the broker is down)."""
    result = celery_app().send_task(TASK_NAME, args=[name, now_iso], kwargs=args,
                                    retry=True, retry_policy=PUBLISH_RETRY)
    return str(result.id)


def reset() -> None:
    """Forget the built apps and close their broker connections (tests, settings changes)."""
    with _lock:
        apps = list(_apps.values())
        _apps.clear()
    for app in apps:
        app.close()

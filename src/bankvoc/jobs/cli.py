"""`bankvoc jobs list|run`, `bankvoc scheduler` and `bankvoc worker`: background jobs by hand,
on schedule, and on the broker's workers."""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timedelta
from types import FrameType
from typing import Annotated, Any

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.jobs import runner
from bankvoc.jobs.registry import discover

jobs_app = typer.Typer(help="Background jobs: list them, run one now.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


def _every(seconds: float | None) -> str:
    if seconds is None:
        return "on demand"
    return f"every {seconds:g}s"


@jobs_app.command("list")
@handle_errors
def list_command(as_json: JsonOpt = False) -> None:
    """Every job with its schedule."""
    jobs = discover().all()
    rows: list[dict[str, Any]] = [
        {"name": j.name, "every_seconds": _seconds(j.interval()),
         "description": j.description} for j in jobs]
    if as_json:
        emit_json({"jobs": rows})
        return
    for row in rows:
        typer.echo(f"{row['name']:<24} {_every(row['every_seconds']):<14} {row['description']}")


def _seconds(every: timedelta | None) -> float | None:
    return None if every is None else every.total_seconds()


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("--now is an ISO-8601 time, e.g. 2026-11-27T09:00:00+08:00",
                      field="--now") from None


@jobs_app.command("run")
@handle_errors
def run_command(
    name: Annotated[str, typer.Argument(help="The job's name (see `bankvoc jobs list`)")],
    now: Annotated[str | None, typer.Option(
        "--now", help="Run for this time (ISO-8601; a naive time is UTC)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one job now, in this process; prints its result."""
    result = runner.run_job(name, _parse_now(now))
    if as_json:
        emit_json({"job": name, **result})
        return
    typer.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in result.items()))


StopAfter = Annotated[float | None, typer.Option(
    "--stop-after", help="Stop after this many seconds (for smoke tests)")]


@handle_errors
def scheduler_command(stop_after: StopAfter = None) -> None:
    """Run the periodic jobs on their schedule in the foreground until Ctrl-C (or SIGTERM):
    with BANKVOC_BROKER_URL, Celery beat sends them to the workers (run one scheduler per
    installation); without it, they run in this process."""
    if get_settings().broker_url:
        _beat(stop_after)
        return
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    _announce("scheduler running")
    runner.start_scheduler()
    deadline = None if stop_after is None else time.monotonic() + stop_after
    try:
        while not stop.is_set():
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if left <= 0:
                break
            stop.wait(left)
    finally:
        runner.stop_scheduler()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        typer.echo("scheduler stopped", err=True)


def _announce(what: str) -> None:
    jobs = [j for j in discover().all() if j.every is not None]
    typer.echo(f"{what}: " + (", ".join(
        f"{j.name} ({_every(_seconds(j.interval()))})" for j in jobs)
        or "no periodic jobs") + "; Ctrl-C stops it", err=True)


def _beat(stop_after: float | None) -> None:
    """Celery beat in this process, its schedule state under the data directory."""
    from celery.beat import Service

    from bankvoc.jobs import engine

    app = engine.celery_app()
    state = get_settings().data_dir / "celerybeat-schedule"
    state.parent.mkdir(parents=True, exist_ok=True)
    service = Service(app, max_interval=1.0, schedule_filename=str(state))

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop(wait=False)

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    timer = None
    if stop_after is not None:
        timer = threading.Timer(stop_after, service.stop, kwargs={"wait": False})
        timer.daemon = True
        timer.start()
    _announce(f"scheduler (Celery beat, queue {get_settings().broker_queue}) running")
    try:
        service.start()
    finally:
        if timer is not None:
            timer.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        typer.echo("scheduler stopped", err=True)


@handle_errors
def worker_command(
    concurrency: Annotated[int, typer.Option(
        "--concurrency", "-c", min=1, help="Jobs run at once (worker processes)")] = 2,
    pool: Annotated[str, typer.Option(
        "--pool", help="Celery pool: prefork (processes), threads or solo")] = "prefork",
    loglevel: Annotated[str, typer.Option("--loglevel", help="Log level")] = "INFO",
) -> None:
    """Run jobs from the broker (BANKVOC_BROKER_URL) until Ctrl-C or SIGTERM (a warm stop:
    running jobs finish). Start as many as the load needs, on any machine."""
    from bankvoc.jobs import engine

    if pool not in ("prefork", "threads", "solo"):
        raise Invalid("--pool is prefork, threads or solo", field="--pool")
    app = engine.celery_app()  # ConfigurationError without a broker
    discover()
    app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
                     f"--pool={pool}", f"--queues={get_settings().broker_queue}",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])

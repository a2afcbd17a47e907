"""`bankvoc jobs list|run` and `bankvoc scheduler`: background jobs by hand or on schedule."""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime
from types import FrameType
from typing import Annotated, Any

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.errors import Invalid
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
        {"name": j.name, "every_seconds": j.every.total_seconds() if j.every else None,
         "description": j.description} for j in jobs]
    if as_json:
        emit_json({"jobs": rows})
        return
    for row in rows:
        typer.echo(f"{row['name']:<24} {_every(row['every_seconds']):<14} {row['description']}")


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


@handle_errors
def scheduler_command(
    stop_after: Annotated[float | None, typer.Option(
        "--stop-after", help="Stop after this many seconds (for smoke tests)")] = None,
) -> None:
    """Run the periodic jobs in the foreground until Ctrl-C (or SIGTERM)."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    jobs = [j for j in discover().all() if j.every is not None]
    typer.echo("scheduler running: " + (", ".join(
        f"{j.name} ({_every(j.every.total_seconds() if j.every else None)})" for j in jobs)
        or "no periodic jobs") + "; Ctrl-C stops it", err=True)
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

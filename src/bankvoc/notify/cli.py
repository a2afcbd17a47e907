"""`bankvoc notify dispatch|list|requeue`: the notification outbox by hand.

Lists show the recipient masked and never a message's body.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, session_factory, unit_of_work
from bankvoc.notify import service

notify_app = typer.Typer(help="The notification outbox: send what is due, look, requeue.",
                         no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


@notify_app.command("dispatch")
@handle_errors
def dispatch_command(
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="At most this many (default BANKVOC_NOTIFY_BATCH_SIZE)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the notifications that are due now (what the notify.dispatch job does)."""
    report = service.dispatch_due(session_factory(get_engine()), limit=limit).as_dict()
    if as_json:
        emit_json(report)
        return
    typer.echo(", ".join(f"{value} {key}" for key, value in report.items()))


@notify_app.command("list")
@handle_errors
def list_command(
    status: Annotated[str | None, typer.Option(
        "--status", help="pending, sending, sent, failed or dead")] = None,
    case_id: Annotated[int | None, typer.Option("--case-id", help="Of this case")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The newest notifications (recipients masked, no bodies) and the counts by status."""
    with unit_of_work(get_engine()) as session:
        rows = [service.summary(n) for n in service.list_notifications(
            session, status=status, case_id=case_id, limit=limit)]
        counts = service.counts(session)
    if as_json:
        emit_json({"notifications": rows, "counts": counts})
        return
    for row in rows:
        error = f"  {row['last_error']}" if row["last_error"] else ""
        typer.echo(f"{row['id']:>7} {row['status']:<8} {row['attempts']:>2} {row['channel']:<8}"
                   f"{row['template']:<17} {row['recipient']:<24} case {row['case_id'] or '-'}"
                   f"{error}")
    typer.echo(", ".join(f"{value} {key}" for key, value in counts.items()), err=True)


@notify_app.command("requeue")
@handle_errors
def requeue_command(
    ids: Annotated[list[int], typer.Argument(help="Ids of dead or failed notifications")],
    as_json: JsonOpt = False,
) -> None:
    """Give dead-letter notifications a fresh set of attempts, due now."""
    with unit_of_work(get_engine()) as session:
        count = service.requeue(session, ids=ids)
    if as_json:
        emit_json({"requeued": count})
        return
    typer.echo(f"{count} requeued")

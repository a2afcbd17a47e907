"""`bankvoc alerts scan|list|ack`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from bankvoc.alerts import service
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.timeutil import utcnow
from bankvoc.orgs import service as org_service

alerts_app = typer.Typer(help="Early warning: hot issues and risky cases.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOption = Annotated[str, typer.Option(help="Act as this user")]


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"not a day (YYYY-MM-DD): {value!r}", field="day") from None


@alerts_app.command("scan")
@handle_errors
def scan_command(
    day: Annotated[str | None, typer.Option(help="Local day to scan (YYYY-MM-DD); "
                                                 "yesterday by default")] = None,
    as_json: JsonOption = False,
) -> None:
    """Raise the day's alerts and tell the consumer-protection office; a re-run changes
    nothing."""
    with unit_of_work(get_engine()) as session:
        report = service.scan(session, day=_day(day), now=utcnow())
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        emit_json(report.as_dict())
    else:
        found = report.as_dict()
        typer.echo(f"{report.day}: {report.series_tested} series tested; "
                   f"{found['hot_issues']} hot issues, {found['emerging_topics']} emerging "
                   f"topics, {found['mass_complaints']} possible mass complaints, "
                   f"{found['regulator_risks']} regulator risks; {report.stored} new, "
                   f"{report.notifications} notifications queued")


@alerts_app.command("list")
@handle_errors
def list_command(
    kind: Annotated[str | None, typer.Option(help="hot_issue, emerging_topic, "
                                                  "mass_complaint or regulator_risk")] = None,
    status: Annotated[str | None, typer.Option(help="open or acknowledged")] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD)")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    user: UserOption = "admin",
    as_json: JsonOption = False,
) -> None:
    """The alerts of the user's org subtree, newest first."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        alerts = service.list_alerts(session, actor=actor, kind=kind, status=status,
                                     since=_day(since), limit=limit)
        cases = service.typical_cases(session, alerts)
        users = service.usernames_of(session, alerts)
        items = [service.to_read(alert, cases, users) for alert in alerts]
    if as_json:
        emit_json({"alerts": [_plain(item) for item in items], "count": len(items)})
        return
    for item in items:
        typer.echo(f"#{item['id']} {item['day']} {item['kind']} [{item['status']}] "
                   f"{item['label']}: {item['observed']}"
                   + (f" vs {item['expected']:.1f}" if item["expected"] is not None else ""))


def _plain(item: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in item.items()}


@alerts_app.command("ack")
@handle_errors
def ack_command(
    alert_id: Annotated[int, typer.Argument(help="The alert's id")],
    note: Annotated[str, typer.Option(help="What is being done about it")] = "",
    user: UserOption = "admin",
    as_json: JsonOption = False,
) -> None:
    """Acknowledge an alert: who and when are recorded."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        alert = service.acknowledge(session, actor=actor, alert_id=alert_id, note=note)
        result = {"id": alert.id, "status": alert.status, "acknowledged_by": actor.username,
                  "acknowledged_at": alert.acknowledged_at}
    if as_json:
        emit_json(_plain(result))
    else:
        typer.echo(f"alert {alert_id} acknowledged by {actor.username}")

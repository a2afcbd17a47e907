"""`bankvoc branches checklist|trend`."""

from __future__ import annotations

from typing import Annotated

import typer

from bankvoc.branches import service
from bankvoc.branches.checklist import load_checklist
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.orgs import service as org_service

branches_app = typer.Typer(help="Outlet inspections and mystery-shopper visits.",
                           no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and "
                                                     "org scope apply)")]


@branches_app.command("checklist")
@handle_errors
def checklist_command(as_json: JsonOpt = False) -> None:
    """The service-standard checklist the visits are scored against."""
    checklist = load_checklist()
    if as_json:
        emit_json({"checklist": checklist.to_dict()})
        return
    typer.echo(f"checklist {checklist.version} ({checklist.checksum[:12]})")
    for step in checklist.steps:
        typer.echo(f"{step.code}  {step.zh} / {step.en}")
        for item in step.items:
            flag = " [critical]" if item.critical else ""
            typer.echo(f"  {item.code:<20} w={item.weight:g}{flag}  {item.zh}")


@branches_app.command("trend")
@handle_errors
def trend_command(
    org: Annotated[str | None, typer.Option("--org", help="Only this org's subtree (code)")]
    = None,
    since: Annotated[str | None, typer.Option(help="From this month (YYYY-MM)")] = None,
    until: Annotated[str | None, typer.Option(help="To this month, included (YYYY-MM)")]
    = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Per outlet and month: visits, average score, critical failures, open findings."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        cut = org_service.get_org_by_code(session, code=org) if org else None
        start, end = service.period(since, until)
        rows = service.trend(session, actor=actor, org=cut, since=start, until=end)
    if as_json:
        emit_json({"trend": [r.to_dict() for r in rows]})
        return
    for r in rows:
        average = f"{r.average_score:6.2f}" if r.average_score is not None else "     -"
        typer.echo(f"{r.org_code:<10} {r.month}  visits={r.visits:<3} score={average} "
                   f"critical={r.critical_failed} open_findings={r.open_findings}")
    typer.echo(f"{len(rows)} outlet-month(s)")

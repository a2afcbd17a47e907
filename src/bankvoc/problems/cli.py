"""`bankvoc problems list|recurring|effect|credits`."""

from __future__ import annotations

from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.orgs import service as org_service
from bankvoc.problems import actions, service, suggestions
from bankvoc.problems.enums import ProblemStatus

problems_app = typer.Typer(help="The known-problem library and improvement actions.",
                           no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and "
                                                     "org scope apply)")]


@problems_app.command("list")
@handle_errors
def list_command(
    status: Annotated[ProblemStatus | None, typer.Option(help="Only problems of this status")]
    = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The problem library, by code, with the linked cases in your scope."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        page, total = service.list_problems(session, actor=actor, status=status, limit=200)
        counts = service.linked_counts(session, actor=actor, problems=page)
        rows = [{"id": p.id, "code": p.code, "title": p.title_zh, "title_en": p.title_en,
                 "status": p.status, "cases": counts.get(p.id, 0)} for p in page]
    if as_json:
        emit_json({"problems": rows, "total": total})
        return
    for row in rows:
        typer.echo(f"{row['code']:<16} {row['status']:<7} {row['cases']:>6}  {row['title']}")
    typer.echo(f"{total} problem(s)")


@problems_app.command("recurring")
@handle_errors
def recurring_command(user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Problems whose cases keep coming, and why."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        found = [(r.problem.code, r.reasons, r.cases_since_fixed)
                 for r in service.recurring(session, actor=actor)]
    if as_json:
        emit_json({"recurring": [{"code": code, "reasons": reasons, "cases_since_fixed": n}
                                 for code, reasons, n in found]})
        return
    for code, reasons, _ in found:
        typer.echo(f"{code}: {'; '.join(reasons)}")
    typer.echo(f"{len(found)} recurring problem(s)")


@problems_app.command("effect")
@handle_errors
def effect_command(
    action_id: Annotated[int, typer.Argument(help="The improvement action's id")],
    months_before: Annotated[int, typer.Option(help="Months compared before the start")] = 12,
    months_after: Annotated[int, typer.Option(help="Months at most after the start")] = 12,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The measured effect of an improvement action: before/after and difference in
    differences against comparable orgs, with its cost beside the complaints avoided."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        found = actions.measure_effect(session, actor=actor, action_id=action_id,
                                       months_before=months_before, months_after=months_after)
    if as_json:
        emit_json(found.model_dump(mode="json"))
        return
    typer.echo(f"action {found.action_id} ({found.problem}), started {found.started_on}: "
               f"{len(found.pilot_orgs)} pilot org(s) against {len(found.comparison_orgs)}")
    for o in found.outcomes:
        if not o.measured:
            typer.echo(f"  {o.name}: not measured ({'; '.join(o.notes)})")
            continue
        flag = "" if o.reliable else "  [unreliable: " + "; ".join(o.notes) + "]"
        typer.echo(f"  {o.name} ({o.unit}): pilots {o.pilot_before:.2f} -> {o.pilot_after:.2f}, "
                   f"comparison {o.comparison_before:.2f} -> {o.comparison_after:.2f}; "
                   f"DiD {o.did:+.2f} [{o.ci_low:+.2f}, {o.ci_high:+.2f}]{flag}")
    b = found.benefit
    typer.echo(f"  cost {b.cost} CNY; complaints avoided per month "
               f"{b.complaints_avoided_per_month}; cost per complaint avoided "
               f"{b.cost_per_complaint_avoided}")


@problems_app.command("credits")
@handle_errors
def credits_command(user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Adopted staff suggestions (建言献策) and credit points per employee."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        rows = [c.model_dump() for c in suggestions.credits(session, actor=actor)]
    if as_json:
        emit_json({"credits": rows})
        return
    for row in rows:
        typer.echo(f"{row['user']:<20} {row['adopted']:>4} adopted {row['points']:>6} points")

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine
from bankvoc.core.settings import get_settings
from bankvoc.demo import generator, service
from bankvoc.demo.service import DemoReport

demo_app = typer.Typer(help="Demonstration data.", no_args_is_help=True)


@demo_app.command("load")
@handle_errors
def load(
    cases: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many records")]
    = service.DEFAULT_CASES,
    seed: Annotated[int, typer.Option(help="Same seed, same data")] = generator.DEFAULT_SEED,
    calls: Annotated[int | None, typer.Option(
        min=0, max=1_000_000, help="Contact-centre calls of the half year (default: a fifth "
                                   f"of the records, at most {service.DEFAULT_CALLS})")] = None,
    force: Annotated[bool, typer.Option("--force", help="Load even outside demo mode")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Load a demo bank: org tree, one user per role, a year of complaints. Safe to re-run."""
    service.require_demo_mode(force=force)
    get_settings().check_safe()
    with Progress(TextColumn("demo data"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("load", total=cases)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = service.load_demo(get_engine(), cases=cases, seed=seed, force=force,
                                   on_progress=progress, calls=calls)
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_report(report)


def _print_report(report: DemoReport) -> None:
    summary = report.as_dict()
    rate = report.cases / report.seconds if report.seconds else 0.0
    typer.echo(f"demo data: {report.cases} records in {report.seconds:.1f} s "
               f"({rate:,.0f} records/s): {summary['accepted']} accepted, "
               f"{summary['merged']} merged, {summary['updated']} updated, "
               f"{summary['unchanged']} unchanged, {summary['rejected']} rejected")
    typer.echo(f"year to {summary['today']}; {report.orgs_created} orgs and "
               f"{report.users_created} users created")
    if report.contact is not None and report.contact.interactions:
        typer.echo(f"contact centre: {report.contact.interactions} calls of the half year "
                   f"({report.contact.with_transcripts} with transcripts) in "
                   f"{report.contact.seconds:.1f} s, "
                   f"{report.contact.staff_created} agents and team leads created")
    typer.echo("\nStart it with `bankvoc serve --demo`, then open http://127.0.0.1:8000/ "
               "(API under /api/v1, OpenAPI at /openapi.json).")
    typer.echo(f"Log in to the pages as any demo user (or `admin`) with the password "
               f"{service.DEMO_PASSWORD}.")
    typer.echo("Demo users and their API tokens (the same on every run; "
               "header `Authorization: Bearer <token>`):")
    roles = {u.username: (",".join(r.value for r in u.roles), u.org)
             for u in generator.USER_SPECS}
    for username, token in report.users.items():
        role, org = roles.get(username, ("", ""))
        typer.echo(f"  {username:<20} {role:<15} {org:<7} {token}")

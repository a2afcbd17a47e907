"""`bankvoc servicedata import KIND FILE` and `bankvoc servicedata trend METRIC`: operational
service data (queue tickets, channel days, process durations, digital usage) and its metrics
against their targets."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import open_rows
from bankvoc.orgs import service as org_service
from bankvoc.servicedata import service
from bankvoc.servicedata.metrics import Series

servicedata_app = typer.Typer(
    help="Operational service data: queue tickets, channel availability and response, "
         "process durations, digital usage; their metrics against targets.",
    no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and org "
                                                     "scope apply)")]


@servicedata_app.command("import")
@handle_errors
def import_command(
    kind: Annotated[str, typer.Argument(
        metavar="KIND", help="queue | channel | process | usage")],
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="CSV, TSV, XLSX or JSONL, plain or gzipped")],
    rejects_path: Annotated[Path | None, typer.Option(
        "--rejects", help="Where refused rows go (default: FILE.rejects.csv)")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Import records of one kind: each stored once per natural key (a corrected resend
    updates it); refused rows go to a rejects file with their row, field and reason."""
    if kind not in service.KINDS:
        raise typer.BadParameter(f"use one of {', '.join(service.KINDS)}", param_hint="KIND")
    get_settings().check_safe()
    rows = open_rows(path)
    rejects = RejectsWriter(rejects_path or default_rejects_path(path))
    with closing(rejects), unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        counts = service.import_rows(
            session, actor=actor, kind=kind, on_reject=rejects.write,
            rows=((row.number, row.values, row.error) for row in rows))
    summary = {"kind": kind, **counts.as_dict(),
               "rejects_file": str(rejects.path) if rejects.used else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in counts.as_dict().items())
                   + (f"; rejects in {rejects.path}" if rejects.used else ""))


@servicedata_app.command("trend")
@handle_errors
def trend_command(
    metric: Annotated[str, typer.Argument(metavar="METRIC", help="e.g. queue_wait_avg")],
    org: Annotated[str | None, typer.Option(help="Only this org's subtree (its code)")] = None,
    months: Annotated[int, typer.Option(min=1, max=36, help="How many months")] = 6,
    to: Annotated[datetime | None, typer.Option(
        "--to", formats=["%Y-%m"], help="The last month (YYYY-MM; default: the latest with "
                                        "data)")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """A metric month by month (per business type, channel or process type), with its
    target, whether the latest month meets it, and the month-on-month change."""
    if metric not in service.METRICS:
        raise typer.BadParameter(f"use one of {', '.join(service.METRICS)}",
                                 param_hint="METRIC")
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        last = to.date().replace(day=1) if to else (
            service.latest_month(session, actor=actor, org=org)
            or datetime.now(get_settings().tz).date().replace(day=1))
        found = service.report(session, actor=actor, org=org, metrics=[metric],
                               start=service.add_months(last, 1 - months), end=last)
    if as_json:
        emit_json({"metric": metric, "org": found.org.code, "unit": found_unit(metric),
                   "from": found.months[0].strftime("%Y-%m"),
                   "to": found.months[-1].strftime("%Y-%m"),
                   "series": [s.as_dict() for s in found.series]})
        return
    typer.echo(f"{metric} ({found_unit(metric)}), {found.org.code}, "
               f"{found.months[0]:%Y-%m} – {found.months[-1]:%Y-%m}")
    if not found.series:
        typer.echo("no data")
    for series in found.series:
        typer.echo(_line(series))


def found_unit(metric: str) -> str:
    return service.METRICS[metric].unit


def _line(series: Series) -> str:
    values = "  ".join(f"{p.month:%Y-%m} {_num(p.value)}" for p in series.points)
    met = {True: "met", False: "MISSED", None: "-"}[series.met()]
    return (f"{series.group or 'all':<28}{values}  target {_num(series.target)}  {met}  "
            f"change {_num(series.change())}")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"

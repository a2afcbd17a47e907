"""`bankvoc people scorecard|appraisal|training import`: scorecards of agents, teams, outlets
and branches, the branches' monthly appraisal input, and training records."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import open_rows
from bankvoc.orgs import service as org_service
from bankvoc.people import export, scorecard, training
from bankvoc.people.weights import LEVELS

people_app = typer.Typer(help="Scorecards, appraisal input and training records.",
                         no_args_is_help=True)
training_app = typer.Typer(help="Training sessions and assessment results.",
                           no_args_is_help=True)
people_app.add_typer(training_app, name="training")

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and org "
                                                     "scope apply)")]
MonthOpt = Annotated[str, typer.Option("--month", help="The month, YYYY-MM")]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@people_app.command("scorecard")
@handle_errors
def scorecard_command(
    level: Annotated[str, typer.Option("--level", help=" | ".join(LEVELS))],
    month: MonthOpt,
    org: Annotated[str | None, typer.Option("--org", help="Only this org's subtree")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The month's scorecards, ranked within their parent (team, org or parent org)."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        cards = scorecard.scorecards(session, actor=actor, level=level, month=month, org=org)
        payload = cards.as_dict()
    if as_json:
        emit_json(payload)
        return
    typer.echo(f"{cards.level} scorecards, {cards.month} (weights {cards.weights_version})")
    if not cards.cards:
        typer.echo("no data")
    for card in cards.cards:
        parts = "  ".join(f"{c.code} {_num(c.raw)}→{_num(c.normalised)}"
                          for c in card.components)
        typer.echo(f"{card.parent:<10} #{card.rank or '-':<3} {card.key:<16} "
                   f"{_num(card.total):>6}  {parts}"
                   + (f"  ({card.note})" if card.note else ""))


@people_app.command("appraisal")
@handle_errors
def appraisal_command(
    month: MonthOpt,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Also write a workbook")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The monthly branch service-quality check as an appraisal input: every branch's
    scorecard total and components."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        cards = scorecard.appraisal(session, actor=actor, month=month)
        payload = cards.as_dict()
    if xlsx is not None:
        xlsx.write_bytes(export.appraisal_xlsx(cards))
        payload["xlsx"] = str(xlsx)
    if as_json:
        emit_json({"month": payload["month"], "weights_version": payload["weights_version"],
                   "branches": payload["cards"], "xlsx": payload.get("xlsx")})
        return
    for card in cards.cards:
        typer.echo(f"{card.key:<10} {card.label:<16} {_num(card.total):>6}  rank "
                   f"{card.rank or '-'}" + (f"  ({card.note})" if card.note else ""))


@training_app.command("import")
@handle_errors
def training_import_command(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="CSV, TSV, XLSX or JSONL")],
    rejects_path: Annotated[Path | None, typer.Option(
        "--rejects", help="Where refused rows go (default: FILE.rejects.csv)")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Import training sessions and results (one row per attendee); each stored once, refused
    rows to a rejects file with their row, field and reason."""
    get_settings().check_safe()
    rows = open_rows(path)
    rejects = RejectsWriter(rejects_path or default_rejects_path(path))
    with closing(rejects), unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        counts = training.import_rows(
            session, actor=actor, on_reject=rejects.write,
            rows=((row.number, row.values, row.error) for row in rows))
    summary = {**counts.as_dict(), "rejects_file": str(rejects.path) if rejects.used else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in counts.as_dict().items())
                   + (f"; rejects in {rejects.path}" if rejects.used else ""))


@training_app.command("pass-rate")
@handle_errors
def pass_rate_command(
    month: MonthOpt,
    org: Annotated[str | None, typer.Option("--org", help="Only this org's subtree")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The month's training sessions and their pass rate against the target (≥ 90%)."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        found = training.pass_rate(session, actor=actor, month=month, org=org)
        payload = found.as_dict()
    if as_json:
        emit_json(payload)
        return
    met = {True: "met", False: "MISSED", None: "-"}[found.met]
    typer.echo(f"{found.org} {found.month}: pass rate {_num(found.value)}% "
               f"({found.passed}/{found.assessed}), target {found.target:g}% {met}")

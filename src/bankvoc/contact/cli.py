"""`bankvoc qa inspect FILE [--rules R.yaml] [--json]`: quality inspection of call transcripts;
`bankvoc contact import FILE` and `bankvoc contact kpis`: interaction records and their KPIs
(see the end of this module).

FILE is JSON Lines (one interaction a line, see `contact/schemas.py`), plain or gzipped, or `-`
for stdin. With --json, stdout holds exactly one JSON object per interaction, in input order,
and nothing else: `{"id", "score", "hits": [{"category", "rule", "turn", "evidence"}]}`, or for
a line that is not an interaction `{"id", "line", "error": {"field", "reason"}}` in its place.
Without it, a table for people. Refused lines, progress and the summary go to stderr; the exit
status is 0 when the file could be read (refused lines included), 2 when it or the rule set
could not.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import closing
from datetime import datetime
from multiprocessing import get_all_start_methods
from pathlib import Path
from typing import IO, Annotated, cast

import orjson
import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bankvoc.contact import interactions, kpis, service
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import open_rows
from bankvoc.orgs import service as org_service

qa_app = typer.Typer(help="Quality inspection (智能质检) of contact-centre calls.",
                     no_args_is_help=True)

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000


@qa_app.callback()
def _qa() -> None:
    """Keeps `inspect` a sub-command even while it is the only one."""


@qa_app.command("inspect")
@handle_errors
def inspect_command(
    source: Annotated[str, typer.Argument(
        metavar="FILE", help="JSON Lines of interactions, plain or gzipped; - for stdin")],
    rules: Annotated[Path | None, typer.Option(
        "--rules", help="Rule set (YAML); default: the version of qa_rules in force (bankvoc "
                        "config), else the shipped qa_rules.yaml")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="JSON Lines: one object per interaction, in input order")] = False,
    workers: Annotated[int, typer.Option(
        min=0, max=32, help="Worker processes for large inputs (0: inspect in this one)")] = 2,
) -> None:
    """Score every interaction of FILE against the rule set; every hit with its evidence."""
    if rules is None:
        _versions_in_force()
    try:
        ruleset = service.load_ruleset(rules)
    except service.QaRulesError as exc:
        for problem in exc.problems[1:]:
            typer.echo(f"error: {problem.describe(str(rules))}", err=True)
        raise
    if source == "-":
        _run(sys.stdin.buffer, ruleset, as_json=as_json, workers=workers)
    else:
        with Path(source).open("rb") as handle:
            _run(handle, ruleset, as_json=as_json, workers=workers)


def _versions_in_force() -> None:
    """Read the versions of configuration in force (the active qa_rules among them) when a
    database is configured and reachable; else the shipped files stay in force. A SQLite file
    that does not exist is not created."""
    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and (
            not url.database or url.database == ":memory:" or not Path(url.database).exists()):
        return
    try:
        with unit_of_work(get_engine()):
            pass  # a unit of work begins by reading the versions in force
    except (SQLAlchemyError, OSError) as exc:
        log.debug("no versions of configuration read: %s", type(exc).__name__)


def _run(stream: IO[bytes], ruleset: service.RuleSet, *, as_json: bool, workers: int) -> None:
    started = time.perf_counter()
    lines = service.numbered_lines(service.open_input(stream))
    out = sys.stdout.buffer if as_json else None
    done = refused = 0
    # fork: this command opens no database and starts no thread (see inspect_lines)
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    for outcome in service.inspect_lines(lines, ruleset, workers=workers, start_method=method):
        if outcome.error is not None:
            refused += 1
            typer.echo(f"refused: {outcome.error.describe()}", err=True)
        if out is not None:
            out.write(outcome.json + b"\n")
        else:
            typer.echo(_human(outcome))
        done += 1
        if done % PROGRESS_EVERY == 0:
            typer.echo(f"{done} interactions", err=True)
    if out is not None:
        out.flush()
    seconds = time.perf_counter() - started
    typer.echo(f"{done - refused} inspected, {refused} refused in {seconds:.1f} s "
               f"(rules {ruleset.name} v{ruleset.version})", err=True)


def _human(outcome: service.Outcome) -> str:
    if outcome.error is not None:
        return f"line {outcome.error.line}  refused: {outcome.error.reason}"
    result = orjson.loads(outcome.json)
    lines = [f"{result['id']}  score {result['score']}  "
             f"{len(result['hits'])} hit{'' if len(result['hits']) == 1 else 's'}"]
    for hit in result["hits"]:
        turn = "-" if hit["turn"] is None else hit["turn"]
        lines.append(f"    turn {turn:>3}  {hit['category']:<16} {hit['rule']:<32} "
                     f"{hit['evidence']}")
    return "\n".join(lines)


# --- interaction records and their KPIs --------------------------------------------------------

contact_app = typer.Typer(help="Contact-centre interactions (calls, chats) and their KPIs.",
                          no_args_is_help=True)


@contact_app.command("import")
@handle_errors
def import_command(
    path: Annotated[Path, typer.Argument(
        metavar="FILE", help="CSV, TSV, XLSX or JSONL, plain or gzipped")],
    source: Annotated[str, typer.Option(
        help="Source system of the records (ids are unique within it)")] = "acd",
    rejects_path: Annotated[Path | None, typer.Option(
        "--rejects", help="Where refused rows go (default: FILE.rejects.csv)")] = None,
    user: Annotated[str, typer.Option(help="Act as this user")] = "admin",
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Import interaction records: each stored once per source id (a corrected resend updates
    it); refused rows go to a rejects file with their row, field and reason."""
    get_settings().check_safe()
    rows = open_rows(path)
    rejects = RejectsWriter(rejects_path or default_rejects_path(path))
    with closing(rejects), unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        counts = interactions.import_rows(
            session, actor=actor, source_system=source, on_reject=rejects.write,
            rows=((row.number, row.values, row.error) for row in rows))
    summary = {**counts.as_dict(), "rejects_file": str(rejects.path) if rejects.used else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in counts.as_dict().items())
                   + (f"; rejects in {rejects.path}" if rejects.used else ""))


@contact_app.command("kpis")
@handle_errors
def kpis_command(
    by: Annotated[str | None, typer.Option(
        "--by", help="One row per agent, team, queue or org")] = None,
    start: Annotated[datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD, the bank's time zone)")
    ] = None,
    end: Annotated[datetime | None, typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD)")] = None,
    org: Annotated[str | None, typer.Option(help="Only this org's subtree (its code)")] = None,
    service_level_s: Annotated[int | None, typer.Option(
        "--service-level-s", help="X of the service level: answered within X seconds; default: "
                                  "the window of the contact_targets in force (bankvoc config) "
                                  "for the scope, else the shipped 20 s")] = None,
    user: Annotated[str, typer.Option(help="Act as this user (their org subtree)")] = "admin",
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Connect rate, service level, abandonment, ASA, AHT, talk time, transfers, first-contact
    resolution and satisfaction of the interactions of a period. The service level's window
    is --service-level-s when given, else the one of the contact-centre targets in force
    (kind contact_targets) for the scope (--org's, else the user's org)."""
    if by is not None and by not in kpis.GROUPINGS:
        raise typer.BadParameter(f"use one of {', '.join(kpis.GROUPINGS)}", param_hint="--by")
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        if service_level_s is None:  # the unit of work began by reading the versions in force
            service_level_s = kpis.window_for(session, actor=actor, org_code=org)
        rows = kpis.report(session, actor=actor, by=cast("kpis.Grouping | None", by),
                           start=start.date() if start else None,
                           end=end.date() if end else None, org_code=org,
                           tz=get_settings().tz, service_level_s=service_level_s)
    if as_json:
        emit_json({"rows": [row.as_dict() for row in rows], "service_level_s": service_level_s})
        return
    typer.echo(f"service level: answered within {service_level_s} s", err=True)
    typer.echo(f"{'group':<16}{'n':>7}{'connect':>9}{'SL':>8}{'abandon':>9}{'ASA s':>8}"
               f"{'AHT s':>8}{'talk s':>8}{'transfer':>9}{'FCR':>8}{'CSAT':>6}")
    for row in rows:
        typer.echo(f"{row.group or '-':<16}{row.interactions:>7}{_pct(row.connect_rate):>9}"
                   f"{_pct(row.service_level):>8}{_pct(row.abandonment_rate):>9}"
                   f"{_num(row.asa_s):>8}{_num(row.aht_s):>8}{_num(row.talk_s):>8}"
                   f"{_pct(row.transfer_rate):>9}{_pct(row.fcr):>8}{_num(row.csat, 2):>6}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"

"""`bankvoc qa inspect FILE [--rules R.yaml] [--json]`: quality inspection of call transcripts.

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
from multiprocessing import get_all_start_methods
from pathlib import Path
from typing import IO, Annotated

import orjson
import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bankvoc.contact import service
from bankvoc.core.cliutil import handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings

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

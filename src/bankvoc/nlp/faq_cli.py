"""`bankvoc faq ...`: import the FAQ knowledge base and try answer suggestions.

Results go to stdout (with --json, the last line is one JSON object); rejected rows and
progress go to stderr.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.intake.readers import RowSource, open_rows
from bankvoc.nlp import faq_service
from bankvoc.nlp.faq_service import FaqRow
from bankvoc.orgs import service as org_service

faq_app = typer.Typer(help="The FAQ knowledge base behind answer suggestions.",
                      no_args_is_help=True)

# Column headers looked for when no option names the column, in order of preference.
_DEFAULTS = {
    "--question": ("question", "标准问题"),
    "--answer": ("answer", "答案"),
    "--category": ("category", "类别"),
    "--phrasing": ("phrasing", "相似问题"),
}
_REQUIRED = ("--question", "--answer")
# Rejections printed to a terminal; --json has them all.
_MAX_PRINTED = 20

UserOpt = Annotated[str, typer.Option(help="Act as this user")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


def _actor(session: Session, username: str) -> org_service.Actor:
    return org_service.actor_for(org_service.get_user(session, username=username))


def _columns(source: RowSource, given: dict[str, str | None]) -> dict[str, str | None]:
    """The header for each option: the one named, else the first default the file has."""
    found: dict[str, str | None] = {}
    for option, column in given.items():
        if column is not None:
            if column not in source.headers:
                raise Invalid(f"no column {column!r}; the file has {', '.join(source.headers)}",
                              field=option)
            found[option] = column
            continue
        found[option] = next((c for c in _DEFAULTS[option] if c in source.headers), None)
        if found[option] is None and option in _REQUIRED:
            raise Invalid(f"name the {option.removeprefix('--')} column with {option}; the file "
                          f"has {', '.join(source.headers)}", field=option)
    return found


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rows(source: RowSource, columns: dict[str, str | None]) -> Iterator[FaqRow]:
    def cell(values: dict[str, Any], option: str) -> str:
        column = columns[option]
        return "" if column is None else _cell(values.get(column))

    for row in source:
        phrasing = cell(row.values, "--phrasing")
        yield FaqRow(question=cell(row.values, "--question"),
                     answer=cell(row.values, "--answer"),
                     category=cell(row.values, "--category"),
                     phrasings=(phrasing,) if phrasing else (), row=row.number, error=row.error)


@faq_app.command("import")
@handle_errors
def import_command(
    data: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX or JSONL, plain or gzipped")],
    question: Annotated[str | None, typer.Option(
        "--question", help="Column of the standard question (default: question or 标准问题)")]
    = None,
    answer: Annotated[str | None, typer.Option(
        "--answer", help="Column of the answer (default: answer or 答案)")] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="Column of the category (default: category or 类别; optional)")]
    = None,
    phrasing: Annotated[str | None, typer.Option(
        "--phrasing", help="Column of another way to ask the question; rows repeating a "
                           "question add their phrasings (default: phrasing or 相似问题)")]
    = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Import standard questions with their answers; re-importing the same file changes nothing."""
    source = open_rows(data)
    columns = _columns(source, {"--question": question, "--answer": answer,
                                "--category": category, "--phrasing": phrasing})
    with unit_of_work(get_engine()) as session:
        counts = faq_service.import_entries(session, actor=_actor(session, user),
                                            rows=_rows(source, columns), source=data.name)
        total = faq_service.count(session)
    if as_json:
        emit_json({"added": counts.added, "updated": counts.updated,
                   "unchanged": counts.unchanged,
                   "rejected": [asdict(r) for r in counts.rejected]})
        return
    for rejection in counts.rejected[:_MAX_PRINTED]:
        typer.echo(f"row {rejection.row} ({rejection.field}): {rejection.reason}", err=True)
    if len(counts.rejected) > _MAX_PRINTED:
        typer.echo(f"... and {len(counts.rejected) - _MAX_PRINTED} more rejected rows", err=True)
    typer.echo(f"{counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged, "
               f"{len(counts.rejected)} rejected; {total} entries in the knowledge base")


@faq_app.command("suggest")
@handle_errors
def suggest_command(
    text: Annotated[str, typer.Argument(help="A customer's question or complaint")],
    k: Annotated[int, typer.Option("--k", min=1, max=faq_service.MAX_K,
                                   help="How many suggestions")] = 5,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The standard questions (with their answers) most likely to answer TEXT, best first."""
    with unit_of_work(get_engine()) as session:
        suggestions = faq_service.suggest(session, actor=_actor(session, user), text=text, k=k)
    if as_json:
        emit_json({"suggestions": [asdict(s) for s in suggestions]})
        return
    if not suggestions:
        typer.echo("no suggestion (is the knowledge base imported? bankvoc faq import ...)")
        return
    for s in suggestions:
        typer.echo(f"{s.score:.3f}  {s.question}  [{s.category or '-'}]\n       {s.answer}")

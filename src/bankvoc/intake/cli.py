from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bankvoc.cases.enums import Channel
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.intake.importer import ImportReport, import_file
from bankvoc.orgs import service as org_service


@handle_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX or JSONL, plain or gzipped")],
    channel: Annotated[str | None, typer.Option(help="Channel of rows that name none")] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML: file header -> field")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where rejected rows go")] = None,
    source: Annotated[str, typer.Option(help="Source system the ids come from")] = "import",
    user: Annotated[str, typer.Option(help="Import as this user")] = "admin",
    batch_size: Annotated[int | None, typer.Option(min=1, max=50_000)] = None,
    workers: Annotated[int | None, typer.Option(
        min=0, max=16, help="Processes understanding rows ahead of storage (default: by size)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Import cases from a file. Re-running the same file changes nothing."""
    settings = get_settings()
    settings.check_safe()
    if channel is not None and channel not in Channel.__members__:
        raise Invalid(f"unknown channel {channel!r}; use one of {', '.join(Channel)}",
                      field="--channel")
    if not file.is_file():
        raise Invalid(f"no such file: {file}", field="FILE")
    engine = get_engine()
    with unit_of_work(engine) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
    with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                  disable=as_json) as bar:
        task = bar.add_task("import", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        report = import_file(file, engine=engine, actor=actor, channel=channel,
                             mapping_file=mapping, rejects_path=rejects, source_system=source,
                             batch_size=batch_size or settings.import_batch_size, workers=workers,
                             on_progress=progress)
    _print_report(report, as_json)


def _print_report(report: ImportReport, as_json: bool) -> None:
    summary = report.as_dict()
    if as_json:
        emit_json(summary)
        return
    rate = report.rows / report.seconds if report.seconds else 0.0
    typer.echo(f"{report.rows} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s): "
               f"{summary['accepted']} accepted, {summary['merged']} merged, "
               f"{summary['updated']} updated, {summary['unchanged']} unchanged, "
               f"{summary['rejected']} rejected")
    if report.rejects_file:
        typer.echo(f"rejected rows, with row, field and reason: {report.rejects_file}")

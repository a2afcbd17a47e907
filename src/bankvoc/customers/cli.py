"""`bankvoc customers import-value FILE` and `bankvoc customers attrition`."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.customers import segments
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import RowSource, open_rows
from bankvoc.orgs import service as org_service

customers_app = typer.Typer(help="Customers: value (RFM) segments and attrition.",
                            no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option(help="Act as this user")]


def _header_score(cells: list[str]) -> int:
    """How many cells are known column names: picks the header below any title rows."""
    return sum(1 for cell in cells if segments.field_of(cell))


def _rows(source: RowSource, rejects: list[tuple[int, str, str]]
          ) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for row in source:
        if row.error is not None:
            rejects.append((row.number, "row", row.error))
        else:
            yield row.number, row.values


@customers_app.command("import-value")
@handle_errors
def import_value_command(
    path: Annotated[Path, typer.Argument(
        help="CSV, TSV, XLSX or JSONL, plain or gzipped: phone or ID number, recency days, "
             "frequency, monetary, attrited date (optional), month (unless --month)")],
    month: Annotated[str | None, typer.Option(
        help="The month the file describes (YYYY-MM); else each row's month column")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Import a customer-value file: customers found by phone or ID number (blind index; the
    unknown ones stored, encrypted), scored R/F/M 1-5 over the month and segmented. Bad rows
    go to a rejects file with their row, field and reason; importing the same file again
    changes nothing."""
    get_settings().check_safe()
    started = time.perf_counter()
    as_of = segments.parse_month(month) if month else None
    source = open_rows(path, header_hint=_header_score)
    unreadable: list[tuple[int, str, str]] = []
    rejects = RejectsWriter(default_rejects_path(path))
    with closing(rejects):
        with unit_of_work(get_engine()) as session:
            actor = org_service.actor_for(org_service.get_user(session, username=user))
            report = segments.import_rows(session, actor=actor, month=as_of,
                                          rows=_rows(source, unreadable))
        for number, field_name, reason in sorted(report.rejects + unreadable):
            rejects.write(number, field_name, reason)
    if not rejects.used and rejects.path.exists():
        rejects.path.unlink()  # a clean run leaves no stale rejects from an earlier one
    seconds = time.perf_counter() - started
    rows = report.rows + len(unreadable)
    summary = {**report.as_dict(), "rows": rows,
               "rejected": report.rejected + len(unreadable),
               "rejects_file": str(rejects.path) if rejects.used else None,
               "seconds": round(seconds, 3),
               "rows_per_second": round(rows / seconds) if seconds > 0 else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(f"stored {summary['stored']}, updated {summary['updated']}, unchanged "
                   f"{summary['unchanged']}, rejected {summary['rejected']} "
                   f"({summary['rows_per_second']} rows/s)")


@customers_app.command("attrition")
@handle_errors
def attrition_command(
    period: Annotated[str, typer.Option(help="2026-10, 2026-Q3, 2026 or a range of days")],
    org: Annotated[str | None, typer.Option(help="Org code (default: your own org)")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Attrition per segment: customers who left ÷ customers at the start of the period, for
    those who complained in the 12 months before and for the rest."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        report = segments.attrition(session, actor=actor, period=period, org=org, lang=lang)
        payload = report.as_dict()
    if as_json:
        emit_json(payload)
        return
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}%"
    for row in [*payload["segments"], payload["total"]]:
        typer.echo(f"{row['label']}: {row['attrited']}/{row['customers']} {pct(row['rate'])}"
                   f"  complainers {pct(row['complainers_rate'])}"
                   f"  others {pct(row['others_rate'])}")

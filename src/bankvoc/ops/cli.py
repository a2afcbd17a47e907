"""Operations commands: `bankvoc db backup|restore` and `bankvoc keys status|rotate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.ops import backup as backups
from bankvoc.ops import keys

keys_app = typer.Typer(help="The personal-data key ring: what is stored under which key, "
                            "and re-encryption under the first key.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="End with one JSON object")]


@handle_errors
def db_backup(out: Annotated[Path, typer.Argument(help="The backup file to write")],
              as_json: JsonOption = False) -> None:
    """Write a consistent backup of the database while it is in use (SQLite: its backup API;
    PostgreSQL: pg_dump -Fc)."""
    report = backups.backup(get_engine(), out)
    if as_json:
        emit_json(report.as_dict())
        return
    typer.echo(f"backup of the {report.database} database (schema {report.revision}) written "
               f"to {report.path}: {report.bytes} bytes in {report.seconds} s", err=True)


@handle_errors
def db_restore(
    backup_file: Annotated[Path, typer.Argument(metavar="IN", help="A file of `db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace a database that holds data")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """Replace the database's content by a backup's (then run `bankvoc db upgrade` if the
    backup came from an older release)."""
    report = backups.restore(get_engine(), backup_file, replace=yes)
    if as_json:
        emit_json(report.as_dict())
        return
    typer.echo(f"{report.path} restored into the {report.database} database (schema "
               f"{report.revision}) in {report.seconds} s", err=True)


@keys_app.command("status")
@handle_errors
def keys_status(as_json: JsonOption = False) -> None:
    """How many stored values each column still holds under a key other than the first."""
    with unit_of_work(get_engine()) as session:
        info = keys.status(session)
    if as_json:
        emit_json(info)
        return
    typer.echo(f"active key: {info['active_key']}  (ring: {', '.join(info['keys'])})")
    for column, count in info["stale"].items():
        typer.echo(f"{column:>40}: {count}")
    typer.echo(f"{'under another key':>40}: {info['total_stale']}")


@keys_app.command("rotate")
@handle_errors
def keys_rotate(
    batch: Annotated[int, typer.Option("--batch", min=1, help="Rows per committed batch")]
    = 500,
    as_json: JsonOption = False,
) -> None:
    """Re-encrypt every value still under an old key with the ring's first key (resumable,
    safe while the application runs)."""

    def progress(table: str, result: keys.BatchResult) -> None:
        typer.echo(f"{table}: {result.rotated} rows re-encrypted", err=True)

    report = keys.rotate(get_engine(), batch_size=batch, on_batch=progress)
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(f"{report.rotated} rows ({report.values} values) re-encrypted under "
                   f"{report.active_key} in {report.batches} batches; {report.remaining} "
                   "values left under another key", err=True)
    if report.remaining:
        raise typer.Exit(1)

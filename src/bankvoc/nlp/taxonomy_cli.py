"""`bankvoc taxonomy ...`: check a taxonomy file a bank has edited before it is used.

Results go to stdout (with --json, the last line is one JSON object); problems go to stderr and
end the command with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.nlp.taxonomy import TaxonomyError, read_taxonomy

taxonomy_app = typer.Typer(help="The taxonomy file: kinds, channels, products, natures of "
                                "complaint and their JR/T 0169-2018 and bulletin mapping.",
                           no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


@taxonomy_app.callback()
def _taxonomy() -> None:
    """Keeps `check` a sub-command even while it is the only one."""


@taxonomy_app.command("check")
@handle_errors
def check_command(
    file: Annotated[Path, typer.Argument(help="A taxonomy file (YAML, UTF-8)", dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Check FILE: OK with how many entries each list holds, or every problem with its line."""
    source = str(file)
    try:
        taxonomy = read_taxonomy(file)
    except TaxonomyError as exc:
        if as_json:
            emit_json({"ok": False, "file": source,
                       "problems": [p.to_dict() for p in exc.problems]})
        if len(exc.problems) > 1:
            for problem in exc.problems:
                typer.echo(problem.describe(source), err=True)
            raise TaxonomyError(f"{source}: {len(exc.problems)} problems",
                                problems=exc.problems) from None
        raise
    counts = taxonomy.counts()
    if as_json:
        emit_json({"ok": True, "file": source, "version": taxonomy.version, "counts": counts})
        return
    typer.echo(f"OK {source} (version {taxonomy.version}): "
               + ", ".join(f"{n} {name}" for name, n in counts.items()))

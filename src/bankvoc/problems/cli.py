"""`bankvoc problems …`."""

from __future__ import annotations

import typer

problems_app = typer.Typer(help="The known-problem library and improvement actions.",
                           no_args_is_help=True)

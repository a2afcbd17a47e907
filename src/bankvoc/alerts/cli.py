"""`bankvoc alerts …`."""

from __future__ import annotations

import typer

alerts_app = typer.Typer(help="Early warning: hot issues and risky cases.", no_args_is_help=True)

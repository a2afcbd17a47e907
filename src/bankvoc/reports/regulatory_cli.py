"""`bankvoc report regulatory …`."""

from __future__ import annotations

import typer

regulatory_app = typer.Typer(help="Regulatory statistics (JR/T 0169-2018, bulletin categories).",
                             no_args_is_help=True)

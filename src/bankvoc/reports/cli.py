"""`bankvoc report …`."""

from __future__ import annotations

import typer

report_app = typer.Typer(help="Reports: the monthly VOC report and regulatory statistics.",
                         no_args_is_help=True)

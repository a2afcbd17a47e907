"""`bankvoc kpi …`."""

from __future__ import annotations

import typer

kpi_app = typer.Typer(help="KPIs: compute, cut, compare with targets, drill down, export.",
                      no_args_is_help=True)

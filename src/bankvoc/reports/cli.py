"""`bankvoc report …`: the monthly VOC report (`monthly`); `regulatory` is registered beside it."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, fail, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.settings import get_settings
from bankvoc.orgs import service as org_service
from bankvoc.reports import files, monthly

log = logging.getLogger(__name__)

report_app = typer.Typer(help="Reports: the monthly VOC report and regulatory statistics.",
                         no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and "
                                                     "org scope apply)")]


@report_app.command("monthly")
@handle_errors
def monthly_command(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="Folder the files are written to")],
    org: Annotated[str | None, typer.Option(
        "--org", help="Org code (its subtree); your own org by default")] = None,
    formats: Annotated[str, typer.Option(
        "--format", help="Comma-separated: html, pdf, xlsx")] = "html,pdf,xlsx",
    quarterly: Annotated[bool, typer.Option(
        "--quarterly", help="The quarterly review: the three months ending with --month")]
    = False,
    lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "zh",
    all_branches: Annotated[bool, typer.Option(
        "--all-branches", help="One report for head office and one for every branch")]
    = False,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Write the monthly Voice-of-Customer report (or its quarterly review) of an org as HTML,
    PDF and/or XLSX. Personal data is masked throughout."""
    get_settings().check_safe()
    if lang not in ("zh", "en"):
        raise fail("--lang: zh or en")
    if all_branches and org is not None:
        raise fail("--all-branches and --org: give one or the other")
    wanted = files.parse_formats(formats)
    started = time.perf_counter()
    written: list[dict[str, object]] = []
    all_files: list[str] = []
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        codes = ([o.code for o in monthly.report_orgs(session, actor=actor)] if all_branches
                 else [org])
        for code in codes:
            began = time.perf_counter()
            report = monthly.build_report(session, actor=actor, month=month, org=code,
                                          quarterly=quarterly, lang=lang)
            paths = files.write_files(report, wanted, out)
            seconds = round(time.perf_counter() - began, 3)
            log.info("report %s %s for %s: %d file(s) in %.1f s", report.kind, report.period,
                     report.org_code, len(paths), seconds)
            names = [str(p) for p in paths]
            all_files += names
            written.append({"org": report.org_code, "period": report.period,
                            "files": names, "seconds": seconds})
            if not as_json:
                for path in paths:
                    typer.echo(str(path))
    total = round(time.perf_counter() - started, 3)
    if as_json:
        emit_json({"month": month, "kind": "quarterly" if quarterly else "monthly",
                   "reports": written, "files": all_files, "seconds": total})
    else:
        typer.echo(f"{len(all_files)} file(s) in {total:.1f} s", err=True)

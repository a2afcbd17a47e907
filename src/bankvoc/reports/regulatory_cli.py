"""`bankvoc report regulatory …`: the JR/T 0169-2018 statistics, the annual disclosure and the
dispute-resolution self-check. With --json the last line of stdout is one JSON object."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bankvoc.core.cliutil import emit_json, fail, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.orgs import service as org_service
from bankvoc.reports import regulatory
from bankvoc.reports.regulatory_html import disclosure_html
from bankvoc.reports.regulatory_selfcheck import self_check
from bankvoc.reports.regulatory_xlsx import disclosure_workbook, jrt_workbook

regulatory_app = typer.Typer(help="Regulatory statistics (JR/T 0169-2018, bulletin categories).",
                             no_args_is_help=True)

DISCLOSURE_FORMATS = ("html", "xlsx")
OrgOpt = Annotated[str | None, typer.Option("--org", help="Org code (default: your own org)")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and org "
                                                     "scope apply)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


def _formats(raw: str) -> list[str]:
    formats = [f.strip().lower() for f in raw.split(",") if f.strip()]
    unknown = [f for f in formats if f not in DISCLOSURE_FORMATS]
    if unknown or not formats:
        raise fail(f"--format: {', '.join(unknown) or 'nothing'} is not one of "
                   f"{', '.join(DISCLOSURE_FORMATS)}")
    return list(dict.fromkeys(formats))


@regulatory_app.command("jrt")
@handle_errors
def jrt_command(
    period: Annotated[str, typer.Option(help="Quarter (2026-Q3), month, year or day range")],
    out: Annotated[Path, typer.Option("--out", help="The XLSX file to write")],
    org: OrgOpt = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Complaints by JR/T 0169-2018 channel, business type and cause and by bulletin category,
    per child org, with the regulator's ratios: an XLSX workbook."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        stats = regulatory.jrt_statistics(session, actor=actor, period=period, org=org)
        data = jrt_workbook(stats)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if as_json:
        emit_json({**stats.as_dict(), "file": str(out)})
    else:
        typer.echo(f"{stats.period.label} {stats.org.code}: {stats.total} complaints → {out}")


@regulatory_app.command("disclosure")
@handle_errors
def disclosure_command(
    year: Annotated[int, typer.Option(help="The calendar year, e.g. 2026")],
    out: Annotated[Path, typer.Option("--out", help="The directory to write to")],
    org: OrgOpt = None,
    formats: Annotated[str, typer.Option("--format", help="html, xlsx or both")] = "html,xlsx",
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The annual consumer-complaint disclosure (年度消费投诉情况) as HTML and/or XLSX."""
    wanted = _formats(formats)
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        disclosure = regulatory.annual_disclosure(session, actor=actor, year=year, org=org)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for fmt in wanted:
        path = out / f"complaint-disclosure-{disclosure.org.code}-{disclosure.year}.{fmt}"
        if fmt == "html":
            path.write_text(disclosure_html(disclosure), encoding="utf-8")
        else:
            path.write_bytes(disclosure_workbook(disclosure))
        files.append(str(path))
    if as_json:
        emit_json({**disclosure.as_dict(), "files": files})
    else:
        typer.echo(f"{disclosure.year} {disclosure.org.code}: {disclosure.complaints} "
                   f"complaints → {', '.join(files)}")


@regulatory_app.command("self-check")
@handle_errors
def self_check_command(
    year: Annotated[int, typer.Option(help="The calendar year, e.g. 2026")],
    org: OrgOpt = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """The dispute-resolution self-check (投诉处理/纠纷化解) against the bank's lines."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        check = self_check(session, actor=actor, year=year, org=org)
    if as_json:
        emit_json(check.as_dict())
        return
    for item in check.items:
        value = "—" if item.value is None else f"{item.value:,.2f}"
        line = "" if item.threshold is None else f" ({item.comparison} {item.threshold:g})"
        typer.echo(f"{item.status:<9} {item.zh} / {item.en}: {value}{line}")

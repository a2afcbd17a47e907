"""`bankvoc kpi …`: KPIs from the command line, the roll-up, denominators and targets."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from bankvoc.analytics import export, service
from bankvoc.analytics.schemas import OrgStatRow
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import BankvocError
from bankvoc.core.settings import get_settings
from bankvoc.intake.importer import RejectsWriter, default_rejects_path
from bankvoc.intake.readers import open_rows
from bankvoc.orgs import service as org_service
from bankvoc.orgs.service import Actor

kpi_app = typer.Typer(help="KPIs: compute, cut, compare with targets, drill down, export.",
                      no_args_is_help=True)
target_app = typer.Typer(help="KPI targets.", no_args_is_help=True)
kpi_app.add_typer(target_app, name="target")

UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and org)")]
PeriodOpt = Annotated[str, typer.Option(
    "--period", help="2026-10, 2026-Q3, 2026 or 2026-10-01..2026-10-15")]
OrgOpt = Annotated[str | None, typer.Option("--org", help="Org code (default: the user's)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
# Stat file headers, Chinese or English, by field.
STAT_HEADERS = {"机构": "org", "机构代码": "org", "月份": "month", "客户数": "customers",
                "个人客户数": "individual_customers", "网点数": "outlets"}


def _actor(session: Any, user: str) -> Actor:
    return org_service.actor_for(org_service.get_user(session, username=user))


def _cut(channel: str | None, product: str | None, category: str | None,
         segment: str | None) -> dict[str, str | None]:
    return {"channel": channel, "product": product, "category": category, "segment": segment}


@kpi_app.command("show")
@handle_errors
def show_command(
    kpi: Annotated[str, typer.Argument(help="KPI code, e.g. complaints, on_time_rate, csat")],
    period: PeriodOpt, org: OrgOpt = None,
    by: Annotated[str | None, typer.Option(help="Break down by org, month, day, channel, "
                                                "product, category or segment")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    product: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    user: UserOpt = "admin", as_json: JsonOpt = False,
) -> None:
    """One KPI with its change, year-on-year change and target."""
    with unit_of_work(get_engine()) as session:
        report = service.kpi_report(session, actor=_actor(session, user), kpi=kpi,
                                    period=period, org=org, by=by, lang=lang,
                                    cut=_cut(channel, product, category, segment))
        payload = report.as_dict(lang)
    if as_json:
        emit_json(payload)
        return
    typer.echo(_line(payload))
    for group in payload["groups"]:
        typer.echo(f"  {group['label']:<24} {_number(group['value'])}"
                   + (f"  ({group['share']:.1%})" if group["share"] is not None else ""))


@kpi_app.command("headline")
@handle_errors
def headline_command(period: PeriodOpt, org: OrgOpt = None,
                     lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
                     user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """The headline KPIs of an org subtree for a period."""
    with unit_of_work(get_engine()) as session:
        reports = [r.as_dict(lang) for r in service.headline(
            session, actor=_actor(session, user), period=period, org=org, lang=lang)]
    if as_json:
        emit_json({"period": period, "kpis": reports})
        return
    for payload in reports:
        typer.echo(_line(payload))


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def _line(payload: dict[str, Any]) -> str:
    verdict = {True: " met", False: " missed", None: ""}[payload["met"]]
    target = "" if payload["target"] is None else f"  target {_number(payload['target'])}{verdict}"
    change = "" if payload["change"] is None else f"  Δ {payload['change']:+.2f}"
    return f"{payload['label']:<20} {_number(payload['value'])}{change}{target}"


@kpi_app.command("export")
@handle_errors
def export_command(
    kpi: Annotated[str, typer.Argument(help="KPI code")], period: PeriodOpt,
    out: Annotated[Path, typer.Option("--out", help="File to write (.csv or .xlsx)",
                                      dir_okay=False)],
    org: OrgOpt = None, channel: Annotated[str | None, typer.Option()] = None,
    product: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    user: UserOpt = "admin", as_json: JsonOpt = False,
) -> None:
    """The cases behind a figure, one row per case, personal data masked."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter("the file must end in .csv or .xlsx", param_hint="--out")
    with unit_of_work(get_engine()) as session:
        cases = list(service.drill_all(session, actor=_actor(session, user), kpi=kpi,
                                       period=period, org=org,
                                       cut=_cut(channel, product, category, segment)))
        data = export.export(cases, fmt=fmt, lang=lang, tz=get_settings().tz, title=kpi)
    out.write_bytes(data)
    if as_json:
        emit_json({"file": str(out), "cases": len(cases), "bytes": len(data)})
    else:
        typer.echo(f"wrote {out}: {len(cases)} cases")


@kpi_app.command("refresh")
@handle_errors
def refresh_command(as_json: JsonOpt = False) -> None:
    """Bring the roll-up up to date with every changed case (the job does it each minute)."""
    with unit_of_work(get_engine()) as session:
        report = service.refresh_rollup(session)
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(f"{report.marks} marks: {report.days} days, {report.months} months, "
                   f"{report.rows} rows")


@kpi_app.command("rebuild")
@handle_errors
def rebuild_command(
    since: Annotated[dt.datetime, typer.Option(help="First month (YYYY-MM-DD)",
                                               formats=["%Y-%m-%d"])],
    until: Annotated[dt.datetime, typer.Option(help="Last month (YYYY-MM-DD)",
                                               formats=["%Y-%m-%d"])],
    as_json: JsonOpt = False,
) -> None:
    """Recompute the roll-up of whole months from the cases (first load, or a repair)."""
    with unit_of_work(get_engine()) as session:
        report = service.rebuild_rollup(session, start=since.date(), end=until.date())
    if as_json:
        emit_json(report.as_dict())
    else:
        typer.echo(f"{report.months} months, {report.rows} rows")


@kpi_app.command("import-stats")
@handle_errors
def import_stats_command(
    path: Annotated[Path, typer.Argument(help="CSV, TSV, XLSX or JSONL: org, month, customers, "
                                              "individual_customers, outlets")],
    user: UserOpt = "admin", as_json: JsonOpt = False,
) -> None:
    """Import customers and outlets per org and month; bad rows go to a rejects file with their
    row, field and reason, the others are stored."""
    rows = open_rows(path)
    rejects = RejectsWriter(default_rejects_path(path))
    stored = rejected = 0
    with closing(rejects), unit_of_work(get_engine()) as session:
        actor = _actor(session, user)
        for row in rows:
            problem = ("row", row.error) if row.error else _import_stat(
                session, actor, row.values, source=path.name)
            if problem is None:
                stored += 1
            else:
                rejected += 1
                rejects.write(row.number, *problem)
    summary = {"stored": stored, "rejected": rejected,
               "rejects_file": str(rejects.path) if rejects.used else None}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(f"stored {stored}, rejected {rejected}")


def _import_stat(session: Any, actor: Actor, values: dict[str, Any], *,
                 source: str) -> tuple[str, str] | None:
    record = {STAT_HEADERS.get(str(k).strip(), str(k).strip().lower()): v
              for k, v in values.items() if v not in (None, "")}
    try:
        row = OrgStatRow.model_validate(record)
        with session.begin_nested():  # a refused row leaves the others alone
            service.import_org_stats(session, actor=actor, source=source, rows=[
                service.StatRow(row.org, row.month, row.customers, row.individual_customers,
                                row.outlets)])
    except ValidationError as exc:
        error = exc.errors()[0]
        return (".".join(str(p) for p in error["loc"]) or "row", error["msg"])
    except BankvocError as exc:
        return (exc.field or "row", exc.message)
    return None


@target_app.command("set")
@handle_errors
def target_set_command(
    kpi: Annotated[str, typer.Argument(help="KPI code")],
    value: Annotated[float, typer.Argument(help="The target, in the KPI's unit")],
    valid_from: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"],
                                                    help="In force from this day")],
    org: Annotated[str | None, typer.Option("--org", help="Org code; none = bank-wide")] = None,
    user: UserOpt = "admin", as_json: JsonOpt = False,
) -> None:
    """Set a KPI's target for the bank or an org subtree."""
    with unit_of_work(get_engine()) as session:
        target = service.set_target(session, actor=_actor(session, user), kpi=kpi, value=value,
                                    valid_from=valid_from.date(), org=org)
        payload = {"kpi": target.kpi, "org": org, "value": target.value,
                   "valid_from": target.valid_from.isoformat()}
    if as_json:
        emit_json(payload)
    else:
        typer.echo(f"{kpi}: {value} from {payload['valid_from']}" + (f" at {org}" if org else ""))

"""`bankvoc cases dossier|legal-hold|purge`: a closed case's dossier, legal holds, retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from bankvoc.cases import dossier as dossier_service
from bankvoc.cases import dossier_pdf, retention
from bankvoc.cases import service as cases_service
from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.disclosure import Via
from bankvoc.orgs import service as org_service

cases_app = typer.Typer(help="Cases: dossiers of closed cases, legal holds, retention.",
                        no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
UserOpt = Annotated[str, typer.Option("--user", help="Act as this user (their role and "
                                                     "org scope apply)")]


def _parse_now(value: str | None) -> dt.datetime:
    if value is None:
        return utcnow()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid("--now is an ISO-8601 time, e.g. 2029-11-27T09:00:00+08:00",
                      field="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@cases_app.command("dossier")
@handle_errors
def dossier_command(
    reference: Annotated[str, typer.Argument(help="The case's reference, e.g. TS20260922000001")],
    pdf: Annotated[Path | None, typer.Option(
        "--pdf", help="Write the dossier as a PDF to this file", dir_okay=False)] = None,
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Personal data unmasked (needs pii.read; recorded on the case)")]
    = False,
    user: UserOpt = "admin",
    as_json: Annotated[bool, typer.Option(
        "--json", help="Last line: the dossier as one JSON object")] = False,
) -> None:
    """Export the dossier of a closed or archived case: JSON, PDF, or a summary."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        case = cases_service.get_case(session, actor=actor, reference=reference)
        found = dossier_service.build_dossier(session, actor=actor, case=case, reveal=reveal,
                                              output="pdf" if pdf else "json",
                                              via=Via.cli("cases dossier"))
    if pdf is not None:
        data = dossier_pdf.render_pdf(found)
        pdf.write_bytes(data)
        typer.echo(f"wrote {pdf} ({len(data)} bytes)", err=True)
    if as_json:
        emit_json(found.model_dump(mode="json"))
        return
    if pdf is not None:
        return
    facts = found.basic_facts
    typer.echo(f"{facts.reference}  {facts.kind}  {facts.status}  closed {facts.closed_at}")
    typer.echo(f"dispute focus {len(found.dispute_focus)}, findings "
               f"{len(found.findings.notes)}, evidence {len(found.findings.evidence)}, basis "
               f"{len(found.basis)}, decision {found.decision.type or '-'}, contacts "
               f"{len(found.communication.contacts)}, extensions "
               f"{len(found.extensions.extensions)}, callbacks "
               f"{len(found.satisfaction.callbacks)}")
    chain = found.chain
    typer.echo(f"timeline: {chain.events} events, chain "
               + ("ok" if chain.ok else f"broken at {chain.broken_at_seq} ({chain.reason})"))
    typer.echo("personal data " + ("masked" if found.info.masked else "REVEALED (recorded)"))


@cases_app.command("legal-hold")
@handle_errors
def legal_hold_command(
    reference: Annotated[str, typer.Argument(help="The case's reference")],
    reason: Annotated[str, typer.Option("--reason", help="Why; recorded on the case")],
    release: Annotated[bool, typer.Option("--release", help="Lift the hold instead")] = False,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Place (or, with --release, lift) a legal hold: a held case is kept past its retention
    period."""
    with unit_of_work(get_engine()) as session:
        actor = org_service.actor_for(org_service.get_user(session, username=user))
        case = cases_service.get_case(session, actor=actor, reference=reference)
        event = retention.set_legal_hold(session, actor=actor, case=case, hold=not release,
                                         reason=reason)
        result = {"reference": case.reference, "legal_hold": case.legal_hold,
                  "event_seq": event.seq}
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"{reference}: legal hold {'lifted' if release else 'placed'}")


@cases_app.command("purge")
@handle_errors
def purge_command(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only count what would be anonymised; change nothing")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Anonymise for real (irreversible), as the daily job does")] = False,
    now: Annotated[str | None, typer.Option(
        "--now", help="As of this time (ISO-8601; a naive time is UTC)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Anonymise the finished cases kept past the retention period (BANKVOC_RETENTION_YEARS,
    at least 3), never one under legal hold."""
    if dry_run == yes:
        raise Invalid("say --dry-run to count what would be anonymised, or --yes to anonymise "
                      "it (irreversible)", field="--dry-run")
    moment = _parse_now(now)
    if dry_run:
        with unit_of_work(get_engine()) as session:
            found = retention.preview(session, now=moment).as_dict()
        if as_json:
            emit_json(found)
            return
        statuses = ", ".join(f"{k} {v}" for k, v in found["by_status"].items() if v) or "none"
        typer.echo(f"would anonymise {found['due']} case(s) closed before {found['cutoff']} "
                   f"({statuses}); {found['held']} kept for a legal hold")
        return
    report = retention.purge_due(get_engine(), now=moment).as_dict()
    if as_json:
        emit_json({"dry_run": False, **report})
        return
    typer.echo(f"anonymised {report['anonymised']} case(s) closed before {report['cutoff']} "
               f"in {report['batches']} batch(es); {report['held']} kept for a legal hold")

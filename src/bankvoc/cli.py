"""The `bankvoc` command. Each feature owns its sub-commands; this file only assembles them."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from bankvoc.alerts.cli import alerts_app
from bankvoc.analytics.cli import kpi_app
from bankvoc.branches.cli import branches_app
from bankvoc.cases.cli import cases_app
from bankvoc.config.cli import config_app
from bankvoc.contact.cli import contact_app, qa_app
from bankvoc.core import migrate
from bankvoc.core.cliutil import configure_logging, emit_json, handle_errors
from bankvoc.core.db import get_engine, reset_engines, unit_of_work
from bankvoc.core.settings import get_settings, reset_settings
from bankvoc.customers.cli import customers_app
from bankvoc.demo.cli import demo_app
from bankvoc.intake.channels.cli import channels_app
from bankvoc.intake.cli import import_command
from bankvoc.jobs.cli import jobs_app, scheduler_command, worker_command
from bankvoc.nlp.cli import classify_command, model_app
from bankvoc.nlp.faq_cli import faq_app
from bankvoc.nlp.taxonomy_cli import taxonomy_app
from bankvoc.notify.cli import notify_app
from bankvoc.ops import service as ops_service
from bankvoc.ops.cli import db_backup, db_restore, keys_app
from bankvoc.orgs.cli import tokens_app, users_app
from bankvoc.people.cli import people_app
from bankvoc.problems.cli import problems_app
from bankvoc.reports.cli import report_app
from bankvoc.reports.regulatory_cli import regulatory_app
from bankvoc.servicedata.cli import servicedata_app
from bankvoc.sla.cli import sla_app
from bankvoc.surveys.cli import callbacks_app, surveys_app

app = typer.Typer(help="BankVOC: Voice of the Customer and complaint management.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema, backup and restore.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(cases_app, name="cases")
app.add_typer(demo_app, name="demo")
app.add_typer(servicedata_app, name="servicedata")
app.add_typer(people_app, name="people")
app.add_typer(model_app, name="model")
app.add_typer(faq_app, name="faq")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(config_app, name="config")
app.add_typer(channels_app, name="channels")
app.add_typer(jobs_app, name="jobs")
app.add_typer(notify_app, name="notify")
app.add_typer(sla_app, name="sla")
app.add_typer(surveys_app, name="surveys")
app.add_typer(callbacks_app, name="callbacks")
app.add_typer(kpi_app, name="kpi")
app.add_typer(customers_app, name="customers")
app.add_typer(alerts_app, name="alerts")
app.add_typer(problems_app, name="problems")
app.add_typer(branches_app, name="branches")
app.add_typer(qa_app, name="qa")
app.add_typer(contact_app, name="contact")
app.add_typer(keys_app, name="keys")
db_app.command("backup")(db_backup)
db_app.command("restore")(db_restore)
report_app.add_typer(regulatory_app, name="regulatory")
app.add_typer(report_app, name="report")
app.command("import")(import_command)
app.command("classify")(classify_command)
app.command("scheduler")(scheduler_command)
app.command("worker")(worker_command)


@app.callback()
def _root() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (creates the database and its root org and admin when new)."""
    engine = get_engine()
    migrate.upgrade(engine, revision)
    typer.echo(f"database at {migrate.current_revision(engine)}", err=True)


@app.command()
@handle_errors
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Database in use, migration version and counts."""
    engine = get_engine()
    with unit_of_work(engine) as session:
        info = ops_service.status(session, engine=engine)
    if as_json:
        emit_json(info)
        return
    for key, value in info.items():
        typer.echo(f"{key:>15}: {value}")


def enable_demo_mode() -> None:
    os.environ["BANKVOC_DEMO"] = "1"
    reset_settings()
    reset_engines()


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Demo keys and demo log-ins")]
    = False,
    jobs: Annotated[bool, typer.Option(
        "--jobs/--no-jobs", help="Run the background jobs (SLA sweeps, notifications, "
                                 "callbacks) in this process; off when a separate "
                                 "`bankvoc scheduler` runs them, and always off with "
                                 "BANKVOC_BROKER_URL (workers run them)")] = True,
) -> None:
    """Serve the web pages and the API."""
    import uvicorn

    from bankvoc.api.app import serve_app
    from bankvoc.jobs.runner import start_scheduler, stop_scheduler

    if demo:
        enable_demo_mode()
    get_settings().check_safe()
    typer.echo(f"BankVOC on http://{host}:{port}/  (API: /api/v1, OpenAPI: /openapi.json)",
               err=True)
    if get_settings().demo:
        from bankvoc.demo.service import DEMO_PASSWORD

        typer.echo(f"Demo: log in as demo_admin (or any demo user) with the password "
                   f"{DEMO_PASSWORD}", err=True)
    jobs = jobs and not get_settings().broker_url
    if jobs:
        start_scheduler()
    try:
        # Uvicorn's own lines go through our JSON handler (log_config=None); its access log
        # (raw paths and query strings, client addresses) is off: ops.requests writes one line
        # a request, naming the route's template and the request id.
        uvicorn.run(serve_app(), host=host, port=port, log_level="info", log_config=None,
                    access_log=False)
    finally:
        if jobs:
            stop_scheduler()


def main() -> None:
    app()

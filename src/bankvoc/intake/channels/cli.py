"""`bankvoc channels smtp|imap`: the mail ways in, run as long-lived processes."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.intake.channels import imap
from bankvoc.intake.channels.service import channel_actor
from bankvoc.intake.channels.smtp_server import build_controller, parse_domains

channels_app = typer.Typer(help="Channels in: inbound e-mail (SMTP, IMAP).",
                           no_args_is_help=True)


def _ready() -> None:
    """Refuse to start with unsafe keys or without the user cases are registered as."""
    get_settings().check_safe()
    with unit_of_work() as session:
        channel_actor(session)


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """An event SIGTERM sets (as Ctrl-C interrupts), for a clean stop; the previous handler
    is put back afterwards."""
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        yield stop
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


@channels_app.command("smtp")
@handle_errors
def smtp_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8025,
) -> None:
    """Receive mail by SMTP for the domains in BANKVOC_INBOUND_MAIL_DOMAINS."""
    domains = parse_domains(get_settings().inbound_mail_domains)
    if not domains:
        raise Invalid("set BANKVOC_INBOUND_MAIL_DOMAINS to the domains to accept mail for",
                      field="BANKVOC_INBOUND_MAIL_DOMAINS")
    _ready()
    controller = build_controller(host=host, port=port)
    controller.start()
    typer.echo(f"SMTP intake on {host}:{port} for {', '.join(sorted(domains))}", err=True)
    try:
        with _stop_on_sigterm() as stop:
            while not stop.wait(3600):
                pass
    finally:
        controller.stop()


@channels_app.command("imap")
@handle_errors
def imap_command(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]
    = False,
) -> None:
    """Poll the BANKVOC_IMAP_* mailbox: unseen mail becomes cases, then is marked seen."""
    _ready()
    settings = get_settings()
    totals = imap.PollReport()
    with _stop_on_sigterm() as stop:
        while True:
            report = imap.poll_once()
            totals.stored += report.stored
            totals.refused += report.refused
            totals.deferred += report.deferred
            totals.ignored += report.ignored
            totals.held += report.held
            if once or stop.wait(settings.imap_poll_seconds):
                break
    if as_json:
        emit_json(totals.as_dict())
    else:
        typer.echo(f"stored {totals.stored}, refused {totals.refused}, "
                   f"deferred {totals.deferred}, ignored {totals.ignored}, "
                   f"held {totals.held}", err=True)

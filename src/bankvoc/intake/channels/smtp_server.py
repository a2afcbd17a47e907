"""The inbound SMTP endpoint (aiosmtpd): mail for the bank's complaint addresses becomes cases.

Only recipients in the allowed domains (BANKVOC_INBOUND_MAIL_DOMAINS) are accepted, so this is
never an open relay; nothing is forwarded anywhere. Each mail is registered in its own unit of
work in a worker thread (the event loop keeps serving other connections), and the reply is 250
only after the commit: a 4xx makes the sending server retry, a 5xx bounces the mail back to its
sender, so no mail is ever lost silently. Run it with `bankvoc channels smtp`; put it behind the
bank's mail gateway (which does TLS, spam and virus filtering) rather than on the Internet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine

from bankvoc.core.settings import get_settings
from bankvoc.intake.channels.delivery import Delivery, deliver_mail
from bankvoc.intake.channels.email import parse_domains

__all__ = ["InboundMailHandler", "build_controller", "parse_domains"]


class InboundMailHandler:
    """aiosmtpd handler: recipients checked against the allow-list, each mail registered."""

    def __init__(self, *, engine: Engine | None = None,
                 domains: Iterable[str] | None = None) -> None:
        self.engine = engine
        self._domains = (frozenset(d.strip().lower() for d in domains) if domains is not None
                         else None)

    @property
    def domains(self) -> frozenset[str]:
        if self._domains is not None:
            return self._domains
        return parse_domains(get_settings().inbound_mail_domains)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].strip().strip(">").lower().rstrip(".")
        if not domain or domain not in self.domains:
            return "550 5.7.1 Recipient domain not accepted here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        delivery: Delivery = await loop.run_in_executor(
            None, lambda: deliver_mail(raw, envelope_sender=envelope.mail_from,
                                       engine=self.engine))
        return delivery.smtp_reply


def build_controller(*, host: str = "127.0.0.1", port: int = 8025,
                     handler: InboundMailHandler | None = None, **smtp: Any) -> Controller:
    """A controller serving the handler on host:port in a thread of its own (`start()`)."""
    settings = get_settings()
    options: dict[str, Any] = {"data_size_limit": settings.inbound_mail_max_bytes,
                               "enable_SMTPUTF8": True, "ident": "BankVOC intake", **smtp}
    return Controller(handler or InboundMailHandler(), hostname=host, port=port, **options)

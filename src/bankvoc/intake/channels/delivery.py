"""One mail, one unit of work: what the SMTP endpoint and the IMAP poller share.

Each mail is registered and committed on its own, so one bad mail never takes others with it,
and the answer to the sending side says exactly what happened: stored as a case (SMTP 250;
IMAP marks it seen), ignored because no person wrote it or held because its sender floods
(both recorded with the reason; SMTP 250, since a bounce to an automatic sender is one more
automatic mail; IMAP marks it seen), refused for good (SMTP 550; IMAP flags it for a person
and leaves it unseen) or deferred (SMTP 451 so the sender retries; IMAP leaves it for the next
round). Nothing is dropped silently. Log lines carry no personal data: outcomes, references,
reasons (header names and rules) and error types only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine

from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.intake.channels.email import register_email
from bankvoc.intake.channels.enums import MessageStatus
from bankvoc.intake.channels.service import ChannelUnavailable, Receipt, channel_actor

log = logging.getLogger("bankvoc.channels.mail")


class Status(StrEnum):
    stored = "stored"
    ignored = "ignored"
    held = "held"
    refused = "refused"
    deferred = "deferred"


@dataclass(frozen=True)
class Delivery:
    status: Status
    reason: str = ""
    receipt: Receipt | None = None

    @property
    def smtp_reply(self) -> str:
        if self.status == Status.stored:
            return "250 2.0.0 OK: registered"
        if self.status == Status.ignored:
            return "250 2.0.0 OK: automatic mail, not registered"
        if self.status == Status.held:
            return "250 2.0.0 OK: held for review"
        if self.status == Status.refused:
            return f"550 5.6.0 Message refused: {_one_ascii_line(self.reason)}"
        return f"451 4.3.0 Temporary failure, try again later: {_one_ascii_line(self.reason)}"


def _one_ascii_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split()).encode("ascii", "replace").decode("ascii")
    return line[:limit]


def deliver_mail(raw: bytes, *, envelope_sender: str | None = None,
                 engine: Engine | None = None) -> Delivery:
    """Register one mail as the channel user in a transaction of its own."""
    try:
        with unit_of_work(engine) as session:
            actor = channel_actor(session)
            receipt = register_email(session, actor=actor, raw=raw,
                                     envelope_sender=envelope_sender)
    except ChannelUnavailable as exc:
        log.error("mail deferred: %s", exc.message)
        return Delivery(Status.deferred, "mail intake is not configured")
    except Invalid as exc:
        log.warning("mail refused: field %s", exc.field)
        return Delivery(Status.refused, exc.message)
    except BankvocError as exc:
        log.error("mail deferred: %s (%s)", exc.code, exc.field)
        return Delivery(Status.deferred, exc.code)
    except Exception as exc:  # the database away, a full disk: the sender tries again
        log.error("mail deferred after %s", type(exc).__name__)
        return Delivery(Status.deferred, "internal error")
    if receipt.outcome in (MessageStatus.ignored, MessageStatus.held):
        log.info("mail %s: %s", receipt.outcome, receipt.reason)
        return Delivery(Status(receipt.outcome), receipt.reason or "", receipt)
    log.info("mail %s as %s", receipt.outcome, receipt.reference)
    return Delivery(Status.stored, receipt=receipt)

"""The IMAP poller: unseen mail in the complaint mailbox becomes cases.

Each round fetches the UIDs of unseen, unflagged messages, reads each with BODY.PEEK[] (which
leaves it unseen), registers it in its own unit of work and only after the commit marks it
\\Seen; so is a mail kept without a case (ignored: no person wrote it; held: its sender
floods; see `delivery`). A crash between the commit and the flag is harmless: the next round
registers the same Message-ID again, which changes nothing. A mail refused for good (no
text, no attachment) is flagged \\Flagged and left unseen, for a person to look at; a mail
that failed for a passing reason (the database away) is left as it was, for the next round.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bankvoc.core.errors import Invalid
from bankvoc.core.settings import Settings, get_settings
from bankvoc.intake.channels.delivery import Status, deliver_mail

log = logging.getLogger("bankvoc.channels.imap")

_UID = re.compile(rb"UID (\d+)")


@dataclass
class PollReport:
    stored: int = 0
    refused: int = 0
    deferred: int = 0
    # Kept without a case: no person wrote it (auto-reply, bounce, bulk), or its sender floods.
    ignored: int = 0
    held: int = 0
    references: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"stored": self.stored, "refused": self.refused, "deferred": self.deferred,
                "ignored": self.ignored, "held": self.held}


def connect(settings: Settings | None = None) -> imaplib.IMAP4:
    """A logged-in connection to the configured mailbox (BANKVOC_IMAP_*)."""
    settings = settings or get_settings()
    if not settings.imap_host or not settings.imap_user:
        raise Invalid("set BANKVOC_IMAP_HOST and BANKVOC_IMAP_USER (and BANKVOC_IMAP_PASSWORD)",
                      field="BANKVOC_IMAP_HOST")
    client: imaplib.IMAP4
    if settings.imap_ssl:
        client = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, timeout=60)
    else:
        client = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=60)
    client.login(settings.imap_user, settings.imap_password or "")
    return client


def _check(response: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what} answered {status}")
    return data


def _message_bytes(data: list[Any]) -> bytes | None:
    """The literal of a `UID FETCH (BODY.PEEK[])` answer."""
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_once(
    *,
    client_factory: Callable[[], imaplib.IMAP4] | None = None,
    engine: Engine | None = None,
    mailbox: str | None = None,
) -> PollReport:
    """One round over the mailbox; see the module's docstring."""
    client = (client_factory or connect)()
    report = PollReport()
    try:
        _check(client.select(mailbox or get_settings().imap_mailbox), "SELECT")
        found = _check(client.uid("SEARCH", "UNSEEN", "UNFLAGGED"), "SEARCH")
        first = found[0] if found else b""
        uids = first.split() if isinstance(first, bytes) else []
        for uid in uids:
            uid_text = uid.decode("ascii")
            raw = _message_bytes(_check(client.uid("FETCH", uid_text, "(BODY.PEEK[])"),
                                        "FETCH"))
            if raw is None:
                report.deferred += 1
                continue
            delivery = deliver_mail(raw, engine=engine)
            if delivery.status == Status.stored:
                _check(client.uid("STORE", uid_text, "+FLAGS", "(\\Seen)"), "STORE")
                report.stored += 1
                if delivery.receipt is not None and delivery.receipt.reference:
                    report.references.append(delivery.receipt.reference)
            elif delivery.status in (Status.ignored, Status.held):
                _check(client.uid("STORE", uid_text, "+FLAGS", "(\\Seen)"), "STORE")
                if delivery.status == Status.ignored:
                    report.ignored += 1
                else:
                    report.held += 1
            elif delivery.status == Status.refused:
                _check(client.uid("STORE", uid_text, "+FLAGS", "(\\Flagged)"), "STORE")
                report.refused += 1
            else:
                report.deferred += 1
        with contextlib.suppress(imaplib.IMAP4.error):
            client.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    log.info("imap round: %s", report.as_dict())
    return report

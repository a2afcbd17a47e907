"""The words of the outbox: channels, recipients, languages and delivery states."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    sms = "sms"
    email = "email"
    wechat = "wechat"
    webhook = "webhook"


class RecipientKind(StrEnum):
    customer = "customer"
    user = "user"


class Language(StrEnum):
    zh = "zh"
    en = "en"


class Status(StrEnum):
    """pending → sending → sent; a failed attempt waits as `failed` for its retry; `dead` is
    the dead letter: permanently refused, or out of attempts. Only `requeue` revives it."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    dead = "dead"


# Rows a dispatcher may claim when their next_attempt_at has come.
DUE_STATUSES = (Status.pending, Status.failed)

"""The signed webhook through which WeChat, online chat and social-media monitoring deliver.

    POST /api/v1/channels/{channel}/messages          channel: wechat | chat | social
    Content-Type: application/json
    X-BankVOC-Timestamp: 1764230400                    Unix seconds, when the request was made
    X-BankVOC-Signature: sha256=<hex>                  see below

    {
      "id": "wx-6f1c2a",                 the channel's message id; sending it again is harmless
      "sent_at": "2026-11-27T09:30:00+08:00",
      "channel_user": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",   the channel's opaque id of the sender
      "customer": {"name": "张三", "phone": "13812345678"},     optional
      "text": "信用卡年费被多扣了200元",
      "attachments": [{"filename": "账单.png", "content_type": "image/png",
                       "base64": "iVBORw0KGgo…"}],                optional
      "url": "https://weibo.example/123/456",         optional: the post (social)
      "author": "某某用户"                             optional: the post's author (social)
    }

Signature: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the channel's secret
(BANKVOC_CHANNEL_SECRETS="wechat:s1,chat:s2,social:s3"), of the timestamp header's value, a
dot, and the raw request body: `HMAC(secret, b"1764230400." + body)`. The timestamp is signed
too, or anyone who saw one request could replay it with a fresh timestamp; a timestamp more
than BANKVOC_CHANNEL_MAX_SKEW_SECONDS (300) from our clock is refused, and a replay within that
window finds the message id stored already and changes nothing. A channel named twice in the
secrets accepts either secret while the sender rotates.

Answers: 201 with the receipt when something new was stored, 200 when the message id was
known; 401 for a missing or wrong signature or a stale timestamp, 404 for an unknown channel,
409 while the same id is being stored by a concurrent request (retry), 413 for a body over
BANKVOC_CHANNEL_MAX_BODY_BYTES, 422 naming the field for bad JSON or a bad value, 503 when the
channel user (BANKVOC_CHANNEL_USER) is missing.

What becomes of a message: WeChat messages become cases on channel `wechat`, chat messages on
channel `web` (the bank's own site and app chat); social posts become monitored mentions, and
cases on channel `third_party` only when they are complaints (`channels.mentions`). Files are
kept as case evidence; one over BANKVOC_ATTACHMENT_MAX_BYTES is refused with a note on the case.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from sqlalchemy.orm import Session

from bankvoc.cases.enums import Channel
from bankvoc.core.errors import NotFound, Unauthorized
from bankvoc.core.settings import get_settings
from bankvoc.intake.channels import mentions
from bankvoc.intake.channels.schemas import ChannelMessageIn, ChannelReceipt, WebhookChannel
from bankvoc.intake.channels.service import (
    WEBHOOK_FIELD_NAMES,
    from_webhook,
    register_inbound,
)
from bankvoc.intake.draft import Outcome
from bankvoc.orgs.service import Actor

SIGNATURE_HEADER = "X-BankVOC-Signature"
TIMESTAMP_HEADER = "X-BankVOC-Timestamp"
CASE_CHANNELS = {WebhookChannel.wechat: Channel.wechat, WebhookChannel.chat: Channel.web}


def parse_secrets(spec: str | None) -> dict[str, list[str]]:
    """"wechat:s1,chat:s2,wechat:s0" -> {"wechat": ["s1", "s0"], "chat": ["s2"]}."""
    found: dict[str, list[str]] = {}
    for part in (spec or "").split(","):
        name, sep, secret = part.strip().partition(":")
        if sep and name.strip() and secret.strip():
            found.setdefault(name.strip().lower(), []).append(secret.strip())
    return found


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (what senders compute)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def channel_of(name: str) -> WebhookChannel:
    try:
        return WebhookChannel(name)
    except ValueError:
        raise NotFound(f"no channel {name!r}; channels: "
                       f"{', '.join(c.value for c in WebhookChannel)}", field="channel") from None


def verify(channel: WebhookChannel, headers: Mapping[str, str], body: bytes, *,
           now: float | None = None) -> None:
    """Refuse (401) a request not signed with the channel's secret, or not made just now."""
    settings = get_settings()
    secrets = parse_secrets(settings.channel_secrets).get(channel.value)
    if not secrets:
        raise Unauthorized(f"channel {channel.value!r} has no secret configured",
                           field=SIGNATURE_HEADER)
    stamp = headers.get(TIMESTAMP_HEADER.lower(), "").strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Unauthorized(f"send {TIMESTAMP_HEADER}: the request time in Unix seconds",
                           field=TIMESTAMP_HEADER)
    skew = abs((time.time() if now is None else now) - int(stamp))
    if skew > settings.channel_max_skew_seconds:
        raise Unauthorized(f"{TIMESTAMP_HEADER} is more than "
                           f"{settings.channel_max_skew_seconds} s from our clock",
                           field=TIMESTAMP_HEADER)
    given = headers.get(SIGNATURE_HEADER.lower(), "").strip()
    if not given.startswith("sha256="):
        raise Unauthorized(f"send {SIGNATURE_HEADER}: sha256=<hex HMAC of timestamp.body>",
                           field=SIGNATURE_HEADER)
    if not any(hmac.compare_digest(given.encode(), sign(secret, stamp, body).encode())
               for secret in secrets):
        raise Unauthorized("signature does not match", field=SIGNATURE_HEADER)


def receive(session: Session, *, actor: Actor, channel: WebhookChannel,
            message: ChannelMessageIn) -> tuple[ChannelReceipt, bool]:
    """Register one verified message; returns the receipt and whether anything new was
    stored."""
    if channel == WebhookChannel.social:
        mention, case, created = mentions.record_mention(session, actor=actor, message=message)
        outcome = case.outcome if case is not None else (
            "monitored" if created else Outcome.UNCHANGED)
        reference = case.reference if case is not None else None
        if not created and mention.case_id is not None:
            reference = mentions.reference_of(session, case_id=mention.case_id)
        return ChannelReceipt(
            id=message.id, outcome=outcome, reference=reference, mention_id=mention.id,
            is_complaint=mention.is_complaint,
            attachments_added=case.attachments_added if case else 0,
            attachments_refused=case.attachments_refused if case else 0), created
    # A sent_at in the future is refused by the intake pipeline's validate stage, by name.
    receipt = register_inbound(
        session, actor=actor, message=from_webhook(message, channel=CASE_CHANNELS[channel],
                                                   source_system=channel.value),
        field_names=WEBHOOK_FIELD_NAMES)
    return ChannelReceipt(
        id=message.id, outcome=receipt.outcome, reference=receipt.reference,
        attachments_added=receipt.attachments_added,
        attachments_refused=receipt.attachments_refused), receipt.outcome == Outcome.NEW

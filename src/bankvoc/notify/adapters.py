"""Channel adapters: how a rendered notification leaves BankVOC.

The interface
-------------
An adapter is any object with `send(message: Message) -> None` (the `Adapter` protocol). It
returns once the channel has *accepted* the message and raises `DeliveryError(reason,
retryable=...)` otherwise: `retryable=True` for passing trouble (server down, timeout, rate
limit, SMTP 4xx, HTTP 5xx/408/429), `retryable=False` when trying again cannot help (address
refused, HTTP 4xx). Any other exception counts as retryable. The dispatcher retries with
back-off and moves the row to the dead letter after the last attempt. `send` may be called
more than once for the same message (see the at-least-once note in `service.dispatch_due`):
`message.delivery_id` is stable across retries, so pass it on as the provider's idempotency
key or client reference wherever the provider has one. Error texts must not carry the
recipient's address or the body; the dispatcher masks the address in stored errors anyway.

SMS (`channel="sms"`): `message.recipient` is a mainland mobile number, normalised to its
digits (13812345678); `message.body` is the text to send, signature 【…】 included, and
`message.subject` is unused. Chinese gateways (the carriers' and cloud providers' SMS services)
only send pre-registered templates: register each of our template codes (`message.template`,
language `message.language`) with the provider and pass the rendered body, or map codes to
the provider's template ids. A real adapter posts to the provider's API with the bank's
credentials from its own `BANKVOC_*` settings and maps the provider's answer codes to
retryable or permanent `DeliveryError`s.

WeChat (`channel="wechat"`): `message.recipient` is the customer's openid under the bank's
official account; `message.subject` is the title (template message "first" line) and
`message.body` the content. A real adapter sends a template or subscription message through
the official-account API (access token cached and refreshed by the adapter) and treats an
expired token or rate limit as retryable, an unsubscribed user as permanent.

The demo uses `FileAdapter` (one JSON object per line in `<data_dir>/notify/<channel>.jsonl`)
or `ConsoleAdapter` (stderr) for SMS and WeChat; e-mail has a real `SmtpAdapter`, webhooks a
real signed `WebhookAdapter`. `adapters_from_settings()` picks one per channel from
`BANKVOC_NOTIFY_SMS|EMAIL|WECHAT|WEBHOOK`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Any, Protocol, TextIO

from bankvoc.core.settings import Settings, get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.notify.enums import Channel
from bankvoc.notify.errors import DeliveryError

SIGNATURE_HEADER = "X-BankVOC-Signature"
DELIVERY_HEADER = "X-BankVOC-Delivery"
ATTEMPT_HEADER = "X-BankVOC-Attempt"


@dataclass(frozen=True)
class Message:
    """One notification as an adapter sees it."""

    notification_id: int
    # Stable across retries of the same notification: the receiver's idempotency key.
    delivery_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    template: str
    language: str
    case_id: int | None = None
    attempt: int = 1

    @property
    def recipient_masked(self) -> str:
        return mask_address(self.channel, self.recipient)


class Adapter(Protocol):
    def send(self, message: Message) -> None: ...


def mask_address(channel: str, address: str) -> str:
    """An address as screens, logs and stored errors may show it."""
    if channel == Channel.sms:
        return masking.mask_phone(masking.normalise_phone(address))
    if channel == Channel.email:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if channel == Channel.webhook:
        parts = urllib.parse.urlsplit(address)
        return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "***"
    return address[:4] + "***" if len(address) > 8 else "***"


# --- e-mail --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                   user=settings.smtp_user, password=settings.smtp_password,
                   starttls=settings.smtp_starttls, use_ssl=settings.smtp_ssl,
                   timeout=settings.smtp_timeout_seconds)


def build_email(message: Message, *, sender: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail, marked as automatic (`Auto-Submitted`); Chinese subjects
    become RFC 2047 encoded words and bodies base64, so any server (8BITMIME or not) carries
    them intact."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    # The same on every attempt, so a repeat is recognisable as one.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "bankvoc.invalid"
    email["Message-ID"] = f"<{message.delivery_id}@{domain}>"
    email[DELIVERY_HEADER] = message.delivery_id
    # An automatic message says so (RFC 3834 section 5), so that out-of-office responders,
    # ticket systems and our own mail intake never answer it: no mail loops. Exchange and
    # Outlook skip their out-of-office and auto-replies for it (delivery reports stay on).
    email["Auto-Submitted"] = "auto-replied"
    email["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    email["Content-Language"] = "zh-CN" if message.language == "zh" else "en"
    email.set_content(message.body, charset="utf-8",
                      cte="7bit" if message.body.isascii() else "base64")
    return email


class SmtpAdapter:
    """E-mail through an SMTP server (smtplib): implicit TLS, STARTTLS and login optional."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        config = self.config
        email = build_email(message, sender=config.sender)
        try:
            smtp: smtplib.SMTP
            if config.use_ssl:
                smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
            with smtp:
                if config.starttls and not config.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if config.user:
                    smtp.login(config.user, config.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused by the mail server (SMTP {codes[0]})",
                                retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPAuthenticationError as exc:
            # Configuration, not the message: retry (with back-off) once it is fixed.
            raise DeliveryError(f"mail server refused the login (SMTP {exc.smtp_code})",
                                retryable=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"mail server answered SMTP {exc.smtp_code}",
                                retryable=not 500 <= exc.smtp_code < 600) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"mail server unreachable: {type(exc).__name__}",
                                retryable=True) from None


# --- webhooks ------------------------------------------------------------------------------------

def sign(body: bytes, secret: str) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the exact body bytes>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """What a receiver does: recompute the HMAC over the raw body, compare in constant time."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirected POST would lose its body: report the 3xx instead


class WebhookAdapter:
    """POSTs a JSON event, signed with HMAC-SHA256 of the body under the endpoint's secret.

    Headers: `X-BankVOC-Signature: sha256=<hex>`, `X-BankVOC-Delivery: <delivery id>` (the
    same on every retry: receivers drop repeats by it) and `X-BankVOC-Attempt`. Redirects are
    not followed. 2xx is delivered; 408, 429 and 5xx are retried; other answers are permanent.
    """

    def __init__(self, *, secrets: Mapping[str, str], default_secret: str | None = None,
                 timeout: float = 10.0, proxies: Mapping[str, str] | None = None) -> None:
        self.secrets = dict(secrets)
        self.default_secret = default_secret
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if proxies is not None:  # None: the environment's proxies, as urllib does
            handlers.append(urllib.request.ProxyHandler(dict(proxies)))
        self._opener = urllib.request.build_opener(*handlers)

    def secret_for(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return self.secrets.get(url) or self.secrets.get(origin) or self.default_secret

    @staticmethod
    def payload(message: Message) -> bytes:
        return json.dumps({
            "delivery_id": message.delivery_id, "notification_id": message.notification_id,
            "attempt": message.attempt, "case_id": message.case_id,
            "template": message.template, "language": message.language,
            "subject": message.subject, "body": message.body,
            "sent_at": utcnow().isoformat(),
        }, ensure_ascii=False, separators=(",", ":")).encode()

    def send(self, message: Message) -> None:
        url = message.recipient
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise DeliveryError("a webhook address must be an http(s) URL", retryable=False)
        secret = self.secret_for(url)
        if not secret:
            raise DeliveryError("no signing secret for this webhook (BANKVOC_WEBHOOK_SECRETS)",
                                retryable=False)
        body = self.payload(message)
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "BankVOC-Webhook/1",
            SIGNATURE_HEADER: sign(body, secret),
            DELIVERY_HEADER: message.delivery_id,
            ATTEMPT_HEADER: str(message.attempt),
        })
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            code = exc.code
            raise DeliveryError(f"webhook answered HTTP {code}",
                                retryable=code >= 500 or code in (408, 429)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}",
                                retryable=True) from None


# --- demo adapters -------------------------------------------------------------------------------

_write_lock = threading.Lock()


class FileAdapter:
    """Appends one JSON object per message to `<directory>/<channel>.jsonl` (the demo's
    SMS gateway and WeChat). The recipient is written masked."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, channel: str) -> Path:
        return self.directory / f"{channel}.jsonl"

    def send(self, message: Message) -> None:
        line = json.dumps({
            "delivery_id": message.delivery_id, "notification_id": message.notification_id,
            "channel": message.channel, "to": message.recipient_masked,
            "template": message.template, "language": message.language,
            "subject": message.subject, "body": message.body, "case_id": message.case_id,
            "attempt": message.attempt, "at": utcnow().isoformat(),
        }, ensure_ascii=False) + "\n"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with _write_lock, self.path(message.channel).open("a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            raise DeliveryError(f"cannot write the {message.channel} file: "
                                f"{type(exc).__name__}", retryable=True) from None


class ConsoleAdapter:
    """Prints each message to stderr (stdout stays for --json); the recipient masked."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: Message) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"[{message.channel} → {message.recipient_masked}] {message.subject}\n"
                     f"{message.body}\n")
        stream.flush()


def adapters_from_settings(settings: Settings | None = None) -> dict[str, Adapter]:
    """The adapter for each channel, as BANKVOC_NOTIFY_<CHANNEL> chooses."""
    settings = settings or get_settings()
    files = FileAdapter(settings.data_dir / "notify")
    console = ConsoleAdapter()
    demo: dict[str, Adapter] = {"file": files, "console": console}
    return {
        Channel.sms: demo[settings.notify_sms],
        Channel.wechat: demo[settings.notify_wechat],
        Channel.email: (SmtpAdapter(SmtpConfig.from_settings(settings))
                        if settings.notify_email == "smtp" else demo[settings.notify_email]),
        Channel.webhook: (WebhookAdapter(secrets=settings.webhook_secrets,
                                         default_secret=settings.webhook_secret,
                                         timeout=settings.webhook_timeout_seconds)
                          if settings.notify_webhook == "http"
                          else demo[settings.notify_webhook]),
    }

"""Adapters against real local servers: SMTP (aiosmtpd) and HTTP (http.server), on loopback."""

from __future__ import annotations

import email
import io
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.message import Message as EmailMessageBase
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession

from bankvoc.core.settings import get_settings, reset_settings
from bankvoc.notify.adapters import (
    ConsoleAdapter,
    FileAdapter,
    Message,
    SmtpAdapter,
    SmtpConfig,
    WebhookAdapter,
    adapters_from_settings,
    mask_address,
    sign,
    verify_signature,
)
from bankvoc.notify.errors import DeliveryError

SUBJECT = "您的投诉处理结果（TS202611270001）"
BODY = "尊敬的张**客户：您的投诉已处理完毕，处理结果：退还手续费。如有异议，可拨打12378。"


def message(recipient: str, channel: str = "email", **changes: Any) -> Message:
    values: dict[str, Any] = {
        "notification_id": 42, "delivery_id": "d" * 32, "channel": channel,
        "recipient": recipient, "subject": SUBJECT, "body": BODY, "template": "decision",
        "language": "zh", "case_id": 7, "attempt": 1, **changes}
    return Message(**values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- SMTP -----------------------------------------------------------------------------------------

class Mailbox:
    """An aiosmtpd handler: keeps what it receives; can refuse recipients."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse_with: str | None = None

    async def handle_RCPT(self, server: SMTP, session: SmtpSession, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.refuse_with is not None:
            return self.refuse_with.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession,
                          envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


def _authenticate(server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword)
          and (auth_data.login, auth_data.password) == (b"notify", b"s3cret"))
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    yield handler, port
    controller.stop()


class TestSmtpAdapter:
    def test_delivers_chinese_subject_and_body_intact(self, mailbox: tuple[Mailbox, int]) -> None:
        box, port = mailbox
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=port,
                                         sender="客服 <service@bank.example>"))
        adapter.send(message("li.lei@example.com"))
        assert box.envelopes[0].mail_from == "service@bank.example"
        assert box.envelopes[0].rcpt_tos == ["li.lei@example.com"]
        received = box.received()
        assert received["Subject"] == SUBJECT
        assert received["To"] == "li.lei@example.com"
        assert received["X-BankVOC-Delivery"] == "d" * 32
        assert received["Message-ID"] == f"<{'d' * 32}@bank.example>"  # the same on retries
        assert received.get_content_type() == "text/plain"
        assert received.get_content_charset() == "utf-8"
        assert received["Content-Transfer-Encoding"] == "base64"
        assert received.get_content().strip() == BODY
        raw = box.envelopes[0].content
        assert isinstance(raw, bytes)
        assert raw.isascii()

    def test_marks_itself_automatic_so_no_auto_reply_answers_it(
        self, mailbox: tuple[Mailbox, int]
    ) -> None:
        box, port = mailbox
        SmtpAdapter(SmtpConfig(host="127.0.0.1", port=port, sender="service@bank.example")
                    ).send(message("li.lei@example.com"))
        received = box.received()
        assert received["Auto-Submitted"] == "auto-replied"  # RFC 3834
        assert received["X-Auto-Response-Suppress"] == "OOF, AutoReply"

    def test_logs_in_when_a_user_is_set(self, mailbox: tuple[Mailbox, int]) -> None:
        box, port = mailbox
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=port,
                                         sender="service@bank.example", user="notify",
                                         password="s3cret"))
        adapter.send(message("li.lei@example.com"))
        assert len(box.envelopes) == 1

    def test_a_wrong_password_is_retried_once_the_setting_is_fixed(
        self, mailbox: tuple[Mailbox, int]
    ) -> None:
        _, port = mailbox
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=port,
                                         sender="service@bank.example", user="notify",
                                         password="wrong"))
        with pytest.raises(DeliveryError, match="refused the login") as raised:
            adapter.send(message("li.lei@example.com"))
        assert raised.value.retryable

    @pytest.mark.parametrize(("reply", "retryable"), [
        ("550 5.1.1 <{address}>: no such user", False),
        ("450 4.2.1 <{address}>: mailbox busy", True),
    ])
    def test_a_refused_recipient_is_permanent_or_passing_by_its_code(
        self, mailbox: tuple[Mailbox, int], reply: str, retryable: bool
    ) -> None:
        box, port = mailbox
        box.refuse_with = reply
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=port,
                                         sender="service@bank.example"))
        with pytest.raises(DeliveryError) as raised:
            adapter.send(message("li.lei@example.com"))
        assert raised.value.retryable is retryable
        assert "li.lei" not in raised.value.message

    def test_an_unreachable_server_is_retryable(self) -> None:
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=free_port(),
                                         sender="service@bank.example", timeout=2))
        with pytest.raises(DeliveryError, match="mail server unreachable") as raised:
            adapter.send(message("li.lei@example.com"))
        assert raised.value.retryable


# --- webhooks -------------------------------------------------------------------------------------

class Receiver:
    """A loopback HTTP endpoint that records requests and answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, EmailMessageBase[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, self.headers, body))
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bankvoc"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def origin(self) -> str:
        return self.url.rsplit("/hooks", 1)[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    endpoint.thread.start()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


class TestWebhookAdapter:
    def test_posts_a_signed_json_event(self, receiver: Receiver) -> None:
        adapter = WebhookAdapter(secrets={receiver.url: "endpoint-secret"}, proxies={})
        adapter.send(message(receiver.url, channel="webhook", attempt=3))
        ((path, headers, body),) = receiver.requests
        assert path == "/hooks/bankvoc"
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert verify_signature(body, headers["X-BankVOC-Signature"], "endpoint-secret")
        assert not verify_signature(body, headers["X-BankVOC-Signature"], "another-secret")
        assert not verify_signature(body + b" ", headers["X-BankVOC-Signature"],
                                    "endpoint-secret")
        assert headers["X-BankVOC-Delivery"] == "d" * 32
        assert headers["X-BankVOC-Attempt"] == "3"
        event = json.loads(body.decode("utf-8"))
        assert (event["delivery_id"], event["notification_id"], event["case_id"]) == (
            "d" * 32, 42, 7)
        assert (event["template"], event["subject"], event["body"]) == ("decision", SUBJECT,
                                                                        BODY)

    def test_the_signature_is_an_hmac_sha256_of_the_body(self) -> None:
        # RFC 4231 test case 2.
        assert sign(b"what do ya want for nothing?", "Jefe") == (
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")

    def test_a_secret_may_be_set_per_origin_or_by_default(self, receiver: Receiver) -> None:
        assert WebhookAdapter(secrets={receiver.origin: "o"}).secret_for(receiver.url) == "o"
        assert WebhookAdapter(secrets={}, default_secret="d").secret_for(receiver.url) == "d"

    def test_without_a_secret_nothing_is_sent(self, receiver: Receiver) -> None:
        with pytest.raises(DeliveryError, match="no signing secret") as raised:
            WebhookAdapter(secrets={}, proxies={}).send(message(receiver.url, channel="webhook"))
        assert not raised.value.retryable
        assert receiver.requests == []

    @pytest.mark.parametrize(("status", "retryable"), [
        (500, True), (503, True), (429, True), (408, True), (400, False), (410, False),
        (302, False),
    ])
    def test_failures_are_retryable_or_permanent_by_status(
        self, receiver: Receiver, status: int, retryable: bool
    ) -> None:
        receiver.status = status
        adapter = WebhookAdapter(secrets={}, default_secret="s", proxies={})
        with pytest.raises(DeliveryError, match=f"HTTP {status}") as raised:
            adapter.send(message(receiver.url, channel="webhook"))
        assert raised.value.retryable is retryable
        assert len(receiver.requests) == 1  # a redirect is not followed

    def test_an_unreachable_endpoint_is_retryable(self) -> None:
        adapter = WebhookAdapter(secrets={}, default_secret="s", timeout=2, proxies={})
        with pytest.raises(DeliveryError, match="unreachable") as raised:
            adapter.send(message(f"http://127.0.0.1:{free_port()}/x", channel="webhook"))
        assert raised.value.retryable

    def test_only_http_urls_are_posted_to(self) -> None:
        with pytest.raises(DeliveryError, match="http") as raised:
            WebhookAdapter(secrets={}, default_secret="s").send(
                message("file:///etc/passwd", channel="webhook"))
        assert not raised.value.retryable


# --- demo adapters and selection ------------------------------------------------------------------

class TestFileAdapter:
    def test_appends_one_json_line_per_message_with_the_number_masked(
        self, tmp_path: Path
    ) -> None:
        adapter = FileAdapter(tmp_path / "notify")
        adapter.send(message("13812345678", channel="sms"))
        adapter.send(message("13812345678", channel="sms", attempt=2))
        lines = (tmp_path / "notify" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2
        first = json.loads(lines[0])
        assert (first["to"], first["body"], first["template"]) == ("138****5678", BODY,
                                                                   "decision")
        assert "13812345678" not in lines[0]
        assert BODY in lines[0]  # readable Chinese, not \\u escapes

    def test_channels_get_a_file_each(self, tmp_path: Path) -> None:
        adapter = FileAdapter(tmp_path)
        adapter.send(message("oABCDEF123456", channel="wechat"))
        assert (tmp_path / "wechat.jsonl").exists()
        assert not (tmp_path / "sms.jsonl").exists()


class TestConsoleAdapter:
    def test_prints_the_message_with_the_recipient_masked(self) -> None:
        stream = io.StringIO()
        ConsoleAdapter(stream).send(message("13812345678", channel="sms"))
        assert stream.getvalue() == f"[sms → 138****5678] {SUBJECT}\n{BODY}\n"


class TestAdaptersFromSettings:
    def test_the_demo_default_writes_files_and_posts_webhooks(self) -> None:
        adapters = adapters_from_settings()
        assert isinstance(adapters["sms"], FileAdapter)
        assert isinstance(adapters["wechat"], FileAdapter)
        assert isinstance(adapters["email"], FileAdapter)
        assert isinstance(adapters["webhook"], WebhookAdapter)

    def test_each_channel_follows_its_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_NOTIFY_SMS", "console")
        monkeypatch.setenv("BANKVOC_NOTIFY_EMAIL", "smtp")
        monkeypatch.setenv("BANKVOC_SMTP_HOST", "mail.bank.example")
        monkeypatch.setenv("BANKVOC_SMTP_PORT", "587")
        monkeypatch.setenv("BANKVOC_WEBHOOK_SECRETS", '{"https://crm.bank.example": "k"}')
        reset_settings()
        adapters = adapters_from_settings(get_settings())
        assert isinstance(adapters["sms"], ConsoleAdapter)
        smtp = adapters["email"]
        assert isinstance(smtp, SmtpAdapter)
        assert (smtp.config.host, smtp.config.port) == ("mail.bank.example", 587)
        webhook = adapters["webhook"]
        assert isinstance(webhook, WebhookAdapter)
        assert webhook.secret_for("https://crm.bank.example/hook") == "k"


class TestMaskAddress:
    @pytest.mark.parametrize(("channel", "address", "masked"), [
        ("sms", "13812345678", "138****5678"),
        ("email", "li.lei@example.com", "l***@example.com"),
        ("wechat", "oABCDEF123456", "oABC***"),
        ("webhook", "https://crm.bank.example/hook?token=abc", "https://crm.bank.example/…"),
    ])
    def test_shows_no_more_than_needed(self, channel: str, address: str, masked: str) -> None:
        assert mask_address(channel, address) == masked

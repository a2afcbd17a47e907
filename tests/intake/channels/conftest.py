"""What the channel tests share: settings, free loopback ports, mails, signed requests, and
the SMTP endpoint on loopback."""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bankvoc.cases.models import Case
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.intake.channels.models import ChannelMessage
from bankvoc.intake.channels.smtp_server import build_controller
from bankvoc.intake.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SECRETS = {"wechat": "wx-secret-1", "chat": "chat-secret-1", "social": "social-secret-1"}
DOMAIN = "bank.example"
MAX_ATTACHMENT = 64 * 1024
SENDER = "zhang.san@example.cn"


@pytest.fixture(autouse=True)
def channel_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence under the test's own directory, small attachment limit, known secrets."""
    monkeypatch.setenv("BANKVOC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANKVOC_ATTACHMENT_MAX_BYTES", str(MAX_ATTACHMENT))
    monkeypatch.setenv("BANKVOC_CHANNEL_SECRETS",
                       ",".join(f"{k}:{v}" for k, v in SECRETS.items()))
    monkeypatch.setenv("BANKVOC_INBOUND_MAIL_DOMAINS", f"{DOMAIN}, kf.{DOMAIN}")
    reset_settings()
    return tmp_path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def utf8_mail(
    *,
    subject: str = "信用卡年费投诉",
    body: str = "你好，我的信用卡年费被多扣了200元，客服态度很差，请尽快退还。",
    sender: str = "张三 <zhang.san@example.cn>",
    message_id: str | None = "<utf8-1@example.cn>",
    date: str | None = "Thu, 26 Nov 2026 10:00:00 +0800",
    attachments: list[tuple[str, str, bytes]] | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A mail as a modern client writes it: UTF-8, encoded-word headers, MIME parts."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"kf@{DOMAIN}"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    if date:
        message["Date"] = date
    for name, value in (headers or {}).items():
        message[name] = value
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for filename, content_type, data in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire


def gb_mail(*, subject: str, body: str, name: str, message_id: str = "<gb-1@example.cn>",
            body_label: str = "GBK", subject_label: str = "GB2312") -> bytes:
    """A mail as older Chinese clients write it: GB-labelled encoded words and body (the labels
    understate what the bytes hold: GBK characters under "GB2312", and so on)."""

    def word(text: str, label: str) -> bytes:
        encoded = base64.b64encode(text.encode("gb18030")).decode()
        return f"=?{label}?B?{encoded}?=".encode()

    head = (b"From: " + word(name, "GB18030") + b" <li.si@example.cn>\r\n"
            + f"To: kf@{DOMAIN}\r\n".encode()
            + b"Subject: " + word(subject, subject_label) + b"\r\n"
            + f"Message-ID: {message_id}\r\n".encode()
            + b"Date: Wed, 25 Nov 2026 16:20:00 +0800\r\nMIME-Version: 1.0\r\n"
            + f"Content-Type: text/plain; charset={body_label}\r\n".encode()
            + b"Content-Transfer-Encoding: base64\r\n\r\n")
    return head + base64.encodebytes(body.encode("gb18030")).replace(b"\n", b"\r\n")


def signed(channel: str, payload: dict[str, Any] | bytes, *, secret: str | None = None,
           at: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a correctly signed webhook request."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(int(time.time() if at is None else at))
    signature = sign(secret or SECRETS[channel], stamp, body)
    return body, {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
                  SIGNATURE_HEADER: signature}


@dataclass
class Endpoint:
    """The SMTP endpoint listening on loopback, and the database it commits to."""

    port: int
    engine: Engine

    def send(self, raw: bytes, *, sender: str = SENDER,
             to: str = f"kf@{DOMAIN}") -> tuple[int, str]:
        """Send one mail; the server's answer to DATA. A refusal raises as with
        `smtplib.SMTP.sendmail` (SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError)."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.ehlo()
            code, reply = client.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = client.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
            code, reply = client.data(raw)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return code, reply.decode()

    def count(self, model: type[object]) -> int:
        with unit_of_work(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def messages(self) -> list[ChannelMessage]:
        with unit_of_work(self.engine) as session:
            rows = list(session.scalars(select(ChannelMessage).order_by(ChannelMessage.id)))
            session.expunge_all()
            return rows

    def cases(self) -> list[Case]:
        with unit_of_work(self.engine) as session:
            rows = list(session.scalars(select(Case).order_by(Case.id)))
            session.expunge_all()
            return rows

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def endpoint(database: str) -> Iterator[Endpoint]:
    port = free_port()
    controller: Controller = build_controller(host="127.0.0.1", port=port)
    controller.start()
    engine = build_engine(database)
    try:
        yield Endpoint(port, engine)
    finally:
        controller.stop()
        engine.dispose()

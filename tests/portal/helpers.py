"""Filing and following through the portal service, for the service and page tests."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.notify.models import Notification
from bankvoc.portal import service as portal
from bankvoc.portal.evidence import Upload

PHONE = "13912345678"
OTHER_PHONE = "13700001111"
TEXT = "我在北京海淀支行办理转账时被多收了手续费128元，柜员说是系统问题，要求退还。"
PDF = b"%PDF-1.4\n% a receipt\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(**overrides: str) -> dict[str, str]:
    values = {"kind": "complaint", "name": "李小红", "phone": PHONE, "email": "",
              "org": "BJ01", "product": "", "amount": "128.00", "text": TEXT,
              "consent": "yes", "submission": "sub-" + "a" * 20}
    values.update(overrides)
    return values


def file(session: Session, *, uploads: list[Upload] | None = None, client_ip: str = "10.0.0.9",
         **overrides: str) -> portal.Filed:
    filing, problems = portal.read_filing(session, values=form(**overrides),
                                          uploads=uploads or [])
    assert filing is not None, problems
    return portal.file_case(session, filing=filing, uploads=uploads or [], client_ip=client_ip,
                            language="zh")


def last_code(session: Session) -> str:
    """The code in the newest code message of the outbox."""
    session.flush()
    body = session.scalars(select(Notification.body)
                           .where(Notification.template == "portal_code")
                           .order_by(Notification.id.desc())).first()
    assert body is not None, "no code was queued"
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", body)
    assert found is not None
    return found.group(1)


def codes_queued(session: Session) -> int:
    session.flush()
    return len(list(session.scalars(select(Notification.id).where(
        Notification.template == "portal_code"))))

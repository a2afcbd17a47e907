"""The SMTP endpoint with real traffic: smtplib → aiosmtpd on loopback → committed cases."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from bankvoc.cases.models import Attachment, CaseEvent
from bankvoc.core.settings import reset_settings
from bankvoc.intake.channels.models import ChannelMessage
from tests.intake.channels.conftest import DOMAIN, MAX_ATTACHMENT, Endpoint, gb_mail, utf8_mail


class TestInboundMail:
    def test_a_utf8_mail_with_an_attachment_becomes_a_case_with_evidence(
        self, endpoint: Endpoint
    ) -> None:
        endpoint.send(utf8_mail(attachments=[("账单截图.png", "image/png", b"\x89PNG-1")]))
        [case] = endpoint.cases()
        assert (case.channel, case.source_system, case.source_id) == (
            "email", "email", "utf8-1@example.cn")
        assert case.title == "信用卡年费投诉"
        assert "信用卡年费被多扣了200元" in case.text_masked
        with endpoint.session() as session:
            files = session.scalars(select(Attachment).where(Attachment.case_id == case.id))
            assert [(a.filename, a.size) for a in files] == [("账单截图.png", 6)]
            sender = session.scalar(select(ChannelMessage))
            assert sender is not None
            assert sender.contact_masked == "z***@example.cn"

    def test_a_gb18030_mail_is_read_correctly(self, endpoint: Endpoint) -> None:
        endpoint.send(gb_mail(subject="关于朱镕基路网点的投诉", name="李四",
                              body="柜员态度恶劣，排队两小时无人理会。"))
        [case] = endpoint.cases()
        assert case.title == "关于朱镕基路网点的投诉"
        assert "柜员态度恶劣，排队两小时无人理会。" in case.text_masked

    def test_a_redelivered_mail_is_stored_once(self, endpoint: Endpoint) -> None:
        raw = utf8_mail(attachments=[("a.png", "image/png", b"png")])
        endpoint.send(raw)
        endpoint.send(raw)  # the sending server did not see our 250, and tries again
        endpoint.send(raw, to=f"other@kf.{DOMAIN}")
        assert len(endpoint.cases()) == 1
        with endpoint.session() as session:
            assert len(session.scalars(select(Attachment)).all()) == 1
            assert len(session.scalars(select(ChannelMessage)).all()) == 1

    def test_an_html_only_mail_is_stored_as_text(self, endpoint: Endpoint) -> None:
        endpoint.send(utf8_mail(html="<p>网点<b>排队</b>两小时</p><script>x()</script>"))
        [case] = endpoint.cases()
        assert "网点排队两小时" in case.text_masked
        assert "<" not in case.text_masked
        assert "x()" not in case.text_masked

    def test_a_too_large_attachment_is_noted_on_the_case(self, endpoint: Endpoint) -> None:
        endpoint.send(utf8_mail(attachments=[("录像.mp4", "video/mp4",
                                              b"v" * (MAX_ATTACHMENT + 10)),
                                             ("小图.png", "image/png", b"png")]))
        assert len(endpoint.cases()) == 1
        with endpoint.session() as session:
            kept = session.scalars(select(Attachment.filename)).all()
            refused = [e.data for e in session.scalars(select(CaseEvent).where(
                CaseEvent.type == "attachment_refused"))]
        assert kept == ["小图.png"]
        assert [(r["filename"], r["size"]) for r in refused] == [
            ("录像.mp4", MAX_ATTACHMENT + 10)]

    def test_a_recipient_outside_the_allowed_domains_is_refused(
        self, endpoint: Endpoint
    ) -> None:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            endpoint.send(utf8_mail(), to="someone@elsewhere.example")
        assert caught.value.recipients["someone@elsewhere.example"][0] == 550
        assert endpoint.cases() == []

    def test_an_empty_mail_bounces_with_550(self, endpoint: Endpoint) -> None:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            endpoint.send(utf8_mail(subject="", body=""))
        assert caught.value.smtp_code == 550

    def test_without_its_user_the_endpoint_answers_451_and_keeps_nothing(
        self, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "nobody")
        reset_settings()
        with pytest.raises(smtplib.SMTPDataError) as caught:
            endpoint.send(utf8_mail())
        assert caught.value.smtp_code == 451  # the sending server keeps it and retries
        assert endpoint.cases() == []
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "admin")
        reset_settings()
        endpoint.send(utf8_mail())  # the retry, once we are fixed
        assert len(endpoint.cases()) == 1

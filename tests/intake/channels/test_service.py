"""Registering what a channel received: the case, its evidence and its sender, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bankvoc.cases.enums import Channel
from bankvoc.cases.events import verify_chain
from bankvoc.cases.models import Attachment, Case, CaseEvent
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import service as customer_service
from bankvoc.intake.channels import service
from bankvoc.intake.channels.email import register_email
from bankvoc.intake.channels.enums import MessageStatus
from bankvoc.intake.channels.models import ChannelMessage
from bankvoc.intake.channels.service import (
    ChannelUnavailable,
    InboundFile,
    InboundMessage,
    channel_actor,
    register_inbound,
)
from bankvoc.notify.models import Notification
from tests.conftest import World
from tests.intake.channels.conftest import MAX_ATTACHMENT, utf8_mail

TEXT = "手机银行转账显示成功但对方一直没到账，已经三天了"


def _message(**changes: object) -> InboundMessage:
    fields: dict[str, object] = {
        "channel": Channel.wechat, "source_system": "wechat", "source_id": "wx-1",
        "text": TEXT, "received_at": datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        "contact": "oUpF8uMuAJO_M2pxb1Q9", "contact_kind": service.CONTACT_CHANNEL_USER,
    }
    fields.update(changes)
    return InboundMessage(**fields)  # type: ignore[arg-type]


def _events(world: World, case_id: int | None) -> list[CaseEvent]:
    return list(world.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                      .order_by(CaseEvent.seq)))


class TestChannelActor:
    def test_is_the_configured_user(self, world: World) -> None:
        assert channel_actor(world.session).username == "admin"

    def test_a_missing_user_is_503_naming_the_setting(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "nobody")
        reset_settings()
        with pytest.raises(ChannelUnavailable) as caught:
            channel_actor(world.session)
        assert (caught.value.status, caught.value.field) == (503, "BANKVOC_CHANNEL_USER")


class TestRegisterInbound:
    def test_stores_the_case_on_its_channel_with_the_sender_encrypted(
        self, world: World
    ) -> None:
        receipt = register_inbound(world.session, actor=channel_actor(world.session),
                                   message=_message())
        assert receipt.outcome == "accepted"
        case = world.session.get(Case, receipt.case_id)
        assert case is not None
        assert (case.channel, case.source_system, case.source_id) == ("wechat", "wechat", "wx-1")
        row = world.session.scalar(select(ChannelMessage))
        assert row is not None
        assert row.case_id == case.id
        assert row.contact_masked == "oUp***"
        assert row.contact_enc is not None
        assert "oUpF8uMuAJO" not in row.contact_enc
        senders = service.senders_of(world.session, actor=world.actor("hq_admin"), case=case)
        assert [s.contact for s in senders] == ["oUpF8uMuAJO_M2pxb1Q9"]
        found = service.messages_from(world.session, kind=service.CONTACT_CHANNEL_USER,
                                      channel=Channel.wechat, contact="oUpF8uMuAJO_M2pxb1Q9")
        assert [m.id for m in found] == [row.id]

    def test_the_same_message_again_changes_nothing(self, world: World) -> None:
        actor = channel_actor(world.session)
        files = [InboundFile("回单.png", "image/png", b"png-bytes")]
        first = register_inbound(world.session, actor=actor, message=_message(attachments=files))
        again = register_inbound(world.session, actor=actor, message=_message(attachments=files))
        assert (again.outcome, again.reference) == ("unchanged", first.reference)
        assert world.session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert world.session.scalar(select(func.count()).select_from(ChannelMessage)) == 1

    def test_files_become_evidence_and_a_too_large_one_is_noted(self, world: World) -> None:
        files = [InboundFile("账单.png", "image/png", b"\x89PNG"),
                 InboundFile("录像.mp4", "video/mp4", b"x" * (MAX_ATTACHMENT + 1)),
                 InboundFile("空.txt", "text/plain", b"")]
        receipt = register_inbound(world.session, actor=channel_actor(world.session),
                                   message=_message(attachments=files))
        assert (receipt.attachments_added, receipt.attachments_refused) == (1, 2)
        refused = [e.data for e in _events(world, receipt.case_id)
                   if e.type == "attachment_refused"]
        assert [(r["filename"], r["size"]) for r in refused] == [
            ("录像.mp4", MAX_ATTACHMENT + 1), ("空.txt", 0)]
        assert "larger than" in refused[0]["reason"]
        assert verify_chain(world.session, case_id=receipt.case_id or 0).ok

    def test_notes_go_on_the_timeline(self, world: World) -> None:
        receipt = register_inbound(world.session, actor=channel_actor(world.session),
                                   message=_message(notes=[{"note": "date unreadable"}]))
        notes = [e.data for e in _events(world, receipt.case_id) if e.type == "channel_note"]
        assert notes == [{"source": "wechat", "note": "date unreadable"}]

    def test_a_bad_value_is_invalid_in_the_adapters_words(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            register_inbound(world.session, actor=channel_actor(world.session),
                             message=_message(customer_phone="123"),
                             field_names={"customer_phone": "customer.phone"})
        assert caught.value.field == "customer.phone"


class TestRegisterEmail:
    def test_a_mail_becomes_an_email_case_with_its_attachment(self, world: World) -> None:
        raw = utf8_mail(attachments=[("截图.png", "image/png", b"\x89PNG-shot")])
        receipt = register_email(world.session, actor=channel_actor(world.session), raw=raw)
        case = world.session.get(Case, receipt.case_id)
        assert case is not None
        assert (case.channel, case.source_id, case.title) == (
            "email", "utf8-1@example.cn", "信用卡年费投诉")
        assert case.product == "credit_card"
        assert case.received_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
        names = world.session.scalars(select(Attachment.filename).where(
            Attachment.case_id == case.id)).all()
        assert names == ["截图.png"]
        row = world.session.scalar(select(ChannelMessage))
        assert row is not None
        assert (row.contact_kind, row.contact_masked) == ("email", "z***@example.cn")

    def test_an_auto_reply_without_any_text_is_ignored_not_refused(self, world: World) -> None:
        raw = utf8_mail(subject="", body="", headers={"Auto-Submitted": "auto-replied"})
        receipt = register_email(world.session, actor=channel_actor(world.session), raw=raw)
        assert (receipt.outcome, receipt.case_id, receipt.reason) == (
            "ignored", None, "Auto-Submitted: auto-replied")


def _mail_from(address: str, number: int) -> InboundMessage:
    return _message(channel=Channel.email, source_system="email", source_id=f"m-{number}",
                    contact=address, contact_kind=service.CONTACT_EMAIL)


class TestFloodReason:
    def test_counts_one_sender_in_any_letter_case_up_to_the_limit(self, world: World) -> None:
        for number, address in enumerate(["Zhang@Example.cn", "zhang@example.cn"]):
            service.record_unregistered(world.session, message=_mail_from(address, number),
                                        status=MessageStatus.held, reason="test")
        probe = _mail_from("ZHANG@EXAMPLE.CN", 9)
        assert service.flood_reason(world.session, message=probe, limit=3) is None
        assert service.flood_reason(world.session, message=probe, limit=2) == (
            "flood: more than 2 messages from this sender within an hour")

    def test_forgets_after_the_hour(self, world: World) -> None:
        service.record_unregistered(world.session, message=_mail_from("a@example.cn", 1),
                                    status=MessageStatus.held, reason="test")
        later = utcnow() + service.FLOOD_WINDOW + timedelta(seconds=1)
        assert service.flood_reason(world.session, message=_mail_from("a@example.cn", 2),
                                    limit=1, now=later) is None

    def test_ignored_mail_does_not_count(self, world: World) -> None:
        service.record_unregistered(world.session, message=_mail_from("a@example.cn", 1),
                                    status=MessageStatus.ignored, reason="Precedence: bulk")
        assert service.flood_reason(world.session, message=_mail_from("a@example.cn", 2),
                                    limit=1) is None

    def test_a_message_without_a_sender_is_never_held(self, world: World) -> None:
        assert service.flood_reason(world.session, message=_message(contact=None),
                                    limit=0) is None


class TestRecordUnregistered:
    def test_keeps_the_sender_encrypted_and_queues_nothing(self, world: World) -> None:
        receipt = service.record_unregistered(
            world.session, message=_mail_from("zhang.san@example.cn", 1),
            status=MessageStatus.ignored, reason="Auto-Submitted: auto-replied")
        assert (receipt.outcome, receipt.reference, receipt.case_id) == ("ignored", None, None)
        row = world.session.scalar(select(ChannelMessage))
        assert row is not None
        assert (row.status, row.case_id, row.contact_masked, row.text_enc) == (
            "ignored", None, "z***@example.cn", None)
        assert row.contact_enc is not None
        assert "zhang" not in row.contact_enc
        assert world.session.scalar(select(func.count()).select_from(Notification)) == 0
        assert world.session.scalar(select(func.count()).select_from(Case)) == 0

    def test_a_held_message_keeps_its_text_encrypted(self, world: World) -> None:
        service.record_unregistered(world.session, message=_mail_from("a@example.cn", 1),
                                    status=MessageStatus.held, reason="flood")
        row = world.session.scalar(select(ChannelMessage))
        assert row is not None
        assert row.text_enc is not None
        ring = customer_service.current_keyring()
        assert ring.decrypt(row.text_enc, field="channel_text") == TEXT

    def test_a_case_is_registered_the_other_way(self, world: World) -> None:
        with pytest.raises(ValueError, match="register_inbound"):
            service.record_unregistered(world.session, message=_message(),
                                        status=MessageStatus.case, reason="")

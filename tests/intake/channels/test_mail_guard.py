"""Mail no person wrote, floods, and the sender's customer identity, with real traffic:
smtplib → aiosmtpd on loopback → committed rows. Auto-replies, bounces and bulk mail become
no case and queue no answer; a flooding sender is held; a known address finds its customer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bankvoc.cases.models import Case
from bankvoc.core.db import unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.customers import service as customer_service
from bankvoc.customers.models import Customer
from bankvoc.intake import service as intake_service
from bankvoc.intake.channels import service as channel_service
from bankvoc.intake.channels.models import ChannelMessage
from bankvoc.intake.schemas import CaseCreate
from bankvoc.notify.adapters import Message, SmtpAdapter, SmtpConfig
from bankvoc.notify.models import Notification
from tests.intake.channels.conftest import DOMAIN, SENDER, Endpoint, utf8_mail

TEXT = "你好，我的信用卡年费被多扣了200元，客服态度很差，请尽快退还。"


def report(report_type: str, part_type: str, *, message_id: str) -> bytes:
    """A bounce (or read receipt) as an MTA writes it: multipart/report from MAILER-DAEMON."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.cn>\r\n"
        f"To: kf@{DOMAIN}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: multipart/report; report-type={report_type}; boundary=\"b1\"\r\n\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system. Your message could not be delivered.\r\n"
        f"--b1\r\nContent-Type: {part_type}\r\n\r\n"
        "Reporting-MTA: dns; mx.example.cn\r\n\r\nFinal-Recipient: rfc822; x@example.cn\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--b1--\r\n").encode()


# (mail, envelope sender, the reason recorded)
AUTOMATIC: dict[str, tuple[bytes, str, str]] = {
    "exchange out of office": (
        utf8_mail(message_id="<oof@x>", subject="Automatic reply: 信用卡年费投诉",
                  body="I am out of the office until Monday.",
                  headers={"Auto-Submitted": "auto-generated",
                           "X-Auto-Response-Suppress": "All"}),
        SENDER, "Auto-Submitted: auto-generated"),
    "rfc 3834 auto-reply": (
        utf8_mail(message_id="<ar@x>", headers={"Auto-Submitted": "auto-replied"}),
        SENDER, "Auto-Submitted: auto-replied"),
    "x-autoreply": (
        utf8_mail(message_id="<xa@x>", headers={"X-Autoreply": "yes"}),
        SENDER, "automatic-reply header X-Autoreply"),
    "x-autorespond": (
        utf8_mail(message_id="<xr@x>", headers={"X-Autorespond": "vacation"}),
        SENDER, "automatic-reply header X-Autorespond"),
    "x-auto-response-suppress": (
        utf8_mail(message_id="<xs@x>", headers={"X-Auto-Response-Suppress": "OOF, DR"}),
        SENDER, "automatic-reply header X-Auto-Response-Suppress"),
    "precedence bulk": (
        utf8_mail(message_id="<pb@x>", headers={"Precedence": "bulk"}),
        SENDER, "Precedence: bulk"),
    "precedence junk": (
        utf8_mail(message_id="<pj@x>", headers={"Precedence": "junk"}),
        SENDER, "Precedence: junk"),
    "precedence list": (
        utf8_mail(message_id="<pl@x>", headers={"Precedence": "list"}),
        SENDER, "Precedence: list"),
    "mailing list": (
        utf8_mail(message_id="<li@x>", headers={"List-Id": "<news.shop.example>"}),
        SENDER, "mailing-list or bulk mail: List-Id"),
    "bulk with unsubscribe": (
        utf8_mail(message_id="<lu@x>",
                  headers={"List-Unsubscribe": "<mailto:unsub@shop.example>"}),
        SENDER, "mailing-list or bulk mail: List-Unsubscribe"),
    "webmail auto-reply by subject": (
        utf8_mail(message_id="<qq@x>", subject="自动回复：信用卡年费投诉",
                  body="您好，您的来信已收到，我休假中。"),
        SENDER, "the subject of an automatic reply or a delivery failure"),
    "bounce": (
        report("delivery-status", "message/delivery-status", message_id="dsn@mx"),
        "<>", "empty return path <>: a delivery status notification"),
    "bounce with a sender": (
        report("delivery-status", "message/delivery-status", message_id="dsn2@mx"),
        "bounces@mx.example.cn", "delivery report: multipart/report; "
                                 "report-type=delivery-status"),
    "read receipt": (
        report("disposition-notification", "message/disposition-notification",
               message_id="mdn@x"),
        SENDER, "delivery report: multipart/report; report-type=disposition-notification"),
    "mailer-daemon": (
        utf8_mail(message_id="<md@x>", sender="MAILER-DAEMON@mx.example.cn"),
        "postmaster@mx.example.cn", "sent by a mail system (MAILER-DAEMON or postmaster)"),
    "null envelope sender": (
        utf8_mail(message_id="<null@x>"),
        "<>", "empty return path <>: a delivery status notification"),
}


class TestAutomaticMail:
    @pytest.mark.parametrize("form", list(AUTOMATIC))
    def test_is_kept_as_ignored_with_its_reason_never_a_case_never_answered(
        self, endpoint: Endpoint, form: str
    ) -> None:
        raw, envelope_sender, reason = AUTOMATIC[form]
        code, reply = endpoint.send(raw, sender=envelope_sender)
        # 250, not a bounce: bouncing an automatic mail is one more automatic mail.
        assert (code, reply) == (250, "2.0.0 OK: automatic mail, not registered")
        assert endpoint.count(Case) == 0
        assert endpoint.count(Customer) == 0
        assert endpoint.count(Notification) == 0
        [row] = endpoint.messages()
        assert (row.status, row.reason, row.case_id) == ("ignored", reason, None)
        assert row.text_enc is None

    def test_a_redelivered_auto_reply_is_kept_once(self, endpoint: Endpoint) -> None:
        raw, sender, _ = AUTOMATIC["rfc 3834 auto-reply"]
        endpoint.send(raw, sender=sender)
        assert endpoint.send(raw, sender=sender)[0] == 250
        assert len(endpoint.messages()) == 1

    def test_a_person_s_mail_still_becomes_a_case(self, endpoint: Endpoint) -> None:
        for raw, sender, _ in AUTOMATIC.values():
            endpoint.send(raw, sender=sender)
        code, reply = endpoint.send(utf8_mail(message_id="<person@x>",
                                              headers={"Auto-Submitted": "no"}))
        assert (code, reply) == (250, "2.0.0 OK: registered")
        [case] = endpoint.cases()
        assert case.source_id == "person@x"
        assert [m.status for m in endpoint.messages()].count("case") == 1
        assert endpoint.count(Notification) == 0

    def test_a_complaint_about_a_fee_refund_is_no_bounce(self, endpoint: Endpoint) -> None:
        endpoint.send(utf8_mail(message_id="<refund@x>", subject="退信用卡年费"))
        assert len(endpoint.cases()) == 1

    def test_our_own_acknowledgement_coming_back_is_never_answered(
        self, endpoint: Endpoint
    ) -> None:
        """The loop: a customer's address forwards to our complaint address."""
        adapter = SmtpAdapter(SmtpConfig(host="127.0.0.1", port=endpoint.port,
                                         sender=f"客服 <service@{DOMAIN}>"))
        adapter.send(Message(
            notification_id=1, delivery_id="a" * 32, channel="email", recipient=f"kf@{DOMAIN}",
            subject="您的投诉已受理（TS202611270001）", body="尊敬的客户：您的投诉已受理。",
            template="accepted", language="zh"))
        assert endpoint.count(Case) == 0
        [row] = endpoint.messages()
        assert (row.status, row.reason) == ("ignored", "our own notification came back")


def limit_per_hour(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setenv("BANKVOC_INBOUND_MAIL_MAX_PER_HOUR", str(limit))
    reset_settings()


class TestFloodGuard:
    def test_a_sender_past_the_limit_is_held_not_made_a_case_per_message(
        self, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        limit_per_hour(monkeypatch, 3)
        texts = ["网点排队两小时", "信用卡年费多扣", "理财产品亏损未告知风险", "转账三天未到账",
                 "客服电话打不通"]
        replies = []
        for number, body in enumerate(texts):
            sender = SENDER if number % 2 else SENDER.upper()  # one address, any letter case
            replies.append(endpoint.send(utf8_mail(message_id=f"<flood-{number}@x>",
                                                   subject=body, body=body,
                                                   sender=f"张三 <{sender}>")))
        assert [code for code, _ in replies] == [250] * 5
        assert replies[-1][1] == "2.0.0 OK: held for review"
        rows = endpoint.messages()
        assert [r.status for r in rows] == ["case", "case", "case", "held", "held"]
        held = rows[3]
        assert held.case_id is None
        assert held.reason == "flood: more than 3 messages from this sender within an hour"
        assert held.text_enc is not None
        ring = customer_service.current_keyring()
        assert ring.decrypt(held.text_enc, field="channel_text").startswith(texts[3])
        assert len(endpoint.cases()) <= 3
        assert endpoint.count(Notification) == 0
        # Held again when redelivered, and stored once.
        assert endpoint.send(utf8_mail(message_id="<flood-3@x>", subject=texts[3],
                                       body=texts[3]))[1] == "2.0.0 OK: held for review"
        assert len(endpoint.messages()) == 5
        # Another sender is not held for it.
        endpoint.send(utf8_mail(message_id="<other@x>", sender="li.si@example.cn"))
        assert endpoint.messages()[-1].status == "case"

    def test_a_case_mail_redelivered_past_the_limit_is_still_its_case(
        self, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        limit_per_hour(monkeypatch, 1)
        raw = utf8_mail(message_id="<once@x>")
        endpoint.send(raw)
        assert endpoint.send(raw) == (250, "2.0.0 OK: registered")
        assert [m.status for m in endpoint.messages()] == ["case"]


class TestSenderIsTheCustomer:
    def _known_customer(self, endpoint: Endpoint) -> tuple[int, int]:
        """A customer known by their address, with an open case: (customer id, case id)."""
        with unit_of_work(endpoint.engine) as session:
            draft = intake_service.register_case(
                session, actor=channel_service.channel_actor(session),
                data=CaseCreate(text=TEXT, customer_email="Zhang.San@Example.CN",
                                customer_phone="13812345678", source_id="hotline-1"))
            assert draft.customer_id is not None
            assert draft.case_id is not None
            return draft.customer_id, draft.case_id

    def test_a_known_sender_s_mail_on_the_same_matter_joins_their_open_case(
        self, endpoint: Endpoint
    ) -> None:
        customer_id, case_id = self._known_customer(endpoint)
        endpoint.send(utf8_mail(message_id="<again@x>", subject="", body=TEXT,
                                sender="张三 <ZHANG.SAN@example.cn>"))
        [case] = endpoint.cases()
        assert (case.id, case.customer_id, case.merged_count) == (case_id, customer_id, 1)
        assert [m.case_id for m in endpoint.messages()] == [case_id]
        assert endpoint.count(Customer) == 1

    def test_a_new_matter_from_a_known_sender_is_a_new_case_of_theirs(
        self, endpoint: Endpoint
    ) -> None:
        customer_id, case_id = self._known_customer(endpoint)
        endpoint.send(utf8_mail(message_id="<new@x>", subject="网点投诉",
                                body="北京海淀支行柜员态度恶劣，排队两小时无人理会。"))
        cases = endpoint.cases()
        assert [(c.id == case_id, c.customer_id) for c in cases] == [
            (True, customer_id), (False, customer_id)]
        assert endpoint.count(Customer) == 1

    def test_an_unknown_sender_becomes_a_customer_known_by_the_address(
        self, endpoint: Endpoint
    ) -> None:
        endpoint.send(utf8_mail(sender="张三 <Zhang.San@Example.CN>"))
        [case] = endpoint.cases()
        with endpoint.session() as session:
            customer = session.get(Customer, case.customer_id)
            assert customer is not None
            assert (customer.email_masked, customer.name_masked) == ("z***@example.cn", "张*")
            assert customer.phone_enc is None
            found = customer_service.find_customer(
                session, actor=channel_service.channel_actor(session), email=SENDER)
            assert found.id == customer.id
            [row] = session.scalars(select(ChannelMessage))
            assert row.contact_bidx == customer.email_bidx  # one index for both

    def test_a_sender_address_no_reply_can_reach_is_no_customer(
        self, endpoint: Endpoint
    ) -> None:
        endpoint.send(utf8_mail(sender="张三 <zhang@localhost>"))
        [case] = endpoint.cases()
        assert case.customer_id is None
        assert endpoint.messages()[0].contact_masked == "z***@localhost"


class TestStaffForwarding:
    def test_the_bank_s_own_addresses_are_neither_customers_nor_held(
        self, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A branch forwarding customers' complaints from its own mailbox."""
        limit_per_hour(monkeypatch, 1)
        for number, body in enumerate(["网点排队两小时", "信用卡年费多扣"]):
            endpoint.send(utf8_mail(message_id=f"<fw-{number}@x>", subject=body, body=body,
                                    sender=f"北京分行 <branch@kf.{DOMAIN}>"))
        assert [m.status for m in endpoint.messages()] == ["case", "case"]
        assert [c.customer_id for c in endpoint.cases()] == [None, None]
        assert endpoint.count(Customer) == 0

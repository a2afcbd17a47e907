"""Reading mail: headers and bodies in every charset Chinese mail comes in, HTML, attachments."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from bankvoc.cases.enums import Channel
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.intake.channels.email import (
    CUT_MARK,
    ORIGINAL_NAME,
    decode_bytes,
    html_to_text,
    parse_email,
)
from tests.intake.channels.conftest import gb_mail, utf8_mail


class TestDecodeBytes:
    def test_a_gb2312_label_reads_gbk_characters(self) -> None:
        assert decode_bytes("朱镕基".encode("gbk"), "gb2312") == "朱镕基"

    def test_without_a_label_utf8_then_gb18030(self) -> None:
        assert decode_bytes("投诉".encode(), None) == "投诉"
        assert decode_bytes("投诉".encode("gb18030"), None) == "投诉"

    def test_an_unknown_label_never_raises(self) -> None:
        assert decode_bytes("年费".encode(), "x-no-such-charset") == "年费"


class TestHtmlToText:
    def test_blocks_become_lines_and_scripts_vanish(self) -> None:
        html = ("<html><head><style>p{color:red}</style><title>t</title></head><body>"
                "<p>您好：</p><div>年费&nbsp;被<b>多扣</b>了&lt;200&gt;元<br>请处理</div>"
                "<script>alert(1)</script><table><tr><td>卡号</td><td>尾号1234</td></tr>"
                "</table></body></html>")
        assert html_to_text(html) == "您好：\n年费 被多扣了<200>元\n请处理\n卡号 尾号1234"


class TestParseEmail:
    def test_a_utf8_mail_gives_subject_body_sender_date_and_message_id(self) -> None:
        message = parse_email(utf8_mail())
        assert message.channel == Channel.email
        assert (message.source_system, message.source_id) == ("email", "utf8-1@example.cn")
        assert message.title == "信用卡年费投诉"
        assert message.text.startswith("信用卡年费投诉\n\n你好，我的信用卡年费被多扣了200元")
        assert (message.contact, message.contact_kind) == ("zhang.san@example.cn", "email")
        assert message.contact_name == "张三"
        assert message.received_at == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

    def test_the_sender_s_address_is_the_customer_s_e_mail_named_as_they_sign(self) -> None:
        message = parse_email(utf8_mail(sender="张三 <Zhang.San@Example.CN>"))
        assert message.customer_email == "zhang.san@example.cn"
        assert message.customer_name == "张三"

    def test_an_address_no_reply_can_reach_is_a_contact_but_no_identity(self) -> None:
        message = parse_email(utf8_mail(sender="张三 <zhang@localhost>"))
        assert message.contact == "zhang@localhost"
        assert (message.customer_email, message.customer_name) == (None, None)

    def test_a_very_long_display_name_is_cut_to_what_a_customer_name_holds(self) -> None:
        message = parse_email(utf8_mail(sender=f"{'张' * 150} <zhang.san@example.cn>"))
        assert message.customer_name == "张" * 100

    def test_gb_labelled_headers_and_body_are_read_as_gb18030(self) -> None:
        raw = gb_mail(subject="关于朱镕基路网点的投诉", body="柜员态度恶劣，还有生僻字㐀。",
                      name="李四")
        message = parse_email(raw)
        assert message.title == "关于朱镕基路网点的投诉"
        assert "柜员态度恶劣，还有生僻字㐀。" in message.text
        assert message.contact_name == "李四"

    def test_raw_8bit_headers_are_read_as_utf8_or_gb18030(self) -> None:
        for charset in ("utf-8", "gb18030"):
            raw = ("From: 王五 <wang@example.cn>\r\nSubject: 转账失败投诉\r\n"
                   "Message-ID: <raw@example.cn>\r\n"
                   f"Content-Type: text/plain; charset={charset}\r\n\r\n"
                   "手机银行转账一直失败。\r\n").encode(charset)
            message = parse_email(raw)
            assert message.title == "转账失败投诉", charset
            assert message.contact_name == "王五"
            assert "手机银行转账一直失败" in message.text

    def test_an_html_only_mail_is_converted_to_text(self) -> None:
        message = parse_email(utf8_mail(html="<p>网点<b>排队</b>两小时</p><p>无人处理</p>"))
        assert message.text == "信用卡年费投诉\n\n网点排队两小时\n无人处理"

    def test_the_plain_part_of_an_alternative_wins(self) -> None:
        raw = utf8_mail(body="纯文本正文")
        from email import message_from_bytes, policy

        mail = message_from_bytes(raw, policy=policy.default)
        mail.add_alternative("<p>HTML 正文</p>", subtype="html")
        assert parse_email(mail.as_bytes()).text.endswith("纯文本正文")

    def test_attachments_keep_their_chinese_names_and_bytes(self) -> None:
        raw = utf8_mail(attachments=[("账单截图.png", "image/png", b"\x89PNG-1"),
                                     ("说明.txt", "text/plain", "补充说明".encode())])
        files = parse_email(raw).attachments
        assert [(f.filename, f.content_type) for f in files] == [
            ("账单截图.png", "image/png"), ("说明.txt", "text/plain")]
        assert files[0].data == b"\x89PNG-1"

    def test_an_rfc2047_file_name_in_gb2312_is_decoded(self) -> None:
        name = base64.b64encode("回单.pdf".encode("gb18030")).decode()
        raw = (b"From: a@example.cn\r\nSubject: x\r\nMessage-ID: <att@x>\r\n"
               b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n--BB\r\n"
               b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
               + f'Content-Disposition: attachment; filename="=?GB2312?B?{name}?="\r\n\r\n'
               .encode() + base64.b64encode(b"%PDF-1") + b"\r\n--BB--\r\n")
        assert [f.filename for f in parse_email(raw).attachments] == ["回单.pdf"]

    def test_a_mail_without_message_id_is_keyed_by_its_content(self) -> None:
        first = parse_email(utf8_mail(message_id=None))
        again = parse_email(utf8_mail(message_id=None))
        other = parse_email(utf8_mail(message_id=None, body="另一封信"))
        assert first.source_id.startswith("content-sha256:")
        assert first.source_id == again.source_id != other.source_id

    def test_a_long_message_id_is_keyed_by_its_hash(self) -> None:
        message = parse_email(utf8_mail(message_id="<" + "x" * 300 + "@example.cn>"))
        assert message.source_id.startswith("mid-sha256:")
        assert len(message.source_id) <= 128

    def test_a_future_or_unreadable_date_gives_way_to_the_arrival_time(self) -> None:
        for date in ("Mon, 1 Jan 2099 00:00:00 +0000", "yesterday-ish"):
            message = parse_email(utf8_mail(date=date))
            assert message.received_at is None
            assert len(message.notes) == 1
            assert "arrival time" in message.notes[0]["note"]

    def test_a_text_over_the_limit_is_cut_and_the_whole_message_kept(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_TEXT_MAX_CHARS", "200")
        reset_settings()
        raw = utf8_mail(body="很长的投诉。" * 100)
        message = parse_email(raw)
        assert len(message.text) == 200
        assert message.text.endswith(CUT_MARK)
        assert message.attachments[-1].filename == ORIGINAL_NAME
        assert message.attachments[-1].data == raw

    def test_a_mail_with_only_an_attachment_gets_a_placeholder_text(self) -> None:
        raw = utf8_mail(subject="", body="", attachments=[("a.png", "image/png", b"png")])
        assert parse_email(raw).text == "（邮件无正文，见附件）"

    def test_a_mail_with_nothing_in_it_is_refused(self) -> None:
        with pytest.raises(Invalid) as caught:
            parse_email(utf8_mail(subject="", body=""))
        assert caught.value.field == "body"

    def test_a_forwarded_mail_is_kept_whole(self) -> None:
        inner = utf8_mail(message_id="<inner@x>")
        from email import message_from_bytes, policy

        outer = message_from_bytes(utf8_mail(message_id="<outer@x>"), policy=policy.default)
        outer.add_attachment(message_from_bytes(inner, policy=policy.default))
        files = parse_email(outer.as_bytes()).attachments
        assert [f.content_type for f in files] == ["message/rfc822"]
        assert b"inner@x" in files[0].data

    def test_the_envelope_sender_stands_in_for_a_missing_from(self) -> None:
        raw = b"Subject: hi\r\nMessage-ID: <nf@x>\r\n\r\n body\r\n"
        message = parse_email(raw, envelope_sender="Someone@Example.CN")
        assert message.contact == "Someone@example.cn"

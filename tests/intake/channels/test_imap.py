"""The IMAP poller against a small IMAP server on loopback: mail is marked seen only once its
case is committed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bankvoc.cases.models import Attachment, Case
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.intake.channels import imap
from bankvoc.notify.models import Notification
from tests.intake.channels.conftest import gb_mail, utf8_mail
from tests.intake.channels.fake_imap import FakeImapServer


@pytest.fixture
def mailserver(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeImapServer]:
    with FakeImapServer(user="kf", password="pw") as server:
        for name, value in {"HOST": "127.0.0.1", "PORT": str(server.port), "SSL": "false",
                            "USER": "kf", "PASSWORD": "pw"}.items():
            monkeypatch.setenv(f"BANKVOC_IMAP_{name}", value)
        reset_settings()
        yield server


def _count(database: str, model: type[object]) -> int:
    engine = build_engine(database)
    try:
        with unit_of_work(engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


class TestPollOnce:
    def test_unseen_mail_becomes_cases_and_is_then_marked_seen(
        self, mailserver: FakeImapServer, database: str
    ) -> None:
        box = mailserver.mailbox
        first = box.add(utf8_mail(attachments=[("回单.png", "image/png", b"png")]))
        empty = box.add(utf8_mail(message_id="<empty@x>", subject="", body=""))
        third = box.add(gb_mail(subject="网点投诉", body="排队两小时", name="李四"))
        report = imap.poll_once()
        assert report.as_dict() == {"stored": 2, "refused": 1, "deferred": 0,
                                    "ignored": 0, "held": 0}
        assert box.flags(first) == box.flags(third) == {"\\Seen"}
        assert box.flags(empty) == {"\\Flagged"}  # left unseen, for a person to look at
        assert _count(database, Case) == 2
        assert _count(database, Attachment) == 1
        assert not any("BODY[]" in c and "PEEK" not in c for c in box.commands)
        assert imap.poll_once().as_dict() == {
            "stored": 0, "refused": 0, "deferred": 0, "ignored": 0, "held": 0}

    def test_a_mail_that_could_not_be_stored_stays_unseen_for_the_next_round(
        self, mailserver: FakeImapServer, database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        uid = mailserver.mailbox.add(utf8_mail())
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "nobody")
        reset_settings()
        assert imap.poll_once().deferred == 1
        assert mailserver.mailbox.flags(uid) == set()
        monkeypatch.setenv("BANKVOC_CHANNEL_USER", "admin")
        reset_settings()
        assert imap.poll_once().stored == 1
        assert mailserver.mailbox.flags(uid) == {"\\Seen"}

    def test_auto_replies_and_bounces_are_marked_seen_and_become_no_case(
        self, mailserver: FakeImapServer, database: str
    ) -> None:
        box = mailserver.mailbox
        oof = box.add(utf8_mail(message_id="<oof@x>", subject="自动回复：信用卡年费投诉",
                                headers={"Auto-Submitted": "auto-replied"}))
        # What the delivering server writes for a bounce: the null return path.
        bounce = box.add(b"Return-Path: <>\r\n" + utf8_mail(message_id="<dsn@x>"))
        person = box.add(utf8_mail(message_id="<person@x>"))
        report = imap.poll_once()
        assert report.as_dict() == {"stored": 1, "refused": 0, "deferred": 0,
                                    "ignored": 2, "held": 0}
        assert box.flags(oof) == box.flags(bounce) == box.flags(person) == {"\\Seen"}
        assert _count(database, Case) == 1
        assert _count(database, Notification) == 0

    def test_a_crash_before_the_seen_flag_stores_nothing_twice(
        self, mailserver: FakeImapServer, database: str
    ) -> None:
        uid = mailserver.mailbox.add(utf8_mail())
        imap.poll_once()
        mailserver.mailbox.mails[uid - 1].flags.clear()  # as if we died before STORE
        assert imap.poll_once().stored == 1
        assert _count(database, Case) == 1


class TestConnect:
    def test_needs_a_host_and_user(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BANKVOC_IMAP_HOST", raising=False)
        reset_settings()
        with pytest.raises(Invalid) as caught:
            imap.connect()
        assert caught.value.field == "BANKVOC_IMAP_HOST"

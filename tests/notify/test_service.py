"""The outbox: enqueue with dedupe, dispatch with retries, back-off, dead letter and claims."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.cases.models import Case
from bankvoc.core.db import transaction
from bankvoc.core.errors import Invalid
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from bankvoc.notify import service
from bankvoc.notify.adapters import Message
from bankvoc.notify.errors import DeliveryError, TemplateError, UnknownTemplate
from bankvoc.notify.models import Notification
from bankvoc.notify.service import DispatchPolicy, Recipient, enqueue
from bankvoc.notify.templates import current_templates
from tests.conftest import World
from tests.notify.conftest import CONTEXT, T0, RecordingAdapter, failing

PHONE = "13812345678"
POLICY = DispatchPolicy(max_attempts=4, backoff_base=timedelta(seconds=10),
                        backoff_cap=timedelta(seconds=60), sending_timeout=timedelta(minutes=5))


def _sms(session: Session, *, key: str | None = None, phone: str = PHONE,
         now: datetime = T0, **extra: Any) -> Notification | None:
    return enqueue(session, template="accepted", channel="sms",
                   recipient=Recipient.customer(phone, ref=7), language="zh", context=CONTEXT,
                   dedupe_key=key, now=now, **extra)


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification)) or 0)


def _row(sessions: sessionmaker[Session], notification_id: int) -> Notification:
    with sessions() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        return row


def _enqueue_committed(sessions: sessionmaker[Session], count: int = 1,
                       now: datetime = T0) -> list[int]:
    with transaction(sessions) as session:
        rows = [_sms(session, key=f"test:{i}", phone=f"1381234{i:04d}", now=now)
                for i in range(count)]
        return [row.id for row in rows if row is not None]


class TestEnqueue:
    def test_renders_the_template_and_keeps_the_address_encrypted(self, session: Session) -> None:
        row = _sms(session, phone="138 1234 5678", key="case:1:accepted")
        assert row is not None
        assert (row.status, row.attempts, row.channel, row.language, row.recipient_kind) == (
            "pending", 0, "sms", "zh", "customer")
        assert row.recipient_masked == "138****5678"
        assert PHONE not in row.recipient_enc
        assert row.template_version == current_templates().version
        assert row.subject == "您反映的问题已受理（TS202611270001）"
        assert "尊敬的张**客户" in row.body
        assert "张三丰" not in row.body
        assert row.next_attempt_at == T0
        assert len(row.delivery_id) == 32

    def test_links_the_case(self, world: World) -> None:
        draft = intake_service.register_case(
            world.session, actor=world.actor("hq_admin"),
            data=CaseCreate(text="转账未到账，请尽快处理", customer_phone=PHONE))
        case = world.session.get(Case, draft.case_id)
        assert case is not None
        row = _sms(world.session, key=f"case:{case.id}:accepted")
        assert row is not None
        assert row.case_id is None
        linked = enqueue(world.session, template="accepted", channel="email",
                         recipient=Recipient.customer("li@example.com"), language="en",
                         context={**CONTEXT, "reference": case.reference}, case_id=case.id)
        assert linked is not None
        found = service.list_notifications(world.session, case_id=case.id)
        assert [n.id for n in found] == [linked.id]
        assert case.reference in linked.subject

    def test_the_same_dedupe_key_is_enqueued_once(self, session: Session) -> None:
        first = _sms(session, key="case:123:escalation:2")
        again = _sms(session, key="case:123:escalation:2")
        assert first is not None
        assert again is None
        assert _count(session) == 1

    def test_without_a_key_each_call_is_a_new_notification(self, session: Session) -> None:
        _sms(session)
        _sms(session)
        assert _count(session) == 2

    def test_not_before_holds_the_message_back(self, session: Session) -> None:
        row = _sms(session, not_before=T0 + timedelta(hours=8))
        assert row is not None
        assert row.next_attempt_at == T0 + timedelta(hours=8)

    @pytest.mark.parametrize(("kwargs", "error", "field"), [
        ({"template": "welcome"}, UnknownTemplate, "template"),
        ({"context": {"reference": "TS1"}}, TemplateError, "context.due_date"),
        ({"channel": "fax"}, Invalid, "channel"),
        ({"language": "fr"}, Invalid, "language"),
        ({"recipient": Recipient.customer("12345")}, Invalid, "recipient"),
        ({"recipient": Recipient.user(PHONE)}, Invalid, "recipient"),
        ({"dedupe_key": "x" * 201}, Invalid, "dedupe_key"),
    ])
    def test_a_bad_request_is_a_clear_error_and_writes_nothing(
        self, session: Session, kwargs: dict[str, Any], error: type[Exception], field: str
    ) -> None:
        arguments: dict[str, Any] = {
            "template": "accepted", "channel": "sms", "recipient": Recipient.customer(PHONE),
            "language": "zh", "context": CONTEXT, **kwargs}
        with pytest.raises(error) as raised:
            enqueue(session, **arguments)
        assert getattr(raised.value, "field", None) == field
        assert PHONE not in str(raised.value)
        assert _count(session) == 0

    def test_staff_templates_go_to_users(self, session: Session) -> None:
        row = enqueue(session, template="escalated", channel="email",
                      recipient=Recipient.user("lead@bank.example", ref="bj_lead"),
                      language="zh", context={"reference": "TS1", "level": 2, "reason": "临近时限",
                                              "severity": "重要", "due_at": T0},
                      dedupe_key="case:1:escalation:2")
        assert row is not None
        assert row.recipient_ref == "bj_lead"
        assert row.recipient_masked == "l***@bank.example"
        assert row.subject == "【升级】投诉TS1已升级至第2级"


class TestEnqueueRace:
    def test_two_transactions_with_one_key_store_one_row(
        self, outbox: sessionmaker[Session]
    ) -> None:
        results: list[Notification | None] = []
        first = outbox()
        try:
            results.append(_sms(first, key="case:9:escalation:1"))  # not committed yet

            def second() -> None:
                with transaction(outbox) as other:
                    results.append(_sms(other, key="case:9:escalation:1"))

            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.3)  # the second insert now waits on the first's key (or write lock)
            first.commit()
        finally:
            first.close()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert results[0] is not None
        assert results[1] is None
        with outbox() as session:
            assert _count(session) == 1


class TestBackoff:
    def test_doubles_from_the_base_up_to_the_cap(self) -> None:
        assert [POLICY.backoff(n).total_seconds() for n in range(1, 7)] == [
            10, 20, 40, 60, 60, 60]


class TestDispatchDue:
    def test_sends_due_notifications_and_marks_them_sent(
        self, outbox: sessionmaker[Session]
    ) -> None:
        ids = _enqueue_committed(outbox, 2)
        adapter = RecordingAdapter()
        report = service.dispatch_due(outbox, now=T0, adapters={"sms": adapter}, policy=POLICY)
        assert (report.claimed, report.sent, report.retried, report.dead) == (2, 2, 0, 0)
        assert sorted(m.notification_id for m in adapter.sent) == ids
        message = adapter.sent[0]
        assert message.recipient.startswith("1381234")  # decrypted for the channel only
        assert message.body.startswith("尊敬的张**客户")
        assert message.attempt == 1
        for notification_id in ids:
            row = _row(outbox, notification_id)
            assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
                "sent", 1, None, None)
            assert row.sent_at is not None
            assert T0 <= row.sent_at < T0 + timedelta(seconds=30)
        again = service.dispatch_due(outbox, now=T0 + timedelta(hours=1),
                                     adapters={"sms": adapter}, policy=POLICY)
        assert again.claimed == 0
        assert len(adapter.sent) == 2

    def test_rows_not_yet_due_wait(self, outbox: sessionmaker[Session]) -> None:
        with transaction(outbox) as session:
            _sms(session, not_before=T0 + timedelta(hours=1))
        adapter = RecordingAdapter()
        assert service.dispatch_due(outbox, now=T0, adapters={"sms": adapter},
                                    policy=POLICY).claimed == 0
        assert service.dispatch_due(outbox, now=T0 + timedelta(hours=1),
                                    adapters={"sms": adapter}, policy=POLICY).sent == 1

    def test_a_retryable_failure_is_retried_with_exponential_backoff(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        adapter = RecordingAdapter(failing(retryable=True))
        now = T0
        for attempt, wait in enumerate((10, 20, 40), start=1):
            report = service.dispatch_due(outbox, now=now, adapters={"sms": adapter},
                                          policy=POLICY)
            assert (report.claimed, report.retried) == (1, 1)
            row = _row(outbox, notification_id)
            assert (row.status, row.attempts, row.last_error) == ("failed", attempt,
                                                                  "gateway busy")
            assert row.next_attempt_at is not None
            due = now + timedelta(seconds=wait)
            assert due <= row.next_attempt_at < due + timedelta(seconds=5)
            early = service.dispatch_due(outbox, now=due - timedelta(seconds=1),
                                         adapters={"sms": adapter}, policy=POLICY)
            assert early.claimed == 0
            now = row.next_attempt_at
        adapter.outcome = None
        report = service.dispatch_due(outbox, now=now, adapters={"sms": adapter}, policy=POLICY)
        assert report.sent == 1
        row = _row(outbox, notification_id)
        assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)

    def test_the_last_failed_attempt_goes_to_the_dead_letter(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        adapter = RecordingAdapter(failing(retryable=True))
        now = T0
        reports = []
        for _ in range(POLICY.max_attempts):
            reports.append(service.dispatch_due(outbox, now=now, adapters={"sms": adapter},
                                                policy=POLICY))
            now += timedelta(hours=1)
        assert [r.retried for r in reports] == [1, 1, 1, 0]
        assert reports[-1].dead == 1
        row = _row(outbox, notification_id)
        assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
            "dead", POLICY.max_attempts, None, "gateway busy")
        assert service.dispatch_due(outbox, now=now + timedelta(days=1),
                                    adapters={"sms": adapter}, policy=POLICY).claimed == 0
        assert adapter.calls == POLICY.max_attempts

    def test_a_permanent_failure_goes_straight_to_the_dead_letter(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        adapter = RecordingAdapter(failing(retryable=False, text="number unknown"))
        report = service.dispatch_due(outbox, now=T0, adapters={"sms": adapter}, policy=POLICY)
        assert report.dead == 1
        row = _row(outbox, notification_id)
        assert (row.status, row.attempts, row.last_error) == ("dead", 1, "number unknown")

    def test_requeue_revives_a_dead_letter(self, outbox: sessionmaker[Session]) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        service.dispatch_due(outbox, now=T0, policy=POLICY,
                             adapters={"sms": RecordingAdapter(failing(retryable=False))})
        with transaction(outbox) as session:
            assert service.requeue(session, ids=[notification_id], now=T0) == 1
        report = service.dispatch_due(outbox, now=T0, adapters={"sms": RecordingAdapter()},
                                      policy=POLICY)
        assert report.sent == 1
        assert _row(outbox, notification_id).attempts == 1

    def test_an_adapter_that_raises_anything_else_is_retried(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)

        def crash(_message: Message) -> None:
            raise RuntimeError("boom")

        report = service.dispatch_due(outbox, now=T0, adapters={"sms": RecordingAdapter(crash)},
                                      policy=POLICY)
        assert report.retried == 1
        assert _row(outbox, notification_id).last_error == "sms adapter failed: RuntimeError"

    def test_a_channel_without_an_adapter_is_retried(self, outbox: sessionmaker[Session]) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        report = service.dispatch_due(outbox, now=T0, adapters={}, policy=POLICY)
        assert report.retried == 1
        assert _row(outbox, notification_id).last_error == "no adapter for the sms channel"

    def test_stored_errors_never_show_the_address(self, outbox: sessionmaker[Session]) -> None:
        (notification_id,) = _enqueue_committed(outbox)

        def refuse(message: Message) -> None:
            raise DeliveryError(f"550 {message.recipient} is not a subscriber", retryable=False)

        service.dispatch_due(outbox, now=T0, adapters={"sms": RecordingAdapter(refuse)},
                             policy=POLICY)
        assert _row(outbox, notification_id).last_error == "550 138****0000 is not a subscriber"


class TestCrashRecovery:
    def _claim_and_crash(self, outbox: sessionmaker[Session], now: datetime,
                         policy: DispatchPolicy = POLICY) -> list[service.Claimed]:
        """A dispatcher that claimed and died before recording anything."""
        with transaction(outbox) as session:
            return service.claim_due(session, now=now, limit=10, policy=policy)

    def test_a_row_left_sending_is_sent_once_its_claim_expires(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        assert len(self._claim_and_crash(outbox, T0)) == 1
        assert _row(outbox, notification_id).status == "sending"
        adapter = RecordingAdapter()
        during = service.dispatch_due(outbox, now=T0 + timedelta(minutes=4),
                                      adapters={"sms": adapter}, policy=POLICY)
        assert during.claimed == 0
        after = service.dispatch_due(outbox, now=T0 + timedelta(minutes=5),
                                     adapters={"sms": adapter}, policy=POLICY)
        assert (after.claimed, after.recovered, after.sent) == (1, 1, 1)
        row = _row(outbox, notification_id)
        assert (row.status, row.attempts) == ("sent", 2)
        assert adapter.sent[0].attempt == 2

    def test_a_row_left_sending_after_its_last_attempt_goes_dead(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        policy = DispatchPolicy(max_attempts=1, sending_timeout=timedelta(minutes=5))
        self._claim_and_crash(outbox, T0, policy)
        report = service.dispatch_due(outbox, now=T0 + timedelta(minutes=6),
                                      adapters={"sms": RecordingAdapter()}, policy=policy)
        assert report.claimed == 0
        row = _row(outbox, notification_id)
        assert row.status == "dead"
        assert row.last_error is not None
        assert "no result recorded" in row.last_error

    def test_a_dispatcher_whose_claim_was_taken_over_records_nothing(
        self, outbox: sessionmaker[Session]
    ) -> None:
        (notification_id,) = _enqueue_committed(outbox)
        (slow,) = self._claim_and_crash(outbox, T0)
        service.dispatch_due(outbox, now=T0 + timedelta(minutes=6),
                             adapters={"sms": RecordingAdapter(failing(retryable=True))},
                             policy=POLICY)
        with transaction(outbox) as session:
            assert service.record_result(session, claimed=slow, error=None,
                                         now=T0 + timedelta(minutes=7), policy=POLICY) is None
        row = _row(outbox, notification_id)
        assert (row.status, row.attempts) == ("failed", 2)

    def test_a_batch_past_half_its_lease_hands_the_rest_back(
        self, outbox: sessionmaker[Session]
    ) -> None:
        ids = _enqueue_committed(outbox, 3)
        hasty = DispatchPolicy(sending_timeout=timedelta(microseconds=1))
        adapter = RecordingAdapter()
        report = service.dispatch_due(outbox, now=T0, adapters={"sms": adapter}, policy=hasty)
        assert (report.claimed, report.released, report.sent) == (3, 3, 0)
        assert adapter.calls == 0
        assert {(_row(outbox, i).status, _row(outbox, i).attempts) for i in ids} == {
            ("pending", 0)}


class TestConcurrentDispatch:
    def test_a_claim_in_progress_is_never_claimed_again(
        self, outbox: sessionmaker[Session], backend: str
    ) -> None:
        ids = _enqueue_committed(outbox, 6)
        other: list[int] = []
        first = outbox()
        try:
            mine = [c.id for c in service.claim_due(first, now=T0, limit=3, policy=POLICY)]

            def second() -> None:
                with transaction(outbox) as session:
                    other.extend(c.id for c in service.claim_due(session, now=T0, limit=10,
                                                                 policy=POLICY))

            thread = threading.Thread(target=second)
            thread.start()
            if backend == "postgresql":
                # SKIP LOCKED: the second dispatcher takes the other rows without waiting.
                thread.join(timeout=30)
                assert not thread.is_alive()
            else:
                # SQLite: the second claim waits for the first's write lock.
                time.sleep(0.3)
                assert thread.is_alive()
            first.commit()
        finally:
            first.close()
        thread.join(timeout=30)
        assert len(mine) == 3
        assert sorted(mine + other) == ids

    def test_two_dispatchers_at_once_send_every_row_exactly_once(
        self, outbox: sessionmaker[Session]
    ) -> None:
        ids = _enqueue_committed(outbox, 30)

        def slowly(_message: Message) -> None:
            time.sleep(0.002)

        adapter = RecordingAdapter(slowly)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                while service.dispatch_due(outbox, now=T0, limit=4, adapters={"sms": adapter},
                                           policy=POLICY).claimed:
                    pass
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        sent = sorted(m.notification_id for m in adapter.sent)
        assert sent == ids  # every row, none twice
        with outbox() as session:
            assert service.counts(session)["sent"] == 30


class TestListing:
    def test_lists_by_status_newest_first_without_bodies(self, session: Session) -> None:
        first = _sms(session, key="a")
        second = _sms(session, key="b")
        assert first is not None
        assert second is not None
        rows = service.list_notifications(session, status="pending")
        assert [r.id for r in rows] == [second.id, first.id]
        summary = service.summary(rows[0])
        assert summary["recipient"] == "138****5678"
        assert "body" not in summary
        assert service.counts(session)["pending"] == 2

    def test_an_unknown_status_is_a_clear_error(self, session: Session) -> None:
        with pytest.raises(Invalid, match="unknown status 'lost'"):
            service.list_notifications(session, status="lost")

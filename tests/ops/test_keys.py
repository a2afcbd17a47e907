"""Rotation of the personal-data key (ops/keys.py): look-ups by phone and ID number work
before, during (a mix of keys) and after the re-encryption, which is resumable, leaves no value
under the old key and lets the old key be removed from the ring."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bankvoc.cases.enums import Channel
from bankvoc.cli import app
from bankvoc.core.db import unit_of_work
from bankvoc.core.errors import ConfigurationError, NotFound
from bankvoc.core.models import Base
from bankvoc.core.settings import reset_settings
from bankvoc.customers import service as customer_service
from bankvoc.customers.crypto import KeyRing
from bankvoc.customers.models import Customer
from bankvoc.intake.channels import service as channels_service
from bankvoc.intake.channels.enums import MessageStatus
from bankvoc.ops import keys
from tests.conftest import TEST_PII_KEY, World

NEW_KEY = "t2:" + base64.b64encode(b"the-rotated-pii-key-32-bytes-000").decode()
# (name, phone, ID number): valid mainland phone numbers and ID numbers (checksums hold).
PEOPLE = [("张三", "13800138000", "110101199003074514"),
          ("李四", "13912345678", "11010519491231002X"),
          ("王五", "13700001111", None),
          ("赵六", None, "440524188001010014")]


def use_ring(monkeypatch: pytest.MonkeyPatch, spec: str) -> KeyRing:
    monkeypatch.setenv("BANKVOC_PII_KEY", spec)
    reset_settings()
    return customer_service.current_keyring()


def store_people(session: Session) -> None:
    for name, phone, id_number in PEOPLE:
        customer_service.find_or_create(session, name=name, phone=phone, id_number=id_number)
    channels_service.record_unregistered(
        session, message=channels_service.InboundMessage(
            channel=Channel.wechat, source_system="wechat", source_id="w-1",
            text="转账三天未到账，联系电话13800138000", contact="openid-zhang-0001",
            contact_kind="channel_user", contact_name="张三"),
        status=MessageStatus.held, reason="test")
    session.commit()


def look_everyone_up(world: World) -> None:
    """Every person is found by phone and by ID number, and their identity decrypts."""
    actor = world.actor("hq_admin")
    for name, phone, id_number in PEOPLE:
        found = {customer_service.find_customer(world.session, actor=actor, **{field: value}).id
                 for field, value in (("phone", phone), ("id_number", id_number)) if value}
        assert len(found) == 1, (name, found)
        customer = world.session.get(Customer, found.pop())
        assert customer is not None
        identity = customer_service.reveal(world.session, customer, actor=actor)
        assert (identity["name"], identity["phone"], identity["id_number"]) == (
            name, phone, id_number)
    senders = channels_service.messages_from(world.session, kind="channel_user",
                                             channel=Channel.wechat, contact="openid-zhang-0001")
    assert len(senders) == 1


def key_ids(session: Session) -> set[str]:
    values = session.execute(select(Customer.name_enc, Customer.phone_enc, Customer.phone_bidx,
                                    Customer.id_number_enc, Customer.id_number_bidx)).all()
    return {value.split(":", 1)[0] for row in values for value in row if value}


class TestTargets:
    def test_every_encrypted_column_and_blind_index_of_the_models_is_rotated(self) -> None:
        stored = {f"{table.name}.{column.name}" for table in Base.metadata.tables.values()
                  for column in table.columns
                  if column.name.endswith("_enc") or column.name.endswith("_bidx")}
        rotated = {f"{target.table}.{name}" for target in keys.TARGETS
                   for sealed in target.sealed for name in (sealed.column, sealed.index)
                   if name}
        assert stored == rotated


class TestRotate:
    def test_look_ups_work_before_during_and_after_and_the_old_key_can_go(
        self, world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        assert key_ids(world.session) == {"t1"}
        ring = use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")  # the new key first
        look_everyone_up(world)  # before: all under the old key
        before = keys.status(world.session)
        assert before["active_key"] == "t2"
        assert before["stale"]["customer.phone_bidx"] == 3
        assert before["stale"]["channel_message.contact_bidx"] == 1
        mixed: list[set[str]] = []

        def during(_table: str, _batch: keys.BatchResult) -> None:
            world.session.expire_all()
            mixed.append(key_ids(world.session))
            look_everyone_up(world)

        report = keys.rotate(sessions, batch_size=1, ring=ring, on_batch=during)
        assert {"t1", "t2"} in mixed  # look-ups were made while both keys were in use
        assert report.rotated == len(PEOPLE) + 1  # the customers and the channel message
        assert report.by_table == {"customer": len(PEOPLE), "channel_message": 1}
        assert (report.remaining, report.conflicts, report.unreadable) == (0, 0, 0)
        world.session.expire_all()
        assert key_ids(world.session) == {"t2"}
        assert keys.status(world.session)["total_stale"] == 0
        use_ring(monkeypatch, NEW_KEY)  # the old key removed from the ring
        look_everyone_up(world)

    def test_the_old_key_alone_no_longer_reads_the_data(
        self, world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        ring = use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")
        keys.rotate(sessions, ring=ring)
        old = use_ring(monkeypatch, TEST_PII_KEY)
        world.session.expire_all()
        with pytest.raises(NotFound):  # the blind indexes are the new key's
            customer_service.find_customer(world.session, actor=world.actor("hq_admin"),
                                           phone=PEOPLE[0][1])
        name = world.session.scalars(select(Customer.name_enc)).first()
        with pytest.raises(ConfigurationError, match="no PII key 't2'"):
            old.decrypt(name or "", field="name")

    def test_running_again_changes_nothing(
        self, world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        ring = use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")
        assert keys.rotate(sessions, ring=ring).rotated == len(PEOPLE) + 1
        again = keys.rotate(sessions, ring=ring)
        assert (again.rotated, again.batches, again.remaining) == (0, 0, 0)

    def test_an_interrupted_rotation_resumes_where_it_stopped(
        self, world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        ring = use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")

        def crash(_table: str, _batch: keys.BatchResult) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            keys.rotate(sessions, batch_size=2, ring=ring, on_batch=crash)
        world.session.expire_all()
        assert key_ids(world.session) == {"t1", "t2"}  # the first batch stayed committed
        report = keys.rotate(sessions, batch_size=2, ring=ring)
        assert report.rotated == len(PEOPLE) + 1 - 2
        assert report.remaining == 0

    def test_a_value_failing_its_integrity_check_is_left_and_reported(
        self, world: World, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        first = world.session.scalars(select(Customer).order_by(Customer.id)).first()
        assert first is not None
        assert first.name_enc
        key_id, _, sealed = first.name_enc.partition(":")
        raw = bytearray(base64.b64decode(sealed))
        raw[-1] ^= 1  # one bit of the tag flipped
        first.name_enc = f"{key_id}:{base64.b64encode(bytes(raw)).decode()}"
        world.session.commit()
        ring = use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")
        report = keys.rotate(sessions, ring=ring)
        # The other customers and the channel message are rotated; that row is left whole as
        # found (its name, phone, ID number and their two indexes) for someone to look at.
        assert (report.unreadable, report.rotated) == (1, len(PEOPLE) - 1 + 1)
        assert report.remaining == 5

    def test_a_batch_size_below_one_is_refused_naming_it(
        self, sessions: sessionmaker[Session]
    ) -> None:
        with pytest.raises(Exception, match="batch size") as info:
            keys.rotate(sessions, batch_size=0)
        assert getattr(info.value, "field", None) == "batch"


class _WriterMeanwhile(KeyRing):
    """A ring whose first decryption lets 'the application' rewrite the row first."""

    def __init__(self, spec: str, session: Session, customer_id: int) -> None:
        super().__init__(spec)
        self.session, self.customer_id, self.done = session, customer_id, False

    def decrypt(self, token: str, *, field: str) -> str:
        if not self.done:
            self.done = True
            self.session.execute(update(Customer).where(Customer.id == self.customer_id)
                                 .values(name_enc=self.encrypt("张三丰", field="name")))
        return super().decrypt(token, field=field)


class TestRotateBatch:
    def test_a_row_the_application_changed_meanwhile_is_left_for_the_next_pass(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store_people(world.session)
        use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")
        first = world.session.scalars(select(Customer.id).order_by(Customer.id)).first()
        assert first is not None
        ring = _WriterMeanwhile(f"{NEW_KEY},{TEST_PII_KEY}", world.session, first)
        target = next(t for t in keys.TARGETS if t.model is Customer)
        result = keys.rotate_batch(world.session, target=target, ring=ring, after=None,
                                   limit=2)
        assert (result.rotated, result.conflicts) == (1, 1)  # the second row was written
        customer = world.session.get(Customer, first)
        assert customer is not None
        world.session.refresh(customer)
        # The application's write stands; the rest of the row is still to do.
        assert ring.decrypt(customer.name_enc or "", field="name") == "张三丰"
        assert (customer.phone_bidx or "").startswith("t1:")
        again = keys.rotate_batch(world.session, target=target, ring=ring, after=None, limit=1)
        assert (again.rotated, again.conflicts) == (1, 0)
        world.session.refresh(customer)
        assert (customer.phone_bidx or "").startswith("t2:")
        assert ring.decrypt(customer.name_enc or "", field="name") == "张三丰"


class TestCli:
    def test_status_then_rotate_then_nothing_left(
        self, database: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with unit_of_work() as session:
            store_people(session)
        use_ring(monkeypatch, f"{NEW_KEY},{TEST_PII_KEY}")
        runner = CliRunner()
        status: dict[str, Any] = json.loads(
            runner.invoke(app, ["keys", "status", "--json"]).stdout.splitlines()[-1])
        assert status["total_stale"] > 0
        result = runner.invoke(app, ["keys", "rotate", "--batch", "2", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout.splitlines()[-1])
        assert (report["rotated"], report["remaining"]) == (len(PEOPLE) + 1, 0)
        status = json.loads(
            runner.invoke(app, ["keys", "status", "--json"]).stdout.splitlines()[-1])
        assert status["total_stale"] == 0
        assert set(status["keys"]) == {"t1", "t2"}

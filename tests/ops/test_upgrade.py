"""The upgrade path from the previous release's schema, on SQLite and PostgreSQL.

The previous release is the schema as issue 7's work left it: revision 0024 (KPI-target
history). Issue 8's work began with 0025 (the placeholder commit 054bb4f, then contact-centre
interactions) and this release's head follows it; the repository has no release tags, so the
boundary is read from `git log` of src/bankvoc/migrations/versions. A database of that release
is made from nothing with its own migrations, filled with plain SQL as that release's code
wrote it (an org and a handler, a customer with encrypted identity and blind indexes, a case
with its encrypted text and hash-chained timeline, a sent notification, a pending callback),
upgraded to head with `bankvoc db upgrade`, and then read by this release's services: nothing
lost, the customer found by phone and ID number, the identity decrypted, the chain verified.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text
from typer.testing import CliRunner

from bankvoc.cases import service as case_service
from bankvoc.cases.events import GENESIS_HASH, event_row, verify_chains
from bankvoc.cli import app
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, reset_engines, session_factory, unit_of_work
from bankvoc.core.settings import reset_settings
from bankvoc.customers import service as customer_service
from bankvoc.ops import health
from bankvoc.orgs import service as org_service
from bankvoc.surveys.models import Callback
from tests.conftest import RUN_ID, _backend_url, drop_database
from tests.test_schema_0023 import _migrate

PREVIOUS_RELEASE = "0024"
NAME, PHONE, ID_NUMBER = "陈静怡", "13600136000", "110101199003074514"
TEXT = f"本人{NAME}，电话{PHONE}，信用卡年费未经同意被扣除，要求退还"
REFERENCE = "TS20250601000001"
RECEIVED = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
TABLES = ("org", "app_user", "customer", "case", "case_event", "notification", "callback")


@pytest.fixture
def old_database(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[Engine]:
    """An empty database (of this test's own) brought to the previous release's schema."""
    url = _backend_url(backend, tmp_path, f"up{RUN_ID}{uuid.uuid4().hex[:6]}")
    engine = build_engine(url)
    _migrate(engine, PREVIOUS_RELEASE)
    monkeypatch.setenv("BANKVOC_DATABASE_URL", url)
    reset_settings()
    reset_engines()
    yield engine
    engine.dispose()
    reset_engines()
    drop_database(url)


def _ts(connection: Connection, moment: datetime) -> Any:
    """A timestamp as that release stored it: SQLite text in UTC, PostgreSQL timestamptz."""
    if connection.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _insert(connection: Connection, table: str, row: dict[str, Any]) -> int:
    columns = ", ".join(f'"{name}"' for name in row)
    values = ", ".join(f":{name}" for name in row)
    found: Any = connection.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({values}) '
                                    "RETURNING id"), row).scalar_one()
    return int(found)


def fill_as_the_previous_release(engine: Engine) -> dict[str, int]:
    ring = customer_service.current_keyring()
    now = RECEIVED + timedelta(hours=1)
    with engine.begin() as connection:

        def ts(moment: datetime) -> Any:
            return _ts(connection, moment)

        org = _insert(connection, "org", {
            "code": "GZ", "name": "广州分行", "kind": "branch", "path": "/1/", "parent_id": 1,
            "active": True, "created_at": ts(now)})
        connection.execute(text("UPDATE org SET path = :path WHERE id = :id"),
                           {"path": f"/1/{org}/", "id": org})
        user = _insert(connection, "app_user", {
            "username": "gz_handler", "display_name": "广州处理员", "org_id": org,
            "roles": json.dumps(["handler"]), "active": True, "created_at": ts(now)})
        identity = customer_service.protect_identity(ring, name=NAME, phone=PHONE,
                                                     id_number=ID_NUMBER)
        customer = _insert(connection, "customer", {
            **{k: v for k, v in identity.as_row().items() if k != "flags"},
            "flags": json.dumps([]), "created_at": ts(now)})
        case = _insert(connection, "case", {
            "reference": REFERENCE, "kind": "complaint", "channel": "hotline",
            "status": "investigating", "severity": "general", "org_id": org,
            "customer_id": customer, "title": "信用卡年费未经同意被扣除",
            "text_masked": "本人***，电话136****6000，信用卡年费未经同意被扣除，要求退还",
            "text_enc": ring.encrypt(TEXT, field="case_text"), "text_hash": "a" * 64,
            "language": "zh", "currency": "CNY", "amount": "300.00",
            "received_at": ts(RECEIVED), "due_at": ts(RECEIVED + timedelta(days=15)),
            "merged_count": 0, "annotations": json.dumps({}), "created_at": ts(now),
            "updated_at": ts(now), "version": 3, "handling_org_id": org,
            "assignee_id": user, "first_responder_id": user})
        prev = GENESIS_HASH
        for seq, (kind, data) in enumerate([("received", {"channel": "hotline"}),
                                            ("accepted", {}), ("assigned", {"to": "gz"})],
                                           start=1):
            row = event_row(case_id=case, seq=seq, type=kind, at=RECEIVED + timedelta(
                minutes=seq), actor_user_id=user, data=data, prev_hash=prev)
            prev = row["hash"]
            _insert(connection, "case_event", {**row, "at": ts(row["at"]),
                                               "data": json.dumps(row["data"])})
        _insert(connection, "notification", {
            "case_id": case, "recipient_kind": "customer",
            "recipient_enc": ring.encrypt(PHONE, field="notification.recipient"),
            "recipient_masked": "136****6000", "channel": "sms", "template": "case_received",
            "template_version": "1", "language": "zh", "subject": "", "body": "已受理",
            "status": "sent", "attempts": 1, "delivery_id": uuid.uuid4().hex,
            "created_at": ts(now), "updated_at": ts(now), "sent_at": ts(now)})
        _insert(connection, "callback", {
            "case_id": case, "round": 0, "status": "pending", "reason": "sampled",
            "due_at": ts(now + timedelta(days=1)), "created_at": ts(now)})
        return {table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                for table in TABLES}


class TestUpgradeFromThePreviousRelease:
    def test_its_data_survives_and_this_release_reads_it(self, old_database: Engine) -> None:
        counts = fill_as_the_previous_release(old_database)
        assert migrate.current_revision(old_database) == PREVIOUS_RELEASE
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert migrate.current_revision(old_database) == migrate.head_revision()
        with old_database.connect() as connection:
            assert {table: connection.execute(text(f'SELECT count(*) FROM "{table}"'))
                    .scalar_one() for table in TABLES} == counts
        assert health.readiness(session_factory(old_database)).ready
        with unit_of_work(old_database) as session:
            handler = org_service.actor_for(org_service.get_user(session,
                                                                 username="gz_handler"))
            case = case_service.get_case(session, actor=handler, reference=REFERENCE)
            assert (case.status, case.org.code, case.amount) == ("investigating", "GZ",
                                                                  Decimal("300.00"))
            assert case.legal_hold is False  # a column added after that release: its default
            ring = customer_service.current_keyring()
            assert ring.decrypt(case.text_enc, field="case_text") == TEXT
            assert verify_chains(session, case_ids=[case.id])[case.id].ok
            admin = org_service.actor_for(org_service.get_user(session, username="admin"))
            by_phone = customer_service.find_customer(session, actor=admin, phone=PHONE)
            by_id = customer_service.find_customer(session, actor=admin, id_number=ID_NUMBER)
            assert by_phone.id == by_id.id == case.customer_id
            identity = customer_service.reveal(session, by_phone, actor=admin)
            assert (identity["name"], identity["phone"]) == (NAME, PHONE)
            callback = session.scalars(select(Callback)).one()
            assert callback.status == "pending"

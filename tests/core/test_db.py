"""The bulk writers of the intake hot path, on every database, and their helpers."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core.db import (
    COPY_SKIPPING_FROM_ROWS,
    background_checkpoints,
    build_engine,
    bulk_insert,
    bulk_insert_ids,
    database_unavailable,
    plan_each_statement,
    transaction,
    unit_of_work,
)
from bankvoc.core.timeutil import utcnow
from bankvoc.customers.models import Customer
from bankvoc.notify.models import Notification


def customers(*segments: str) -> list[dict[str, Any]]:
    fields = ("name_enc", "phone_enc", "id_number_enc", "phone_bidx", "id_number_bidx",
              "name_masked", "phone_masked", "id_number_masked", "birth_year")
    return [{**dict.fromkeys(fields), "segment": segment, "flags": [], "created_at": utcnow()}
            for segment in segments]


class TestBulkInsertIds:
    def test_gives_each_new_row_its_id_in_the_order_of_the_rows(self, session: Session) -> None:
        bulk_insert_ids(session, Customer, customers("before"))
        ids = bulk_insert_ids(session, Customer, customers("a", "b", "c"))
        stored = dict(session.execute(select(Customer.id, Customer.segment)).all())
        assert [stored[i] for i in ids] == ["a", "b", "c"]

    def test_nothing_to_insert_gives_no_ids(self, session: Session) -> None:
        assert bulk_insert_ids(session, Customer, []) == []


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The COPY statements psycopg runs during the test (none on SQLite)."""
    seen: list[str] = []
    real = psycopg.Cursor.copy

    def spy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(statement))
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    return seen


def statements(session: Session) -> list[str]:
    """The SQL statements SQLAlchemy sends on the session's connection from now on."""
    sent: list[str] = []
    event.listen(session.connection(), "before_cursor_execute",
                 lambda _c, _cur, statement, *_: sent.append(statement))
    return sent


def notifications(*keys: str) -> list[dict[str, Any]]:
    now = utcnow()
    return [{"case_id": None, "recipient_kind": "user", "recipient_ref": None,
             "recipient_enc": "x", "recipient_masked": "x", "channel": "email",
             "template": "t", "template_version": "1", "language": "zh", "subject": "s",
             "body": key, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "dedupe_key": key, "delivery_id": key[:32], "created_at": now, "updated_at": now}
            for key in keys]


class TestBulkInsert:
    def test_on_postgresql_rows_go_through_copy(self, session: Session, backend: str,
                                                 copies: list[str]) -> None:
        sent = statements(session)
        ids = bulk_insert_ids(session, Customer, customers("a", "b"))
        if backend == "postgresql":
            assert len(copies) == 1
            assert copies[0].startswith('COPY "customer" ("id", ')
            assert not [s for s in sent if s.lstrip().upper().startswith("INSERT")]
        else:
            assert copies == []
        stored = dict(session.execute(select(Customer.id, Customer.segment)).all())
        assert [stored[i] for i in ids] == ["a", "b"]

    def test_a_large_batch_skipping_taken_keys_stores_each_key_once(
            self, session: Session, backend: str, copies: list[str]) -> None:
        bulk_insert(session, Notification, notifications("k0", "k1"), skip_taken=["dedupe_key"])
        keys = [f"k{i}" for i in range(COPY_SKIPPING_FROM_ROWS)] + ["k1", "k7"]
        bulk_insert(session, Notification, notifications(*keys), skip_taken=["dedupe_key"])
        stored = session.execute(select(Notification.dedupe_key, func.count())
                                 .group_by(Notification.dedupe_key)).all()
        assert sorted(stored) == sorted((f"k{i}", 1) for i in range(COPY_SKIPPING_FROM_ROWS))
        assert len(copies) == (1 if backend == "postgresql" else 0)

    def test_timestamps_are_stored_as_the_orm_stores_them(self, session: Session) -> None:
        moments = [datetime(2026, 11, 27, 2, 30, tzinfo=UTC),
                   datetime(2026, 11, 27, 10, 30, 0, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))]
        by_orm = Customer(segment="orm", flags=[], created_at=moments[1])
        session.add(by_orm)
        session.flush()
        ids = bulk_insert_ids(session, Customer, [
            {**row, "created_at": moment}
            for row, moment in zip(customers("a", "b"), moments, strict=True)])
        raw: dict[int, object] = dict(
            session.execute(text("SELECT id, created_at FROM customer")).all())
        assert raw[ids[1]] == raw[by_orm.id]  # the same text (SQLite) or value
        session.expire_all()
        stored = {c.id: c.created_at for c in session.scalars(select(Customer))}
        assert [stored[i] for i in ids] == moments
        with pytest.raises(ValueError, match="naive datetime"):
            bulk_insert(session, Customer, [{**customers("c")[0],
                                             "created_at": datetime(2026, 1, 1)}])

    def test_a_small_batch_skipping_taken_keys_needs_no_copy(
            self, session: Session, copies: list[str]) -> None:
        bulk_insert(session, Notification, notifications("k0", "k0", "k1"),
                    skip_taken=["dedupe_key"])
        assert session.scalar(select(func.count()).select_from(Notification)) == 2
        assert copies == []


class TestPlanEachStatement:
    def test_postgresql_plans_each_statement_until_the_transaction_ends(
        self, fresh_db_url: str, backend: str
    ) -> None:
        engine = build_engine(fresh_db_url)
        try:
            with unit_of_work(engine) as session:
                sent = statements(session)
                plan_each_statement(session)
                if backend == "postgresql":
                    assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
                else:
                    assert sent == []
            if backend == "postgresql":
                with unit_of_work(engine) as session:
                    assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
        finally:
            engine.dispose()


class TestBackgroundCheckpoints:
    """Bulk writers hand the copying of SQLite's log into the database file to a thread."""

    @staticmethod
    def writer(path: Path) -> Engine:
        engine = build_engine(f"sqlite:///{path}")
        # The writer never checkpoints by itself here, so what reaches the file is the thread's.
        event.listen(engine, "connect",
                     lambda conn, _record: conn.execute("PRAGMA wal_autocheckpoint=0"))
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        return engine

    def test_the_committed_log_reaches_the_database_file(self, tmp_path: Path) -> None:
        engine = self.writer(tmp_path / "bulk.db")
        before = (tmp_path / "bulk.db").stat().st_size
        with background_checkpoints(engine) as checkpoints:
            assert checkpoints is not None
            for batch in range(5):
                with engine.begin() as conn:
                    conn.exec_driver_sql("INSERT INTO t (body) VALUES (?)",
                                         [(f"{batch}-{i}" * 50,) for i in range(200)])
                checkpoints.request()
        assert (tmp_path / "bulk.db").stat().st_size > before + 5 * 200 * 150
        with engine.connect() as conn:
            # Nothing is left in the log to copy: every frame was checkpointed.
            busy, logged, copied = conn.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)").one()
            assert (busy, logged) == (0, copied)
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1000
        engine.dispose()

    def test_without_a_writer_the_thread_stops_cleanly(self, tmp_path: Path) -> None:
        engine = self.writer(tmp_path / "idle.db")
        with background_checkpoints(engine) as checkpoints:
            assert checkpoints is not None
        assert not checkpoints._thread.is_alive()
        engine.dispose()

    def test_a_database_without_a_log_file_gets_none(self) -> None:
        engine = build_engine("sqlite:///:memory:")
        with background_checkpoints(engine) as checkpoints:
            assert checkpoints is None
        engine.dispose()


class TestTransactionOnSqlite:
    """Units of work on SQLite wait their turn to write rather than fail on a stale snapshot."""

    def test_a_unit_that_read_first_still_writes_after_another_writer(
        self, tmp_path: Path
    ) -> None:
        engine = build_engine(f"sqlite:///{tmp_path / 'race.db'}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
        sessions = sessionmaker(bind=engine)
        other_committed = threading.Event()
        errors: list[BaseException] = []

        def other_writer() -> None:
            try:
                with transaction(sessions) as other:
                    other.execute(text("INSERT INTO t (who) VALUES ('other')"))
                other_committed.set()
            except BaseException as exc:  # reported to the test thread below
                errors.append(exc)

        with transaction(sessions) as first:
            first.execute(text("SELECT count(*) FROM t")).scalar_one()
            thread = threading.Thread(target=other_writer)
            thread.start()
            # Under a plain BEGIN the other unit commits here and this one's write then fails
            # with "database is locked"; under BEGIN IMMEDIATE the other waits for this one.
            assert not other_committed.wait(timeout=0.5)
            first.execute(text("INSERT INTO t (who) VALUES ('first')"))
        thread.join(timeout=30)
        assert errors == []
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT who FROM t ORDER BY id").scalars().all() == [
                "first", "other"]
        engine.dispose()


class TestDatabaseUnavailable:
    """Which database errors mean "away for now, try again" (503, exit code 3)."""

    def test_a_server_that_does_not_answer_is_unavailable(self) -> None:
        from tests.faults.servers import free_port

        engine = build_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/x",
                              connect_args={"connect_timeout": 2})
        with pytest.raises(OperationalError) as caught:
            engine.connect()
        engine.dispose()
        assert database_unavailable(caught.value)

    def test_sqlite_locked_for_too_long_is_unavailable(self) -> None:
        error = OperationalError("BEGIN IMMEDIATE", {},
                                 sqlite3.OperationalError("database is locked"))
        assert database_unavailable(error)

    def test_a_missing_table_is_not(self, tmp_path: Path) -> None:
        engine = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        with pytest.raises(OperationalError) as caught, engine.connect() as connection:
            connection.execute(text("SELECT * FROM nothing"))
        engine.dispose()
        assert not database_unavailable(caught.value)

    def test_a_broken_constraint_is_not(self) -> None:
        error = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed"))
        assert not database_unavailable(error)

    def test_a_lost_connection_is(self) -> None:
        error = DBAPIError("SELECT 1", {}, Exception("server closed the connection"),
                           connection_invalidated=True)
        assert database_unavailable(error)

    def test_an_exhausted_pool_is(self) -> None:
        assert database_unavailable(PoolTimeout("QueuePool limit reached"))

"""Backup and restore (ops/backup.py, `bankvoc db backup|restore`): a backup taken while the
application writes is consistent; restored into a new, empty database (SQLite file, or a
PostgreSQL database created for the test and dropped after) it holds exactly what the backed-up
database held, at its schema revision; a database with data, a file that is no backup and a
backup of an unknown schema are refused, naming why."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from bankvoc.cli import app
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.ops import backup
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import OrgKind
from bankvoc.orgs.models import Org
from tests.conftest import RUN_ID, drop_database, make_pg_database


def run(*args: str) -> tuple[int, dict[str, Any] | None, str]:
    result = CliRunner().invoke(app, list(args))
    lines = result.stdout.strip().splitlines()
    payload = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return result.exit_code, payload, result.output


def add_org(code: str) -> None:
    with unit_of_work() as session:
        root = org_service.get_org_by_code(session, code="HQ")
        org_service.create_org(session, code=code, name=f"{code}支行", kind=OrgKind.outlet,
                               parent=root)


def org_codes(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(Org.code)))


def use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKVOC_DATABASE_URL", url)
    reset_settings()
    reset_engines()


@pytest.fixture
def empty_target(database: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind as `database`, dropped after the test."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_pg_database(f"bankvoc_{RUN_ID}_restore_{uuid.uuid4().hex[:8]}")
    yield url
    reset_engines()
    drop_database(url)


class TestRoundTrip:
    def test_restored_into_a_new_database_it_holds_what_was_backed_up(
        self, database: str, empty_target: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        add_org("BK01")
        out = tmp_path / "bankvoc.backup"
        code, report, output = run("db", "backup", str(out), "--json")
        assert code == 0, output
        assert report is not None
        assert report["revision"] == migrate.head_revision()
        assert report["bytes"] == out.stat().st_size > 0
        add_org("AFTER")  # not in the backup
        use_database(empty_target, monkeypatch)
        code, report, output = run("db", "restore", str(out), "--json")
        assert code == 0, output
        target = build_engine(empty_target)
        try:
            codes = org_codes(target)
            assert "BK01" in codes
            assert "AFTER" not in codes
            assert migrate.current_revision(target) == migrate.head_revision()
        finally:
            target.dispose()
        code, status, output = run("status", "--json")
        assert code == 0, output
        assert status is not None
        assert status["migration"] == status["migration_head"]

    def test_a_database_holding_data_is_replaced_only_when_told(
        self, database: str, tmp_path: Path
    ) -> None:
        add_org("BK02")
        out = tmp_path / "bankvoc.backup"
        assert run("db", "backup", str(out))[0] == 0
        add_org("AFTER")
        code, _, output = run("db", "restore", str(out))
        assert code == 2
        assert "holds data" in output
        assert "--yes" in output
        code, _, output = run("db", "restore", str(out), "--yes")
        assert code == 0, output
        engine = build_engine(database)
        try:
            assert "BK02" in org_codes(engine)
            assert "AFTER" not in org_codes(engine)
        finally:
            engine.dispose()


class TestRefusals:
    def test_a_file_that_is_no_backup(self, database: str, empty_target: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
        junk = tmp_path / "junk.backup"
        junk.write_bytes(b"not a database " * 100)
        use_database(empty_target, monkeypatch)
        code, _, output = run("db", "restore", str(junk))
        assert code == 2
        assert "junk.backup is not" in output
        code, _, output = run("db", "restore", str(tmp_path / "missing.backup"))
        assert code == 2
        assert "no such file" in output

    def test_a_backup_of_a_schema_this_release_does_not_know(self, tmp_path: Path) -> None:
        newer = tmp_path / "newer.db"
        with sqlite3.connect(newer) as db:
            db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
            db.execute("INSERT INTO alembic_version VALUES ('9999')")
        db.close()
        target = build_engine(f"sqlite:///{tmp_path / 'target.db'}")
        try:
            with pytest.raises(Invalid, match="'9999' is unknown to this release"):
                backup.restore(target, newer)
        finally:
            target.dispose()


class TestSqliteWhileWriting:
    def test_each_backup_is_a_consistent_snapshot(self, tmp_path: Path) -> None:
        """A writer commits one row to each of two tables per transaction, all the time; every
        backup taken meanwhile has as many rows in one as in the other, and passes SQLite's
        integrity check."""
        engine = build_engine(f"sqlite:///{tmp_path / 'live.db'}")
        migrate.upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE pair_a (id INTEGER PRIMARY KEY, v TEXT)"))
            connection.execute(text("CREATE TABLE pair_b (id INTEGER PRIMARY KEY, v TEXT)"))
        stop = threading.Event()
        written = [0]

        def writer() -> None:
            while not stop.is_set():
                with engine.begin() as connection:
                    for table in ("pair_a", "pair_b"):
                        connection.execute(text(f"INSERT INTO {table} (v) VALUES (:v)"),
                                           {"v": "x" * 200})
                written[0] += 1

        thread = threading.Thread(target=writer)
        thread.start()
        counts = []
        try:
            for number in range(4):
                while written[0] < 50 * (number + 1):
                    stop.wait(0.01)
                out = tmp_path / f"snapshot-{number}.db"
                report = backup.backup(engine, out)
                assert report.revision == migrate.head_revision()
                with sqlite3.connect(out) as db:
                    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                    a, b = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                            for t in ("pair_a", "pair_b"))
                db.close()
                assert a == b
                counts.append(a)
        finally:
            stop.set()
            thread.join()
            engine.dispose()
        assert counts == sorted(counts)
        assert counts[-1] > counts[0]  # the writer went on between the backups
        assert not list(tmp_path.glob("*.partial"))

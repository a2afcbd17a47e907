"""Backup and restore of the database: `bankvoc db backup OUT`, `bankvoc db restore IN`.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies the database in one
step under a read transaction: a consistent snapshot, taken while the application goes on
writing (in WAL mode a reader never blocks the writer), never a half-written file copy. The
copy is written beside OUT, checked (`PRAGMA integrity_check`) and only then renamed to OUT.
A restore writes the backup into the database through the same API (so the database's WAL
and locks are respected) after checking it.

PostgreSQL: `pg_dump -Fc` (one snapshot, consistent while the application writes) and
`pg_restore --clean --if-exists --single-transaction` (all or nothing). The tools of the
server's major version or newer must be on PATH; the password goes to them in PGPASSWORD,
never on their command line.

A restore refuses a backup whose schema this release does not know (a newer release's), and a
database that holds data already unless told to replace it (`replace=True`, `--yes`). A backup
of an older release's schema is restored as it is: `bankvoc db upgrade` then brings it to head.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from bankvoc.core import migrate
from bankvoc.core.errors import ConfigurationError, Conflict, Invalid

PARTIAL = ".partial"


@dataclass(frozen=True)
class BackupReport:
    database: str
    path: str
    bytes: int
    revision: str | None
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _known_revision(revision: str | None) -> None:
    if revision is None:
        raise Invalid("the backup holds no BankVOC schema (no alembic_version)", field="in")
    script = ScriptDirectory.from_config(migrate.alembic_config())
    try:
        found = script.get_revision(revision)
    except Exception:
        found = None
    if found is None:
        raise Invalid(f"the backup's schema {revision!r} is unknown to this release (made by a "
                      "newer one?); restore it with that release", field="in")


def _has_data(engine: Engine) -> bool:
    return bool(set(inspect(engine).get_table_names()) - {"alembic_version"})


# --- SQLite -----------------------------------------------------------------------------------

def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ConfigurationError("an in-memory database has nothing to back up",
                                 field="database_url")
    return Path(database)


def _sqlite_check(path: Path) -> str | None:
    """The schema revision of a sound SQLite database file; Invalid otherwise."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = db.execute("PRAGMA integrity_check").fetchone()
        if not result or result[0] != "ok":
            raise Invalid(f"{path.name} failed its integrity check", field="in")
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    except sqlite3.DatabaseError:
        raise Invalid(f"{path.name} is not an SQLite database", field="in") from None
    finally:
        db.close()
    return str(row[0]) if row else None


def _sqlite_backup(engine: Engine, out: Path) -> str | None:
    source_path = _sqlite_path(engine)
    if not source_path.exists():
        raise ConfigurationError(f"no database at {source_path}", field="database_url")
    partial = out.with_name(out.name + PARTIAL)
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        # pages=-1: the whole database in one step, under one read transaction (a snapshot).
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()
    revision = _sqlite_check(partial)
    os.replace(partial, out)
    return revision


def _sqlite_restore(engine: Engine, backup: Path) -> str | None:
    revision = _sqlite_check(backup)
    _known_revision(revision)
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()  # no pooled connection of ours holds a stale view of the old database
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()
    return revision


# --- PostgreSQL -------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(f"{name} is not installed (PostgreSQL client tools of the "
                                 "server's major version or newer are needed)", field=name)
    return found


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    return env


def _pg_run(args: list[str], url: URL) -> None:
    done = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # pg_dump's own message names the failing object, never table data.
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise ConfigurationError(f"{Path(args[0]).name}: {message}", field="database_url")


def _pg_backup(engine: Engine, out: Path) -> str | None:
    partial = out.with_name(out.name + PARTIAL)
    partial.unlink(missing_ok=True)
    _pg_run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
             f"--file={partial}"], engine.url)
    os.replace(partial, out)
    return migrate.current_revision(engine)


def _pg_archive_revision(backup: Path) -> str | None:
    """The schema revision stored in a pg_dump archive (its alembic_version data)."""
    listing = subprocess.run([_tool("pg_restore"), "--list", str(backup)], capture_output=True,
                             text=True, check=False)
    if listing.returncode != 0:
        raise Invalid(f"{backup.name} is not a pg_dump archive (-Fc)", field="in")
    data = subprocess.run([_tool("pg_restore"), "--data-only", "--table=alembic_version",
                           "--file=-", str(backup)], capture_output=True, text=True, check=False)
    lines = data.stdout.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and number + 1 < len(lines):
            value = lines[number + 1].strip()
            return None if value == "\\." else value
    return None


def _pg_restore(engine: Engine, backup: Path) -> str | None:
    revision = _pg_archive_revision(backup)
    _known_revision(revision)
    engine.dispose()
    _pg_run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
             "--single-transaction", "--exit-on-error", f"--dbname={engine.url.database}",
             str(backup)], engine.url)
    return revision


# --- the commands' services -------------------------------------------------------------------

def backup(engine: Engine, out: Path) -> BackupReport:
    """Write a consistent backup of the database to `out` (replaced if it exists)."""
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    backend = engine.dialect.name
    if backend == "sqlite":
        revision = _sqlite_backup(engine, out)
    elif backend == "postgresql":
        revision = _pg_backup(engine, out)
    else:
        raise ConfigurationError(f"backups of {backend} are not supported", field="database_url")
    return BackupReport(backend, str(out), out.stat().st_size, revision,
                        round(time.perf_counter() - started, 3))


def restore(engine: Engine, backup_file: Path, *, replace: bool = False) -> BackupReport:
    """Replace the database's content by the backup's; refuses a database holding data unless
    `replace`."""
    started = time.perf_counter()
    if not backup_file.is_file():
        raise FileNotFoundError(2, "no such file", str(backup_file))
    if not replace and _has_data(engine):
        raise Conflict("the database holds data: restoring replaces all of it (say so with "
                       "--yes)", field="yes", code="database_not_empty")
    backend = engine.dialect.name
    if backend == "sqlite":
        revision = _sqlite_restore(engine, backup_file)
    elif backend == "postgresql":
        revision = _pg_restore(engine, backup_file)
    else:
        raise ConfigurationError(f"restores into {backend} are not supported",
                                 field="database_url")
    return BackupReport(backend, str(backup_file), backup_file.stat().st_size, revision,
                        round(time.perf_counter() - started, 3))

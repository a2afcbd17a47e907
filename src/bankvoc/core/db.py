"""Engines, sessions and the owners of a unit of work.

Services flush and never commit; the API dependency, the job runner and the CLI wrapper here
own the transaction: they commit on success and roll back on any error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, TypeDecorator, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bankvoc.core import configstore, jsonutil
from bankvoc.core.errors import ConfigurationError
from bankvoc.core.models import UtcDateTime
from bankvoc.core.settings import get_settings

log = logging.getLogger(__name__)


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: otherwise
    # savepoints and transactional reads behave differently from PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Random-keyed indexes (blind indexes, text hashes) outgrow the 2 MB default cache fast.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    # Checkpoint the WAL every ~40 MB rather than every 4 MB: bulk imports commit a few MB per
    # batch, and checkpointing (with its fsync) after each commit cost them ~4 % (bench/ingest).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


# A unit of work on SQLite takes the write lock when it begins (BEGIN IMMEDIATE, as Django and
# Rails do): one that read first under a plain BEGIN and then wrote after another writer had
# committed would fail at once with "database is locked" (a stale WAL snapshot cannot be
# upgraded, and the busy timeout does not help), instead of waiting its turn.
WRITE_LOCK_AT_BEGIN = "bankvoc_sqlite_immediate"


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(WRITE_LOCK_AT_BEGIN, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def build_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the pool hands a connection to one thread at a time anyway.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=jsonutil.dumps, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=jsonutil.dumps, **kwargs)


_engines: dict[str, Engine] = {}


def pool_capacity(bind: object) -> int | None:
    """How many connections an engine's pool hands out at most; None for anything else (a
    connection, as tests bind sessions to, or a pool without a limit)."""
    pool = getattr(bind, "pool", None)
    if not isinstance(bind, Engine) or not isinstance(pool, QueuePool):
        return None
    # QueuePool keeps its overflow limit to itself; negative means no limit.
    overflow = int(getattr(pool, "_max_overflow", 0))
    return None if overflow < 0 else pool.size() + overflow


def get_engine(url: str | None = None) -> Engine:
    """One engine (and pool) per database URL for the life of the process."""
    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = build_engine(url)
    return _engines[url]


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """The one owner of a transaction outside the API: commit on success, roll back on error."""
    with transaction(session_factory(engine)) as session:
        yield session


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed if the block succeeds and rolled back if it raises.

    It begins with the versions of configuration in force (`configstore.refresh`: a read at
    most every few seconds per process)."""
    session = sessions(execution_options={WRITE_LOCK_AT_BEGIN: True})
    try:
        configstore.refresh(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def plan_each_statement(session: Session) -> None:
    """Until this transaction ends, PostgreSQL plans every statement for its own values rather
    than reusing a generic plan (no-op elsewhere).

    psycopg prepares a statement run five times on a connection, and PostgreSQL may then keep
    one generic plan for it; a bulk import's look-ups made their plans on the nearly empty
    tables of a first import, so as the tables grew they kept scanning them whole (a batch's
    mass-complaint count: 0.6 s per 400 keys at 50,000 cases; 326 records/s over 100,000)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# Engines of small pools of their own, for `own_transaction`: apart from the request's pool, so
# a request holding one connection never waits for a second from the same exhausted pool.
_side_engines: dict[Any, Engine] = {}


@contextmanager
def own_transaction(session: Session) -> Iterator[Connection | None]:
    """A short transaction of its own on the session's PostgreSQL database, committed when the
    block ends, whatever becomes of the session's; for numbers drawn like a sequence's, so that
    concurrent writers do not queue on one locked counter row until each commits.

    None where the work must stay in the session's transaction: on SQLite (one writer at a time,
    and the session may hold the write lock already) and for a session bound to a connection
    (its caller owns that connection's transaction, as the tests' rolled-back sessions do).
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        yield None
        return
    side = _side_engines.get(bind.url)
    if side is None:
        side = _side_engines.setdefault(bind.url, build_engine(
            bind.url.render_as_string(hide_password=False), pool_size=2, max_overflow=6))
    with side.begin() as connection:
        yield connection


def insert_skipping_taken(session: Session, model: Any, keys: Sequence[str]) -> Any:
    """An INSERT into `model`'s table that leaves out a row whose unique `keys` are taken
    (ON CONFLICT DO NOTHING; PostgreSQL and SQLite)."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise ConfigurationError(f"inserting new rows is not supported on {dialect}",
                                 field="database_url")
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).on_conflict_do_nothing(index_elements=list(keys))


def insert_new(session: Session, model: Any, rows: list[dict[str, Any]],
               keys: list[str]) -> int:
    """Insert the rows whose unique `keys` are not taken yet (two writers at once store each
    row once); returns how many were inserted."""
    if not rows:
        return 0
    table = model.__table__
    statement = (insert_skipping_taken(session, model, keys).values(rows)
                 .returning(*table.primary_key.columns))
    # Counted from RETURNING: the drivers' rowcount is not reliable for ON CONFLICT inserts.
    return len(session.connection().execute(statement).all())


def is_write_conflict(exc: Exception) -> bool:
    """A write refused because another transaction changed the data first: on SQLite, a
    transaction whose snapshot went stale cannot take the write lock ("database is locked")."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or is refusing work for now (a restart, a failover, the
    server starting up or shutting down, a connection lost mid-transaction, the pool
    exhausted, SQLite's write lock held too long): the same request may succeed shortly.

    Not so for errors of the request itself (a constraint, a missing table, bad SQL)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.orig is not None and type(exc.orig).__module__.startswith("sqlite3"):
        message = str(exc.orig)
        return "database is locked" in message or "unable to open database" in message
    # PostgreSQL (psycopg): OperationalError is the connection's class: refused, closed,
    # administrator shutdown, "the database system is starting up", timeouts.
    return True


def bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]], *,
                skip_taken: Sequence[str] = ()) -> None:
    """Insert many rows in one driver-level executemany; the hot path of bulk intake.

    The statement is compiled once and each column's own bind processor (its dialect type's
    public `bind_processor`) converts the values column by column, which skips SQLAlchemy's
    per-row parameter assembly and the ORM's bookkeeping. Every row must give the same keys;
    a column they leave out takes its scalar default, or NULL when it has none (see
    `bulk_insert_ids` for the new ids). With `skip_taken` (the columns of a unique key), a row
    whose key is taken already is left out (ON CONFLICT DO NOTHING), as in `insert_new`.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    table = model.__table__
    given = list(rows[0])
    defaults = _omitted_defaults(table, given)
    keys = given + list(defaults)
    # The rows' values column by column (one C-level pass: the rows as tuples, transposed).
    values = dict(zip(given, zip(*map(itemgetter(*given), rows), strict=True), strict=True)
                  if len(given) > 1 else {given[0]: [row[given[0]] for row in rows]})
    columns = {key: _processed_column(table.c[key].type, dialect,
                                      [defaults[key]] * len(rows) if key in defaults
                                      else list(values[key]))
               for key in keys}
    if _copies(connection) and (not skip_taken or len(rows) >= COPY_SKIPPING_FROM_ROWS):
        _copy_in(connection, table, keys, columns, skip_taken=skip_taken)
        return
    compiled = _compiled_insert(session, model, tuple(keys), tuple(skip_taken))
    params: list[Any]
    if compiled.positional:
        params = list(zip(*(columns[key] for key in compiled.positiontup or []), strict=True))
    else:
        params = [dict(zip(keys, values, strict=True))
                  for values in zip(*(columns[key] for key in keys), strict=True)]
    connection.exec_driver_sql(compiled.string, params)


# Compiled INSERTs by (dialect, driver, table, columns, keys to skip): an API request
# registering one case inserts four rows, and compiling their statements was a fifth of its CPU.
_compiled_inserts: dict[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _compiled_insert(session: Session, model: Any, keys: tuple[str, ...],
                     skip_taken: tuple[str, ...]) -> Any:
    dialect = session.get_bind().dialect
    cache_key = (dialect.name, dialect.driver, model.__table__.name, keys, skip_taken)
    compiled = _compiled_inserts.get(cache_key)
    if compiled is None:
        statement: Any = (insert_skipping_taken(session, model, skip_taken) if skip_taken
                          else model.__table__.insert())
        compiled = _compiled_inserts[cache_key] = statement.compile(dialect=dialect,
                                                                    column_keys=list(keys))
    return compiled


def bulk_insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """`bulk_insert`, giving back the new rows' ids in the order of `rows`.

    On SQLite the driver's executemany is kept and the ids are read off the table: a database
    has one writer at a time, this transaction has held the write lock since its insert, and
    an integer primary key without AUTOINCREMENT takes the largest rowid + 1, so the rows just
    inserted hold the consecutive ids that end at the largest. Elsewhere: INSERT … RETURNING,
    in the order of the parameters.
    """
    if not rows:
        return []
    connection = session.connection()
    table = model.__table__
    if connection.dialect.name == "sqlite":
        bulk_insert(session, model, rows)
        last: int = connection.exec_driver_sql(f'SELECT max(id) FROM "{table.name}"').scalar_one()
        return list(range(int(last) - len(rows) + 1, int(last) + 1))
    if _copies(connection):
        # COPY gives no ids back: take a block from the id sequence first, in one round trip,
        # and COPY the rows with them (what the column default would have given, in order).
        drawn: Any = connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) "
            "FROM generate_series(1, %(n)s::integer)",
            {"table": f'"{table.name}"', "n": len(rows)}).scalars()
        ids = sorted(int(value) for value in drawn)
        bulk_insert(session, model, [{"id": new_id, **row}
                                     for new_id, row in zip(ids, rows, strict=True)])
        return ids
    result = connection.execute(
        table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
    return [int(row[0]) for row in result]


# A bulk insert that skips taken keys COPYs into a temporary table first (then INSERT … SELECT
# … ON CONFLICT DO NOTHING): worth its catalog work only for a batch this large.
COPY_SKIPPING_FROM_ROWS = 500


def _copies(connection: Any) -> bool:
    """Whether bulk inserts on this connection go through COPY (PostgreSQL with psycopg 3)."""
    return bool(connection.dialect.name == "postgresql"
                and connection.dialect.driver == "psycopg")


def _copy_in(connection: Any, table: Any, keys: list[str], columns: dict[str, list[Any]], *,
             skip_taken: Sequence[str] = ()) -> None:
    """COPY the rows (given column by column, bind-processed) into `table`.

    PostgreSQL's COPY FROM STDIN parses a stream of rows far faster than it plans and runs an
    INSERT per row (bench/ingest: see README). It knows no ON CONFLICT: rows that must skip
    taken keys go into a temporary table first and from there INSERT … ON CONFLICT DO NOTHING.
    """
    quoted = ", ".join(f'"{table.c[key].name}"' for key in keys)
    target = f'"{table.name}"'
    cursor = connection.connection.driver_connection.cursor()
    with cursor:
        if skip_taken:
            target = '"bulk_insert_stage"'
            # Only the columns given, without constraints or defaults (no ids drawn here).
            cursor.execute(f'CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS '
                           f'SELECT {quoted} FROM "{table.name}" WITH NO DATA')
        with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:
            for values in zip(*(columns[key] for key in keys), strict=True):
                copy.write_row(values)
        if skip_taken:
            conflict = ", ".join(f'"{table.c[key].name}"' for key in skip_taken)
            cursor.execute(f'INSERT INTO "{table.name}" ({quoted}) SELECT {quoted} FROM {target} '
                           f"ORDER BY ctid ON CONFLICT ({conflict}) DO NOTHING")
            cursor.execute(f"DROP TABLE {target}")


def _omitted_defaults(table: Any, keys: list[str]) -> dict[str, Any]:
    """Values for the columns a bulk insert leaves out: their scalar default, else NULL."""
    omitted: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key or column.key in keys:
            continue
        default = column.default
        if default is not None and not default.is_scalar:
            raise ValueError(f"bulk insert into {table.name} must give {column.key} (its "
                             "default is computed per row)")
        omitted[column.key] = default.arg if default is not None else None
    return omitted


def _processed_column(type_: Any, dialect: Any, values: list[Any]) -> list[Any]:
    if dialect.name == "sqlite" and isinstance(type_, UtcDateTime):
        # The text `UtcDateTime` and SQLite's DATETIME make between them, in one C call
        # (half their time; a bulk import converts a few timestamps per row).
        process = _sqlite_utc_text
    else:
        process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    if isinstance(type_, DateTime | TypeDecorator):
        # Timestamps repeat within a batch (created_at, updated_at): convert each one once.
        seen: dict[Any, Any] = {}
        return [seen[v] if v in seen else seen.setdefault(v, process(v)) for v in values]
    return [process(v) for v in values]


# A case's receipt time comes back as its SLA sweep time and its first event's time.
@lru_cache(maxsize=1 << 16)
def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class WalCheckpointer:
    """Copies SQLite's write-ahead log into the database file from a thread of its own, after
    each commit of a bulk writer, so that the writer does not stop to do it (the automatic
    checkpoint runs in whichever connection commits, and cost bulk import ~10 %).

    The checkpoint is PASSIVE (it never blocks the writer, and gives up where it would); should
    it fall behind, the automatic checkpoint still bounds the log. The sqlite3 module releases
    the GIL while SQLite works, so the copy overlaps the writer's own work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        """Checkpoint what is committed so far, soon."""
        self._wanted.set()

    def stop(self) -> None:
        """Checkpoint once more and end the thread."""
        self._stopping = True
        self._wanted.set()
        self._thread.join()

    def _run(self) -> None:
        connection = self.engine.raw_connection()
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                # Read before checkpointing: once stopping, every commit came before, so this
                # last checkpoint copies them all.
                last = self._stopping
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
                if last:
                    return
        except Exception as exc:  # the automatic checkpoint remains: only speed is lost
            log.warning("background WAL checkpoints stopped: %s", type(exc).__name__)
        finally:
            connection.close()


@contextmanager
def background_checkpoints(engine: Engine) -> Iterator[WalCheckpointer | None]:
    """A `WalCheckpointer` for the block on SQLite (call its `request` after each commit);
    None elsewhere, where the server does it."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield None
        return
    checkpointer = WalCheckpointer(engine)
    checkpointer.start()
    try:
        yield checkpointer
    finally:
        checkpointer.stop()


def reset_engines() -> None:
    """Dispose every pooled engine (tests, and commands that switch databases)."""
    for engine in [*_engines.values(), *_side_engines.values()]:
        engine.dispose()
    _engines.clear()
    _side_engines.clear()

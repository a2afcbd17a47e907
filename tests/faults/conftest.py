"""Fixtures of the fault tests: a throwaway PostgreSQL cluster for the session (the tests take
it down, never the machine's), and a fresh migrated database holding the small bank of
`tests.conftest.build_world`, on SQLite or in that cluster."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from tests.conftest import TEST_PII_KEY, TEST_SECRET, build_world
from tests.faults.servers import ThrowawayPostgres, throwaway_postgres


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as server:
        yield server


def new_database(backend: str, directory: Path, request: pytest.FixtureRequest) -> str:
    """An empty, migrated database with the test bank's orgs and users; returns its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'faults.db'}"
    else:
        cluster: ThrowawayPostgres = request.getfixturevalue("pg_cluster")
        if not cluster.running:
            cluster.start()  # a test that failed half way may have left it down
        url = cluster.create_database(f"faults_{uuid.uuid4().hex[:8]}")
    engine = build_engine(url)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        build_world(session)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def fault_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for one fault test: SQLite, or one in the throwaway cluster."""
    yield new_database(str(request.param), tmp_path, request)
    reset_engines()


@pytest.fixture
def engine(fault_db: str) -> Iterator[Engine]:
    """The test's own engine on `fault_db`, to watch and count (pre-ping: it outlives
    restarts)."""
    engine = build_engine(fault_db)
    yield engine
    engine.dispose()


def command_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `bankvoc` subprocess working on `database_url`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("BANKVOC_") or name.startswith("BANKVOC_TEST_")}
    return {**env, "BANKVOC_DATABASE_URL": database_url, "BANKVOC_SECRET_KEY": TEST_SECRET,
            "BANKVOC_PII_KEY": TEST_PII_KEY, "PYTHONPATH": _pythonpath(env), **extra}


def _pythonpath(env: dict[str, str]) -> str:
    source = str(Path(__file__).resolve().parents[2] / "src")
    current = env.get("PYTHONPATH", "")
    return source if not current else f"{source}{os.pathsep}{current}"


@pytest.fixture
def pg_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database in the throwaway PostgreSQL cluster (for the tests that restart it)."""
    yield new_database("postgresql", tmp_path, request)
    reset_engines()


@pytest.fixture
def pg_engine(pg_db: str) -> Iterator[Engine]:
    engine = build_engine(pg_db)
    yield engine
    engine.dispose()

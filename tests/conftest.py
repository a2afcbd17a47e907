"""Shared fixtures: every database test runs on SQLite and, when reachable, on PostgreSQL.

Service tests run inside a transaction rolled back at the end (`session`); tests of crashes,
subprocesses and the browser use a fresh database instead (`fresh_db_url`).
"""

from __future__ import annotations

import base64
import os
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.core import migrate
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from bankvoc.core.settings import reset_settings

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
TEST_PII_KEY = "t1:" + base64.b64encode(b"test-pii-key-32-bytes-long-00000").decode()
PG_ADMIN_URL = os.environ.get("BANKVOC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("BANKVOC_TEST_REQUIRE_PG") == "1"
# One id per test run, shared with the xdist workers (they inherit the environment), so runs
# that overlap on one PostgreSQL server never touch each other's databases.
RUN_ID = os.environ.setdefault("BANKVOC_TEST_RUN_ID", uuid.uuid4().hex[:8])


def _set_test_environment() -> None:
    for name in list(os.environ):
        if name.startswith("BANKVOC_") and not name.startswith("BANKVOC_TEST_"):
            del os.environ[name]
    os.environ["BANKVOC_SECRET_KEY"] = TEST_SECRET
    os.environ["BANKVOC_PII_KEY"] = TEST_PII_KEY
    # Follow-up jobs (bankvoc.jobs.enqueue) do not run after a test's commits unless the test
    # asks for them (tests/jobs): a test sees the database exactly as its own code left it.
    os.environ["BANKVOC_JOBS_LOCAL"] = "off"
    reset_settings()
    reset_engines()


_set_test_environment()

# Property tests and API fuzzing run on a fixed budget: derandomized (the same examples every
# run, so a failure reproduces and CI time is known), no example database, no deadline (two
# shared cores). `BANKVOC_TEST_HYPOTHESIS=deep` hunts twenty times longer, still derandomized;
# `explore` draws fresh random examples each run (what a nightly job would use).
hypothesis_settings.register_profile("bounded", max_examples=25, derandomize=True,
                                     database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("deep", max_examples=500, derandomize=True,
                                     database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("explore", max_examples=500, derandomize=False,
                                     database=None, deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("BANKVOC_TEST_HYPOTHESIS", "bounded"))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its cheapest in tests (the production parameters cost ~50 ms a hash);
    tests/orgs/test_auth.py checks the real ones."""
    from argon2 import PasswordHasher, profiles

    from bankvoc.orgs import auth

    real = auth.HASHER
    auth.HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    auth.HASHER = real


@pytest.fixture(autouse=True)
def _clean_settings() -> Iterator[None]:
    yield
    reset_settings()


@pytest.fixture(autouse=True)
def _fresh_figures_cache() -> Iterator[None]:
    """Tests share a database whose writes roll back (the figures' token with them), and the
    API's sessions see their test's uncommitted rows: cached figures must not outlive a test."""
    from bankvoc.analytics import service as analytics

    yield
    analytics.clear_figures_cache()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                               connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _pg_admin(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def make_pg_database(name: str) -> str:
    """A brand-new PostgreSQL database (dropped first if left over); returns its URL."""
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


BACKENDS = ["sqlite", "postgresql"]


def _backend_url(backend: str, directory: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / (name + '.db')}"
    if not _pg_reachable():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but not reachable at {PG_ADMIN_URL}")
        pytest.skip("PostgreSQL not reachable")
    return make_pg_database(f"bankvoc_{RUN_ID}_{name}_{_worker()}")


def migrated_database(backend: str, directory: Path, name: str) -> str:
    """A new database on `backend` (for SQLite a file in `directory`) holding the schema;
    returns its URL. Drop it with `drop_database`."""
    url = _backend_url(backend, directory, name)
    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def copy_database(url: str, directory: Path) -> str:
    """A copy of the database at `url`, under a name of its own; returns its URL. Nothing may be
    connected to `url` (PostgreSQL copies it as the template of a new database; SQLite through
    its backup API, which also copies what is still in the write-ahead log, into a file in
    `directory`). Drop it with `drop_database`."""
    name = "c" + uuid.uuid4().hex[:8]
    if url.startswith("sqlite"):
        target = directory / f"{name}.db"
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source, \
                closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
        return f"sqlite:///{target}"
    template = url.rsplit("/", 1)[1]
    copied = f"bankvoc_{RUN_ID}_{name}_{_worker()}"
    _pg_admin(f'CREATE DATABASE "{copied}" TEMPLATE "{template}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{copied}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database per backend and test worker, shared by rolled-back tests."""
    url = _backend_url(backend, tmp_path_factory.mktemp("db"), "shared")
    engine = build_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    with migrated_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture(scope="session")
def _migrated_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty, migrated database per backend and test worker that nothing connects to or
    writes: `fresh_db_url` copies it rather than running every migration for each test."""
    url = migrated_database(backend, tmp_path_factory.mktemp("template"), "template")
    yield url
    drop_database(url)


@pytest.fixture
def fresh_db_url(_migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of its own, for tests that commit for real."""
    url = copy_database(_migrated_template, tmp_path)
    yield url
    reset_engines()  # code under test may have pooled connections to it
    drop_database(url)


@pytest.fixture
def database(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database that commands find through BANKVOC_DATABASE_URL."""
    monkeypatch.setenv("BANKVOC_DATABASE_URL", fresh_db_url)
    reset_settings()
    reset_engines()
    yield fresh_db_url
    reset_engines()


# --- org tree, users and clients -------------------------------------------------------------

@dataclass
class World:
    """A small bank: head office, two branches with outlets, a phone-banking centre."""

    session: Session
    tokens: dict[str, str]

    def actor(self, username: str):  # type: ignore[no-untyped-def]
        from bankvoc.orgs import service

        return service.actor_for(service.get_user(self.session, username=username))


def build_world(session: Session) -> World:
    from bankvoc.orgs import service
    from bankvoc.orgs.enums import OrgKind

    root = service.get_org_by_code(session, code="HQ")
    bj = service.create_org(session, code="BJ", name="北京分行", kind=OrgKind.branch, parent=root)
    bj1 = service.create_org(session, code="BJ01", name="北京海淀支行", kind=OrgKind.outlet,
                             parent=bj)
    sh = service.create_org(session, code="SH", name="上海分行", kind=OrgKind.branch, parent=root)
    service.create_org(session, code="SH01", name="上海浦东支行", kind=OrgKind.outlet, parent=sh)
    service.create_org(session, code="PBC", name="电话银行中心", kind=OrgKind.centre, parent=root)
    users = {
        "hq_admin": (root, ["admin"]), "bj_handler": (bj, ["handler"]),
        "bj1_agent": (bj1, ["agent"]), "sh_handler": (sh, ["handler"]),
        "hq_analyst": (root, ["analyst"]),
    }
    tokens = {}
    for name, (org, roles) in users.items():
        user = service.create_user(session, username=name, display_name=name, org=org,
                                   roles=roles)
        tokens[name] = service.issue_token(session, user=user)
    session.flush()
    return World(session=session, tokens=tokens)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def bank(database: str) -> str:
    """`database` holding the test world (orgs, users and their tokens), committed: what the
    commands under test find through BANKVOC_DATABASE_URL."""
    engine = build_engine(database)
    with unit_of_work(engine) as session:
        build_world(session)
    engine.dispose()
    return database


@pytest.fixture(scope="session")
def _app() -> FastAPI:
    """One app for every `client` of a test process: building one works out all 215 routes'
    dependencies and models (~0.4 s; a few minutes over the suite). Nothing in it belongs to a
    test but the sessions it opens, which `client` sets; tests of building the app itself
    (settings, taxonomy, routes) call `create_app`."""
    from bankvoc.api.app import create_app

    return create_app(sessions=sessionmaker())


@pytest.fixture
def client(sessions: sessionmaker[Session], world: World, _app: FastAPI) -> Iterator[TestClient]:
    world.session.commit()  # a savepoint: the API's own sessions see the world
    _app.state.sessions = sessions
    try:
        with TestClient(_app) as test_client:
            yield test_client
    finally:
        _app.state.sessions = sessionmaker()  # nothing keeps this test's connection


def auth(world: World, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[username]}"}


# --- logging in to the pages -----------------------------------------------------------------

TEST_PASSWORD = "Test-password-2026"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF_INPUT.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def log_in(client: TestClient, session: Session, username: str, *,
           password: str = TEST_PASSWORD) -> str:
    """Log `client` in to the pages as `username` through the real log-in form (the user gets
    `password` first); returns the session's CSRF token for the forms it posts."""
    from bankvoc.orgs import auth as accounts
    from bankvoc.orgs import service

    user = service.get_user(session, username=username)
    if not accounts.verify_password(user.password_hash, password):
        accounts.set_password(session, user=user, password=password)
    session.commit()  # a savepoint: the app's own sessions see it
    login = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": form_token(login.text)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return session_token(client)


def session_token(client: TestClient) -> str:
    """The CSRF token of `client`'s session (from its password page's form)."""
    return form_token(client.get("/password").text)

"""Every list and KPI query is served by an index on PostgreSQL, not a scan of a big table.

Each case here requests a list or KPI route (API or page) as the head-office administrator,
captures the SQL statements the services actually send (SQLAlchemy's `before_cursor_execute`),
and EXPLAINs each one with its own parameters, with sequential scans priced out
(`enable_seqscan = off`): the planner then still picks a Seq Scan only when no index can serve
the query at all. A full scan of an index without a condition (the same work as a Seq Scan) is
refused too, except where it delivers rows in the order of a LIMITed page.

PostgreSQL only (SQLite has its own planner and is the small, embedded database).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event

from bankvoc.contact import interactions
from bankvoc.core import migrate
from bankvoc.core.db import build_engine, reset_engines, unit_of_work
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from tests.conftest import _backend_url, build_world, drop_database, log_in

# The tables that grow with the bank's history: millions of rows each.
BIG_TABLES = frozenset({
    "case", "case_event", "intake_record", "notification", "interaction",
    "interaction_transcript", "callback", "survey_response", "customer", "qa_result",
    "qa_hit", "case_rollup", "channel_message", "label_correction", "case_problem",
    "customer_value", "auth_event", "portal_hit",
})

API_ROUTES = [
    "/api/v1/cases",
    "/api/v1/cases?status=received",
    "/api/v1/cases?org=BJ",
    "/api/v1/cases?org=BJ&channel=hotline",
    "/api/v1/cases?severity=urgent",
    "/api/v1/cases?kind=complaint&product=credit_card",
    "/api/v1/cases?category=fee",
    "/api/v1/cases?needs_review=true",
    "/api/v1/cases?assignee=none",
    "/api/v1/cases?assignee=me",
    "/api/v1/cases?handling_org=BJ",
    "/api/v1/cases?from_regulator=true",
    "/api/v1/cases?due_before=2026-12-01T00:00:00Z",
    "/api/v1/cases?received_from=2026-03-01T00:00:00Z&received_to=2026-04-01T00:00:00Z",
    "/api/v1/cases?q=年费",
    "/api/v1/cases?limit=1",  # and its next page, below
    "/api/v1/callbacks",
    "/api/v1/kpis/headline?period=2026-03",
    "/api/v1/kpis/headline?period=2026-03&org=BJ",
    "/api/v1/kpis/complaints?period=2026-03&by=category",
    "/api/v1/kpis/complaints?period=2025-04-01..2026-03-31&by=month",
    "/api/v1/kpis/complaints?period=2026-03&by=org",
    "/api/v1/kpis/complaints/cases?period=2026-03",
    "/api/v1/alerts",
    "/api/v1/problems",
    "/api/v1/problems/recurring",
    "/api/v1/root-causes/untraced",
]
PAGES = [
    "/cases", "/callbacks", "/dashboard", "/problems", "/contact", "/service-data",
    "/people/scorecards", "/people/training", "/qa/reviews", "/branches/inspections",
    "/regulator",
]


ROWS = 20_000  # cases (and their events and intake records) the planner sees


def _clone(conn: Connection, table: str, times: int, changed: dict[str, str]) -> None:
    """`times` copies of each row of `table` (g = 1 … times numbers the copy), with the SQL
    expressions `changed` for the columns that must differ (unique keys, spread values)."""
    columns: list[str] = list(conn.exec_driver_sql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %(t)s "
        "AND column_name <> 'id' ORDER BY ordinal_position", {"t": table}).scalars())
    targets = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(changed.get(c, f't."{c}"') for c in columns)
    conn.exec_driver_sql(f'INSERT INTO "{table}" ({targets}) SELECT {values} '
                         f'FROM "{table}" t CROSS JOIN generate_series(1, {times}) g')


def _spread(values: list[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"(ARRAY[{listed}])[1 + mod(g + t.id, {len(values)})]"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, str]]]:
    """A PostgreSQL bank of its own with ROWS cases spread over its orgs, statuses, channels
    and a year, analysed; and the users' API tokens."""
    url = _backend_url("postgresql", tmp_path_factory.mktemp("plans"), "plans")
    engine = build_engine(url)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        world = build_world(session)
        for text, org, channel in (("信用卡年费被重复扣收两次，要求退还年费", "BJ01", "hotline"),
                                   ("房贷提前还款手续费不合理", "SH", "branch"),
                                   ("手机银行登录一直闪退", "BJ", "mobile_app")):
            draft = register_case(session, actor=world.actor("hq_admin"),
                                  data=CaseCreate(text=text, org=org, channel=channel,
                                                  customer_phone="13812345678",
                                                  received_at=datetime(2026, 3, 2, 10, 0)))
            assert draft.reference is not None
        for n in range(2):
            data = interactions.parse({
                "source_id": f"CALL-{n}", "agent": "A1", "team": "T1", "queue": "Q1",
                "org": "PBC", "started_at": "2026-03-02 10:00", "answered": "1",
                "wait_s": "10", "talk_s": "100"}, source_system="acd")
            interactions.store(session, actor=world.actor("hq_admin"), data=data)
        tokens = world.tokens
    with engine.begin() as conn:
        org_ids: list[int] = list(conn.exec_driver_sql("SELECT id FROM org").scalars())
        orgs = [str(i) for i in org_ids]
        org = f"(ARRAY[{', '.join(orgs)}])[1 + mod(g + t.id, {len(orgs)})]"
        copies = ROWS // 3
        _clone(conn, "customer", copies, {
            "phone_bidx": "md5(g::text || t.id || 'p')", "id_number_bidx": "NULL"})
        _clone(conn, "case", copies, {
            "reference": "t.reference || '-' || g", "org_id": org, "handling_org_id": org,
            "status": _spread(["received", "accepted", "investigating", "resolved", "closed",
                               "closed", "closed"]),
            "channel": _spread(["hotline", "branch", "mobile_app", "wechat"]),
            "severity": _spread(["general"] * 8 + ["important", "urgent"]),
            "received_at": "t.received_at - make_interval(hours => mod(g, 9000))",
            "text_hash": "md5(g::text || t.id)", "source_id": "t.source_id || '-' || g",
            "customer_id": "(SELECT min(id) FROM customer) + g"})
        conn.exec_driver_sql("""
            INSERT INTO case_event (case_id, seq, type, at, actor_user_id, data, prev_hash, hash)
            SELECT c.id, 1, 'received', c.received_at, NULL, '{}', '0', md5(c.id::text)
            FROM "case" c WHERE NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = c.id)
        """)
        conn.exec_driver_sql("""
            INSERT INTO intake_record (source_system, source_id, content_hash, case_id, outcome,
                                       created_at, updated_at)
            SELECT 'plans', c.id::text, c.text_hash, c.id, 'accepted', c.created_at, c.created_at
            FROM "case" c
        """)
        _clone(conn, "interaction", ROWS // 2, {
            "source_id": "t.source_id || '-' || g",
            "started_at": "t.started_at - make_interval(hours => mod(g, 9000))"})
        conn.exec_driver_sql("""
            INSERT INTO qa_result (interaction_id, rules_version, machine_score, critical, status,
                                   reasons, inspected_at)
            SELECT i.id, 1, 60 + mod(i.id, 40), false,
                   (ARRAY['passed', 'queued', 'reviewed'])[1 + mod(i.id, 3)], '[]', i.started_at
            FROM interaction i WHERE mod(i.id, 2) = 0
        """)
        conn.exec_driver_sql("ANALYZE")
    yield engine, tokens
    engine.dispose()
    reset_engines()
    drop_database(url)


@pytest.fixture
def client(bank: tuple[Engine, dict[str, str]]) -> Iterator[TestClient]:
    from bankvoc.api.app import create_app

    with TestClient(create_app(engine=bank[0])) as test_client:
        yield test_client


@pytest.fixture
def headers(bank: tuple[Engine, dict[str, str]]) -> dict[str, str]:
    return {"Authorization": f"Bearer {bank[1]['hq_admin']}"}


@pytest.fixture
def connection(bank: tuple[Engine, dict[str, str]]) -> Iterator[Connection]:
    with bank[0].connect() as conn:
        yield conn


@pytest.fixture
def sent(bank: tuple[Engine, dict[str, str]]) -> Iterator[list[tuple[str, Any]]]:
    """The reads the app sends while the fixture lives."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                executemany: bool) -> None:
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(bank[0], "before_cursor_execute", capture)
    yield statements
    event.remove(bank[0], "before_cursor_execute", capture)


def plan_of(connection: Connection, statement: str, parameters: Any) -> dict[str, Any]:
    with connection.begin() as transaction:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw: Any = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                         parameters).scalar_one()
        transaction.rollback()  # SET LOCAL ends with it
    found = json.loads(raw) if isinstance(raw, str) else raw
    return dict(found[0]["Plan"])


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def scans_of_big_tables(plan: dict[str, Any], limited: bool) -> list[str]:
    """The plan's nodes that read a big table without an index condition."""
    bad = []
    for node in nodes(plan):
        table = node.get("Relation Name")
        if table not in BIG_TABLES:
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan":
            bad.append(f"Seq Scan on {table}")
        elif kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node \
                and not limited:
            bad.append(f"full {kind} of {node['Index Name']} on {table}")
    return bad


def unindexed(connection: Connection, statements: list[tuple[str, Any]]) -> list[str]:
    problems = []
    for statement, parameters in statements:
        plan = plan_of(connection, statement, parameters)
        limited = any(n["Node Type"] == "Limit" for n in nodes(plan))
        flat = " ".join(statement.split())
        shown = flat[flat.find(" FROM "):] if " FROM " in flat else flat  # not the columns
        problems += [f"{found}: {shown[:600]}"
                     for found in scans_of_big_tables(plan, limited)]
    return problems


class TestListAndKpiQueriesUseIndexes:
    @pytest.mark.parametrize("route", API_ROUTES)
    def test_api_route(self, route: str, client: TestClient, headers: dict[str, str],
                       connection: Connection, sent: list[tuple[str, Any]]) -> None:
        response = client.get(route, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if isinstance(body, dict) and body.get("next_cursor"):
            joiner = "&" if "?" in route else "?"
            page = client.get(f"{route}{joiner}cursor={body['next_cursor']}", headers=headers)
            assert page.status_code == 200, page.text
        assert sent, "no statement captured"
        assert unindexed(connection, sent) == []

    def test_case_detail_and_timeline(self, client: TestClient, headers: dict[str, str],
                                      connection: Connection,
                                      sent: list[tuple[str, Any]]) -> None:
        reference = client.get("/api/v1/cases?limit=1", headers=headers).json()[
            "items"][0]["reference"]
        for path in (f"/api/v1/cases/{reference}", f"/api/v1/cases/{reference}/events"):
            assert client.get(path, headers=headers).status_code == 200
        assert unindexed(connection, sent) == []

    @pytest.mark.parametrize("page", PAGES)
    def test_page(self, page: str, client: TestClient, bank: tuple[Engine, dict[str, str]],
                  connection: Connection, sent: list[tuple[str, Any]]) -> None:
        with unit_of_work(bank[0]) as session:
            log_in(client, session, "hq_admin")
        sent.clear()
        response = client.get(page)
        assert response.status_code == 200, response.text[:500]
        assert unindexed(connection, sent) == []

    def test_a_page_of_a_rare_status_comes_off_the_status_index(
            self, client: TestClient, headers: dict[str, str], connection: Connection,
            sent: list[tuple[str, Any]]) -> None:
        # Not the newest-first index read until 20 rows pass the filter: for a status few
        # cases have, that reads all of it (seconds on 1M cases; bench/load).
        response = client.get("/api/v1/cases?status=withdrawn&limit=20", headers=headers)
        assert response.status_code == 200, response.text
        [listing] = [(s, p) for s, p in sent if 'FROM "case"' in s and "LIMIT" in s]
        used = {n.get("Index Name") for n in nodes(plan_of(connection, *listing))}
        assert "ix_case_status_received_at_id" in used

    def test_a_big_table_scanned_without_an_index_is_caught(
            self, connection: Connection) -> None:
        statement = 'SELECT id FROM "case" WHERE title = %(t)s'
        assert unindexed(connection, [(statement, {"t": "x"})]) == [
            'Seq Scan on case:  FROM "case" WHERE title = %(t)s']

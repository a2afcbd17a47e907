"""Probes, metrics and request logs (ops/api.py, ops/metrics.py, ops/requests.py, core/logs.py).

/healthz answers without the database, /readyz only with the database reachable and the
schema at head; /metrics counts requests by route template and status, reads queue depths and
SLA breaches from the database, and is served to loopback or to the bearer of the metrics
token; every log line of a request carries its id, and none carries the personal data the
request sent."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from bankvoc.api.app import create_app
from bankvoc.cases.models import Case
from bankvoc.core import logs
from bankvoc.core.db import build_engine, session_factory
from bankvoc.core.settings import reset_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.notify.models import Notification
from bankvoc.surveys.models import Callback
from tests.conftest import World, auth

LOOPBACK = ("127.0.0.1", 50000)
NAME, PHONE, ID_NUMBER = "欧阳明远", "13800138000", "110101199003074514"


@pytest.fixture
def app(sessions: sessionmaker[Session], world: World) -> FastAPI:
    world.session.commit()  # a savepoint: the app's own sessions see the world
    return create_app(sessions=sessions)


@pytest.fixture
def local(app: FastAPI) -> Iterator[TestClient]:
    """A client on this machine's loopback address."""
    with TestClient(app, client=LOOPBACK) as test_client:
        yield test_client


def samples(client: TestClient, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]],
                                                       float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


class TestHealthz:
    def test_answers_without_the_database(self) -> None:
        unreachable = session_factory(build_engine("postgresql://nobody@127.0.0.1:1/none"))
        with TestClient(create_app(sessions=unreachable)) as client:
            response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


class TestReadyz:
    def test_ready_with_the_database_at_head(self, local: TestClient) -> None:
        response = local.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"

    def test_unavailable_while_the_schema_is_behind(
        self, local: TestClient, session: Session
    ) -> None:
        session.execute(text("UPDATE alembic_version SET version_num = '0028'"))
        session.commit()
        response = local.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["schema"].startswith("at 0028, expected ")

    def test_unavailable_without_the_database(self) -> None:
        unreachable = session_factory(build_engine(
            "postgresql://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}))
        with TestClient(create_app(sessions=unreachable)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable",
                                   "checks": {"database": "unavailable", "schema": "unknown"}}


class TestMetricsAccess:
    def test_served_to_loopback_while_no_token_is_set(self, local: TestClient) -> None:
        response = local.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")

    def test_refused_to_another_machine_and_through_a_proxy(
        self, app: FastAPI, local: TestClient
    ) -> None:
        with TestClient(app, client=("10.1.2.3", 50000)) as remote:
            response = remote.get("/metrics")
        assert response.status_code == 403
        assert response.json()["code"] == "metrics_forbidden"
        assert response.json()["field"] == "authorization"
        assert local.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 403

    def test_with_a_token_only_its_bearer_reads_them(
        self, local: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("BANKVOC_METRICS_TOKEN", "scrape-token-0123456789")
        reset_settings()
        assert local.get("/metrics").status_code == 403
        wrong = {"Authorization": "Bearer scrape-token-wrong"}
        assert local.get("/metrics", headers=wrong).status_code == 403
        right = {"Authorization": "Bearer scrape-token-0123456789"}
        assert local.get("/metrics", headers=right).status_code == 200


    def test_served_without_the_database_saying_it_is_down(self) -> None:
        unreachable = session_factory(build_engine(
            "postgresql://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}))
        with TestClient(create_app(sessions=unreachable), client=LOOPBACK) as client:
            found = samples(client)
        assert value(found, "bankvoc_database_up") == 0
        assert ("bankvoc_sla_breaches", frozenset()) not in found


class TestRequestMetrics:
    def test_counted_by_route_template_and_status_never_by_path(
        self, local: TestClient, world: World
    ) -> None:
        route = {"method": "GET", "route": "/api/v1/cases/{reference}", "status": "404"}
        before = samples(local)
        for _ in range(2):
            missing = local.get("/api/v1/cases/TS20990101000042", headers=auth(world, "hq_admin"))
            assert missing.status_code == 404
        local.get("/no/such/page")
        after = samples(local)
        assert value(after, "bankvoc_http_requests_total", **route) == value(
            before, "bankvoc_http_requests_total", **route) + 2
        assert value(after, "bankvoc_http_request_duration_seconds_count", **route) == value(
            before, "bankvoc_http_request_duration_seconds_count", **route) + 2
        unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
        assert value(after, "bankvoc_http_requests_total", **unmatched) == value(
            before, "bankvoc_http_requests_total", **unmatched) + 1
        exposition = local.get("/metrics").text
        assert "TS20990101000042" not in exposition
        assert "/no/such/page" not in exposition


def _notification(status: str, next_attempt_in: timedelta) -> Notification:
    return Notification(recipient_kind="customer", recipient_enc="t1:x", recipient_masked="1***",
                        channel="sms", template="t", template_version="1", language="zh",
                        subject="", body="", status=status, attempts=0,
                        next_attempt_at=utcnow() + next_attempt_in,
                        delivery_id=uuid.uuid4().hex)


class TestDatabaseMetrics:
    def test_queue_depths_due_work_and_sla_breaches(
        self, local: TestClient, world: World, session: Session
    ) -> None:
        references = []
        for _ in range(3):
            created = local.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                                 json={"text": "信用卡年费未经同意被扣，要求退还"})
            assert created.status_code == 201, created.text
            references.append(created.json()["reference"])
        now = utcnow()
        session.execute(update(Case).values(sla_next_at=now + timedelta(hours=1),
                                            due_at=now + timedelta(days=5)))
        session.execute(update(Case).where(Case.reference.in_(references[:2])).values(
            due_at=now - timedelta(days=1), severity="urgent"))
        session.execute(update(Case).where(Case.reference == references[2]).values(
            sla_next_at=now - timedelta(minutes=5)))
        session.execute(update(Case).where(Case.reference == references[1]).values(
            status="resolved", resolved_at=now))  # past due, but decided: no breach
        session.execute(text("DELETE FROM notification"))
        session.add_all([_notification("pending", timedelta(minutes=-1)),
                         _notification("failed", timedelta(minutes=10)),
                         _notification("dead", timedelta(minutes=-1)),
                         _notification("sent", timedelta(minutes=-1))])
        case_id = session.scalar(text("SELECT min(id) FROM \"case\""))
        session.add(Callback(case_id=case_id, round=0, status="pending", reason="sampled",
                             due_at=now - timedelta(hours=1)))
        session.commit()
        found = samples(local)
        assert value(found, "bankvoc_database_up") == 1
        assert value(found, "bankvoc_sla_breaches", severity="urgent") == 1
        assert value(found, "bankvoc_sla_alarms_due") == 1
        assert value(found, "bankvoc_callbacks_due") == 1
        assert value(found, "bankvoc_outbox_due") == 1
        for status, count in (("pending", 1), ("failed", 1), ("dead", 1), ("sent", 0)):
            assert value(found, "bankvoc_outbox_rows", channel="sms", status=status) == count


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = logs.handler(stream, fmt="json")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


class TestRequestLogs:
    def test_every_line_of_a_request_carries_its_id_and_the_response_echoes_it(
        self, local: TestClient, world: World, log_lines: io.StringIO
    ) -> None:
        response = local.get("/api/v1/cases", headers={**auth(world, "hq_admin"),
                                                       "X-Request-ID": "req-7f3a"})
        assert response.headers["X-Request-ID"] == "req-7f3a"
        lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
        served = [line for line in lines if not line["logger"].startswith("httpx")]
        assert any(line["logger"] == "bankvoc.access" for line in served)
        assert served
        assert all(line["request_id"] == "req-7f3a" for line in served)

    def test_an_id_is_made_when_none_or_an_unusable_one_is_sent(self, local: TestClient) -> None:
        made = local.get("/healthz").headers["X-Request-ID"]
        assert len(made) == 32
        for bad in ("x" * 65, "a b", PHONE):
            echoed = local.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
            assert echoed != bad
            assert len(echoed) == 32

    def test_no_personal_data_of_the_request_is_logged(
        self, local: TestClient, world: World, log_lines: io.StringIO
    ) -> None:
        body = {"text": f"我是{NAME}，电话{PHONE}，身份证{ID_NUMBER}，转账未到账",
                "customer_name": NAME, "customer_phone": PHONE, "customer_id_number": ID_NUMBER}
        created = local.post("/api/v1/cases", headers=auth(world, "bj_handler"), json=body)
        assert created.status_code == 201, created.text
        refused = local.post("/api/v1/cases", headers=auth(world, "bj_handler"),
                             json={**body, "customer_id_number": ID_NUMBER[:-1] + "0"})
        assert refused.status_code == 422
        local.get(f"/api/v1/cases?q={PHONE}", headers=auth(world, "bj_handler"))
        written = log_lines.getvalue()
        assert "bankvoc.access" in written
        for secret in (NAME, PHONE, ID_NUMBER, ID_NUMBER[:-1] + "0"):
            assert secret not in written


class TestScrub:
    def test_long_numbers_are_masked_in_any_message(self, log_lines: io.StringIO) -> None:
        log = logging.getLogger("bankvoc.test")
        log.warning("customer %s called about card %s", PHONE, "6222 0212 3456 7890")
        try:
            raise ValueError(f"bad id {ID_NUMBER}")
        except ValueError:
            log.exception("failed")
        written = log_lines.getvalue()
        assert PHONE not in written
        assert "6222 0212 3456 7890" not in written
        assert ID_NUMBER not in written
        assert "ValueError at " in written  # the type and place, not the message
        assert written.count(logs.MASK) == 2

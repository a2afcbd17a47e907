"""How the API answers when the database is away: 503 with a clear code and Retry-After, never
a 500 or a stack trace; a real error of ours stays a 500 "internal"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bankvoc.api.app import create_app
from bankvoc.api.errors import RETRY_AFTER_SECONDS
from bankvoc.core.db import build_engine
from tests.faults.servers import free_port


def client_on(url: str) -> Iterator[TestClient]:
    engine = build_engine(url, connect_args={"connect_timeout": 2}) if url.startswith(
        "postgresql") else build_engine(url)
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


@pytest.fixture(scope="module")
def database_away() -> Iterator[TestClient]:
    """The app on a PostgreSQL server that is not there (nothing listens on the port)."""
    yield from client_on(f"postgresql://postgres@127.0.0.1:{free_port()}/bankvoc")


class TestDatabaseUnavailable:
    def test_an_api_request_is_a_503_naming_the_database(
        self, database_away: TestClient
    ) -> None:
        response = database_away.get("/api/v1/cases",
                                     headers={"Authorization": "Bearer some-token"})
        assert response.status_code == 503
        assert response.json() == {
            "code": "unavailable", "field": None,
            "message": "the database is unavailable for now; retry the request shortly"}
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)

    def test_a_registration_is_a_503_too(self, database_away: TestClient) -> None:
        response = database_away.post("/api/v1/cases", json={"text": "年费多扣"},
                                      headers={"Authorization": "Bearer some-token",
                                               "Idempotency-Key": "k1"})
        assert response.status_code == 503
        assert response.json()["code"] == "unavailable"
        assert "Traceback" not in response.text

    def test_the_process_is_live_but_not_ready(self, database_away: TestClient) -> None:
        assert database_away.get("/healthz").status_code == 200
        ready = database_away.get("/readyz")
        assert ready.status_code == 503
        assert "Traceback" not in ready.text


class TestDatabaseErrorOfOurs:
    def test_a_database_without_its_tables_is_an_internal_error_not_a_503(
        self, tmp_path: Path
    ) -> None:
        for client in client_on(f"sqlite:///{tmp_path / 'empty.db'}"):
            response = client.get("/api/v1/cases", headers={"Authorization": "Bearer t"})
            assert response.status_code == 500
            assert response.json() == {"code": "internal", "message": "internal error",
                                       "field": None}


class TestPagesWhenTheDatabaseIsAway:
    def test_a_page_is_a_503_page_saying_so(
        self, database_away: TestClient
    ) -> None:
        from bankvoc.web.rendering import session_cookie_name

        database_away.cookies.set(session_cookie_name(), "some-session")
        response = database_away.get("/cases", follow_redirects=False)
        database_away.cookies.clear()
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "数据库暂时无法访问，请稍后重试。" in response.text  # Chinese first
        assert "Traceback" not in response.text

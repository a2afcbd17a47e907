"""Every response carries the security headers, whichever route sent it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bankvoc.web.rendering import SECURITY_HEADERS
from tests.conftest import World, auth

ANONYMOUS = [
    ("GET", "/healthz"),  # JSON
    ("GET", "/api/v1/cases"),  # 401 JSON
    ("GET", "/cases"),  # a page refused (or sent to log in)
    ("GET", "/no-such-page"),  # 404
    ("GET", "/openapi.json"),
]


class TestEveryResponse:
    @pytest.mark.parametrize(("method", "path"), ANONYMOUS)
    def test_carries_the_security_headers(self, client: TestClient, method: str,
                                          path: str) -> None:
        response = client.request(method, path, follow_redirects=False)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)

    def test_an_api_error_for_a_signed_in_caller_too(self, client: TestClient,
                                                     world: World) -> None:
        response = client.get("/api/v1/cases/TS-NONE", headers=auth(world, "bj_handler"))
        assert response.status_code == 404
        assert response.headers["content-security-policy"] == (
            SECURITY_HEADERS["Content-Security-Policy"])
        assert response.headers["x-frame-options"] == "DENY"

    def test_a_route_may_set_its_own(self, client: TestClient) -> None:
        style = client.get("/static/app.css")
        assert style.headers["cache-control"] == "public, max-age=3600"
        assert style.headers["x-content-type-options"] == "nosniff"


class TestNothingFromElsewhere:
    def test_no_swagger_pages_that_would_load_from_a_cdn(self, client: TestClient) -> None:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").json()["info"]["title"] == "BankVOC"

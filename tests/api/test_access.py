"""The authorization matrix: every API route and page, called as every role and as nobody, is
allowed or refused exactly as the route table (`api/access.py`) and the permission table
(`orgs/permissions.py`) say; a route without an entry fails here (and the app will not start).
Another branch's cases are refused as if they did not exist: `tests/orgs/test_scoping.py`."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bankvoc.api.access import AUTHENTICATED, PUBLIC, ROUTE_PERMISSIONS, SIGNED, app_routes
from bankvoc.api.app import API_PREFIX, create_app
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.permissions import PERMISSIONS
from tests.conftest import World

ROUTES = sorted(ROUTE_PERMISSIONS)
# Path parameters that name nothing stored: an allowed caller gets 404 or 422, never 403.
SAMPLES = {"reference": "TS20990101000001", "kpi": "complaints", "fmt": "csv",
           "channel": "wechat", "action": "accept",
           # a real kind of configuration; its version 999999 does not exist
           "kind": "taxonomy"}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "999999"), path)


def _call(client: TestClient, method: str, path: str,
          headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Status and redirect target; API writes send an empty JSON body, page forms an empty
    form (a bearer caller needs no CSRF token)."""
    writes = method in ("POST", "PUT", "PATCH", "DELETE")
    if path.startswith(API_PREFIX):
        body: dict[str, object] | None = {} if writes and method != "DELETE" else None
        response = client.request(method, _url(path), headers=headers, json=body,
                                  follow_redirects=False)
    else:
        response = client.request(method, _url(path), headers=headers,
                                  data={} if writes else None, follow_redirects=False)
    return response.status_code, response.headers.get("location", "")


@pytest.fixture
def role_tokens(world: World) -> dict[Role, dict[str, str]]:
    """One user per role, in the Beijing branch."""
    branch = org_service.get_org_by_code(world.session, code="BJ")
    headers = {}
    for role in Role:
        user = org_service.create_user(world.session, username=f"matrix_{role.value}",
                                       display_name=role.value, org=branch, roles=[role.value])
        token = org_service.issue_token(world.session, user=user)
        headers[role] = {"Authorization": f"Bearer {token}"}
    world.session.commit()
    return headers


class TestTheRouteTable:
    def test_names_every_api_route_and_nothing_else(self, world: World) -> None:
        app = create_app(sessions=None)
        served = {(method, path) for method, path, _ in app_routes(app)}
        assert served == set(ROUTE_PERMISSIONS)

    def test_names_only_known_permissions(self) -> None:
        assert set(ROUTE_PERMISSIONS.values()) <= {*PERMISSIONS, PUBLIC, AUTHENTICATED, SIGNED}


class TestTheMatrix:
    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_nobody_is_refused_everywhere_but_on_public_routes_and_signed_webhooks(
        self, client: TestClient, method: str, path: str
    ) -> None:
        permission = ROUTE_PERMISSIONS[(method, path)]
        status, location = _call(client, method, path)
        if permission == PUBLIC:  # (POST /login without its form token is refused: 403)
            assert status < 500, (method, path, status)
            assert status != 401, (method, path)
            assert not location.startswith("/login?"), (method, path)
        elif permission == SIGNED:
            assert status in (401, 403), (method, path, status)
        elif path.startswith(API_PREFIX):
            assert status == 401, (method, path, status)
        else:  # a page sends the anonymous to log in (back to where they were, for a GET)
            assert status == 303, (method, path, status)
            assert location.split("?")[0] == "/login", (method, path, location)

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_each_role_is_allowed_exactly_where_the_tables_say(
        self, role_tokens: dict[Role, dict[str, str]], client: TestClient, method: str,
        path: str,
    ) -> None:
        permission = ROUTE_PERMISSIONS[(method, path)]
        if permission in (SIGNED, PUBLIC):
            pytest.skip("no user is needed")
        wrong = {}
        for role, headers in role_tokens.items():
            status, location = _call(client, method, path, headers)
            allowed = permission == AUTHENTICATED or role in PERMISSIONS[permission]
            # (log-out itself ends at the log-in page)
            refused_to_log_in = location.split("?")[0] == "/login" and path != "/logout"
            if (status >= 500 or status == 401 or refused_to_log_in
                    or (status == 403) == allowed):
                wrong[role.value] = status
        assert not wrong, f"{method} {path} needs {permission}: {wrong}"

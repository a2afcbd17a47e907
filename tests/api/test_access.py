"""The authorization matrix: every API route, called as every role and as nobody, is allowed
or refused exactly as the route table (`api/access.py`) and the permission table
(`orgs/permissions.py`) say; a route without an entry fails here (and the app will not start)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from bankvoc.api.access import AUTHENTICATED, ROUTE_PERMISSIONS, SIGNED, api_routes
from bankvoc.api.app import API_PREFIX, create_app
from bankvoc.orgs import service as org_service
from bankvoc.orgs.enums import Role
from bankvoc.orgs.permissions import PERMISSIONS
from tests.conftest import World

ROUTES = sorted(ROUTE_PERMISSIONS)
# Path parameters that name nothing stored: an allowed caller gets 404 or 422, never 403.
SAMPLES = {"reference": "TS20990101000001", "kpi": "complaints", "fmt": "csv",
           "channel": "wechat"}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "999999"), path)


def _call(client: TestClient, method: str, path: str,
          headers: dict[str, str] | None = None) -> int:
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, _url(path), headers=headers, json=body).status_code


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
        served = {(method, path) for method, path, _ in api_routes(app, API_PREFIX)}
        assert served == set(ROUTE_PERMISSIONS)

    def test_names_only_known_permissions(self) -> None:
        assert set(ROUTE_PERMISSIONS.values()) <= {*PERMISSIONS, AUTHENTICATED, SIGNED}


class TestTheMatrix:
    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_nobody_is_refused_everywhere_but_on_signed_webhooks(
        self, client: TestClient, method: str, path: str
    ) -> None:
        status = _call(client, method, path)
        assert status in ((401, 403) if ROUTE_PERMISSIONS[(method, path)] == SIGNED
                          else (401,)), (method, path, status)

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_each_role_is_allowed_exactly_where_the_tables_say(
        self, role_tokens: dict[Role, dict[str, str]], client: TestClient, method: str,
        path: str,
    ) -> None:
        permission = ROUTE_PERMISSIONS[(method, path)]
        if permission == SIGNED:
            pytest.skip("no user calls a signed webhook")
        wrong = {}
        for role, headers in role_tokens.items():
            status = _call(client, method, path, headers)
            allowed = permission == AUTHENTICATED or role in PERMISSIONS[permission]
            if status >= 500 or status == 401 or (status == 403) == allowed:
                wrong[role.value] = status
        assert not wrong, f"{method} {path} needs {permission}: {wrong}"

"""A user of one branch cannot read another branch's case through any route."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, auth


def _file_case(client: TestClient, world: World, org: str) -> str:
    response = client.post("/api/v1/cases", headers=auth(world, "hq_admin"),
                           json={"text": "网点服务态度差", "org": org})
    assert response.status_code == 201
    return str(response.json()["reference"])


def _case_routes(client: TestClient) -> list[str]:
    """Every GET route that takes a case reference, as the OpenAPI spec lists them."""
    paths = client.get("/openapi.json").json()["paths"]
    return [path for path, ops in paths.items()
            if "{reference}" in path and path.count("{") == 1 and "get" in ops]


class TestCaseScoping:
    def test_every_case_route_hides_another_branchs_case(
        self, client: TestClient, world: World
    ) -> None:
        shanghai_case = _file_case(client, world, "SH01")
        routes = _case_routes(client)
        assert len(routes) >= 3
        for path in routes:
            url = path.replace("{reference}", shanghai_case)
            assert client.get(url, headers=auth(world, "bj_handler")).status_code == 404, url
            # An open case has no dossier yet (409), but it is found all the same.
            expected = 409 if path.endswith(("/dossier", "/dossier.pdf")) else 200
            assert client.get(url, headers=auth(world, "sh_handler")).status_code == expected, url

    def test_lists_show_only_the_users_subtree(self, client: TestClient, world: World) -> None:
        _file_case(client, world, "SH01")
        beijing_case = _file_case(client, world, "BJ01")
        listed = client.get("/api/v1/cases", headers=auth(world, "bj_handler")).json()["items"]
        assert [c["reference"] for c in listed] == [beijing_case]
        head_office = client.get("/api/v1/cases", headers=auth(world, "hq_admin")).json()
        assert len(head_office["items"]) == 2

    def test_an_outlet_user_does_not_see_the_branch_above(
        self, client: TestClient, world: World
    ) -> None:
        _file_case(client, world, "BJ")
        listed = client.get("/api/v1/cases", headers=auth(world, "bj1_agent")).json()["items"]
        assert listed == []

    def test_filtering_by_another_branchs_org_is_refused(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get("/api/v1/cases", params={"org": "SH"},
                              headers=auth(world, "bj_handler"))
        assert response.status_code == 404
        assert response.json()["field"] == "org"

    def test_the_org_list_is_the_users_subtree(self, client: TestClient, world: World) -> None:
        orgs = client.get("/api/v1/orgs", headers=auth(world, "bj_handler")).json()
        assert sorted(o["code"] for o in orgs) == ["BJ", "BJ01"]

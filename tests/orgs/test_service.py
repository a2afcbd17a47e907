from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bankvoc.core.errors import Conflict, Invalid, Unauthorized
from bankvoc.orgs import service
from bankvoc.orgs.enums import OrgKind
from tests.conftest import World


class TestFreshDatabase:
    def test_has_the_head_office_and_an_admin(self, session: Session) -> None:
        root = service.get_org_by_code(session, code="HQ")
        admin = service.get_user(session, username="admin")
        assert root.path == f"/{root.id}/"
        assert admin.roles == ["admin"]
        assert admin.org_id == root.id


class TestCreateOrg:
    def test_path_extends_the_parents(self, world: World) -> None:
        bj = service.get_org_by_code(world.session, code="BJ")
        outlet = service.get_org_by_code(world.session, code="BJ01")
        assert outlet.path == f"{bj.path}{outlet.id}/"

    def test_duplicate_code_is_a_conflict(self, world: World) -> None:
        with pytest.raises(Conflict):
            service.create_org(world.session, code="BJ", name="x", kind=OrgKind.branch,
                               parent=None)


class TestCreateUser:
    def test_unknown_role_names_the_field(self, world: World) -> None:
        org = service.get_org_by_code(world.session, code="BJ")
        with pytest.raises(Invalid) as info:
            service.create_user(world.session, username="x", display_name="x", org=org,
                                roles=["boss"])
        assert info.value.field == "role"


class TestAuthenticate:
    def test_a_token_identifies_its_user_and_scope(self, world: World) -> None:
        actor = service.authenticate(world.session, token=world.tokens["bj_handler"])
        bj = service.get_org_by_code(world.session, code="BJ")
        assert (actor.username, actor.org_path, actor.roles) == (
            "bj_handler", bj.path, frozenset({"handler"}))

    def test_an_unknown_token_is_refused(self, world: World) -> None:
        with pytest.raises(Unauthorized):
            service.authenticate(world.session, token="bv_nope")

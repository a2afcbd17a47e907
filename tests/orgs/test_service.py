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

    def test_a_user_may_have_a_work_e_mail_and_mobile_for_deadline_alarms(
        self, world: World
    ) -> None:
        org = service.get_org_by_code(world.session, code="BJ")
        user = service.create_user(world.session, username="lead", display_name="lead",
                                   org=org, roles=["team_lead"], email=" lead@bank.example ",
                                   mobile="+86 139-0000-1111")
        assert (user.email, user.mobile) == ("lead@bank.example", "13900001111")
        service.set_contact(user, email="", mobile=None)
        assert (user.email, user.mobile) == (None, "13900001111")

    @pytest.mark.parametrize(("email", "mobile", "field"), [
        ("not-an-address", None, "email"), (None, "0755-1234567", "mobile")])
    def test_a_bad_contact_is_refused_naming_the_field(
        self, world: World, email: str | None, mobile: str | None, field: str
    ) -> None:
        user = service.get_user(world.session, username="bj_handler")
        with pytest.raises(Invalid) as info:
            service.set_contact(user, email=email, mobile=mobile)
        assert info.value.field == field


class TestAuthenticate:
    def test_a_token_identifies_its_user_and_scope(self, world: World) -> None:
        actor = service.authenticate(world.session, token=world.tokens["bj_handler"])
        bj = service.get_org_by_code(world.session, code="BJ")
        assert (actor.username, actor.org_path, actor.roles) == (
            "bj_handler", bj.path, frozenset({"handler"}))

    def test_an_unknown_token_is_refused(self, world: World) -> None:
        with pytest.raises(Unauthorized):
            service.authenticate(world.session, token="bv_nope")

"""The directory's administration (orgs.admin): each change writes one audit row with the
state before and after; the refusals; the org-subtree scope of every list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.core.errors import BankvocError, Forbidden, NotFound
from bankvoc.core.timeutil import utcnow
from bankvoc.intake.schemas import CaseCreate
from bankvoc.intake.service import register_case
from bankvoc.orgs import admin, auth, service
from bankvoc.orgs.enums import ChangeAction, ChangeEntity, Role
from bankvoc.orgs.errors import (
    DirectoryConflict,
    DirectoryForbidden,
    DirectoryInvalid,
    LoginFailed,
    PasswordRejected,
)
from bankvoc.orgs.models import DirectoryChange, Org, User
from bankvoc.orgs.permissions import PERMISSIONS
from bankvoc.orgs.service import Actor
from tests.conftest import World
from tests.orgs.directory_data import lock_out

PASSWORD = "Initial-pass-2026"
E = TypeVar("E", bound=BankvocError)


def org(world: World, code: str) -> Org:
    return service.get_org_by_code(world.session, code=code)


def user(world: World, username: str) -> User:
    return service.get_user(world.session, username=username)


def trail(session: Session) -> list[DirectoryChange]:
    session.flush()
    return list(session.scalars(select(DirectoryChange).order_by(DirectoryChange.id)))


def branch_admin(world: World, code: str = "BJ") -> Actor:
    """An administrator whose home org is a branch."""
    name = f"{code.lower()}.admin"
    admin.create_user(world.session, actor=world.actor("hq_admin"), username=name,
                      display_name="分行管理员", org_id=org(world, code).id, roles=["admin"])
    actor: Actor = world.actor(name)
    return actor


@pytest.fixture
def cpo_manager(world: World, monkeypatch: pytest.MonkeyPatch) -> Actor:
    """A user manager who is no administrator (only a change of the permission table could
    make one: consumer protection given every permission), and `hq_admin` the last active
    administrator."""
    for permission, holders in list(PERMISSIONS.items()):
        monkeypatch.setitem(PERMISSIONS, permission, holders | {Role.cpo})
    admin.deactivate_user(world.session, actor=world.actor("hq_admin"),
                          user_id=user(world, "admin").id)
    service.create_user(world.session, username="cpo_boss", display_name="cpo",
                        org=org(world, "HQ"), roles=["cpo"])
    actor: Actor = world.actor("cpo_boss")
    return actor


def new_user(world: World, name: str = "li.lei", *, code: str = "BJ",
             roles: tuple[str, ...] = ("handler",), by: str = "hq_admin") -> User:
    return admin.create_user(world.session, actor=world.actor(by), username=name,
                             display_name="李雷", org_id=org(world, code).id, roles=list(roles),
                             email="li.lei@bank.example", mobile="13900001111",
                             password=PASSWORD)


def refused(error: type[E], call: Callable[..., object], *args: object,
            **kwargs: object) -> E:
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    return info.value


# --- orgs --------------------------------------------------------------------------------------

class TestOrgTree:
    def test_lists_the_subtree_parents_first_with_depth_and_counts(self, world: World) -> None:
        nodes = admin.org_tree(world.session, actor=branch_admin(world))
        assert [(n.org.code, n.depth, n.users, n.children) for n in nodes] == [
            ("BJ", 0, 2, 1), ("BJ01", 1, 1, 0)]

    def test_head_office_sees_every_org(self, world: World) -> None:
        codes = [n.org.code for n in admin.org_tree(world.session, actor=world.actor("hq_admin"))]
        assert set(codes) == {"HQ", "BJ", "BJ01", "SH", "SH01", "PBC"}
        assert codes[0] == "HQ"

    def test_needs_org_manage(self, world: World) -> None:
        refused(Forbidden, admin.org_tree, world.session, actor=world.actor("bj_handler"))


class TestCreateOrg:
    def test_creates_a_child_and_records_it(self, world: World) -> None:
        bj = org(world, "BJ")
        made = admin.create_org(world.session, actor=world.actor("hq_admin"), parent_id=bj.id,
                                code="BJ02", name="北京朝阳支行", name_en="Chaoyang",
                                kind="sub_branch", note="新设")
        assert made.path == f"{bj.path}{made.id}/"
        [row] = trail(world.session)
        assert (row.entity, row.entity_id, row.action, row.org_id) == ("org", made.id,
                                                                      "create", made.id)
        assert row.before is None
        assert row.after == {"code": "BJ02", "name": "北京朝阳支行", "name_en": "Chaoyang",
                             "kind": "sub_branch", "parent": "BJ", "active": True}
        assert (row.actor_username, row.note) == ("hq_admin", "新设")

    def test_a_duplicate_code_is_refused_in_any_case(self, world: World) -> None:
        error = refused(DirectoryConflict, admin.create_org, world.session,
                        actor=world.actor("hq_admin"), parent_id=org(world, "BJ").id,
                        code="bj01", name="x", kind="outlet")
        assert (error.field, error.reason) == ("code", "code_taken")
        assert trail(world.session) == []

    @pytest.mark.parametrize(("values", "field", "reason"), [
        ({"code": "BJ 02"}, "code", "code_pattern"),
        ({"code": ""}, "code", "required"),
        ({"name": "  "}, "name", "required"),
        ({"name_en": "x" * 201}, "name_en", "too_long"),
        ({"kind": "head_office"}, "kind", "kind"),
        ({"kind": "palace"}, "kind", "kind"),
    ])
    def test_a_bad_field_is_refused_naming_it(self, world: World, values: dict[str, str],
                                              field: str, reason: str) -> None:
        data = {"code": "BJ02", "name": "支行", "name_en": "", "kind": "outlet", **values}
        error = refused(DirectoryInvalid, admin.create_org, world.session,
                        actor=world.actor("hq_admin"), parent_id=org(world, "BJ").id, **data)
        assert (error.field, error.reason) == (field, reason)

    def test_a_branch_admin_adds_only_inside_their_subtree(self, world: World) -> None:
        error = refused(NotFound, admin.create_org, world.session, actor=branch_admin(world),
                        parent_id=org(world, "SH").id, code="SH02", name="x", kind="outlet")
        assert error.field == "parent"

    def test_not_under_a_deactivated_parent(self, world: World) -> None:
        hq = world.actor("hq_admin")
        admin.deactivate_org(world.session, actor=hq, org_id=org(world, "PBC").id)
        error = refused(DirectoryConflict, admin.create_org, world.session, actor=hq,
                        parent_id=org(world, "PBC").id, code="PBC1", name="x", kind="centre")
        assert (error.field, error.reason) == ("parent", "org_inactive")


class TestUpdateOrg:
    def test_renames_and_records_before_and_after(self, world: World) -> None:
        row = admin.update_org(world.session, actor=world.actor("hq_admin"),
                               org_id=org(world, "SH").id, name="上海分行营业部",
                               name_en="Shanghai")
        assert row is not None
        assert row.action == "update"
        assert row.before is not None
        assert row.after is not None
        assert (row.before["name"], row.after["name"]) == ("上海分行", "上海分行营业部")
        assert (row.before["name_en"], row.after["name_en"]) == (None, "Shanghai")
        assert len(trail(world.session)) == 1

    def test_nothing_changed_writes_nothing(self, world: World) -> None:
        assert admin.update_org(world.session, actor=world.actor("hq_admin"),
                                org_id=org(world, "SH").id, name="上海分行",
                                name_en="") is None
        assert trail(world.session) == []

    def test_another_branch_is_as_if_it_did_not_exist(self, world: World) -> None:
        refused(NotFound, admin.update_org, world.session, actor=branch_admin(world),
                org_id=org(world, "SH").id, name="x", name_en=None)


class TestDeactivateOrg:
    def test_deactivates_an_empty_org_and_records_it(self, world: World) -> None:
        admin.deactivate_org(world.session, actor=world.actor("hq_admin"),
                             org_id=org(world, "PBC").id, note="撤并")
        assert not org(world, "PBC").active
        [row] = trail(world.session)
        assert row.action == "deactivate"
        assert row.before is not None
        assert row.after is not None
        assert (row.before["active"], row.after["active"], row.note) == (True, False, "撤并")

    def test_refused_while_it_has_active_users(self, world: World) -> None:
        error = refused(DirectoryConflict, admin.deactivate_org, world.session,
                        actor=world.actor("hq_admin"), org_id=org(world, "BJ01").id)
        assert (error.reason, error.params) == ("active_users", {"n": 1})
        assert org(world, "BJ01").active

    def test_refused_while_it_has_active_sub_orgs(self, world: World) -> None:
        error = refused(DirectoryConflict, admin.deactivate_org, world.session,
                        actor=world.actor("hq_admin"), org_id=org(world, "SH").id)
        assert error.reason == "active_children"

    def test_refused_while_it_has_open_cases(self, world: World) -> None:
        hq = world.actor("hq_admin")
        register_case(world.session, actor=hq, data=CaseCreate.model_validate({
            "channel": "branch", "org": "SH01", "text": "网点排队时间太长，没人管。"}))
        error = refused(DirectoryConflict, admin.deactivate_org, world.session, actor=hq,
                        org_id=org(world, "SH01").id)
        assert (error.reason, error.params) == ("open_cases", {"n": 1})

    def test_never_the_head_office_nor_ones_own_org(self, world: World) -> None:
        hq = world.actor("hq_admin")
        assert refused(DirectoryConflict, admin.deactivate_org, world.session, actor=hq,
                       org_id=org(world, "HQ").id).reason == "root"
        bj = branch_admin(world)
        assert refused(DirectoryForbidden, admin.deactivate_org, world.session, actor=bj,
                       org_id=org(world, "BJ").id).reason == "own_org"


class TestReactivateOrg:
    def test_reactivates_and_records_it(self, world: World) -> None:
        hq = world.actor("hq_admin")
        admin.deactivate_org(world.session, actor=hq, org_id=org(world, "PBC").id)
        admin.reactivate_org(world.session, actor=hq, org_id=org(world, "PBC").id)
        assert org(world, "PBC").active
        assert [r.action for r in trail(world.session)] == ["deactivate", "reactivate"]

    def test_refused_for_an_active_org(self, world: World) -> None:
        assert refused(DirectoryConflict, admin.reactivate_org, world.session,
                       actor=world.actor("hq_admin"),
                       org_id=org(world, "PBC").id).reason == "already_active"


# --- users -------------------------------------------------------------------------------------

class TestListUsers:
    def test_a_branch_admin_sees_only_their_subtree(self, world: World) -> None:
        users, total = admin.list_users(world.session, actor=branch_admin(world))
        assert {u.username for u in users} == {"bj.admin", "bj1_agent", "bj_handler"}
        assert total == 3

    @pytest.mark.parametrize(("filters", "expected"), [
        ({"q": "HANDLER"}, ["bj_handler", "sh_handler"]),
        ({"role": Role.analyst}, ["hq_analyst"]),
        ({"org": "SH"}, ["sh_handler"]),
        ({"active": False}, []),
    ])
    def test_filters_by_words_role_org_and_status(self, world: World,
                                                  filters: dict[str, object],
                                                  expected: list[str]) -> None:
        filters = dict(filters)  # (the parameters are shared by both databases' runs)
        code = filters.pop("org", None)
        if code:
            filters["org_id"] = org(world, str(code)).id
        users, total = admin.list_users(world.session, actor=world.actor("hq_admin"),
                                        **filters)  # type: ignore[arg-type]
        assert sorted(u.username for u in users) == expected
        assert total == len(expected)

    def test_an_org_outside_the_subtree_is_not_found(self, world: World) -> None:
        refused(NotFound, admin.list_users, world.session, actor=branch_admin(world),
                org_id=org(world, "SH").id)

    def test_needs_user_manage(self, world: World) -> None:
        refused(Forbidden, admin.list_users, world.session, actor=world.actor("hq_analyst"))


class TestGetUser:
    def test_another_branchs_user_is_not_found(self, world: World) -> None:
        refused(NotFound, admin.get_user, world.session, actor=branch_admin(world),
                user_id=user(world, "sh_handler").id)


class TestCreateUser:
    def test_creates_with_an_initial_password_and_records_it(self, world: World) -> None:
        made = new_user(world)
        assert made.must_change_password
        assert auth.verify_password(made.password_hash, PASSWORD)
        [row] = trail(world.session)
        assert (row.entity, row.entity_id, row.action) == ("user", made.id, "create")
        assert row.after == {"username": "li.lei", "display_name": "李雷", "org": "BJ",
                             "roles": ["handler"], "active": True,
                             "email": "l***@bank.example", "mobile": "139****1111"}
        assert "password" not in str(row.after)
        assert str(made.password_hash) not in str(row.after)

    def test_the_user_must_change_the_initial_password_at_log_in(self, world: World) -> None:
        new_user(world)
        done = auth.log_in(world.session, username="li.lei", password=PASSWORD,
                           client_ip="10.0.0.1")
        assert done.user.must_change_password

    def test_a_taken_user_name_is_refused_in_any_case(self, world: World) -> None:
        error = refused(DirectoryConflict, new_user, world, "BJ_Handler")
        assert (error.field, error.reason) == ("username", "username_taken")

    @pytest.mark.parametrize(("values", "error", "field", "reason"), [
        ({"username": "li lei"}, DirectoryInvalid, "username", "username_pattern"),
        ({"display_name": ""}, DirectoryInvalid, "display_name", "required"),
        ({"roles": []}, DirectoryInvalid, "roles", "roles_empty"),
        ({"roles": ["boss"]}, DirectoryInvalid, "roles", "role_unknown"),
        ({"email": "not-an-address"}, BankvocError, "email", None),
        ({"mobile": "0755-1234567"}, BankvocError, "mobile", None),
        ({"password": ""}, DirectoryInvalid, "password", "required"),
        ({"password": "short"}, PasswordRejected, "password", "too_short"),
    ])
    def test_a_bad_field_is_refused_naming_it(self, world: World, values: dict[str, object],
                                              error: type[BankvocError], field: str,
                                              reason: str | None) -> None:
        data: dict[str, object] = {"username": "li.lei", "display_name": "李雷",
                                   "org_id": org(world, "BJ").id, "roles": ["handler"],
                                   "email": "", "mobile": "", "password": PASSWORD, **values}
        found = refused(error, admin.create_user, world.session,
                        actor=world.actor("hq_admin"), **data)
        assert found.field == field
        assert getattr(found, "reason", None) == reason
        assert str(data["email"]) not in found.message or not data["email"]

    def test_not_in_an_org_outside_the_subtree(self, world: World) -> None:
        branch_admin(world)
        error = refused(NotFound, new_user, world, code="SH", by="bj.admin")
        assert error.field == "org"

    def test_a_role_beyond_ones_own_permissions_is_refused(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(PERMISSIONS, "user.manage", frozenset({Role.admin, Role.team_lead}))
        service.create_user(world.session, username="lead", display_name="lead",
                            org=org(world, "BJ"), roles=["team_lead"])
        error = refused(DirectoryForbidden, new_user, world, roles=("admin",), by="lead")
        assert (error.field, error.reason) == ("roles", "role_beyond")
        assert trail(world.session) == []

    def test_the_command_line_records_cli(self, world: World) -> None:
        admin.create_user(world.session, actor=None, username="ops", display_name="ops",
                          org_id=org(world, "HQ").id, roles=["auditor"])
        [row] = trail(world.session)
        assert (row.actor_username, row.actor_user_id, row.action) == ("cli", None, "create")


class TestUpdateUser:
    def test_changing_roles_is_recorded_as_roles(self, world: World) -> None:
        target = user(world, "bj_handler")
        row = admin.update_user(world.session, actor=world.actor("hq_admin"),
                                user_id=target.id, display_name="bj_handler",
                                org_id=target.org_id, roles=["handler", "team_lead"],
                                email="", mobile="")
        assert row is not None
        assert row.action == "roles"
        assert row.before is not None
        assert row.after is not None
        assert (row.before["roles"], row.after["roles"]) == (["handler"],
                                                             ["handler", "team_lead"])
        assert len(trail(world.session)) == 1

    def test_moving_a_user_is_an_update_seen_from_the_new_org(self, world: World) -> None:
        target = user(world, "bj_handler")
        row = admin.update_user(world.session, actor=world.actor("hq_admin"),
                                user_id=target.id, display_name="王芳",
                                org_id=org(world, "SH").id, roles=["handler"], email="",
                                mobile="")
        assert row is not None
        assert row.action == "update"
        assert row.before is not None
        assert row.after is not None
        assert (row.before["org"], row.after["org"]) == ("BJ", "SH")
        assert row.org_id == org(world, "SH").id

    def test_nothing_changed_writes_nothing(self, world: World) -> None:
        target = user(world, "bj_handler")
        assert admin.update_user(world.session, actor=world.actor("hq_admin"),
                                 user_id=target.id, display_name="bj_handler",
                                 org_id=target.org_id, roles=["handler"], email=None,
                                 mobile=None) is None
        assert trail(world.session) == []

    def test_nobody_edits_their_own_roles(self, world: World) -> None:
        me = user(world, "hq_admin")
        error = refused(DirectoryForbidden, admin.update_user, world.session,
                        actor=world.actor("hq_admin"), user_id=me.id, display_name="me",
                        org_id=me.org_id, roles=["admin", "cpo"], email="", mobile="")
        assert (error.field, error.reason) == ("roles", "own_roles")

    def test_nobody_moves_themselves(self, world: World) -> None:
        me = user(world, "hq_admin")
        error = refused(DirectoryForbidden, admin.update_user, world.session,
                        actor=world.actor("hq_admin"), user_id=me.id, display_name="me",
                        org_id=org(world, "BJ").id, roles=["admin"], email="", mobile="")
        assert (error.field, error.reason) == ("org", "own_org")

    def test_removing_the_admin_role_from_the_last_admin_is_refused(
            self, world: World, cpo_manager: Actor) -> None:
        target = user(world, "hq_admin")
        error = refused(DirectoryConflict, admin.update_user, world.session, actor=cpo_manager,
                        user_id=target.id, display_name="hq_admin", org_id=target.org_id,
                        roles=["handler"], email="", mobile="")
        assert (error.field, error.reason) == ("roles", "last_admin")
        assert target.roles == ["admin"]

    def test_a_user_holding_more_than_the_actor_is_not_theirs_to_change(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(PERMISSIONS, "user.manage", frozenset({Role.admin, Role.team_lead}))
        service.create_user(world.session, username="lead", display_name="lead",
                            org=org(world, "HQ"), roles=["team_lead"])
        target = user(world, "hq_analyst")
        error = refused(DirectoryForbidden, admin.reset_password, world.session,
                        actor=world.actor("lead"), user_id=target.id, password=PASSWORD)
        assert error.reason == "outranks"


class TestDeactivateUser:
    def test_ends_the_sessions_and_log_in_and_records_it(self, world: World) -> None:
        target = new_user(world)
        auth.set_password(world.session, user=target, password=PASSWORD)
        opened = auth.log_in(world.session, username="li.lei", password=PASSWORD,
                             client_ip="10.0.0.2")
        admin.deactivate_user(world.session, actor=world.actor("hq_admin"), user_id=target.id,
                              note="离职")
        world.session.refresh(opened.user_session)
        assert opened.user_session.revoked_at is not None
        with pytest.raises(BankvocError):
            auth.resolve_session(world.session, token=opened.token)
        with pytest.raises(LoginFailed):
            auth.log_in(world.session, username="li.lei", password=PASSWORD,
                        client_ip="10.0.0.2")
        row = trail(world.session)[-1]
        assert row.action == "deactivate"
        assert row.note == "离职"
        assert row.before is not None
        assert row.after is not None
        assert (row.before["active"], row.after["active"]) == (True, False)

    def test_nobody_deactivates_themselves(self, world: World) -> None:
        error = refused(DirectoryForbidden, admin.deactivate_user, world.session,
                        actor=world.actor("hq_admin"), user_id=user(world, "hq_admin").id)
        assert error.reason == "self"

    def test_the_last_active_admin_stays_active(self, world: World,
                                                cpo_manager: Actor) -> None:
        error = refused(DirectoryConflict, admin.deactivate_user, world.session,
                        actor=cpo_manager, user_id=user(world, "hq_admin").id)
        assert error.reason == "last_admin"
        assert user(world, "hq_admin").active

    def test_an_inactive_user_is_refused(self, world: World) -> None:
        hq = world.actor("hq_admin")
        target = user(world, "bj_handler")
        admin.deactivate_user(world.session, actor=hq, user_id=target.id)
        assert refused(DirectoryConflict, admin.deactivate_user, world.session, actor=hq,
                       user_id=target.id).reason == "already_inactive"


class TestReactivateUser:
    def test_reactivates_and_records_it(self, world: World) -> None:
        hq = world.actor("hq_admin")
        target = user(world, "bj_handler")
        admin.deactivate_user(world.session, actor=hq, user_id=target.id)
        admin.reactivate_user(world.session, actor=hq, user_id=target.id)
        assert target.active
        assert [r.action for r in trail(world.session)] == ["deactivate", "reactivate"]

    def test_refused_while_the_users_org_is_deactivated(self, world: World) -> None:
        hq = world.actor("hq_admin")
        target = user(world, "bj1_agent")
        admin.deactivate_user(world.session, actor=hq, user_id=target.id)
        admin.deactivate_org(world.session, actor=hq, org_id=org(world, "BJ01").id)
        error = refused(DirectoryConflict, admin.reactivate_user, world.session, actor=hq,
                        user_id=target.id)
        assert (error.field, error.reason) == ("org", "org_inactive")


class TestResetPassword:
    def test_sets_a_new_initial_password_ends_sessions_and_records_no_hash(
            self, world: World) -> None:
        target = user(world, "bj_handler")
        auth.set_password(world.session, user=target, password="Own-password-2026")
        opened = auth.log_in(world.session, username="bj_handler",
                             password="Own-password-2026", client_ip="10.0.0.3")
        admin.reset_password(world.session, actor=world.actor("hq_admin"), user_id=target.id,
                             password=PASSWORD)
        world.session.refresh(opened.user_session)
        assert opened.user_session.revoked_at is not None
        assert target.must_change_password
        [row] = trail(world.session)
        assert row.action == "password_reset"
        assert (row.before, row.after) == ({"initial_password": False},
                                           {"initial_password": True})

    def test_a_weak_password_is_refused_naming_the_field(self, world: World) -> None:
        error = refused(PasswordRejected, admin.reset_password, world.session,
                        actor=world.actor("hq_admin"), user_id=user(world, "bj_handler").id,
                        password="bj_handler")
        assert error.field == "password"


class TestUnlockUser:
    def test_unlocks_a_locked_account_and_records_it(self, world: World) -> None:
        target = user(world, "bj_handler")
        auth.set_password(world.session, user=target, password="Own-password-2026")
        lock_out(world.session, "bj_handler")
        assert auth.lock_state(world.session, username="bj_handler") is not None
        assert admin.unlock_user(world.session, actor=world.actor("hq_admin"),
                                 user_id=target.id)
        assert auth.lock_state(world.session, username="bj_handler") is None
        [row] = trail(world.session)
        assert (row.action, row.before, row.after) == ("unlock", {"locked": True},
                                                      {"locked": False})

    def test_an_unlocked_account_writes_nothing(self, world: World) -> None:
        assert not admin.unlock_user(world.session, actor=world.actor("hq_admin"),
                                     user_id=user(world, "bj_handler").id)
        assert trail(world.session) == []


# --- the trail -----------------------------------------------------------------------------------

class TestChanges:
    def test_a_branch_admin_sees_only_their_subtrees_changes(self, world: World) -> None:
        hq = world.actor("hq_admin")
        bj = branch_admin(world)
        new_user(world, "sh.user", code="SH")
        new_user(world, "bj.user", code="BJ")
        rows, total = admin.changes(world.session, actor=bj)
        assert [r.after["username"] for r in rows if r.after] == ["bj.user", "bj.admin"]
        assert total == 2
        assert admin.changes(world.session, actor=hq)[1] == 3

    def test_filters_by_entity_action_actor_and_time(self, world: World) -> None:
        hq = world.actor("hq_admin")
        new_user(world)
        admin.update_org(world.session, actor=hq, org_id=org(world, "SH").id, name="沪",
                         name_en=None)
        now = utcnow()
        assert [r.entity for r in admin.changes(world.session, actor=hq,
                                                entity=ChangeEntity.org)[0]] == ["org"]
        assert admin.changes(world.session, actor=hq, action=ChangeAction.create)[1] == 1
        assert admin.changes(world.session, actor=hq, by="nobody")[1] == 0
        assert admin.changes(world.session, actor=hq, since=now + timedelta(hours=1))[1] == 0
        assert admin.changes(world.session, actor=hq, until=now + timedelta(hours=1))[1] == 2

    def test_needs_an_admin_permission(self, world: World) -> None:
        refused(Forbidden, admin.changes, world.session, actor=world.actor("bj_handler"))


class TestHistory:
    def test_one_entitys_changes_newest_first(self, world: World) -> None:
        hq = world.actor("hq_admin")
        made = new_user(world)
        admin.deactivate_user(world.session, actor=hq, user_id=made.id)
        new_user(world, "other")
        rows = admin.history(world.session, actor=hq, entity=ChangeEntity.user,
                             entity_id=made.id)
        assert [r.action for r in rows] == ["deactivate", "create"]


class TestMayGrant:
    def test_an_admin_may_grant_every_role(self, world: World) -> None:
        assert admin.grantable_roles(world.actor("hq_admin")) == list(Role)

    def test_a_role_is_grantable_only_with_all_its_permissions(self, world: World) -> None:
        handler = world.actor("bj_handler")
        assert admin.may_grant(handler, "handler")
        assert not admin.may_grant(handler, "admin")
        assert not admin.may_grant(handler, "analyst")

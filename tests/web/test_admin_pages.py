"""The administration pages (orgs, users, roles, the change log), through the whole app, on
SQLite and PostgreSQL: each change is one audit row; refusals come back by their field."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.orgs import admin, auth, service
from bankvoc.orgs.errors import LoginFailed
from bankvoc.orgs.models import DirectoryChange, Org, User
from tests.conftest import World, log_in
from tests.orgs.directory_data import lock_out

PASSWORD = "Initial-pass-2026"


def org_id(world: World, code: str) -> int:
    return service.get_org_by_code(world.session, code=code).id


def user_id(world: World, username: str) -> int:
    return service.get_user(world.session, username=username).id


def changes(world: World) -> list[DirectoryChange]:
    world.session.expire_all()
    return list(world.session.scalars(select(DirectoryChange).order_by(DirectoryChange.id)))


def field_error(html: str, field_id: str) -> str:
    """The message shown under the field, which says it is invalid."""
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html), field_id
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    assert found is not None, field_id
    return found.group(1)


def new_user_form(world: World, csrf: str, **values: object) -> dict[str, object]:
    return {"username": "li.lei", "display_name": "李雷", "org": str(org_id(world, "BJ")),
            "roles": ["handler"], "email": "li.lei@bank.example", "mobile": "13900001111",
            "password": PASSWORD, "note": "新入职", "csrf_token": csrf, **values}


def branch_admin_client(client: TestClient, world: World) -> TestClient:
    """A second browser, logged in as an administrator of the Beijing branch."""
    admin.create_user(world.session, actor=None, username="bj.admin", display_name="京管",
                      org_id=org_id(world, "BJ"), roles=["admin"])
    other = TestClient(client.app)
    log_in(other, world.session, "bj.admin")
    return other


class TestAdminHome:
    def test_lists_the_areas_of_an_administrator(self, client: TestClient, demo: str) -> None:
        html = client.get("/admin").text
        for path in ("/admin/orgs", "/admin/users", "/admin/roles", "/admin/audit"):
            assert f'href="{path}"' in html
        assert 'data-group="directory"' in html
        assert '<a href="/admin" aria-current="page">管理</a>' in html

    def test_a_handler_has_no_area_and_no_admin_link(self, client: TestClient,
                                                     world: World) -> None:
        log_in(client, world.session, "bj_handler")
        html = client.get("/admin").text
        assert "您的角色没有可用的管理功能。" in html
        assert 'href="/admin/users"' not in html
        assert 'href="/admin"' not in client.get("/cases").text

    def test_in_english(self, client: TestClient, demo: str) -> None:
        html = client.get("/admin?lang=en").text
        assert "Administration" in html
        assert "Org tree" in html


class TestOrgTreePage:
    def test_shows_the_hierarchy(self, client: TestClient, demo: str) -> None:
        html = client.get("/admin/orgs").text
        assert re.search(r'data-org="HQ" data-depth="0"', html)
        assert re.search(r'data-org="BJ01" data-depth="2"', html)
        assert html.index('data-org="BJ"') < html.index('data-org="BJ01"')

    def test_a_branch_admin_sees_only_their_subtree(self, client: TestClient,
                                                    world: World) -> None:
        html = branch_admin_client(client, world).get("/admin/orgs").text
        assert 'data-org="BJ01"' in html
        assert 'data-org="SH"' not in html
        assert 'data-org="HQ"' not in html


class TestCreateOrgPage:
    def test_creates_a_sub_org_and_shows_its_history(self, client: TestClient, world: World,
                                                     demo: str) -> None:
        response = client.post("/admin/orgs", data={
            "parent": str(org_id(world, "BJ")), "code": "BJ02", "name": "北京朝阳支行",
            "name_en": "Chaoyang", "kind": "sub_branch", "note": "新设网点",
            "csrf_token": demo}, follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "已创建。" in html
        assert '<tr data-change="create">' in html
        assert "新设网点" in html
        [row] = changes(world)
        assert (row.entity, row.action, row.actor_username) == ("org", "create", "admin")

    @pytest.mark.parametrize(("values", "status", "field", "message"), [
        ({"code": "BJ 02"}, 422, "f-code", "只能包含字母、数字、- 和 _"),
        ({"code": "bj01"}, 409, "f-code", "该机构代码已被使用"),
        ({"name": ""}, 422, "f-name", "请填写此项"),
        ({"kind": ""}, 422, "f-kind", "请选择机构类型"),
        ({"parent": "x"}, 404, "f-parent", "请选择您权限范围内的机构"),
    ])
    def test_a_refusal_is_explained_by_its_field(
            self, client: TestClient, world: World, demo: str, values: dict[str, str],
            status: int, field: str, message: str) -> None:
        data = {"parent": str(org_id(world, "BJ")), "code": "BJ02", "name": "支行",
                "kind": "outlet", "csrf_token": demo, **values}
        response = client.post("/admin/orgs", data=data)
        assert response.status_code == status
        assert message in field_error(response.text, field)
        assert f'href="#{field}"' in response.text
        assert changes(world) == []

    def test_a_form_without_its_csrf_token_is_refused(self, client: TestClient,
                                                      world: World, demo: str) -> None:
        response = client.post("/admin/orgs", data={"parent": str(org_id(world, "BJ")),
                                                    "code": "BJ02", "name": "x",
                                                    "kind": "outlet"})
        assert response.status_code == 403
        assert changes(world) == []


class TestOrgPage:
    def test_renames_an_org(self, client: TestClient, world: World, demo: str) -> None:
        sh = org_id(world, "SH")
        response = client.post(f"/admin/orgs/{sh}", data={
            "name": "上海分行营业部", "name_en": "Shanghai", "csrf_token": demo},
            follow_redirects=False)
        assert response.status_code == 303
        html = client.get(f"/admin/orgs/{sh}").text
        assert "上海分行 → 上海分行营业部" in html
        assert [r.action for r in changes(world)] == ["update"]

    def test_refuses_to_deactivate_an_org_with_active_users(
            self, client: TestClient, world: World, demo: str) -> None:
        response = client.post(f"/admin/orgs/{org_id(world, 'BJ01')}/deactivate",
                               data={"csrf_token": demo})
        assert response.status_code == 409
        assert "该机构还有 1 个在用用户，请先将其调往其他机构或停用" in response.text
        assert changes(world) == []

    def test_deactivates_an_empty_org(self, client: TestClient, world: World,
                                      demo: str) -> None:
        pbc = org_id(world, "PBC")
        response = client.post(f"/admin/orgs/{pbc}/deactivate",
                               data={"csrf_token": demo, "note": "撤并"},
                               follow_redirects=False)
        assert response.status_code == 303
        assert "已停用。" in client.get(response.headers["location"]).text
        assert not world.session.get(Org, pbc, populate_existing=True).active  # type: ignore[union-attr]

    def test_another_branchs_org_is_not_found(self, client: TestClient,
                                              world: World) -> None:
        other = branch_admin_client(client, world)
        assert other.get(f"/admin/orgs/{org_id(world, 'SH')}").status_code == 404


class TestUserList:
    def test_filters_by_role(self, client: TestClient, demo: str) -> None:
        html = client.get("/admin/users?role=handler").text
        assert set(re.findall(r'data-user="([^"]+)"', html)) == {"bj_handler", "sh_handler"}

    def test_a_branch_admin_sees_only_their_subtree(self, client: TestClient,
                                                    world: World) -> None:
        html = branch_admin_client(client, world).get("/admin/users").text
        assert set(re.findall(r'data-user="([^"]+)"', html)) == {"bj.admin", "bj_handler",
                                                                 "bj1_agent"}

    def test_an_org_outside_the_subtree_is_explained(self, client: TestClient,
                                                     world: World) -> None:
        other = branch_admin_client(client, world)
        response = other.get(f"/admin/users?org={org_id(world, 'SH')}")
        assert response.status_code == 422
        assert "请选择您权限范围内的机构" in response.text


class TestCreateUserPage:
    def test_creates_a_user_with_an_initial_password(self, client: TestClient, world: World,
                                                     demo: str) -> None:
        response = client.post("/admin/users", data=new_user_form(world, demo),
                               follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "已创建。" in html
        assert "l***@bank.example" in html  # the history shows work contacts masked
        created = service.get_user(world.session, username="li.lei")
        world.session.refresh(created)
        assert created.must_change_password
        [row] = changes(world)
        assert (row.action, row.note) == ("create", "新入职")
        assert PASSWORD not in str(row.after)

    @pytest.mark.parametrize(("values", "status", "field", "message"), [
        ({"username": "bj_handler"}, 409, "f-username", "该用户名已被使用"),
        ({"username": "li lei"}, 422, "f-username", "只能包含字母、数字"),
        ({"mobile": "0755-1234567"}, 422, "f-mobile", "不是有效的中国大陆手机号"),
        ({"email": "nope"}, 422, "f-email", "不是有效的邮箱地址"),
        ({"roles": []}, 422, "f-roles", "请至少选择一个角色"),
        ({"password": "short"}, 422, "f-password", "至少需要 10 个字符"),
        ({"password": ""}, 422, "f-password", "请填写此项"),
    ])
    def test_a_refusal_is_explained_by_its_field(
            self, client: TestClient, world: World, demo: str, values: dict[str, object],
            status: int, field: str, message: str) -> None:
        response = client.post("/admin/users", data=new_user_form(world, demo, **values))
        assert response.status_code == status
        assert message in field_error(response.text, field)
        assert 'value="李雷"' in response.text  # what was typed stays …
        assert PASSWORD not in response.text  # … but never the password
        assert changes(world) == []

    def test_the_form_offers_only_grantable_roles(self, client: TestClient,
                                                  demo: str) -> None:
        html = client.get("/admin/users/new").text
        assert 'id="f-roles-admin"' in html
        assert 'autocomplete="new-password"' in html


class TestUserPage:
    def test_nobody_changes_their_own_roles(self, client: TestClient, world: World,
                                            demo: str) -> None:
        me = user_id(world, "admin")
        html = client.get(f"/admin/users/{me}").text
        assert 'id="own-account"' in html
        response = client.post(f"/admin/users/{me}", data={
            "display_name": "系统管理员", "org": str(org_id(world, "HQ")),
            "roles": ["admin", "cpo"], "csrf_token": demo})
        assert response.status_code == 403
        assert "不能修改自己的角色" in field_error(response.text, "e-roles")
        assert changes(world) == []

    def test_changes_roles_and_shows_them_in_the_history(
            self, client: TestClient, world: World, demo: str) -> None:
        target = user_id(world, "bj_handler")
        response = client.post(f"/admin/users/{target}", data={
            "display_name": "王芳", "org": str(org_id(world, "BJ")),
            "roles": ["handler", "team_lead"], "csrf_token": demo}, follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "投诉处理人 → 投诉处理人、班组长" in html
        assert [r.action for r in changes(world)] == ["roles"]

    def test_deactivation_ends_the_users_sessions(self, client: TestClient, world: World,
                                                  demo: str) -> None:
        theirs = TestClient(client.app)
        log_in(theirs, world.session, "sh_handler")
        assert theirs.get("/cases", follow_redirects=False).status_code == 200
        response = client.post(f"/admin/users/{user_id(world, 'sh_handler')}/deactivate",
                               data={"csrf_token": demo, "note": "离职"},
                               follow_redirects=False)
        assert response.status_code == 303
        ended = theirs.get("/cases", follow_redirects=False)
        assert ended.status_code == 303
        assert ended.headers["location"].startswith("/login")
        world.session.expire_all()
        with pytest.raises(LoginFailed):
            auth.log_in(world.session, username="sh_handler", password="Test-password-2026",
                        client_ip="10.9.9.9")
        assert [r.action for r in changes(world)] == ["deactivate"]

    def test_refuses_to_deactivate_oneself(self, client: TestClient, world: World,
                                           demo: str) -> None:
        response = client.post(f"/admin/users/{user_id(world, 'admin')}/deactivate",
                               data={"csrf_token": demo})
        assert response.status_code == 403
        assert "不能停用自己的账户" in response.text

    def test_resets_a_password(self, client: TestClient, world: World, demo: str) -> None:
        target = user_id(world, "bj_handler")
        response = client.post(f"/admin/users/{target}/password",
                               data={"csrf_token": demo, "password": PASSWORD},
                               follow_redirects=False)
        assert response.status_code == 303
        assert "已设置新的初始密码" in client.get(response.headers["location"]).text
        assert [r.action for r in changes(world)] == ["password_reset"]

    def test_unlocks_a_locked_account(self, client: TestClient, world: World,
                                      demo: str) -> None:
        lock_out(world.session, "bj_handler")
        world.session.commit()
        target = user_id(world, "bj_handler")
        assert 'id="unlock-title"' in client.get(f"/admin/users/{target}").text
        response = client.post(f"/admin/users/{target}/unlock", data={"csrf_token": demo},
                               follow_redirects=False)
        assert response.status_code == 303
        html = client.get(response.headers["location"]).text
        assert "已解除锁定。" in html
        assert 'id="unlock-title"' not in html
        assert [r.action for r in changes(world)] == ["unlock"]

    def test_an_id_beyond_any_row_is_not_found(self, client: TestClient, world: World,
                                               demo: str) -> None:
        assert client.get(f"/admin/users/{10**20}").status_code == 404
        response = client.post("/admin/users", data=new_user_form(world, demo, org=str(2**40)))
        assert response.status_code == 404
        assert "请选择您权限范围内的机构" in field_error(response.text, "f-org")

    def test_another_branchs_user_is_not_found(self, client: TestClient,
                                               world: World) -> None:
        other = branch_admin_client(client, world)
        assert other.get(f"/admin/users/{user_id(world, 'sh_handler')}").status_code == 404


class TestRolesPage:
    def test_shows_the_permission_table_and_says_it_is_code(self, client: TestClient,
                                                            demo: str) -> None:
        html = client.get("/admin/roles").text
        row = html.split('data-permission="user.manage"')[1].split("</tr>")[0]
        assert "管理用户" in row
        assert row.count('aria-hidden="true">✓') == 1  # the administrator only
        assert "权限表属于程序代码" in html
        assert "<form" not in html.split('id="main"')[1].split("</main>")[0]


class TestAuditPage:
    def test_lists_and_filters_the_changes(self, client: TestClient, world: World,
                                           demo: str) -> None:
        client.post("/admin/users", data=new_user_form(world, demo))
        client.post(f"/admin/orgs/{org_id(world, 'SH')}",
                    data={"name": "沪", "csrf_token": demo})
        html = client.get("/admin/audit").text
        assert html.count("<tr data-change=") == 2
        only_orgs = client.get("/admin/audit?entity=org").text
        assert re.findall(r'<tr data-change="(\w+)"', only_orgs) == ["update"]

    def test_a_wild_offset_is_an_empty_page(self, client: TestClient, demo: str) -> None:
        for offset in (str(10**30), "-5", "x"):
            assert client.get(f"/admin/audit?offset={offset}").status_code == 200
            assert client.get(f"/admin/users?offset={offset}").status_code == 200

    def test_a_bad_date_is_explained(self, client: TestClient, demo: str) -> None:
        response = client.get("/admin/audit?since=yesterday")
        assert response.status_code == 422
        assert "日期格式应为 YYYY-MM-DD" in response.text

    def test_a_handler_may_not_see_it(self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj_handler")
        assert client.get("/admin/audit").status_code == 403


def test_the_user_rows_hold_no_password_hash(world: World) -> None:
    admin.create_user(world.session, actor=None, username="x1", display_name="x",
                      org_id=org_id(world, "HQ"), roles=["auditor"], password=PASSWORD)
    hashed = world.session.scalar(select(User.password_hash).where(User.username == "x1"))
    assert hashed is not None
    assert all(hashed not in str(r.after) for r in changes(world))

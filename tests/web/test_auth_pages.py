"""The log-in, log-out and password pages, the session cookie, CSRF on posted forms and the
forced change of an initial password, through the whole app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select, update

from bankvoc.core.settings import reset_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.demo.service import DEMO_PASSWORD
from bankvoc.orgs import auth as accounts
from bankvoc.orgs import service as org_service
from bankvoc.orgs.models import AuthEvent, LoginFailure, UserSession
from bankvoc.web.i18n_auth import AUTH_UI
from tests.conftest import TEST_PASSWORD, World, auth, form_token, log_in, session_token

NEW_PASSWORD = "Brand-new-2026"


def cookies_set(response: Response) -> dict[str, str]:
    """Set-Cookie headers of a response by cookie name (the whole header line)."""
    lines = response.headers.get_list("set-cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def post_login(client: TestClient, username: str, password: str, *, next_url: str = "",
               token: str | None = None) -> Response:
    page = client.get("/login")
    data = {"username": username, "password": password,
            "csrf_token": form_token(page.text) if token is None else token}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data, follow_redirects=False)


def with_password(world: World, username: str, *, initial: bool = False) -> None:
    user = org_service.get_user(world.session, username=username)
    accounts.set_password(world.session, user=user, password=TEST_PASSWORD, initial=initial)
    world.session.commit()


class TestLoginPage:
    def test_a_labelled_form_with_its_token_and_no_inline_code(self, client: TestClient) -> None:
        response = client.get("/login")
        assert response.status_code == 200
        html = response.text
        assert '<label for="f-username">用户名</label>' in html
        assert '<label for="f-password">密码</label>' in html
        assert 'autocomplete="current-password"' in html
        assert form_token(html)
        assert "<script" not in html
        assert "style=" not in html
        assert "<style" not in html
        assert "bankvoc_login" in response.headers["set-cookie"]
        assert "demo-password" not in html

    def test_in_english(self, client: TestClient) -> None:
        html = client.get("/login?lang=en").text
        assert '<label for="f-username">User name</label>' in html
        assert "Log in" in html

    def test_demo_mode_shows_the_demo_password(self, client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_DEMO", "1")
        reset_settings()
        assert DEMO_PASSWORD in client.get("/login").text

    def test_someone_logged_in_goes_straight_on(self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj_handler")
        response = client.get("/login?next=/callbacks", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/callbacks"


class TestLogIn:
    def test_an_anonymous_page_request_comes_back_after_log_in(self, client: TestClient,
                                                               world: World) -> None:
        with_password(world, "bj_handler")
        first = client.get("/callbacks?status=done", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == "/login?next=%2Fcallbacks%3Fstatus%3Ddone"
        page = client.get(first.headers["location"])
        assert 'name="next" value="/callbacks?status=done"' in page.text
        done = client.post("/login", follow_redirects=False, data={
            "username": "bj_handler", "password": TEST_PASSWORD,
            "next": "/callbacks?status=done", "csrf_token": form_token(page.text)})
        assert done.status_code == 303
        assert done.headers["location"] == "/callbacks?status=done"
        html = client.get("/callbacks?status=done").text
        assert "bj_handler" in html
        assert "退出登录" in html

    def test_the_session_cookie_is_httponly_lax_and_for_the_whole_site(
            self, client: TestClient, world: World) -> None:
        with_password(world, "bj_handler")
        response = post_login(client, "bj_handler", TEST_PASSWORD)
        cookie = cookies_set(response)["bankvoc_session"]
        parts = {p.strip().lower() for p in cookie.split(";")}
        assert "httponly" in parts
        assert "samesite=lax" in parts
        assert "path=/" in parts
        assert "secure" not in parts
        assert not any(p.startswith(("max-age", "expires", "domain")) for p in parts)

    def test_over_tls_the_cookie_is_secure_with_the_host_prefix(
            self, client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_SECURE_COOKIES", "1")
        reset_settings()
        with_password(world, "bj_handler")
        tls = TestClient(client.app, base_url="https://testserver")
        response = post_login(tls, "bj_handler", TEST_PASSWORD)
        assert response.status_code == 303
        cookie = cookies_set(response)["__Host-bankvoc_session"]
        parts = {p.strip().lower() for p in cookie.split(";")}
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= parts
        assert tls.get("/cases").status_code == 200

    def test_a_wrong_password_says_what_to_fix_and_is_counted(self, client: TestClient,
                                                              world: World) -> None:
        with_password(world, "bj_handler")
        response = post_login(client, "bj_handler", "Not-the-password-1")
        assert response.status_code == 401
        assert "用户名或密码不正确" in response.text
        assert 'value="bj_handler"' in response.text
        assert 'aria-invalid="true"' in response.text
        assert "bankvoc_session" not in response.headers.get("set-cookie", "")
        # The refusal was committed, not rolled back with the page.
        assert world.session.scalar(select(func.count(LoginFailure.id))) == 1

    def test_an_empty_field_is_named(self, client: TestClient) -> None:
        response = post_login(client, "bj_handler", "")
        assert response.status_code == 422
        assert "请填写密码" in response.text

    def test_five_failures_lock_the_account(self, client: TestClient, world: World) -> None:
        with_password(world, "bj_handler")
        for _ in range(4):
            assert post_login(client, "bj_handler", "Not-the-password-1").status_code == 401
        locked = post_login(client, "bj_handler", "Not-the-password-1")
        assert locked.status_code == 423
        assert "已被暂时锁定" in locked.text
        assert post_login(client, "bj_handler", TEST_PASSWORD).status_code == 423
        kinds = world.session.scalars(select(AuthEvent.kind).where(
            AuthEvent.username == "bj_handler").order_by(AuthEvent.id)).all()
        assert "account_locked" in kinds

    @pytest.mark.parametrize("target", [
        "//evil.example/cases", "https://evil.example/", "/\\evil.example",
        "javascript:alert(1)", "evil.example", "/cases\r\nSet-Cookie: x=1", "http:/evil",
        "///evil.example",
    ])
    def test_next_never_leads_to_another_site(self, client: TestClient, world: World,
                                              target: str) -> None:
        with_password(world, "bj_handler")
        response = post_login(client, "bj_handler", TEST_PASSWORD, next_url=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/cases"
        assert "evil" not in client.get(f"/login?next={quote(target)}").text

    def test_a_log_in_form_without_its_token_is_refused(self, client: TestClient,
                                                        world: World) -> None:
        with_password(world, "bj_handler")
        response = post_login(client, "bj_handler", TEST_PASSWORD, token="forged")
        assert response.status_code == 403
        assert "请刷新页面" in response.text
        assert "bankvoc_session" not in response.headers.get("set-cookie", "")

    def test_a_log_in_replaces_the_previous_session(self, client: TestClient,
                                                    world: World) -> None:
        log_in(client, world.session, "bj_handler")
        old = client.cookies.get("bankvoc_session")
        assert old
        client.cookies.clear()
        page = client.get("/login")  # a log-in form loaded before, say
        client.cookies.set("bankvoc_session", old)
        response = client.post("/login", follow_redirects=False, data={
            "username": "bj_handler", "password": TEST_PASSWORD,
            "csrf_token": form_token(page.text)})
        assert response.status_code == 303
        world.session.expire_all()
        live = world.session.scalar(select(func.count(UserSession.id)).where(
            UserSession.revoked_at.is_(None)))
        assert live == 1


class TestLogOut:
    def test_ends_the_session(self, client: TestClient, world: World) -> None:
        token = log_in(client, world.session, "bj_handler")
        cookie = client.cookies.get("bankvoc_session")
        assert cookie
        response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert 'bankvoc_session=""' in response.headers["set-cookie"]
        client.cookies.clear()
        client.cookies.set("bankvoc_session", cookie)  # replayed: refused all the same
        again = client.get("/cases", follow_redirects=False)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/login")

    def test_without_the_token_nothing_happens(self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj_handler")
        response = client.post("/logout", data={}, follow_redirects=False)
        assert response.status_code == 403
        assert client.get("/cases").status_code == 200


class TestSessionExpiry:
    def test_an_idle_session_sends_to_log_in_and_drops_the_cookie(
            self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj_handler")
        long_ago = utcnow() - timedelta(minutes=31)
        world.session.execute(update(UserSession).values(last_seen_at=long_ago,
                                                         created_at=long_ago))
        world.session.commit()
        response = client.get("/cases", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fcases"
        assert 'bankvoc_session=""' in response.headers["set-cookie"]


class TestCsrf:
    """Forms posted under a session carry its token; a bearer token needs none."""

    def create(self, client: TestClient, **data: str) -> Response:
        return client.post("/problems", follow_redirects=False, data={
            "code": "P-CSRF-01", "title_zh": "跨站请求", **data})

    def test_a_form_without_the_token_is_a_403_page_saying_to_reload(
            self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "admin")
        response = self.create(client)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "请刷新页面后重新提交" in response.text

    def test_a_wrong_token_or_another_sessions_is_refused(self, client: TestClient,
                                                          world: World) -> None:
        other = TestClient(client.app)
        theirs = log_in(other, world.session, "hq_admin")
        log_in(client, world.session, "admin")
        assert self.create(client, csrf_token="0" * 64).status_code == 403
        assert self.create(client, csrf_token=theirs).status_code == 403

    def test_the_right_token_is_accepted(self, client: TestClient, world: World) -> None:
        token = log_in(client, world.session, "admin")
        response = self.create(client, csrf_token=token)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/problems/")

    def test_every_posted_form_carries_the_token(self, client: TestClient,
                                                 world: World) -> None:
        token = log_in(client, world.session, "admin")
        html = client.get("/problems").text
        forms = html.count('<form method="post"')
        assert forms >= 2  # log-out and the new problem
        assert html.count(f'name="csrf_token" value="{token}"') == forms

    def test_a_bearer_token_needs_no_form_token(self, client: TestClient,
                                                world: World) -> None:
        response = client.post("/problems", headers=auth(world, "hq_admin"),
                               follow_redirects=False,
                               data={"code": "P-CSRF-02", "title_zh": "令牌"})
        assert response.status_code == 303


class TestForcedPasswordChange:
    def test_an_initial_password_leads_to_the_password_page_first(
            self, client: TestClient, world: World) -> None:
        with_password(world, "bj_handler", initial=True)
        done = post_login(client, "bj_handler", TEST_PASSWORD, next_url="/callbacks")
        assert done.status_code == 303
        assert done.headers["location"] == "/password?next=%2Fcallbacks"
        for path in ("/cases", "/dashboard", "/callbacks"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"] == f"/password?next={quote(path, safe='')}"
        page = client.get(done.headers["location"])
        assert page.status_code == 200
        assert "初始密码" in page.text
        token = form_token(page.text)
        changed = client.post("/password", follow_redirects=False, data={
            "csrf_token": token, "current_password": TEST_PASSWORD, "next": "/callbacks",
            "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
        assert changed.status_code == 303
        assert changed.headers["location"] == "/callbacks"
        assert client.get("/cases").status_code == 200
        world.session.expire_all()
        user = org_service.get_user(world.session, username="bj_handler")
        assert not user.must_change_password

    def test_a_posted_form_is_refused_until_the_password_is_changed(
            self, client: TestClient, world: World) -> None:
        with_password(world, "hq_admin", initial=True)
        post_login(client, "hq_admin", TEST_PASSWORD)
        token = session_token(client)
        response = client.post("/problems", follow_redirects=False, data={
            "code": "P-F-01", "title_zh": "强制", "csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/password"


class TestChangePassword:
    def change(self, client: TestClient, token: str, current: str, new: str,
               again: str | None = None, lang: str = "") -> Response:
        return client.post("/password" + lang, follow_redirects=False, data={
            "csrf_token": token, "current_password": current, "new_password": new,
            "new_password_again": new if again is None else again})

    def test_a_labelled_form(self, client: TestClient, world: World) -> None:
        log_in(client, world.session, "bj_handler")
        html = client.get("/password?lang=en").text
        assert '<label for="f-current_password">Current password</label>' in html
        assert '<label for="f-new_password">New password</label>' in html
        assert 'autocomplete="new-password"' in html
        assert "at least 10 characters" in html
        assert "<script" not in html

    @pytest.mark.parametrize(("current", "new", "again", "field", "text"), [
        ("Wrong-password-9", NEW_PASSWORD, None, "current_password", "当前密码不正确"),
        (TEST_PASSWORD, "short-1", None, "new_password", "至少需要 10 个字符"),
        (TEST_PASSWORD, "abcdefghijklm", None, "new_password", "至少两类字符"),
        (TEST_PASSWORD, "Bj_Handler", None, "new_password", "不能与用户名相同"),
        (TEST_PASSWORD, TEST_PASSWORD, None, "new_password", "不能与当前密码相同"),
        (TEST_PASSWORD, NEW_PASSWORD, "Other-new-2026", "new_password_again", "不一致"),
        ("", NEW_PASSWORD, None, "current_password", "请填写此项"),
    ])
    def test_a_refused_change_says_what_to_fix_by_its_field(
            self, client: TestClient, world: World, current: str, new: str,
            again: str | None, field: str, text: str) -> None:
        token = log_in(client, world.session, "bj_handler")
        response = self.change(client, token, current, new, again)
        assert response.status_code == 422
        assert f'<a href="#f-{field}">' in response.text
        assert f'id="f-{field}-error"' in response.text
        assert text in response.text

    def test_a_change_ends_the_other_sessions_only(self, client: TestClient,
                                                   world: World) -> None:
        elsewhere = TestClient(client.app)
        log_in(elsewhere, world.session, "bj_handler")
        token = log_in(client, world.session, "bj_handler")
        response = self.change(client, token, TEST_PASSWORD, NEW_PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == "/password?changed=1"
        assert "密码已修改" in client.get("/password?changed=1").text
        assert client.get("/cases").status_code == 200
        assert elsewhere.get("/cases", follow_redirects=False).status_code == 303
        world.session.expire_all()
        kinds = world.session.scalars(select(AuthEvent.kind).where(
            AuthEvent.username == "bj_handler")).all()
        assert "password_changed" in kinds


class TestLabels:
    def test_both_languages_are_written_out(self) -> None:
        for key, (zh, en) in AUTH_UI.items():
            assert zh.strip(), key
            assert en.strip(), key
            assert set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), key

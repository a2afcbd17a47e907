"""The second factor in the pages: the code step of a log-in (no session before a good code,
wrong codes counted toward the lock-out), enrolment forced by BANKVOC_TOTP_REQUIRED_ROLES, and
one's own set-up page."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from bankvoc.core.settings import reset_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.orgs import auth as accounts
from bankvoc.orgs import service as org_service
from bankvoc.orgs import totp
from bankvoc.orgs.models import AuthEvent, User
from bankvoc.web.auth_pages import SECOND_STEP_COOKIE
from bankvoc.web.rendering import SESSION_COOKIE
from tests.conftest import TEST_PASSWORD, World, form_token, log_in

ADMIN = "hq_admin"
_SECRET = re.compile(r"data-totp-secret>([A-Z2-7]+)<")


def with_password(world: World, username: str = ADMIN) -> User:
    user = org_service.get_user(world.session, username=username)
    accounts.set_password(world.session, user=user, password=TEST_PASSWORD)
    return user


def enrol(world: World) -> str:
    """Give hq_admin a password and a confirmed second factor; returns its secret."""
    user = with_password(world)
    secret = totp.begin(world.session, user=user).secret
    # The previous step's code: the current one stays good for the log-in.
    totp.confirm(world.session, user=user,
                 code=pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30)))
    world.session.commit()
    return secret


def post_password(client: TestClient, username: str = ADMIN) -> Response:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": TEST_PASSWORD,
                                       "csrf_token": form_token(page.text)},
                       follow_redirects=False)


def post_code(client: TestClient, step: Response, code: str) -> Response:
    return client.post("/login/code", data={"code": code, "csrf_token": form_token(step.text)},
                       follow_redirects=False)


def kinds(world: World) -> list[str]:
    world.session.expire_all()
    return list(world.session.scalars(select(AuthEvent.kind).where(
        AuthEvent.username.in_([ADMIN, ADMIN.casefold()])).order_by(AuthEvent.id)))


class TestLoginWithASecondFactor:
    def test_the_password_leads_to_the_code_step_without_a_session(
            self, client: TestClient, world: World) -> None:
        enrol(world)
        step = post_password(client)
        assert step.status_code == 200
        assert '<label for="f-code">验证码</label>' in step.text
        assert 'autocomplete="one-time-code"' in step.text
        assert SESSION_COOKIE not in step.headers.get("set-cookie", "")
        assert SECOND_STEP_COOKIE in step.headers["set-cookie"]
        assert client.get("/cases", follow_redirects=False).status_code == 303

    def test_a_good_code_opens_the_session(self, client: TestClient, world: World) -> None:
        secret = enrol(world)
        step = post_password(client)
        done = post_code(client, step, pyotp.TOTP(secret).now())
        assert done.status_code == 303
        assert done.headers["location"] == "/cases"
        assert client.get("/cases").status_code == 200
        assert kinds(world)[-1] == "login"

    def test_the_same_code_is_not_good_twice(self, client: TestClient, world: World) -> None:
        secret = enrol(world)
        code = pyotp.TOTP(secret).now()
        assert post_code(client, post_password(client), code).status_code == 303
        other = TestClient(client.app)
        replayed = post_code(other, post_password(other), code)
        assert replayed.status_code == 401
        assert "已使用过" in replayed.text

    def test_a_wrong_code_is_refused_and_counted(self, client: TestClient,
                                                 world: World) -> None:
        secret = enrol(world)
        step = post_password(client)
        wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
        refused = post_code(client, step, wrong)
        assert refused.status_code == 401
        assert 'aria-invalid="true"' in refused.text
        assert kinds(world)[-2:] == ["totp_failed", "login_failed"]

    def test_a_malformed_code_is_not_counted(self, client: TestClient, world: World) -> None:
        enrol(world)
        refused = post_code(client, post_password(client), "12ab")
        assert refused.status_code == 422
        assert "请输入 6 位数字验证码" in refused.text
        assert "totp_failed" not in kinds(world)

    def test_wrong_codes_lock_the_account(self, client: TestClient, world: World) -> None:
        enrol(world)
        step = post_password(client)
        statuses = [post_code(client, step, "000000").status_code for _ in range(5)]
        assert statuses[:4] == [401] * 4
        assert statuses[4] == 423
        assert post_password(client).status_code == 423

    def test_without_the_password_step_there_is_no_code_step(
            self, client: TestClient, world: World) -> None:
        secret = enrol(world)
        page = client.get("/login")
        client.cookies.set(SECOND_STEP_COOKIE, "1.9999999999.forged", path="/login")
        refused = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                   "csrf_token": form_token(page.text)},
                              follow_redirects=False)
        assert refused.status_code == 401
        assert "重新输入用户名和密码" in refused.text

    def test_in_english(self, client: TestClient, world: World) -> None:
        enrol(world)
        page = client.get("/login?lang=en")
        step = client.post("/login?lang=en", data={
            "username": ADMIN, "password": TEST_PASSWORD, "csrf_token": form_token(page.text)})
        assert "Enter your code" in step.text
        assert '<label for="f-code">Code</label>' in step.text


class TestRequiredEnrolment:
    @pytest.fixture(autouse=True)
    def _required(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_TOTP_REQUIRED_ROLES", "admin")
        reset_settings()

    def test_the_role_enrols_before_any_session(self, client: TestClient,
                                                world: World) -> None:
        with_password(world)
        world.session.commit()
        step = post_password(client)
        assert step.status_code == 200
        assert "设置两步验证" in step.text
        assert "<svg" in step.text
        found = _SECRET.search(step.text)
        assert found is not None
        assert client.get("/cases", follow_redirects=False).status_code == 303
        done = post_code(client, step, pyotp.TOTP(found.group(1)).now())
        assert done.status_code == 303
        assert client.get("/cases").status_code == 200
        assert "totp_enrolled" in kinds(world)

    def test_other_roles_log_in_with_the_password(self, client: TestClient,
                                                  world: World) -> None:
        with_password(world, "bj_handler")
        world.session.commit()
        assert post_password(client, "bj_handler").status_code == 303


class TestAccountTotpPage:
    def test_an_admin_sets_it_up(self, client: TestClient, world: World) -> None:
        token = log_in(client, world.session, ADMIN)
        page = client.get("/account/totp")
        assert page.status_code == 200
        assert "<svg" in page.text
        assert "otpauth://totp/BankVOC:hq_admin" in page.text
        found = _SECRET.search(page.text)
        assert found is not None
        wrong = client.post("/account/totp", data={"code": "000000", "csrf_token": token})
        assert wrong.status_code == 422
        done = client.post("/account/totp", data={"code": pyotp.TOTP(found.group(1)).now(),
                                                  "csrf_token": token},
                           follow_redirects=False)
        assert done.status_code == 303
        shown = client.get(done.headers["location"])
        assert "两步验证已启用" in shown.text
        world.session.expire_all()
        assert totp.enrolled(org_service.get_user(world.session, username=ADMIN))

    def test_a_handler_is_told_it_is_not_for_their_role(self, client: TestClient,
                                                        world: World) -> None:
        log_in(client, world.session, "bj_handler")
        page = client.get("/account/totp")
        assert page.status_code == 200
        assert "仅适用于系统管理员和消保人员" in page.text

    def test_a_form_without_its_token_is_refused(self, client: TestClient,
                                                 world: World) -> None:
        log_in(client, world.session, ADMIN)
        assert client.post("/account/totp", data={"code": "123456"}).status_code == 403

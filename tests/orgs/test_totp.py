"""The TOTP second factor: enrolment, codes good once, reset, the required roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from bankvoc.core.errors import ConfigurationError, Conflict, Forbidden
from bankvoc.core.settings import reset_settings
from bankvoc.orgs import service, totp
from bankvoc.orgs.models import AuthEvent, User
from tests.conftest import World

T0 = datetime(2026, 11, 2, 1, 0, 10, tzinfo=UTC)


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def admin(world: World) -> User:
    return service.get_user(world.session, username="hq_admin")


def enrolled(world: World) -> tuple[User, str]:
    user = admin(world)
    secret = totp.begin(world.session, user=user).secret
    totp.confirm(world.session, user=user, code=code_at(secret, T0), now=T0)
    return user, secret


class TestBegin:
    def test_shows_a_secret_uri_and_qr_and_stores_the_secret_encrypted(
            self, world: World) -> None:
        user = admin(world)
        enrolment = totp.begin(world.session, user=user)
        assert enrolment.uri.startswith("otpauth://totp/BankVOC:hq_admin?secret=")
        assert enrolment.qr_svg.startswith("<svg")
        assert user.totp_secret_enc is not None
        assert enrolment.secret not in user.totp_secret_enc
        assert not totp.enrolled(user)

    def test_shows_the_same_secret_until_confirmed(self, world: World) -> None:
        user = admin(world)
        assert (totp.begin(world.session, user=user).secret
                == totp.begin(world.session, user=user).secret)

    def test_is_only_for_admins_and_consumer_protection(self, world: World) -> None:
        with pytest.raises(Forbidden):
            totp.begin(world.session, user=service.get_user(world.session,
                                                            username="bj_handler"))

    def test_refused_once_enrolled(self, world: World) -> None:
        user, _secret = enrolled(world)
        with pytest.raises(Conflict):
            totp.begin(world.session, user=user)


class TestConfirm:
    def test_the_first_good_code_enrols_and_is_audited(self, world: World) -> None:
        user, _secret = enrolled(world)
        assert totp.enrolled(user)
        assert user.totp_confirmed_at == T0
        world.session.flush()
        assert world.session.scalar(select(AuthEvent.kind).where(
            AuthEvent.username == "hq_admin", AuthEvent.kind == "totp_enrolled")) is not None

    def test_a_wrong_code_does_not(self, world: World) -> None:
        user = admin(world)
        secret = totp.begin(world.session, user=user).secret
        wrong = code_at(secret, T0 + timedelta(minutes=10))
        with pytest.raises(totp.CodeRejected) as refused:
            totp.confirm(world.session, user=user, code=wrong, now=T0)
        assert refused.value.field == "code"
        assert not totp.enrolled(user)

    @pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
    def test_a_malformed_code_is_refused_as_such(self, world: World, code: str) -> None:
        user = admin(world)
        totp.begin(world.session, user=user)
        with pytest.raises(totp.CodeRejected) as refused:
            totp.confirm(world.session, user=user, code=code, now=T0)
        assert refused.value.code == totp.MALFORMED


class TestVerify:
    def test_the_current_code_is_good_once(self, world: World) -> None:
        user, secret = enrolled(world)
        later = T0 + timedelta(minutes=1)
        code = code_at(secret, later)
        assert totp.verify(user, code=code, now=later)
        assert not totp.verify(user, code=code, now=later + timedelta(seconds=5))

    def test_the_enrolment_code_cannot_be_replayed(self, world: World) -> None:
        user, secret = enrolled(world)
        assert not totp.verify(user, code=code_at(secret, T0), now=T0 + timedelta(seconds=1))

    def test_one_step_of_drift_is_allowed_two_are_not(self, world: World) -> None:
        user, secret = enrolled(world)
        now = T0 + timedelta(minutes=5)
        assert totp.verify(user, code=code_at(secret, now - timedelta(seconds=30)), now=now)
        assert not totp.verify(user, code=code_at(secret, now + timedelta(seconds=70)),
                               now=now)

    def test_spaces_in_the_code_are_ignored(self, world: World) -> None:
        user, secret = enrolled(world)
        later = T0 + timedelta(minutes=1)
        code = code_at(secret, later)
        assert totp.verify(user, code=f"{code[:3]} {code[3:]}", now=later)

    def test_a_user_not_enrolled_has_no_good_code(self, world: World) -> None:
        user = admin(world)
        secret = totp.begin(world.session, user=user).secret
        assert not totp.verify(user, code=code_at(secret, T0), now=T0)


class TestReset:
    def test_clears_everything_and_is_audited(self, world: World) -> None:
        user, _secret = enrolled(world)
        assert totp.reset(world.session, user=user, by="cli")
        assert (user.totp_secret_enc, user.totp_confirmed_at, user.totp_last_step) == (
            None, None, None)
        assert not totp.reset(world.session, user=user)
        world.session.flush()
        details = world.session.scalars(select(AuthEvent.detail).where(
            AuthEvent.kind == "totp_reset").order_by(AuthEvent.id)).all()
        assert details == ["by cli", ""]


class TestRequired:
    def test_optional_by_default(self, world: World) -> None:
        assert not totp.required(admin(world))

    def test_the_setting_requires_it_of_its_roles(self, world: World,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_TOTP_REQUIRED_ROLES", "admin")
        reset_settings()
        assert totp.required(admin(world))
        assert not totp.required(service.get_user(world.session, username="bj_handler"))
        enrolled(world)
        assert not totp.required(admin(world))

    def test_a_role_without_a_second_factor_is_a_configuration_error(
            self, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BANKVOC_TOTP_REQUIRED_ROLES", "admin,handler")
        reset_settings()
        with pytest.raises(ConfigurationError, match="handler"):
            totp.required(admin(world))

"""API tokens: scopes (intersected with the user's roles), expiry, last use, revocation, and
the actor that carries the scopes into every permission check (API gate, services, pages)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bankvoc.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from bankvoc.orgs import service
from bankvoc.orgs.models import ApiToken, AuthEvent, User
from bankvoc.orgs.permissions import allowed
from bankvoc.orgs.service import TokenExpired, TokenRevoked
from tests.conftest import World

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def user(world: World, name: str = "bj_handler") -> User:
    return service.get_user(world.session, username=name)


def audited(world: World, kind: str) -> list[str]:
    world.session.flush()
    return list(world.session.scalars(select(AuthEvent.detail).where(AuthEvent.kind == kind)
                                      .order_by(AuthEvent.id)))


class TestParseScopes:
    def test_nothing_asked_for_is_read_only_within_the_roles(self, world: World) -> None:
        handler = service.parse_scopes([], user=user(world))
        analyst = service.parse_scopes([], user=user(world, "hq_analyst"))
        assert handler is not None
        assert analyst is not None
        assert {"case.read", "kpi.read"} <= set(handler)
        assert all(p.endswith(".read") and p != "pii.read" for p in handler + analyst)
        assert set(handler) == {p for p in service.DEFAULT_SCOPES
                                if allowed(frozenset({"handler"}), p)}

    def test_all_stands_for_every_permission_of_the_user(self, world: World) -> None:
        assert service.parse_scopes(["all"], user=user(world)) is None

    def test_comma_separated_and_repeated_scopes_are_merged(self, world: World) -> None:
        assert service.parse_scopes(["case.read,case.create", "case.read"],
                                    user=user(world)) == ["case.create", "case.read"]

    def test_an_unknown_scope_is_refused_naming_the_field(self, world: World) -> None:
        with pytest.raises(Invalid, match=r"unknown scope 'case\.eat'") as refused:
            service.parse_scopes(["case.eat"], user=user(world))
        assert refused.value.field == "scope"

    def test_a_scope_beyond_the_users_roles_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid, match=r"may not user\.manage"):
            service.parse_scopes(["user.manage"], user=user(world))

    def test_all_does_not_mix_with_other_scopes(self, world: World) -> None:
        with pytest.raises(Invalid, match="stands alone"):
            service.parse_scopes(["all", "case.read"], user=user(world))


class TestCreateToken:
    def test_stores_only_the_hash_with_scopes_and_default_expiry(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), label="crm",
                                    scopes=["case.create"], now=T0)
        assert made.token.startswith("bv_")
        assert made.row.token_hash != made.token
        assert made.token not in made.row.token_hash
        assert made.row.scopes == ["case.create"]
        assert made.row.expires_at == T0 + timedelta(days=90)

    def test_the_lifetime_is_chosen_per_token(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), days=7, now=T0)
        assert made.row.expires_at == T0 + timedelta(days=7)

    @pytest.mark.parametrize("days", [0, -1, 5000])
    def test_an_impossible_lifetime_is_refused(self, world: World, days: int) -> None:
        with pytest.raises(Invalid) as refused:
            service.create_token(world.session, user=user(world), days=days)
        assert refused.value.field == "days"

    def test_a_label_too_long_is_refused(self, world: World) -> None:
        with pytest.raises(Invalid) as refused:
            service.create_token(world.session, user=user(world), label="x" * 101)
        assert refused.value.field == "label"

    def test_is_audited_without_the_secret(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), scopes=["case.read"],
                                    by="cli")
        detail = audited(world, "token_created")[-1]
        assert detail == f"token {made.row.id} scopes case.read by cli"
        assert made.token not in "".join(audited(world, "token_created"))


class TestAuthenticate:
    def test_the_actor_carries_the_tokens_scopes(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), scopes=["case.read"])
        actor = service.authenticate(world.session, token=made.token)
        assert actor.scopes == frozenset({"case.read"})
        assert actor.token_id == made.row.id

    def test_an_all_scope_token_acts_with_every_permission_of_the_roles(
            self, world: World) -> None:
        actor = service.authenticate(world.session, token=world.tokens["bj_handler"])
        assert actor.scopes is None
        assert actor.can("case.create")

    def test_an_expired_token_is_refused_saying_so(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), days=1, now=T0)
        service.authenticate(world.session, token=made.token, now=T0 + timedelta(hours=23))
        with pytest.raises(TokenExpired, match="expired") as refused:
            service.authenticate(world.session, token=made.token, now=T0 + timedelta(days=1))
        assert refused.value.status == 401

    def test_a_revoked_token_is_refused_saying_so(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world))
        service.revoke_token(world.session, token_id=made.row.id)
        with pytest.raises(TokenRevoked, match="revoked"):
            service.authenticate(world.session, token=made.token)

    def test_an_unknown_token_is_refused(self, world: World) -> None:
        with pytest.raises(Unauthorized, match="invalid token"):
            service.authenticate(world.session, token="bv_nothing")

    def test_the_last_use_is_written_at_most_once_a_minute(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world), now=T0)
        service.authenticate(world.session, token=made.token, now=T0)
        service.authenticate(world.session, token=made.token, now=T0 + timedelta(seconds=59))
        assert stored_last_use(world, made.row.id) == T0
        service.authenticate(world.session, token=made.token, now=T0 + timedelta(seconds=60))
        assert stored_last_use(world, made.row.id) == T0 + timedelta(seconds=60)


def stored_last_use(world: World, token_id: int) -> datetime | None:
    return world.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token_id))


class TestActorRequire:
    def test_a_scope_the_roles_lack_grants_nothing(self, world: World) -> None:
        actor = service.actor_for(user(world, "hq_analyst"))
        scoped = replace(actor, scopes=frozenset({"case.create"}))
        assert not scoped.can("case.create")
        with pytest.raises(Forbidden, match=r"may not case\.create"):
            scoped.require("case.create")

    def test_a_permission_outside_the_scopes_is_refused_naming_it(self, world: World) -> None:
        actor = replace(service.actor_for(user(world)),
                                scopes=frozenset({"case.read"}))
        assert actor.can("case.read")
        with pytest.raises(Forbidden, match=r"scopes do not include case\.create") as refused:
            actor.require("case.create")
        assert refused.value.code == "token_scope"


class TestRevokeToken:
    def test_revokes_once_and_audits_it(self, world: World) -> None:
        made = service.create_token(world.session, user=user(world))
        row, was_live = service.revoke_token(world.session, token_id=made.row.id, by="cli",
                                             now=T0)
        assert (row.revoked_at, was_live) == (T0, True)
        again, was_live = service.revoke_token(world.session, token_id=made.row.id,
                                               now=T0 + timedelta(hours=1))
        assert (again.revoked_at, was_live) == (T0, False)
        assert audited(world, "token_revoked") == [f"token {made.row.id} by cli"]

    def test_an_unknown_id_is_not_found(self, world: World) -> None:
        with pytest.raises(NotFound) as refused:
            service.revoke_token(world.session, token_id=999_999)
        assert refused.value.field == "id"


class TestListTokens:
    def test_lists_one_users_tokens_newest_first(self, world: World) -> None:
        first = service.create_token(world.session, user=user(world), label="a")
        second = service.create_token(world.session, user=user(world), label="b")
        found = service.list_tokens(world.session, user=user(world))
        assert [t.id for t in found][:2] == [second.row.id, first.row.id]
        assert {t.user_id for t in found} == {user(world).id}
        everyone = service.list_tokens(world.session)
        assert len(everyone) > len(found)


class TestTheApi:
    """The route gate and the services honour a token's scopes; 401 for expired/revoked."""

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def test_a_read_only_token_reads_but_may_not_write(self, client: TestClient,
                                                       world: World) -> None:
        made = service.create_token(world.session, user=user(world), label="reader")
        world.session.commit()
        assert client.get("/api/v1/cases", headers=self.headers(made.token)).status_code == 200
        refused = client.post("/api/v1/cases", headers=self.headers(made.token), json={})
        assert refused.status_code == 403
        assert refused.json()["code"] == "token_scope"
        assert "case.create" in refused.json()["message"]

    def test_pages_honour_the_scopes_too(self, client: TestClient, world: World) -> None:
        made = service.create_token(world.session, user=user(world))  # read-only
        world.session.commit()
        headers = self.headers(made.token)
        assert client.get("/cases", headers=headers).status_code == 200
        refused = client.post("/cases/assign", headers=headers, data={})
        assert refused.status_code == 403
        assert "case.assign" in refused.text

    def test_an_expired_token_gets_401_saying_so(self, client: TestClient,
                                                 world: World) -> None:
        made = service.create_token(world.session, user=user(world), days=1,
                                    now=datetime.now(UTC) - timedelta(days=2))
        world.session.commit()
        refused = client.get("/api/v1/cases", headers=self.headers(made.token))
        assert refused.status_code == 401
        assert refused.json()["code"] == "token_expired"

    def test_a_revoked_token_gets_401_saying_so(self, client: TestClient,
                                                world: World) -> None:
        made = service.create_token(world.session, user=user(world))
        service.revoke_token(world.session, token_id=made.row.id)
        world.session.commit()
        refused = client.get("/api/v1/me", headers=self.headers(made.token))
        assert refused.status_code == 401
        assert refused.json()["code"] == "token_revoked"

    def test_the_last_use_is_noted(self, client: TestClient, world: World) -> None:
        made = service.create_token(world.session, user=user(world))
        world.session.commit()
        client.get("/api/v1/me", headers=self.headers(made.token))
        world.session.expire_all()
        row = world.session.get(ApiToken, made.row.id)
        assert row is not None
        assert row.last_used_at is not None

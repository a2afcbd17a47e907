from __future__ import annotations

import pytest
from pydantic import ValidationError

from bankvoc.core.errors import Forbidden, Invalid, NotFound
from bankvoc.customers import service
from bankvoc.customers.models import Customer
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World


def _register(world: World) -> None:
    intake_service.register_case(world.session, actor=world.actor("bj_handler"), data=CaseCreate(
        text="转账未到账", customer_name="张三", customer_phone="13812345678",
        customer_id_number="11010519491231002X"))


EMAIL = "zhang.san@example.cn"


def _register_by_email(world: World, *, source_id: str = "mail-1",
                       email: str = "Zhang.San@Example.CN") -> int:
    draft = intake_service.register_case(
        world.session, actor=world.actor("bj_handler"),
        data=CaseCreate(text="信用卡年费被多扣", customer_email=email, source_id=source_id))
    assert draft.customer_id is not None
    return draft.customer_id


class TestFindCustomer:
    @pytest.mark.parametrize(("phone", "id_number"), [
        ("+86 138-1234-5678", None), (None, "11010519491231002x")])
    def test_finds_by_phone_or_id_number_in_any_written_form(
        self, world: World, phone: str | None, id_number: str | None
    ) -> None:
        _register(world)
        customer = service.find_customer(world.session, actor=world.actor("bj_handler"),
                                         phone=phone, id_number=id_number)
        assert customer.phone_masked == "138****5678"

    @pytest.mark.parametrize("email", [
        "zhang.san@example.cn", "ZHANG.SAN@EXAMPLE.CN", " <Zhang.San@example.cn> ",
        "ｚｈａｎｇ.ｓａｎ＠ｅｘａｍｐｌｅ.ｃｎ"])
    def test_finds_by_e_mail_address_in_any_letter_case(self, world: World,
                                                         email: str) -> None:
        customer_id = _register_by_email(world)
        customer = service.find_customer(world.session, actor=world.actor("bj_handler"),
                                         email=email)
        assert customer.id == customer_id
        assert customer.email_masked == "z***@example.cn"

    def test_an_unknown_address_is_not_found_naming_the_field(self, world: World) -> None:
        _register_by_email(world)
        with pytest.raises(NotFound) as caught:
            service.find_customer(world.session, actor=world.actor("bj_handler"),
                                  email="li.si@example.cn")
        assert caught.value.field == "email"

    def test_the_id_number_wins_when_the_fields_name_different_customers(
        self, world: World
    ) -> None:
        _register(world)
        _register_by_email(world)
        customer = service.find_customer(world.session, actor=world.actor("bj_handler"),
                                         id_number="11010519491231002X", email=EMAIL)
        assert customer.id_number_masked == "110***********002X"
        assert customer.email_masked is None

    def test_an_unknown_number_is_not_found(self, world: World) -> None:
        _register(world)
        with pytest.raises(NotFound):
            service.find_customer(world.session, actor=world.actor("bj_handler"),
                                  phone="13900000000")


class TestReveal:
    def test_handlers_may_see_the_decrypted_identity(self, world: World) -> None:
        _register(world)
        customer = service.find_customer(world.session, actor=world.actor("bj_handler"),
                                         phone="13812345678")
        assert service.reveal(world.session, customer, actor=world.actor("bj_handler")) == {
            "name": "张三", "phone": "13812345678", "id_number": "11010519491231002X",
            "email": None}

    def test_the_e_mail_address_is_revealed_as_normalised(self, world: World) -> None:
        _register_by_email(world)
        customer = service.find_customer(world.session, actor=world.actor("bj_handler"),
                                         email=EMAIL)
        shown = service.reveal(world.session, customer, actor=world.actor("bj_handler"))
        assert shown["email"] == EMAIL

    def test_analysts_may_not(self, world: World) -> None:
        _register(world)
        customer = service.find_customer(world.session, actor=world.actor("hq_analyst"),
                                         phone="13812345678")
        with pytest.raises(Forbidden):
            service.reveal(world.session, customer, actor=world.actor("hq_analyst"))


class TestProtectIdentity:
    def test_the_e_mail_address_is_encrypted_indexed_and_masked(self) -> None:
        ring = service.current_keyring()
        identity = service.protect_identity(ring, name=None, phone=None, id_number=None,
                                            email=EMAIL)
        assert identity.email_enc is not None
        assert EMAIL not in identity.email_enc
        assert ring.decrypt(identity.email_enc, field="email") == EMAIL
        assert identity.email_bidx == ring.blind_index(EMAIL, field="email")
        assert identity.email_masked == "z***@example.cn"

    def test_the_address_identifies_only_without_id_number_or_phone(self) -> None:
        ring = service.current_keyring()
        by_mail = service.protect_identity(ring, name=None, phone=None, id_number=None,
                                           email=EMAIL)
        both = service.protect_identity(ring, name=None, phone="13812345678", id_number=None,
                                        email=EMAIL)
        assert by_mail.key == by_mail.email_bidx
        assert both.key == both.phone_bidx
        assert both.indexes == (both.phone_bidx, both.email_bidx)


class TestIdsByIdentityIndexes:
    def test_each_index_finds_its_customer_in_its_own_column(self, world: World) -> None:
        ring = service.current_keyring()
        by_id, by_phone, by_mail = (
            service.protect_identity(ring, name=None, phone=phone, id_number=id_number,
                                     email=email)
            for phone, id_number, email in [(None, "11010519491231002X", None),
                                            ("13812345678", None, None), (None, None, EMAIL)])
        ids = service.create_customers(world.session, identities=[by_id, by_phone, by_mail])
        unknown = service.protect_identity(ring, name=None, phone="13900000000",
                                           id_number=None, email=None)
        found = service.ids_by_identity_indexes(
            world.session, identities=[by_id, by_phone, by_mail, unknown])
        assert found == {by_id.key: ids[by_id.key or ""], by_phone.key: ids[by_phone.key or ""],
                         by_mail.key: ids[by_mail.key or ""]}
        assert found == service.ids_by_blind_index(
            world.session, indexes=[i for x in (by_id, by_phone, by_mail, unknown)
                                    for i in x.indexes])

    def test_a_phone_shared_by_two_customers_finds_one_of_them(self, world: World) -> None:
        ring = service.current_keyring()
        first, second = (service.protect_identity(ring, name=None, phone="13812345678",
                                                  id_number=id_number, email=None)
                         for id_number in ("11010519491231002X", "110105194912310029"))
        ids = service.create_customers(world.session, identities=[first, second])
        found = service.ids_by_identity_indexes(world.session, identities=[first, second])
        assert found[first.key or ""] == ids[first.key or ""]
        assert found[second.key or ""] == ids[second.key or ""]
        assert found[first.phone_bidx or ""] in set(ids.values())


class TestFindOrCreate:
    def test_an_address_finds_its_customer_or_makes_one(self, world: World) -> None:
        first = service.find_or_create(world.session, name="张三", phone=None, id_number=None,
                                       email="Zhang.San@example.cn")
        again = service.find_or_create(world.session, name=None, phone=None, id_number=None,
                                       email="zhang.san@EXAMPLE.cn")
        assert first == again
        customer = world.session.get(Customer, first)
        assert customer is not None
        assert (customer.email_masked, customer.phone_bidx) == ("z***@example.cn", None)

    def test_a_malformed_address_is_refused_naming_the_field(self, world: World) -> None:
        with pytest.raises(Invalid) as caught:
            service.find_or_create(world.session, name=None, phone=None, id_number=None,
                                   email="zhang.san")
        assert caught.value.field == "email"

    def test_an_id_number_failing_its_checksum_is_refused_as_intake_refuses_it(
        self, world: World
    ) -> None:
        bad = "110105194912310021"  # the right check character is X
        with pytest.raises(Invalid, match="checksum") as caught:
            service.find_or_create(world.session, name=None, phone="13812345678",
                                   id_number=bad)
        assert caught.value.field == "id_number"
        with pytest.raises(ValidationError, match="checksum") as refused:
            CaseCreate(text="x", customer_id_number=bad)
        assert refused.value.errors()[0]["loc"] == ("customer_id_number",)

    @pytest.mark.parametrize(("phone", "id_number"), [("12345", None), (None, None)])
    def test_a_malformed_or_missing_identity_is_refused_naming_the_phone(
        self, world: World, phone: str | None, id_number: str | None
    ) -> None:
        with pytest.raises(Invalid) as caught:
            service.find_or_create(world.session, name=None, phone=phone, id_number=id_number)
        assert caught.value.field == "phone"

    def test_a_phone_in_any_written_form_finds_its_customer(self, world: World) -> None:
        first = service.find_or_create(world.session, name=None, phone="13812345678",
                                       id_number=None)
        again = service.find_or_create(world.session, name=None, phone="+86 138 1234 5678",
                                       id_number=None)
        assert first == again


class TestIntakeByEmail:
    def test_a_case_with_a_known_address_lands_on_that_customer(self, world: World) -> None:
        first = _register_by_email(world, source_id="m1")
        second = _register_by_email(world, source_id="m2", email="zhang.san@example.cn")
        assert first == second

    def test_an_unknown_address_makes_a_customer_known_by_it(self, world: World) -> None:
        customer_id = _register_by_email(world)
        customer = world.session.get(Customer, customer_id)
        assert customer is not None
        assert customer.email_bidx is not None
        assert customer.phone_enc is None

    def test_a_malformed_address_rejects_the_record_naming_the_field(self) -> None:
        with pytest.raises(ValidationError) as caught:
            CaseCreate(text="x", customer_email="not-an-address")
        assert caught.value.errors()[0]["loc"] == ("customer_email",)

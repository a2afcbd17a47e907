from __future__ import annotations

import pytest

from bankvoc.core.errors import Forbidden, NotFound
from bankvoc.customers import service
from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World


def _register(world: World) -> None:
    intake_service.register_case(world.session, actor=world.actor("bj_handler"), data=CaseCreate(
        text="转账未到账", customer_name="张三", customer_phone="13812345678",
        customer_id_number="11010519491231002X"))


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
        assert service.reveal(customer, actor=world.actor("bj_handler")) == {
            "name": "张三", "phone": "13812345678", "id_number": "11010519491231002X"}

    def test_analysts_may_not(self, world: World) -> None:
        _register(world)
        customer = service.find_customer(world.session, actor=world.actor("hq_analyst"),
                                         phone="13812345678")
        with pytest.raises(Forbidden):
            service.reveal(customer, actor=world.actor("hq_analyst"))

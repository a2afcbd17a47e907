from __future__ import annotations

from collections.abc import Callable

import pytest

from bankvoc.customers import masking


class TestNormalisePhone:
    @pytest.mark.parametrize("raw", ["138 1234 5678", "+86 138-1234-5678", "8613812345678"])
    def test_strips_spaces_dashes_and_country_code(self, raw: str) -> None:
        assert masking.normalise_phone(raw) == "13812345678"


class TestValidPhone:
    @pytest.mark.parametrize("number", ["13812345678", "01062345678", "075512345678"])
    def test_accepts_mobiles_and_landlines(self, number: str) -> None:
        assert masking.valid_phone(number)

    @pytest.mark.parametrize("number", ["1381234567", "95533", "23812345678"])
    def test_refuses_other_numbers(self, number: str) -> None:
        assert not masking.valid_phone(number)


class TestNormaliseEmail:
    @pytest.mark.parametrize("raw", [
        "Zhang.San@Example.CN", " zhang.san@example.cn ", "<ZHANG.SAN@example.cn>",
        "mailto:zhang.san@example.cn", "ｚｈａｎｇ.ｓａｎ＠ｅｘａｍｐｌｅ.ｃｎ",
        "zhang.san@example.cn."])
    def test_any_letter_case_or_width_is_one_address(self, raw: str) -> None:
        assert masking.normalise_email(raw) == "zhang.san@example.cn"


class TestValidEmail:
    @pytest.mark.parametrize("address", [
        "zhang.san@example.cn", "li+complaints@mail.bank.example", "12345678@qq.com",
        "用户@例子.中国"])
    def test_accepts_addresses_a_reply_can_go_to(self, address: str) -> None:
        assert masking.valid_email(address)

    @pytest.mark.parametrize("address", [
        "zhang.san", "zhang@localhost", "a b@example.cn", "a@@example.cn", "@example.cn",
        "zhang@example.", "x" * 65 + "@example.cn", "a@" + "b" * 250 + ".cn"])
    def test_refuses_anything_else(self, address: str) -> None:
        assert not masking.valid_email(address)


class TestMasks:
    def test_phone_shows_first_three_and_last_four(self) -> None:
        assert masking.mask_phone("13812345678") == "138****5678"

    def test_id_number_shows_first_three_and_last_four(self) -> None:
        assert masking.mask_id_number("11010519491231002X") == "110***********002X"

    def test_email_shows_the_first_character_and_the_domain(self) -> None:
        assert masking.mask_email("zhang.san@example.cn") == "z***@example.cn"

    def test_something_that_is_no_address_shows_nothing(self) -> None:
        assert masking.mask_email("zhangsan") == "***"

    def test_chinese_name_keeps_the_surname(self) -> None:
        assert masking.mask_name("欧阳娜娜") == "欧***"

    def test_english_name_keeps_initials(self) -> None:
        assert masking.mask_name("John Smith") == "J*** S****"


class TestIdChecksum:
    def test_accepts_a_valid_number(self) -> None:
        assert masking.id_checksum_ok("11010519491231002X")

    def test_refuses_a_wrong_check_character(self) -> None:
        assert not masking.id_checksum_ok("110105194912310021")

    def test_birth_year_comes_from_the_number(self) -> None:
        assert masking.birth_year("11010519491231002X") == 1949


class TestClean:
    def test_gives_the_normal_form(self) -> None:
        assert masking.clean_phone("+86 138-1234-5678") == "13812345678"
        assert masking.clean_id_number(" 11010519491231002x ") == "11010519491231002X"
        assert masking.clean_email("<Zhang.San@Example.CN>") == "zhang.san@example.cn"

    @pytest.mark.parametrize(("clean", "raw", "message"), [
        (masking.clean_phone, "12345", "is not a mainland mobile"),
        (masking.clean_id_number, "1101051949", "is not an 18-digit"),
        (masking.clean_id_number, "110105194912310021", "fails the ID number checksum"),
        (masking.clean_email, "zhang.san", "is not an e-mail address"),
    ])
    def test_says_what_is_wrong(self, clean: Callable[[str], str], raw: str,
                                message: str) -> None:
        with pytest.raises(ValueError, match=message):
            clean(raw)

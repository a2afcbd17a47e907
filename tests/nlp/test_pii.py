from __future__ import annotations

import pytest

from bankvoc.customers.masking import id_check_char
from bankvoc.nlp.pii import (
    PII_TYPES,
    PiiSpan,
    bank_card_ok,
    find_pii,
    id_number_ok,
    luhn_ok,
    mask_text,
)


def with_luhn(body: str) -> str:
    """`body` completed with the check digit that makes it pass Luhn."""
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def with_checksum(first17: str) -> str:
    return first17 + id_check_char(first17)


ID = "11010519491231002X"            # Beijing, born 1949-12-31, valid check character
CARD16 = with_luhn("622202123456789")
CARD19 = with_luhn("622848001234567890")
GROUPED = " ".join(CARD16[i:i + 4] for i in range(0, 16, 4))  # 6222 0212 3456 789x
GROUPED19 = " ".join(CARD19[i:i + 4] for i in range(0, 19, 4))  # 6228 4800 1234 5678 90x
BAD_CARD = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start:s.end]) for s in find_pii(text)]


class TestLuhnOk:
    def test_accepts_a_valid_number(self) -> None:
        assert luhn_ok("4111111111111111")

    def test_refuses_a_changed_digit(self) -> None:
        assert not luhn_ok("4111111111111112")


class TestIdNumberOk:
    def test_accepts_a_valid_18_digit_number(self) -> None:
        assert id_number_ok(ID)

    def test_accepts_a_lower_case_check_character(self) -> None:
        assert id_number_ok(ID.lower())

    def test_refuses_a_wrong_check_character(self) -> None:
        assert not id_number_ok("110105194912310021")

    def test_refuses_an_impossible_birth_date_even_with_a_valid_checksum(self) -> None:
        assert not id_number_ok(with_checksum("11010519491331002"))  # month 13

    def test_refuses_a_birth_date_in_the_future(self) -> None:
        assert not id_number_ok(with_checksum("11010521990101002"))

    def test_refuses_an_unknown_province(self) -> None:
        assert not id_number_ok(with_checksum("99010519491231002"))

    def test_accepts_an_old_15_digit_number_with_a_real_date(self) -> None:
        assert id_number_ok("110105491231002")

    def test_refuses_15_digits_without_a_real_date(self) -> None:
        assert not id_number_ok("110105493231002")


class TestBankCardOk:
    @pytest.mark.parametrize("number", [CARD16, CARD19, "4111111111111111",
                                        with_luhn("955880123456789012")])
    def test_accepts_card_numbers_passing_luhn(self, number: str) -> None:
        assert bank_card_ok(number)

    def test_refuses_a_number_failing_luhn(self) -> None:
        assert not bank_card_ok(BAD_CARD)

    def test_refuses_a_date_like_number_even_when_luhn_passes(self) -> None:
        assert not bank_card_ok(with_luhn("202611220001234"))

    @pytest.mark.parametrize("body", ["62220212345", "62220212345678901234"])
    def test_refuses_lengths_outside_16_to_19(self, body: str) -> None:
        assert not bank_card_ok(with_luhn(body))


class TestFindPii:
    def test_an_id_number_with_a_valid_checksum(self) -> None:
        assert found(f"身份证号{ID}，请核实") == [("id_number", ID)]

    def test_an_id_number_with_a_wrong_checksum_is_left_alone(self) -> None:
        assert found("身份证号110105194912310021") == []

    def test_an_old_15_digit_id_number(self) -> None:
        assert found("旧身份证110105491231002") == [("id_number", "110105491231002")]

    def test_18_digits_that_fail_as_an_id_may_still_be_a_card(self) -> None:
        card = with_luhn("62220212345678901")
        assert found(f"卡号{card}") == [("bank_card", card)]

    @pytest.mark.parametrize("number", ["13812345678", "138 1234 5678", "138-1234-5678",
                                        "+86 138 1234 5678", "+86-13812345678", "8613812345678",
                                        "(+86)13812345678"])
    def test_mobile_numbers_in_their_usual_forms(self, number: str) -> None:
        assert found(f"电话{number}，谢谢") == [("mobile", number)]

    @pytest.mark.parametrize("number", ["010-62345678", "0755 1234 5678", "(021)12345678",
                                        "（021）12345678", "0571-8765432", "01062345678"])
    def test_landlines_with_an_area_code(self, number: str) -> None:
        assert found(f"座机{number}") == [("landline", number)]

    @pytest.mark.parametrize("number", [CARD16, CARD19, GROUPED, GROUPED.replace(" ", "-"),
                                        GROUPED19])
    def test_bank_cards_plain_or_grouped_in_fours(self, number: str) -> None:
        assert found(f"卡号{number}被盗刷") == [("bank_card", number)]

    def test_a_card_number_failing_luhn_is_left_alone(self) -> None:
        assert found(f"卡号{BAD_CARD}") == []

    def test_email_addresses(self) -> None:
        assert found("请回复 zhang.san+vip@example.com.cn 谢谢") == [
            ("email", "zhang.san+vip@example.com.cn")]

    def test_a_number_inside_an_email_address_is_part_of_it(self) -> None:
        assert found("邮箱13812345678@qq.com") == [("email", "13812345678@qq.com")]

    @pytest.mark.parametrize(("text", "name"), [
        ("我叫张三，卡被冻结了", "张三"), ("客户姓名：李四", "李四"),
        ("本人王五于昨日来电", "王五"), ("姓名: 欧阳娜娜", "欧阳娜娜"),
        ("我的名字是陈小明想咨询", "陈小明"), ("姓名：阿依古丽", "阿依古丽"),
        ("联系人：刘德华 电话", "刘德华"), ("my name is John Smith and", "John Smith"),
        ("Name: Mary-Jane Watson", "Mary-Jane Watson"), ("My name's Li Wei.", "Li Wei")])
    def test_names_introduced_as_such(self, text: str, name: str) -> None:
        assert found(text) == [("name", name)]

    @pytest.mark.parametrize("text", [
        "本人于昨天去网点", "本人从未收到短信", "本人强烈要求退款", "本人曾多次投诉", "我叫了客服",
        "请提供姓名和电话", "客户姓名不符", "my name is on the account", "username: admin",
        "我是张家口的客户"])
    def test_words_that_only_look_like_an_introduction(self, text: str) -> None:
        assert found(text) == []

    @pytest.mark.parametrize("text", [
        "金额12345.67元", "转账¥50000", "共计 13812345678 元", "¥13812345678",
        "日期2026-11-01", "20261101 10:30", "2026年11月1日 14:05:33"])
    def test_amounts_dates_and_times_are_never_personal(self, text: str) -> None:
        assert found(text) == []

    @pytest.mark.parametrize("text", [
        "工单号TS20261122000123", "工单号：2026112200012345", "工单编号 13812345678",
        "流水号6222021234567890128", "case no. 13812345678", "订单号110105491231002"])
    def test_case_and_order_references_are_never_personal(self, text: str) -> None:
        assert found(text) == []

    @pytest.mark.parametrize("text", ["请拨打95533", "客服95588", "400-820-8888", "拨打12378投诉",
                                      "市民热线12345", "800-820-8820"])
    def test_service_hotlines_are_never_personal(self, text: str) -> None:
        assert found(text) == []

    def test_numbers_inside_longer_runs_are_not_taken_apart(self) -> None:
        assert found("编码A13812345678B 和 1381234567890") == []

    def test_full_width_digits_are_read(self) -> None:
        assert found("手机１３８１２３４５６７８") == [("mobile", "１３８１２３４５６７８")]

    def test_spans_are_in_order_with_exclusive_ends(self) -> None:
        text = f"我叫张三，电话13812345678，身份证{ID}"
        spans = find_pii(text)
        assert [s.type for s in spans] == ["name", "mobile", "id_number"]
        assert spans[1] == PiiSpan("mobile", 7, 18)

    def test_every_type_is_a_known_one(self) -> None:
        text = (f"我叫张三 13812345678 010-62345678 {CARD16} {ID} a@b.cn")
        assert sorted({s.type for s in find_pii(text)}) == sorted(PII_TYPES)

    def test_text_without_personal_data(self) -> None:
        assert find_pii("网点排队时间太长，希望改进") == []


class TestMaskText:
    def test_mobile(self) -> None:
        assert mask_text("电话13812345678") == "电话138****5678"

    def test_grouped_mobile_with_country_code(self) -> None:
        assert mask_text("电话 +86 138 1234 5678。") == "电话 138****5678。"

    def test_landline(self) -> None:
        assert mask_text("座机010-62345678") == "座机010****5678"

    def test_id_number_as_customers_masking_shows_it(self) -> None:
        assert mask_text(f"身份证{ID}") == "身份证110***********002X"

    def test_card_grouped_in_fours_keeps_its_groups(self) -> None:
        assert mask_text(f"卡号{GROUPED}") == f"卡号6222 **** **** {CARD16[-4:]}"

    def test_a_19_digit_grouped_card_keeps_its_last_four_digits(self) -> None:
        assert mask_text(GROUPED19) == "6228 **** **** ***" + GROUPED19[-5:]

    def test_plain_card_keeps_first_and_last_four(self) -> None:
        assert mask_text(f"卡号{CARD16}") == f"卡号6222********{CARD16[-4:]}"

    def test_email_keeps_the_first_letter_and_the_domain(self) -> None:
        assert mask_text("zhangsan@example.com") == "z***@example.com"

    def test_chinese_name_keeps_the_surname(self) -> None:
        assert mask_text("我叫张三，姓名：欧阳娜娜") == "我叫张*，姓名：欧***"

    def test_english_name_keeps_initials(self) -> None:
        assert mask_text("My name is John Smith.") == "My name is J*** S****."

    def test_never_touches_amounts_dates_references_or_hotlines(self) -> None:
        text = ("金额12345.67元，¥50000，2026-11-01 10:30，20261101，工单号TS20261122000123，"
                "请拨打95533或400-820-8888")
        assert mask_text(text) == text

    def test_uses_the_spans_it_is_given(self) -> None:
        assert mask_text("13812345678", []) == "13812345678"


# Every shape of number, as written (for the plain tests below).
NUMBERS = (("id_number", ID), ("id_number", ID.lower()), ("bank_card", CARD16),
           ("bank_card", GROUPED), ("bank_card", GROUPED19), ("mobile", "13812345678"),
           ("mobile", "+86 138 1234 5678"), ("mobile", "138-1234-5678"),
           ("landline", "010-62345678"), ("landline", "(021)62345678"))


class TestPlainTests:
    """find_pii runs each reader only when a plain test says the text may hold what it reads
    (a digit, an "@", a Chinese character, "name" in some case) and folds full-width forms
    only in text that is not plain ASCII: none of that may lose a hit."""

    @pytest.mark.parametrize(("kind", "number"), NUMBERS)
    @pytest.mark.parametrize("context", ["{}", "My number is {}, thanks.", "号码{}。",
                                         "Café: {} ", "{}\n"])
    def test_numbers_are_found_in_ascii_and_other_text(self, kind: str, number: str,
                                                       context: str) -> None:
        text = context.format(number)
        assert found(text) == [(kind, number)]

    @pytest.mark.parametrize(("kind", "number"), NUMBERS[:6])
    def test_full_width_numbers_are_found(self, kind: str, number: str) -> None:
        wide = number.translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"})
        assert found(f"号码{wide}") == [(kind, wide)]

    def test_an_email_in_ascii_text_keeps_its_number(self) -> None:
        assert found("mail 13812345678@qq.com now") == [("email", "13812345678@qq.com")]

    def test_a_full_width_at_sign_is_read(self) -> None:
        assert found("邮箱zhang＠example.com") == [("email", "zhang＠example.com")]

    @pytest.mark.parametrize("text", ["NAME: John Smith", "nAmE: John Smith",
                                      "MY NAME IS John Smith", "my name's John Smith"])
    def test_english_names_are_found_whatever_the_case_of_name(self, text: str) -> None:
        assert found(text) == [("name", "John Smith")]

    def test_a_chinese_name_in_mixed_text_is_found(self) -> None:
        assert found("Hello, 我叫张三 and my name is John Smith") == [
            ("name", "张三"), ("name", "John Smith")]

    def test_plain_ascii_text_has_no_chinese_name(self) -> None:
        assert found("The username field was blank; surname Smith") == []

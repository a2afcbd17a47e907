from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bankvoc.nlp.text import content_key, language, nfkc


class TestLanguage:
    @pytest.mark.parametrize(("text", "expected"), [
        ("My card was eaten by the ATM", "en"), ("", "en"), ("12345 !!", "en"),
        ("Café crème, naïve résumé", "en"), ("卡被吞了，请处理", "zh"), ("信用卡", "zh"),
        ("ATM吞卡", "zh"), ("My ATM card 被吞 yesterday at the branch", "en"),
        ("一二三" + "x" * 10, "zh"), ("一二" + "x" * 10, "en"),
        ("x" * 400 + "信用卡", "en")])
    def test_chinese_characters_against_letters_in_the_first_400(self, text: str,
                                                                  expected: str) -> None:
        assert language(text) == expected


class TestNfkc:
    @given(st.text(alphabet=st.one_of(
        st.characters(), st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),
        st.sampled_from("\u3000\u0301\u0308\u3099\u309a"))))
    def test_it_is_unicode_nfkc(self, text: str) -> None:
        assert nfkc(text) == unicodedata.normalize("NFKC", text)

    @pytest.mark.parametrize("text", [
        "ＡＰＰ闪退，请处理！", "Ａ\u0301", "ｶﾞ", "①号　窗口", "plain"])
    def test_full_width_forms_and_what_combines_with_them(self, text: str) -> None:
        assert nfkc(text) == unicodedata.normalize("NFKC", text)


class TestContentKey:
    @pytest.mark.parametrize(("text", "stored"), [
        ("本人张三，于2026年3月购买贵行稳健理财产品10万元，到期未兑付，要求立即兑付！",
         "4cdee6be314d7cc3fcf765ef41bdc7ba85c54b2189dece2b2ebe56e5279b2e73"),
        ("ＡＰＰ闪退\u3000ｏｋ",
         "ba62df5d89a9aaff01150c242da60ec6c32ceb9d51a9ed721476c68f2c41ddd3"),
        ("My card was eaten, ATM #12",
         "44a2726226c711c4565c6c358141d90092ed4ea2022ca3ec527f84676c2632d9")])
    def test_keys_stay_those_already_stored(self, text: str, stored: str) -> None:
        assert content_key(text) == stored

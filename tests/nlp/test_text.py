from __future__ import annotations

import pytest

from bankvoc.nlp.text import language


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

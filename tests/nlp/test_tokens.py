from __future__ import annotations

import pickle

import pytest

from bankvoc.nlp import tokens
from bankvoc.nlp.tokens import CharAnalyzer, WordAnalyzer

CORPUS = [
    "信用卡年费扣多了，请退还",
    "手机银行登录不上，一直提示密码错误",
    "My credit card annual fee was charged twice",
    "The mobile app keeps logging me out",
    "信用卡 annual fee 退还",
    "",
]


class TestNormalise:
    def test_full_width_becomes_half_width_and_lower_case(self) -> None:
        assert tokens.normalise("ＩＣ卡ＡＢＣ１２") == "ic卡abc12"

    def test_zero_width_characters_and_byte_order_marks_vanish(self) -> None:
        assert tokens.normalise("\ufeff信用\u200b卡") == "信用卡"

    def test_long_numbers_become_zeros_of_the_same_length(self) -> None:
        text = "电话13812345678，身份证11010119900307123X"
        normal = tokens.normalise(text)
        assert normal == "电话00000000000,身份证00000000000000000x"
        assert len(normal) == len(text)

    def test_hotlines_amounts_and_dates_are_kept(self) -> None:
        assert tokens.normalise("95533 转账5000元 2026-11-27") == "95533 转账5000元 2026-11-27"


class TestChineseWords:
    def test_chinese_is_segmented_into_words(self) -> None:
        assert tokens.chinese_words("我想办信用卡") == ["我", "想", "办", "信用卡"]

    def test_other_scripts_are_words_between_spaces_and_punctuation(self) -> None:
        assert tokens.chinese_words("Don't charge me, OK?") == ["don't", "charge", "me", "ok"]

    def test_mixed_text_keeps_the_order_of_the_text(self) -> None:
        assert tokens.chinese_words("Apple Pay绑卡失败") == ["apple", "pay", "绑卡", "失败"]

    def test_punctuation_and_spaces_are_never_words(self) -> None:
        assert tokens.chinese_words("？！ ，。...") == []


class TestWordSpans:
    def test_offsets_point_at_each_word_in_the_normal_form(self) -> None:
        normal = tokens.normalise("我的信用卡, card")
        assert [(w, normal[s:e]) for w, s, e in tokens.word_spans(normal)] == [
            ("我", "我"), ("的", "的"), ("信用卡", "信用卡"), ("card", "card")]


class TestNgrams:
    def test_bigrams_are_joined_by_a_space_after_the_unigrams(self) -> None:
        assert tokens.ngrams(["a", "b", "c"], 1, 2) == ["a", "b", "c", "a b", "b c"]

    def test_a_range_without_unigrams_leaves_them_out(self) -> None:
        assert tokens.ngrams(["a", "b", "c"], 2, 3) == ["a b", "b c", "a b c"]

    def test_too_few_tokens_give_no_longer_ngrams(self) -> None:
        assert tokens.ngrams(["a"], 1, 3) == ["a"]


class TestCharNgrams:
    def test_runs_are_padded_and_unigrams_are_bare_characters(self) -> None:
        assert tokens.char_ngrams("ab", 1, 2) == ["a", "b", " a", "ab", "b "]

    def test_ngrams_never_span_punctuation(self) -> None:
        grams = tokens.char_ngrams("卡丢了,挂失", 2, 3)
        assert not [g for g in grams if "了" in g and "挂" in g]


class TestAnalyzers:
    def test_word_analyzer_gives_word_ngrams_of_the_normal_form(self) -> None:
        assert WordAnalyzer((1, 2))("ＩＣ卡 挂失") == ["ic", "卡", "挂失", "ic 卡", "卡 挂失"]

    def test_char_analyzer_looks_only_at_the_first_characters_when_limited(self) -> None:
        assert CharAnalyzer((1, 1), limit=2)("abcdef") == ["a", "b"]

    def test_analyzers_survive_pickling(self) -> None:
        analyzer = CharAnalyzer((2, 3))
        assert pickle.loads(pickle.dumps(analyzer))("卡丢了") == analyzer("卡丢了")


class TestCreditWords:
    def test_character_ngrams_are_credited_to_the_words_they_cover(self) -> None:
        credited = tokens.credit_words("我的信用卡年费", {}, {"信用": 1.0, "用卡": 1.0, "年": 0.5})
        assert [word for word, _ in credited] == ["信用卡", "年费"]
        assert credited[0][1] == pytest.approx(2.0)

    def test_word_ngrams_are_shared_by_their_words(self) -> None:
        credited = tokens.credit_words("annual fee twice", {"annual fee": 1.0}, {})
        assert dict(credited) == {"annual": 0.5, "fee": 0.5}

    def test_padded_ngrams_only_count_where_a_word_starts_or_ends(self) -> None:
        credited = tokens.credit_words("fee efe", {}, {" fe": 1.0, "fe ": 0.5})
        assert dict(credited) == {"fee": 1.0, "efe": 0.5}

    def test_negative_contributions_are_not_credited(self) -> None:
        assert tokens.credit_words("annual fee", {"fee": -1.0}, {"an": -2.0}) == []

    def test_long_texts_are_credited_from_word_features_and_whole_word_ngrams(self) -> None:
        text = "the fee was charged twice " * 20
        credited = tokens.credit_words(text, {"fee": 1.0, "charged twice": 1.0},
                                       {" fee ": 0.5, "wic": 3.0}, scan_limit=100)
        assert credited == [("fee", 1.5), ("charged", 0.5), ("twice", 0.5)]

    def test_a_long_number_is_shown_as_a_number_not_its_digits(self) -> None:
        credited = tokens.credit_words("卡号6222021234567890", {"0000000000000000": 1.0}, {})
        assert credited == [("<number>", 1.0)]

    def test_only_the_top_words_are_returned(self) -> None:
        features = {"a": 3.0, "b": 2.0, "c": 1.0}
        assert [w for w, _ in tokens.credit_words("a b c", features, {}, top=2)] == ["a", "b"]

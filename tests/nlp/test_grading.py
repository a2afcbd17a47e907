from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from bankvoc.nlp.grading import (
    GradingRules,
    GradingRulesError,
    grade,
    load_grading_rules,
    parse_grading_config,
    stated_age,
)

SHIPPED = resources.files("bankvoc.nlp").joinpath("grading.yaml").read_text("utf-8")


class TestGrade:
    def test_plain_complaint_is_general_with_no_reasons(self) -> None:
        result = grade("网点排队时间有点长", amount=None)
        assert (result.severity, result.reasons) == ("general", [])

    @pytest.mark.parametrize(("amount", "severity"), [
        (Decimal("49999"), "general"), (Decimal("50000"), "important"),
        (Decimal("500000"), "urgent"), (Decimal("5000000"), "major"),
    ])
    def test_amount_thresholds(self, amount: Decimal, severity: str) -> None:
        assert grade("转账问题", amount=amount).severity == severity

    def test_the_amount_reason_names_the_amount_and_the_threshold(self) -> None:
        assert grade("转账问题", amount=Decimal("60000")).reasons == [
            "amount involved (60000 ≥ 50000)"]

    @pytest.mark.parametrize("text", [
        "再不处理我就打12378", "我要找媒体曝光", "我已经请了律师准备起诉", "I will sue the bank",
        "I complained to the CFPB", "我要投诉到银保监"])
    def test_threats_to_escalate_make_it_urgent_with_the_reason(self, text: str) -> None:
        result = grade(text, amount=None)
        assert result.severity == "urgent"
        assert "escalate" in result.reasons[0]

    def test_the_reason_carries_the_evidence(self) -> None:
        assert grade("再不处理我就打12378", amount=None).reasons == [
            "threatens to escalate outside the bank (12378)"]

    def test_the_longest_word_is_the_evidence(self) -> None:
        assert grade("我要投诉到银保监", amount=None).reasons == [
            "threatens to escalate outside the bank (投诉到银保监)"]

    @pytest.mark.parametrize("text", ["我的电话是13812345678", "this issue needs courtesy",
                                      "属于个人行为", "an intermediary bank", "工单123456"])
    def test_lookalikes_do_not_escalate(self, text: str) -> None:
        assert grade(text, amount=None).severity == "general"

    def test_vulnerable_customer_is_important(self) -> None:
        result = grade("我家老人在柜台被推销理财", amount=None)
        assert result.severity == "important"
        assert "vulnerable" in result.reasons[0]

    def test_the_highest_reason_wins_and_all_reasons_are_kept(self) -> None:
        result = grade("老人被骗了，太过分了，我要报警", amount=Decimal("60000"))
        assert result.severity == "urgent"
        assert len(result.reasons) == 4

    def test_group_complaint_words_suggest_a_mass_complaint(self) -> None:
        assert grade("我们是群体性投诉", amount=None).reasons == [
            "possible mass complaint (群体性投诉)"]

    def test_an_elderly_customer_by_birth_year_is_vulnerable(self) -> None:
        result = grade("转账问题", amount=None, birth_year=1950, on=date(2026, 11, 20))
        assert (result.severity, result.reasons) == ("important", ["vulnerable customer (aged 76)"])

    def test_a_younger_customer_by_birth_year_is_not(self) -> None:
        assert grade("转账问题", amount=None, birth_year=1962,
                     on=date(2026, 11, 20)).severity == "general"

    def test_an_age_stated_in_the_text_counts(self) -> None:
        assert grade("我今年78岁，看不懂手机银行", amount=None).reasons == [
            "vulnerable customer (aged 78)"]

    def test_an_impossible_birth_year_is_ignored(self) -> None:
        assert grade("转账问题", amount=None, birth_year=1820).severity == "general"

    def test_a_repeat_complaint_is_raised(self) -> None:
        result = grade("转账问题", amount=None, repeat_within_30_days=True)
        assert (result.severity, result.reasons) == (
            "important", ["repeat complaint within 30 days"])

    def test_many_similar_complaints_today_suggest_a_mass_complaint(self) -> None:
        result = grade("转账问题", amount=None, similar_today=12)
        assert (result.severity, result.reasons) == (
            "urgent", ["possible mass complaint (12 similar today)"])

    def test_a_few_similar_complaints_are_ordinary(self) -> None:
        assert grade("转账问题", amount=None, similar_today=4).severity == "general"

    def test_strong_negative_sentiment_is_important(self) -> None:
        result = grade("转账问题", amount=None, sentiment=-0.85)
        assert (result.severity, result.reasons) == (
            "important", ["strong negative emotion (sentiment -0.85)"])

    def test_mild_negative_sentiment_is_ordinary(self) -> None:
        assert grade("转账问题", amount=None, sentiment=-0.3).severity == "general"

    def test_the_grade_records_the_rules_version(self) -> None:
        assert grade("x", amount=None).rules_version == load_grading_rules().version

    def test_a_bank_can_change_what_a_rule_gives(self) -> None:
        config = parse_grading_config(SHIPPED.replace("at_least: 50000, severity: important",
                                                      "at_least: 10000, severity: important"))
        assert grade("x", amount=Decimal("20000"), rules=GradingRules(config)).severity \
            == "important"


class TestEnglishSignals:
    """English words count only as whole words (runs of letters), found however the text
    begins, ends or is written."""

    @pytest.mark.parametrize("text", ["Sue them", "I will SUE.", "to sue", "(sue)", "2sue",
                                      "they're suing me", "Lawyer-up", "call the CFPB!"])
    def test_whole_words_are_found(self, text: str) -> None:
        assert grade(text, amount=None).severity == "urgent"

    @pytest.mark.parametrize("text", ["this issue", "pursue it", "sued", "suer", "courtesy",
                                      "immediately", "scammer"])
    def test_words_inside_other_words_are_not(self, text: str) -> None:
        assert grade(text, amount=None).severity == "general"

    def test_a_phrase_needs_all_its_words(self) -> None:
        assert grade("a class action", amount=None).reasons == [
            "possible mass complaint (class action)"]
        assert grade("first class service", amount=None).reasons == []

    def test_a_plain_word_a_bank_lists_without_letters_is_found_in_ascii_text(self) -> None:
        config = parse_grading_config(SHIPPED.replace("words: [投诉到银保监,",
                                                      "words: [\"110\", 投诉到银保监,"))
        rules = GradingRules(config)
        assert grade("I called 110 at once", amount=None, rules=rules).reasons == [
            "threatens to escalate outside the bank (110)"]
        assert grade("我打了110", amount=None, rules=rules).severity == "urgent"


class TestStatedAge:
    @pytest.mark.parametrize(("text", "age"), [
        ("我今年78岁", 78), ("老人82周岁了", 82), ("my 72-year-old mother", 72),
        ("he is 80 years old", 80), ("aged 67", 67), ("孩子3岁，父亲70岁", 70)])
    def test_reads_ages_as_written(self, text: str, age: int) -> None:
        assert stated_age(text) == age

    @pytest.mark.parametrize("text", ["没有年龄", "第12345岁", "a 10-year loan",
                                      "I was told 80 times"])
    def test_ignores_numbers_that_are_not_an_age(self, text: str) -> None:
        assert stated_age(text) is None


class TestGradingRules:
    def test_without_a_file_it_holds_the_shipped_rules(self) -> None:
        assert GradingRules().config == load_grading_rules().config


class TestLoadGradingRules:
    def test_the_shipped_rules_are_loaded_once(self) -> None:
        assert load_grading_rules() is load_grading_rules()

    def test_reads_a_banks_own_file_afresh_each_time(self, tmp_path: Path) -> None:
        path = tmp_path / "grading.yaml"
        path.write_text(SHIPPED.replace('version: "2026.1"', 'version: "bank-7"'), "utf-8")
        assert load_grading_rules(path).version == "bank-7"
        path.write_text(SHIPPED.replace('version: "2026.1"', 'version: "bank-8"'), "utf-8")
        assert load_grading_rules(path).version == "bank-8"

    def test_a_bad_file_names_itself(self, tmp_path: Path) -> None:
        path = tmp_path / "grading.yaml"
        path.write_text("version: [", "utf-8")
        with pytest.raises(GradingRulesError, match=r"grading\.yaml line 1: not valid YAML"):
            load_grading_rules(path)


class TestParseGradingConfig:
    def test_the_shipped_file_is_valid(self) -> None:
        assert parse_grading_config(SHIPPED).similar_today.at_least > 1

    @pytest.mark.parametrize(("old", "new", "at", "reason"), [
        ("at_least: 65", "at_least: old", "at_least: old",
         "age.at_least: Input should be a valid integer"),
        ("severity: urgent\n    reason: possible mass", "severity: huge\n    reason: possible mass",
         "severity: huge", "signals.1.severity: Input should be 'general'"),
        ('numbers: ["12378"', 'numbers: ["123a"', "numbers:",
         "signals.0.numbers: .*digits only"),
        ("words: [老人", "words: [CFPB, 老人", "words: [CFPB",
         "signals.2.words: .*CFPB: words with Latin letters belong under 'english'"),
        ("律师, 起诉", "律师, 老人", "signals:", "signals: .*listed twice: 老人"),
        ('version: "2026.1"', 'version: "2026.1"\nrulez: 1', "rulez", "rulez: Extra inputs"),
    ])
    def test_refuses_a_bad_file_with_the_line_and_the_reason(self, old: str, new: str, at: str,
                                                            reason: str) -> None:
        assert old in SHIPPED
        text = SHIPPED.replace(old, new, 1)
        line = next(n for n, t in enumerate(text.splitlines(), start=1) if t.startswith(at)
                    or t.lstrip().startswith(at))
        with pytest.raises(GradingRulesError, match=f"^grading.yaml line {line}: {reason}"):
            parse_grading_config(text)

    def test_refuses_a_key_given_twice(self) -> None:
        text = SHIPPED.replace("  at_least: 65\n", "  at_least: 65\n  at_least: 70\n")
        line = text.splitlines().index("  at_least: 70") + 1
        with pytest.raises(GradingRulesError, match=f"line {line}: 'at_least' is given twice"):
            parse_grading_config(text)

    def test_a_missing_rule_is_named(self) -> None:
        with pytest.raises(GradingRulesError, match="sentiment: Field required"):
            parse_grading_config(SHIPPED.replace("sentiment:\n  at_most", "mood:\n  at_most"))

    def test_refuses_an_empty_file(self) -> None:
        with pytest.raises(GradingRulesError, match="the file: Input should be a valid dict"):
            parse_grading_config("")

    def test_refuses_text_that_is_not_yaml(self) -> None:
        with pytest.raises(GradingRulesError, match=r"line \d+: not valid YAML"):
            parse_grading_config(SHIPPED.replace("tiers:", "tiers: [oops"))

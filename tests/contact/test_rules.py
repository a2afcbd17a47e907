"""Rule-set files: the shipped one, and how a bad one is refused with its lines and reasons."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bankvoc.contact.rules import (
    CATEGORIES,
    ForbiddenRule,
    InterruptionRule,
    QaRulesError,
    RuleSet,
    SilenceRule,
    load_ruleset,
    parse_ruleset,
    read_ruleset,
)

GOOD = """\
version: 2
name: test
rules:
  - id: greet
    category: greeting
    check: required
    scope: first_agent_turn
    weight: 10
    match:
      phrases: [您好]
"""


def refused(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(QaRulesError) as caught:
        parse_ruleset(text, source="r.yaml")
    return [(p.line, p.path, p.reason) for p in caught.value.problems]


class TestShipped:
    def test_every_category_is_checked(self) -> None:
        rules = load_ruleset()
        assert rules.version == 1
        assert tuple(rules.categories()) == CATEGORIES

    def test_defaults_the_issue_names(self) -> None:
        rules = load_ruleset()
        silence = rules.rule("long_silence")
        interruption = rules.rule("talking_over_customer")
        assert isinstance(silence, SilenceRule)
        assert isinstance(interruption, InterruptionRule)
        assert (silence.seconds, interruption.seconds) == (10, 1)
        with pytest.raises(KeyError):
            rules.rule("nope")

    def test_it_pickles_for_the_workers(self) -> None:
        rules = load_ruleset()
        assert pickle.loads(pickle.dumps(rules)) == rules


class TestParse:
    def test_a_good_file(self) -> None:
        rules = parse_ruleset(GOOD)
        assert (rules.version, rules.name, [r.id for r in rules.rules]) == (2, "test", ["greet"])

    def test_a_file_on_disk(self, tmp_path: Path) -> None:
        path = tmp_path / "r.yaml"
        path.write_text(GOOD, encoding="utf-8")
        assert read_ruleset(path).version == 2
        assert load_ruleset(path).rules[0].id == "greet"

    def test_unknown_check_at_its_line(self) -> None:
        assert refused(GOOD.replace("check: required", "check: requird")) == [
            (6, "rules[0].check", "'requird' is not a check (known: required, "
                                  "required_before, forbidden, silence, interruption, "
                                  "speech_rate, emotion, promise)")]

    def test_a_bad_pattern_at_its_line(self) -> None:
        problems = refused(GOOD.replace("phrases: [您好]", "patterns: ['您好(']"))
        assert [(line, path) for line, path, _ in problems] == [(10, "rules[0].match.patterns")]
        assert "is not a regular expression" in problems[0][2]

    def test_a_pattern_matching_nothing_is_refused(self) -> None:
        problems = refused(GOOD.replace("phrases: [您好]", "patterns: ['(?:您好)?']"))
        assert "matches empty text" in problems[0][2]

    def test_missing_and_misspelt_fields(self) -> None:
        text = GOOD.replace("    weight: 10\n", "    wieght: 10\n")
        assert refused(text) == [
            (4, "rules[0].weight", "is required but missing"),
            (8, "rules[0].wieght", "is not a field here (check its spelling)")]

    def test_unknown_category(self) -> None:
        problems = refused(GOOD.replace("category: greeting", "category: greetings"))
        assert [(line, path) for line, path, _ in problems] == [(5, "rules[0].category")]

    def test_duplicate_ids(self) -> None:
        text = GOOD + """\
  - {id: greet, category: closing, check: required, weight: 5, match: {phrases: [再见]}}
"""
        assert refused(text) == [(11, "rules[1].id", "duplicate rule id 'greet' (first at "
                                                     "rules[0])")]

    def test_a_speech_band_upside_down(self) -> None:
        text = GOOD + """\
  - id: rate
    category: speech_rate
    check: speech_rate
    weight: 5
    min_cpm: 300
    max_cpm: 200
"""
        problems = refused(text)
        assert [(line, path) for line, path, _ in problems] == [(11, "rules[1]")]
        assert "min_cpm (300) must be below max_cpm (200)" in problems[0][2]

    def test_a_lexicon_needs_words(self) -> None:
        problems = refused(GOOD.replace("      phrases: [您好]\n", "      phrases: []\n"))
        assert problems[0][:2] == (9, "rules[0].match")
        assert "give at least one of phrases or patterns" in problems[0][2]

    def test_version_required_and_every_problem_reported(self) -> None:
        text = GOOD.replace("version: 2\n", "").replace("weight: 10", "weight: 101")
        assert [(line, path) for line, path, _ in refused(text)] == [
            (1, "version"), (7, "rules[0].weight")]

    def test_the_message_names_the_file_and_line(self) -> None:
        with pytest.raises(QaRulesError) as caught:
            parse_ruleset("version: 1\nrules: []\n", source="mine.yaml")
        assert caught.value.message.startswith("mine.yaml line 2: rules:")

    def test_unless_is_tried_before_the_match(self) -> None:
        rules = parse_ruleset(GOOD + """\
  - id: rude
    category: forbidden_phrase
    check: forbidden
    weight: 15
    match: {phrases: [没办法]}
    unless: {phrases: [不是没办法]}
""")
        rule = rules.rules[1]
        assert isinstance(rule, ForbiddenRule)
        assert isinstance(rules, RuleSet)

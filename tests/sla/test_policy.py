"""The deadline policy: what ships, how a case finds its rules, how a bad file is refused."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankvoc.cases.enums import CaseKind
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import reset_settings
from bankvoc.sla import policy as sla_policy
from bankvoc.sla.enums import Origin
from bankvoc.sla.errors import PolicyError
from bankvoc.sla.policy import CaseFacts, Match, load_policy, parse_policy, read_policy

# A small policy the refusals below change one thing in.
MINIMAL = """\
version: "test-1"
pause_reasons: [appraisal]
statutory:
  decision:
    zh: 处理决定
    en: Decision
    rules:
      - id: pboc
        match: {origins: [pboc]}
        days: 15
        extensions:
          - {up_to: 60, approvers: [complaint_head]}
      - id: general
        days: 15
        extensions:
          - up_to: 30
          - up_to: 60
            approvers: [superior_office]
        paused_by: [appraisal]
targets:
  response:
    zh: 响应
    en: Response
    rules:
      - id: hotline
        match: {channels: [hotline], kinds: [complaint]}
        minutes: 10
      - id: everything
        hours: 1
        unit: working
"""

COMPLAINT_KINDS = [k for k in CaseKind if k is not CaseKind.praise]


def edit(old: str, new: str, text: str = MINIMAL) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, pattern: str, nth: int = 1) -> int:
    found = [i for i, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    return found[nth - 1]


def refusal(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return caught.value


@pytest.fixture(autouse=True)
def _fresh_policy() -> Iterator[None]:
    """Each test builds what its environment names."""
    sla_policy.clear_cache()
    yield
    sla_policy.clear_cache()


class TestShippedPolicy:
    def test_loads_with_a_version(self) -> None:
        policy = load_policy()
        assert policy.version
        assert policy.effective_from == dt.date(2026, 1, 1)

    @pytest.mark.parametrize("origin", ["direct", "nfra", "12378", "12345"])
    def test_the_nfra_rules_decide_within_15_days_extendable_to_30_and_60(
        self, origin: str
    ) -> None:
        rule = load_policy().statutory_rule("decision", CaseFacts("complaint", origin))
        assert rule is not None
        assert rule.id == "nfra_measures"
        assert (rule.days, rule.max_days, rule.starts) == (15, 60, "received")
        first, second = rule.extensions
        assert (first.up_to, first.approvers, first.tell_customer) == (30, [], True)
        assert (second.up_to, second.approvers, second.tell_customer) == (
            60, ["superior_office", "head_office_senior_manager"], True)

    def test_outside_appraisal_testing_and_evaluation_do_not_count(self) -> None:
        rule = load_policy().statutory_rule("decision", CaseFacts("complaint"))
        assert rule is not None
        assert rule.paused_by == ["appraisal", "testing", "evaluation"]
        assert rule.tell_customer_of_pause

    def test_new_facts_restart_the_period(self) -> None:
        rule = load_policy().statutory_rule("decision", CaseFacts("complaint"))
        assert rule is not None
        assert rule.restart_on_new_facts

    def test_a_pboc_transfer_starts_on_corrections_and_its_complaint_head_extends(
        self
    ) -> None:
        rule = load_policy().statutory_rule("decision", CaseFacts("complaint", "pboc"))
        assert rule is not None
        assert rule.id == "pboc_transfer"
        assert (rule.days, rule.max_days, rule.starts) == (15, 60, "corrections_complete")
        assert [(e.up_to, e.approvers) for e in rule.extensions] == [(60, ["complaint_head"])]

    @pytest.mark.parametrize("origin", list(Origin))
    @pytest.mark.parametrize("kind", COMPLAINT_KINDS)
    def test_every_kind_but_praise_has_a_decision_clock_from_every_origin(
        self, kind: str, origin: str
    ) -> None:
        assert load_policy().statutory_rule("decision", CaseFacts(kind, origin)) is not None

    @pytest.mark.parametrize("origin", list(Origin))
    def test_praise_has_no_clock(self, origin: str) -> None:
        policy = load_policy()
        facts = CaseFacts("praise", origin, channel="hotline", severity="general")
        assert policy.statutory_rule("decision", facts) is None
        assert all(policy.target_rule(name, facts) is None for name in policy.targets)

    def test_the_bank_targets(self) -> None:
        policy = load_policy()
        hotline = CaseFacts("complaint", channel="hotline", severity="general")
        found = {name: policy.target_rule(name, hotline) for name in policy.targets}
        assert {name: (r.allowance, r.unit) for name, r in found.items() if r} == {
            "first_contact": (dt.timedelta(minutes=10), "calendar"),
            "response": (dt.timedelta(hours=1), "calendar"),
            "solution": (dt.timedelta(hours=24), "calendar"),
        }
        feedback = policy.target_rule("feedback", CaseFacts("suggestion"))
        assert feedback is not None
        assert feedback.allowance == dt.timedelta(hours=24)

    def test_first_contact_in_10_minutes_is_for_hotline_complaints_only(self) -> None:
        policy = load_policy()
        assert policy.target_rule("first_contact", CaseFacts("complaint", channel="branch")
                                  ) is None
        assert policy.target_rule("first_contact", CaseFacts("complaint")) is None

    def test_the_24_hour_solution_is_for_ordinary_cases(self) -> None:
        policy = load_policy()
        assert policy.target_rule("solution", CaseFacts("complaint", severity="general"))
        assert policy.target_rule("solution", CaseFacts("complaint", severity="major")) is None

    def test_warnings_at_half_and_four_fifths_and_working_hours_nine_to_five(self) -> None:
        policy = load_policy()
        assert policy.warn_at == [0.5, 0.8]
        assert (policy.business_hours.start, policy.business_hours.end) == (
            dt.time(9), dt.time(17))

    def test_clocks_have_chinese_and_english_names(self) -> None:
        policy = load_policy()
        assert policy.label("decision") == "投诉处理决定告知"
        assert policy.label("first_contact", "en") == "First contact with the customer"


class TestMatching:
    def test_the_first_matching_rule_decides(self) -> None:
        policy = parse_policy(MINIMAL)
        hotline = policy.target_rule("response", CaseFacts("complaint", channel="hotline"))
        branch = policy.target_rule("response", CaseFacts("complaint", channel="branch"))
        assert (hotline and hotline.id, branch and branch.id) == ("hotline", "everything")

    def test_a_case_without_a_channel_does_not_match_a_rule_that_needs_one(self) -> None:
        rule = parse_policy(MINIMAL).target_rule("response", CaseFacts("complaint"))
        assert rule is not None
        assert rule.id == "everything"

    def test_an_unknown_clock_has_no_rule(self) -> None:
        assert parse_policy(MINIMAL).statutory_rule("acknowledge", CaseFacts("complaint")) is None

    def test_a_match_covers_a_narrower_one(self) -> None:
        wide = Match(kinds=[CaseKind.complaint, CaseKind.suggestion])
        narrow = Match.model_validate({"kinds": ["complaint"], "channels": ["hotline"]})
        assert wide.covers(narrow)
        assert not narrow.covers(wide)
        assert Match().covers(wide)

    def test_warnings_fall_back_to_the_policys(self) -> None:
        text = edit("        minutes: 10\n", "        minutes: 10\n        warn_at: [0.9]\n")
        policy = parse_policy(text)
        hotline, everything = policy.targets["response"].rules
        assert (policy.fractions(hotline), policy.fractions(everything)) == ([0.9], [0.5, 0.8])


class TestBankPolicyFile:
    def test_bankvoc_sla_policy_file_selects_it(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(MINIMAL, encoding="utf-8")
        monkeypatch.setenv("BANKVOC_SLA_POLICY_FILE", str(path))
        reset_settings()
        assert load_policy().version == "test-1"

    def test_a_file_that_is_not_utf8_names_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.yaml"
        path.write_bytes(MINIMAL.encode() + "# 说明\n".encode("gb18030"))
        with pytest.raises(PolicyError) as caught:
            read_policy(path)
        assert caught.value.problems[0].line == len(MINIMAL.splitlines()) + 1


class TestRefusals:
    def test_the_minimal_file_is_accepted(self) -> None:
        assert parse_policy(MINIMAL).version == "test-1"

    def test_a_refusal_is_invalid_input(self) -> None:
        error = refusal(edit("days: 15\n        extensions:\n          - up_to: 30",
                             "days: 0\n        extensions:\n          - up_to: 30"))
        assert isinstance(error, Invalid)
        assert (error.status, error.code, error.field) == (422, "sla_policy_invalid",
                                                           "sla_policy")

    def test_bad_yaml_names_its_line(self) -> None:
        text = edit("    en: Decision\n", "    en: Decision: told\n")
        assert refusal(text).message.startswith(
            f"policy.yaml line {line_of(text, 'Decision: told')}: not valid YAML")

    def test_an_empty_file_is_refused_at_line_1(self) -> None:
        assert refusal("").message == ("policy.yaml line 1: should be a mapping of fields "
                                       "(key: value), not nothing")

    def test_a_version_must_be_text(self) -> None:
        assert refusal(edit('version: "test-1"', "version: 2026.1")).message.startswith(
            "policy.yaml line 1: version: Input should be a valid string")

    def test_a_missing_period_names_its_rule(self) -> None:
        text = edit("        match: {origins: [pboc]}\n        days: 15\n",
                    "        match: {origins: [pboc]}\n")
        assert refusal(text).message == (
            f"policy.yaml line {line_of(text, 'id: pboc')}: "
            "statutory.decision.rules[0].days: is required but missing")

    def test_an_unknown_kind_lists_the_known_ones(self) -> None:
        text = edit("kinds: [complaint]", "kinds: [complaints]")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "complaints")
        assert error.problems[0].path == "targets.response.rules[0].match.kinds[0]"
        assert "'complaint', 'complaint_intent'" in error.message

    def test_an_origin_may_be_written_as_a_number(self) -> None:
        policy = parse_policy(edit("origins: [pboc]", "origins: [pboc, 12378]"))
        rule = policy.statutory_rule("decision", CaseFacts("complaint", "12378"))
        assert rule is not None
        assert rule.id == "pboc"

    def test_a_rule_that_can_never_apply_is_refused(self) -> None:
        # A wider rule first: the PBoC rule below it never applies.
        text = edit("      - id: pboc\n        match: {origins: [pboc]}\n",
                    "      - id: first\n        match: {origins: [direct, pboc]}\n"
                    "        days: 15\n      - id: pboc\n        match: {origins: [pboc]}\n")
        error = refusal(text)
        assert error.message == (
            f"policy.yaml line {line_of(text, 'match: {origins: .pboc.}')}: "
            "statutory.decision.rules[1].match: never applies: rule 'first' above matches "
            "every case this one does (put the more specific rule first)")

    def test_an_extension_must_lengthen_the_period(self) -> None:
        text = edit("          - up_to: 30\n", "          - up_to: 10\n")
        error = refusal(text)
        assert error.message == (
            f"policy.yaml line {line_of(text, 'up_to: 10')}: "
            "statutory.decision.rules[1].extensions[0].up_to: 10 days does not extend the "
            "period of 15 days before it")

    def test_a_pause_reason_must_be_declared(self) -> None:
        text = edit("paused_by: [appraisal]", "paused_by: [appraisal, audit]")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "paused_by")
        assert error.problems[0].reason == "'audit' is not one of pause_reasons (appraisal)"

    @pytest.mark.parametrize(("fractions", "reason"), [
        ("[0.5, 1.2]", "each fraction is between 0 and 1"),
        ("[0.8, 0.5]", "fractions go up"),
        ("[]", "give at least one fraction"),
    ])
    def test_warning_fractions(self, fractions: str, reason: str) -> None:
        text = edit('version: "test-1"\n', f'version: "test-1"\nwarn_at: {fractions}\n')
        error = refusal(text)
        assert error.problems[0].line == 2
        assert reason in error.message

    def test_an_unquoted_time_is_refused_not_misread(self) -> None:
        # YAML 1.1 reads 17:00 as the number 1020.
        text = edit('version: "test-1"\n',
                    'version: "test-1"\nbusiness_hours: {start: "09:00", end: 17:00}\n')
        error = refusal(text)
        assert error.problems[0].path == "business_hours.end"
        assert 'write the time in quotes as "HH:MM"' in error.message

    def test_business_hours_end_after_they_start(self) -> None:
        text = edit('version: "test-1"\n',
                    'version: "test-1"\nbusiness_hours: {start: "18:00", end: "09:00"}\n')
        assert "end after they start" in refusal(text).message

    def test_a_target_gives_exactly_one_of_minutes_or_hours(self) -> None:
        text = edit("        minutes: 10\n", "        minutes: 10\n        hours: 1\n")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "id: hotline")
        assert "give exactly one of minutes or hours" in error.message

    def test_a_unit_is_calendar_or_working(self) -> None:
        text = edit("unit: working", "unit: office")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "unit: office")

    def test_rule_ids_are_unique_in_a_clock(self) -> None:
        text = edit("      - id: everything\n", "      - id: hotline\n")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "id: hotline", 2)
        assert "duplicate rule id 'hotline'" in error.message

    def test_a_target_cannot_reuse_a_statutory_clocks_name(self) -> None:
        text = edit("  response:\n", "  decision:\n")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "^  decision:", 2)
        assert "already a statutory clock" in error.message

    def test_a_misspelt_field_is_refused(self) -> None:
        text = edit("paused_by:", "pause_by:")
        error = refusal(text)
        assert error.problems[0].path == "statutory.decision.rules[1].pause_by"
        assert error.problems[0].line == line_of(text, "pause_by:")

    def test_an_approver_is_a_lower_snake_case_name(self) -> None:
        text = edit("approvers: [superior_office]", "approvers: [Superior Office]")
        error = refusal(text)
        assert error.problems[0].line == line_of(text, "Superior Office")
        assert "'Superior Office' is not a valid name" in error.message

    def test_every_problem_is_reported(self) -> None:
        text = edit("kinds: [complaint]", "kinds: [complaints]",
                    edit("unit: working", "unit: office"))
        error = refusal(text)
        assert len(error.problems) == 2
        assert error.message.endswith("(and 1 more problem)")

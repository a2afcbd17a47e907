"""Routing rules and authority limits, as a bank configures them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bankvoc.cases.workflow.config import (
    WorkflowConfigError,
    load_config,
    parse_config,
    pick_queue,
)
from bankvoc.core.errors import ConfigurationError, Invalid

PATHS = {"HQ": "/1/", "BJ": "/1/2/", "BJ01": "/1/2/4/", "SH": "/1/3/"}

RULES = """
version: "t"
authority_limits: {handler: 5000, branch_manager: 50000}
routing:
  - when: {origin: [nfra, "12378"]}
    queue: HQ
    why: regulator transfers
  - when: {product: [credit_card], org: [BJ]}
    queue: CARD
  - when: {severity: [major], channel: [hotline]}
    queue: HQ
"""


class TestRouting:
    config = parse_config(RULES, source="test.yaml")

    def _queue(self, case_path: str = "/1/2/4/", **facts: str | None) -> str | None:
        rule = pick_queue(self.config, facts, PATHS, case_path)
        return rule.queue if rule else None

    def test_the_first_rule_that_holds_wins(self) -> None:
        assert self._queue(origin="nfra", product="credit_card") == "HQ"

    def test_an_org_condition_holds_for_the_org_and_everything_below_it(self) -> None:
        assert self._queue(product="credit_card") == "CARD"
        assert self._queue("/1/3/", product="credit_card") is None

    def test_every_condition_of_a_rule_must_hold(self) -> None:
        assert self._queue(severity="major", channel="branch") is None
        assert self._queue(severity="major", channel="hotline") == "HQ"

    def test_no_rule_leaves_the_case_where_it_belongs(self) -> None:
        assert self._queue(product="mortgage") is None


class TestAuthorityLimits:
    def test_a_user_may_decide_up_to_the_largest_limit_of_their_roles(self) -> None:
        config = parse_config(RULES, source="test.yaml")
        assert config.limit_of(frozenset({"handler", "branch_manager"})) == Decimal(50000)
        assert config.limit_of(frozenset({"analyst"})) == Decimal(0)

    def test_the_shipped_defaults_let_an_outlet_manager_decide_50000(self) -> None:
        assert load_config().limit_of(frozenset({"branch_manager"})) == Decimal(50000)


class TestBadFiles:
    def test_an_unknown_condition_is_refused_naming_it(self) -> None:
        with pytest.raises(ConfigurationError, match=r"unknown condition.*colour"):
            parse_config(RULES.replace("severity: [major]", "colour: [red]"), source="t.yaml")

    def test_a_misspelt_field_is_refused_at_its_line(self) -> None:
        text = RULES.replace("    why: regulator transfers", "    wy: regulator transfers")
        with pytest.raises(WorkflowConfigError) as caught:
            parse_config(text, source="t.yaml")
        line = text.splitlines().index("    wy: regulator transfers") + 1
        assert caught.value.message == (f"t.yaml line {line}: routing[0].wy: is not a field here "
                                        "(check its spelling)")
        assert [p.to_dict() for p in caught.value.problems] == [
            {"line": line, "path": "routing[0].wy", "reason": "is not a field here (check its "
                                                              "spelling)"}]

    def test_every_problem_is_reported_with_its_line(self) -> None:
        text = RULES.replace("handler: 5000", "handler: lots").replace("queue: CARD", "queu: CARD")
        with pytest.raises(WorkflowConfigError) as caught:
            parse_config(text, source="t.yaml")
        assert [(p.line, p.path) for p in caught.value.problems] == [
            (3, "authority_limits.handler"), (8, "routing[1].queue"), (9, "routing[1].queu")]
        assert caught.value.message.endswith("(and 2 more problems)")

    def test_a_refusal_is_a_configuration_error_not_bad_input(self) -> None:
        with pytest.raises(WorkflowConfigError) as caught:
            parse_config("version: [\n", source="t.yaml")
        assert isinstance(caught.value, ConfigurationError)
        assert not isinstance(caught.value, Invalid)
        assert (caught.value.status, caught.value.code, caught.value.field) == (
            500, "configuration", "workflow")

    def test_broken_yaml_is_refused_with_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "w.yaml"
        path.write_text("version: x\nrouting: [\n", "utf-8")
        with pytest.raises(ConfigurationError, match=r"w.yaml line \d"):
            load_config(path)

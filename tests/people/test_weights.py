"""The scorecard weights file: the shipped one parses, and an edit naming an unknown level or
component, or a negative weight, is refused with the line of each problem."""

from __future__ import annotations

import pytest

from bankvoc.config.kinds import KINDS, ConfigInvalid
from bankvoc.people import weights

GOOD = ('version: "t"\nlevels:\n  agent: {qa: 1}\n  team: {qa: 1}\n'
        "  outlet: {inspection: 1}\n  branch: {inspection: 1}\n")


class TestParseWeights:
    def test_the_shipped_file_weights_every_level(self) -> None:
        shipped = weights.load_weights()
        assert set(shipped.levels) == set(weights.LEVELS)
        assert shipped.levels["agent"] == {"satisfaction": 30, "complaint_rate": 20,
                                           "on_time": 10, "qa": 40}

    def test_is_a_kind_of_versioned_configuration(self) -> None:
        kind = KINDS["scorecard_weights"]
        assert kind.validate(kind.file_text(), source="weights.yaml") == weights.load_weights()

    @pytest.mark.parametrize(("text", "said"), [
        (GOOD.replace("agent: {qa: 1}", "agent: {smile: 1}"), "'smile' is not a component"),
        (GOOD.replace("agent: {qa: 1}", "agent: {qa: -1}"), "not negative"),
        (GOOD.replace("  team: {qa: 1}\n", ""), "level 'team' has no weights"),
        (GOOD + "  desk: {qa: 1}\n", "'desk' is not a level"),
    ])
    def test_a_bad_edit_is_refused_saying_why(self, text: str, said: str) -> None:
        with pytest.raises(ConfigInvalid) as caught:
            KINDS["scorecard_weights"].validate(text, source="edit")
        assert said in str([p.reason for p in caught.value.problems])

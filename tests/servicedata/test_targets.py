"""The targets file: the shipped one is valid and sensible, a bad edit is refused with its
line and reason, and it is a kind of versioned configuration (edited on the config screens)."""

from __future__ import annotations

import pytest

from bankvoc.config.kinds import KINDS
from bankvoc.servicedata.targets import METRICS, TargetsError, load_targets, parse_targets


class TestShipped:
    def test_every_metric_has_a_target(self) -> None:
        targets = load_targets()
        assert set(targets.metrics) == set(METRICS)
        assert all(t.target is not None for t in targets.metrics.values())
        assert targets.wait_over_minutes == 15

    def test_a_group_s_own_target_comes_before_the_metric_s(self) -> None:
        targets = load_targets()
        assert targets.target("queue_handle_avg", "cash", []) == 5
        assert targets.target("queue_handle_avg", "vip", []) == 10  # no own: the metric's
        assert targets.target("channel_availability", "mobile_app", ["HQ"]) == 99.9

    def test_it_is_versioned_configuration(self) -> None:
        kind = KINDS["service_targets"]
        kind.validate(kind.file_text(), source="service_targets")


class TestRefused:
    @pytest.mark.parametrize(("text", "line", "reason"), [
        ('version: "x"\nmetrics:\n  queue_wait_max: {target: 1}\n', 3, "is not a metric"),
        ('version: "x"\nmetrics:\n  self_service_share: {target: 120}\n', 3,
         "a percentage between 0 and 100"),
        ('version: "x"\nmetrics:\n  queue_wait_avg:\n    by: {cash: -1}\n', 4, "not negative"),
        ('version: "x"\norgs:\n  BJ:\n    foo: {target: 1}\n', 4, "is not a metric"),
        ('version: "x"\nwait_over_minutes: 0\n', 2, "greater than 0"),
    ])
    def test_a_bad_edit_is_refused_with_line_and_reason(self, text: str, line: int,
                                                        reason: str) -> None:
        with pytest.raises(TargetsError) as caught:
            parse_targets(text)
        problem = caught.value.problems[0]
        assert problem.line == line
        assert reason in problem.reason

"""Which stage of the loop each worked demo case reaches."""

from __future__ import annotations

from collections import Counter

from bankvoc.demo import workflow


class TestStepsFor:
    def test_every_worked_case_takes_a_step_in_the_configured_shares(self) -> None:
        taken = Counter(workflow._steps_for(f"TS20261001{i:06d}") for i in range(4000))
        assert set(taken) == {steps for _, steps in workflow.STAGES}
        for share, steps in workflow.STAGES:
            assert abs(taken[steps] / 4000 * 100 - share) < 3, (steps, taken[steps])

    def test_the_same_reference_always_reaches_the_same_stage(self) -> None:
        assert workflow._steps_for("TS20261001000007") == workflow._steps_for(
            "TS20261001000007")

"""The difference in differences on synthetic panels: planted effects are recovered inside
their interval, placebos give intervals covering 0, and the interval keeps its promise."""

from __future__ import annotations

import numpy as np
import pytest

from bankvoc.problems.effect import (
    DidEstimate,
    NotEstimable,
    Panel,
    difference_in_differences,
    sweep,
)


def simulate(seed: int, *, effect: float = -0.3, pilots: int = 8, comparisons: int = 16,
             before: int = 12, after: int = 6, missing: float = 0.0
             ) -> tuple[Panel, float]:
    """Monthly complaint counts: each org its own level, every org the same seasonal swing,
    Poisson noise; the pilots' expected count changes by `effect` (a share) from the start.
    Returns the panel and the true average effect on the pilots after the start."""
    rng = np.random.default_rng(seed)
    units, periods = pilots + comparisons, before + after
    expected = np.outer(rng.uniform(20, 60, size=units),
                        1 + 0.15 * np.sin(np.arange(periods)))
    treated = np.arange(units) < pilots
    changed = np.outer(treated, np.arange(periods) >= before)
    mean = np.where(changed, expected * (1 + effect), expected)
    values = rng.poisson(mean).astype(np.float64)
    if missing:
        values[rng.random(values.shape) < missing] = np.nan
    return Panel(values, treated, before), float((mean - expected)[changed].mean())


class TestPlantedEffect:
    def test_a_30_percent_drop_in_the_pilots_is_recovered_inside_its_interval(self) -> None:
        panel, truth = simulate(seed=7)
        found = difference_in_differences(panel)
        assert found.covers(truth)
        assert found.ci_high < 0  # a real drop, told apart from noise
        assert found.relative is not None
        assert -0.4 < found.relative < -0.2
        assert found.reliable
        assert found.p_value is not None
        assert found.p_value < 0.01

    def test_before_and_after_are_the_plain_means_of_each_group(self) -> None:
        panel, _ = simulate(seed=3)
        found = difference_in_differences(panel, permutations=0)
        pilots, after = panel.values[panel.treated], panel.first_treated
        assert found.pilot_before == pytest.approx(pilots[:, :after].mean())
        assert found.pilot_after == pytest.approx(pilots[:, after:].mean())
        assert found.comparison_after == pytest.approx(panel.values[~panel.treated][:, after:]
                                                       .mean())

    def test_on_a_balanced_panel_it_is_the_change_of_pilots_less_the_change_of_the_others(
        self,
    ) -> None:
        panel, _ = simulate(seed=5)
        found = difference_in_differences(panel, permutations=0)
        by_hand = ((found.pilot_after - found.pilot_before)
                   - (found.comparison_after - found.comparison_before))
        assert found.effect == pytest.approx(by_hand)


class TestPlacebo:
    def test_no_effect_gives_an_interval_covering_zero(self) -> None:
        panel, truth = simulate(seed=11, effect=0.0)
        found = difference_in_differences(panel)
        assert truth == 0.0
        assert found.covers(0.0)
        assert found.p_value is not None
        assert found.p_value > 0.05


class TestCalibration:
    """Over many synthetic banks, the 95% interval holds the truth about 95% of the time:
    neither too narrow (false alarms) nor uselessly wide (it still finds the drop)."""

    @pytest.mark.parametrize("missing", [0.0, 0.1])
    def test_the_interval_covers_the_true_effect_about_95_percent_of_the_time(
        self, missing: float
    ) -> None:
        runs = [simulate(seed, missing=missing) for seed in range(200)]
        found = [(difference_in_differences(p, permutations=0), truth) for p, truth in runs]
        coverage = np.mean([f.covers(truth) for f, truth in found])
        power = np.mean([f.ci_high < 0 for f, _ in found])
        assert coverage >= 0.90
        assert power > 0.95

    def test_placebos_are_flagged_about_5_percent_of_the_time(self) -> None:
        found = [difference_in_differences(simulate(seed, effect=0.0)[0], permutations=0)
                 for seed in range(200)]
        false_alarms = np.mean([not f.covers(0.0) for f in found])
        assert false_alarms <= 0.10


class TestRegression:
    def test_with_missing_months_it_is_the_two_way_fixed_effects_least_squares_fit(
        self,
    ) -> None:
        panel, _ = simulate(seed=2, pilots=4, comparisons=6, missing=0.2)
        found = difference_in_differences(panel, permutations=0)
        units, periods = panel.values.shape
        rows, y, org = [], [], []
        for i in range(units):
            for t in range(periods):
                if np.isnan(panel.values[i, t]):
                    continue
                row = np.zeros(1 + units + periods - 1)
                row[0] = float(panel.treated[i] and t >= panel.first_treated)
                row[1 + i] = 1.0
                if t > 0:
                    row[units + t] = 1.0
                rows.append(row)
                y.append(panel.values[i, t])
                org.append(i)
        x, target = np.array(rows), np.array(y)
        coef, *_ = np.linalg.lstsq(x, target, rcond=None)
        assert found.effect == pytest.approx(coef[0], abs=1e-8)
        # The clustered sandwich, from the full dummy regression.
        residual = target - x @ coef
        bread = np.linalg.inv(x.T @ x)
        meat = sum(np.outer(s, s) for s in (x[np.array(org) == g].T
                                               @ residual[np.array(org) == g]
                                               for g in range(units)))
        n, k = x.shape
        variance = bread @ meat @ bread * units / (units - 1) * (n - 1) / (n - k)
        assert found.std_error == pytest.approx(np.sqrt(variance[0, 0]), rel=1e-6)

    def test_sweeping_leaves_no_org_or_month_mean(self) -> None:
        panel, _ = simulate(seed=4, missing=0.2)
        observed = ~np.isnan(panel.values)
        swept = sweep(np.nan_to_num(panel.values), observed)
        counts_by_org = observed.sum(axis=1)
        assert np.allclose(swept.sum(axis=1)[counts_by_org > 0], 0, atol=1e-6)
        assert np.allclose(swept.sum(axis=0), 0, atol=1e-6)


class TestTooFewOrgs:
    def test_few_pilots_make_the_interval_unreliable_and_say_why(self) -> None:
        panel, _ = simulate(seed=1, pilots=2, comparisons=5)
        found: DidEstimate = difference_in_differences(panel)
        assert not found.reliable
        assert any("only 2 pilot org(s)" in w for w in found.warnings)
        # Every one of the C(7, 2) = 21 assignments is tried: the p-value is exact.
        assert found.permutations == 21

    def test_a_short_history_is_flagged(self) -> None:
        panel, _ = simulate(seed=1, before=2, after=1)
        found = difference_in_differences(panel, permutations=0)
        assert {w.split(":")[0] for w in found.warnings} == {
            "only 2 month(s) before the start", "only 1 month(s) after the start"}


class TestNotEstimable:
    def test_without_comparison_orgs_there_is_nothing_to_compare_with(self) -> None:
        panel, _ = simulate(seed=1, pilots=3, comparisons=0)
        with pytest.raises(NotEstimable, match="no comparison org"):
            difference_in_differences(panel)

    def test_orgs_never_seen_after_the_start_are_left_out(self) -> None:
        panel, _ = simulate(seed=1, pilots=3, comparisons=3)
        panel.values[:3, panel.first_treated:] = np.nan  # the pilots have no data after
        with pytest.raises(NotEstimable, match="no pilot org"):
            difference_in_differences(panel)

    def test_a_start_with_no_month_before_it_is_refused(self) -> None:
        with pytest.raises(ValueError, match="periods before and after"):
            Panel(np.zeros((2, 3)), np.array([True, False]), 0)

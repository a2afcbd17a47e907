"""Did an improvement work? Difference in differences over an org × month panel.

Pure numerical code (NumPy and SciPy): the panel is built from the database elsewhere
(`problems.service.measure_effect`); here it is only numbers.

The design. Some orgs (the pilots) get the change from one month on; comparable orgs (same kind
and level, not piloted) do not. For an outcome y (complaint rate, CSAT, the problem's own case
count) of org i in month t the two-way fixed-effects regression

    y_it = a_i + g_t + β·D_it + e_it,    D_it = 1 for a pilot org from the start month on,

takes out what is particular to each org (a_i: a big branch has more complaints) and what hits
every org in a month (g_t: the Spring Festival, a bank-wide outage). β is then the difference in
differences: how much more the pilots changed than the comparison orgs did. With one start date
for every pilot (no staggered adoption) this regression is the textbook DiD and unbiased under
parallel trends; with missing cells it is still the least-squares fit, computed here by
Frisch-Waugh-Lovell: both y and D are swept of the two sets of means by alternating projections
(exact in one pass on a balanced panel), then β = Σ D̃ỹ / Σ D̃².

Why these intervals. Months of one org are correlated (a well-run branch stays well run), so
treating org-months as independent would give far too narrow intervals (Bertrand, Duflo and
Mullainathan 2004). The standard error is therefore clustered by org (CR1: the sandwich with
the G/(G-1)·(N-1)/(N-K) correction), and the interval uses Student's t with G-1 degrees of
freedom. That is reliable when there are enough orgs on both sides; with few pilot orgs
cluster-robust intervals are known to be too narrow (Conley and Taber 2011; MacKinnon and Webb
2017), so fewer than MIN_ORGS pilots or comparison orgs marks the result unreliable, with the
reason. As a check that needs no large-sample argument, a permutation (randomization) test over
orgs gives the p-value: the pilot label is given to every other set of as many orgs (all sets
when there are few, a seeded sample otherwise) and β re-estimated; p is the share of
assignments whose |β| is at least the observed one. statsmodels is not used: the estimator is a
few lines over the swept panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

# Below this many pilot or comparison orgs, a clustered interval is not to be relied on.
MIN_ORGS = 5
# Fewer months than these on either side of the start and parallel trends cannot be judged.
MIN_MONTHS_BEFORE = 3
MIN_MONTHS_AFTER = 2
_SWEEP_TOLERANCE = 1e-10
_SWEEP_ROUNDS = 1000
# Exact enumeration of pilot assignments up to this many; a seeded sample beyond.
_EXACT_UP_TO = 5000

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class NotEstimable(ValueError):
    """The panel cannot identify an effect (no pilot or comparison org observed before and
    after, no data at all); the message says which."""


@dataclass(frozen=True)
class Panel:
    """Outcome values of units (orgs) × periods (months), NaN where unobserved.

    `treated` marks the pilot units; `first_treated` is the index of the first period in which
    the pilots have the change.
    """

    values: FloatArray
    treated: BoolArray
    first_treated: int

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.treated.shape != (self.values.shape[0],):
            raise ValueError("values is units × periods and treated has one flag per unit")
        if not 0 < self.first_treated < self.values.shape[1]:
            raise ValueError("the start must leave periods before and after it")


@dataclass(frozen=True)
class DidEstimate:
    effect: float
    std_error: float
    ci_low: float
    ci_high: float
    level: float
    dof: int
    p_value: float | None  # permutation p-value; None when not computed
    permutations: int
    pilot_before: float
    pilot_after: float
    comparison_before: float
    comparison_after: float
    n_pilot: int
    n_comparison: int
    periods_before: int
    periods_after: int
    reliable: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def relative(self) -> float | None:
        """The effect as a share of what the pilots would have had without the change."""
        expected = self.pilot_after - self.effect
        return self.effect / expected if expected else None

    def covers(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    def as_dict(self) -> dict[str, Any]:
        return {"effect": self.effect, "std_error": self.std_error, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "level": self.level, "dof": self.dof,
                "p_value": self.p_value, "relative": self.relative,
                "pilot_before": self.pilot_before, "pilot_after": self.pilot_after,
                "comparison_before": self.comparison_before,
                "comparison_after": self.comparison_after, "n_pilot": self.n_pilot,
                "n_comparison": self.n_comparison, "reliable": self.reliable,
                "warnings": list(self.warnings)}


def sweep(x: FloatArray, observed: BoolArray) -> FloatArray:
    """`x` less its unit and period means over the observed cells, repeated until nothing is
    left to take out (the within transformation of two-way fixed effects); 0 where unobserved."""
    out = np.where(observed, x, 0.0)
    unit_n = observed.sum(axis=1)
    period_n = observed.sum(axis=0)
    for _ in range(_SWEEP_ROUNDS):
        unit_mean = np.divide(out.sum(axis=1), unit_n, out=np.zeros(len(unit_n)),
                              where=unit_n > 0)
        out = np.where(observed, out - unit_mean[:, None], 0.0)
        period_mean = np.divide(out.sum(axis=0), period_n, out=np.zeros(len(period_n)),
                                where=period_n > 0)
        out = np.where(observed, out - period_mean[None, :], 0.0)
        if max(float(np.abs(period_mean).max(initial=0.0)),
               float(np.abs(unit_mean).max(initial=0.0))) < _SWEEP_TOLERANCE:
            break
    return out


def _beta(y_swept: FloatArray, d_swept: FloatArray) -> float:
    denominator = float((d_swept * d_swept).sum())
    if denominator < 1e-12:
        raise NotEstimable("the pilot and comparison orgs are not both observed before and "
                           "after the start")
    return float((d_swept * y_swept).sum()) / denominator


def _treatment(treated: BoolArray, periods: int, first: int, observed: BoolArray) -> FloatArray:
    after = np.arange(periods) >= first
    return np.where(observed, np.outer(treated, after).astype(np.float64), 0.0)


def _mean(values: FloatArray, mask: BoolArray) -> float:
    return float(values[mask].mean()) if mask.any() else math.nan


def difference_in_differences(panel: Panel, *, level: float = 0.95, permutations: int = 999,
                              seed: int = 0) -> DidEstimate:
    """The DiD of `panel` with its clustered interval and permutation p-value (see the module
    docstring). Raises NotEstimable when the panel cannot identify an effect."""
    observed = ~np.isnan(panel.values)
    after = np.arange(panel.values.shape[1]) >= panel.first_treated
    # Only orgs seen both before and after the start inform the comparison.
    useful = (observed & ~after).any(axis=1) & (observed & after).any(axis=1)
    values, treated = panel.values[useful], panel.treated[useful]
    observed = observed[useful]
    n_pilot, n_comparison = int(treated.sum()), int((~treated).sum())
    if n_pilot == 0 or n_comparison == 0:
        raise NotEstimable("no pilot org" if n_pilot == 0 else "no comparison org"
                           " observed both before and after the start")
    periods = values.shape[1]
    y = sweep(np.where(observed, values, 0.0), observed)
    d = sweep(_treatment(treated, periods, panel.first_treated, observed), observed)
    beta = _beta(y, d)
    residual = np.where(observed, y - beta * d, 0.0)
    clusters = len(treated)
    cells = int(observed.sum())
    parameters = clusters + int(observed.any(axis=0).sum())  # org and month effects, β, less 1
    scores = (d * residual).sum(axis=1)  # each org's contribution to the score
    denominator = float((d * d).sum())
    correction = clusters / (clusters - 1) * (cells - 1) / max(cells - parameters, 1)
    std_error = math.sqrt(float((scores ** 2).sum()) * correction) / denominator
    dof = clusters - 1
    critical = float(stats.t.ppf(0.5 + level / 2, dof))
    p_value, draws = (None, 0) if permutations <= 0 else _permutation_p(
        y, observed, treated, panel.first_treated, beta, permutations, seed)
    before_cells, after_cells = observed & ~after, observed & after
    pilot, comparison = treated[:, None], ~treated[:, None]
    warnings = _warnings(n_pilot, n_comparison, int((~after).sum()), int(after.sum()))
    return DidEstimate(
        effect=beta, std_error=std_error, ci_low=beta - critical * std_error,
        ci_high=beta + critical * std_error, level=level, dof=dof, p_value=p_value,
        permutations=draws,
        pilot_before=_mean(values, before_cells & pilot),
        pilot_after=_mean(values, after_cells & pilot),
        comparison_before=_mean(values, before_cells & comparison),
        comparison_after=_mean(values, after_cells & comparison),
        n_pilot=n_pilot, n_comparison=n_comparison, periods_before=int((~after).sum()),
        periods_after=int(after.sum()), reliable=not warnings, warnings=warnings)


def _warnings(pilots: int, comparisons: int, before: int, after: int) -> list[str]:
    found = []
    if pilots < MIN_ORGS:
        found.append(f"only {pilots} pilot org(s): with fewer than {MIN_ORGS} the clustered "
                     "interval is too narrow; rely on the permutation p-value")
    if comparisons < MIN_ORGS:
        found.append(f"only {comparisons} comparison org(s): with fewer than {MIN_ORGS} the "
                     "clustered interval is too narrow; rely on the permutation p-value")
    if before < MIN_MONTHS_BEFORE:
        found.append(f"only {before} month(s) before the start: too few to judge whether "
                     "pilot and comparison orgs moved alike before it")
    if after < MIN_MONTHS_AFTER:
        found.append(f"only {after} month(s) after the start: too early to judge")
    return found


def _permutation_p(y: FloatArray, observed: BoolArray, treated: BoolArray, first: int,
                   beta: float, permutations: int, seed: int) -> tuple[float, int]:
    """Randomization inference: |β| under every reassignment of the pilot label to as many
    orgs when there are few (the observed one among them), else under a seeded sample of them
    plus the observed one. Returns (p-value, assignments counted)."""
    units, periods = y.shape
    pilots = int(treated.sum())
    total = math.comb(units, pilots)
    assignments: Any
    if total <= min(_EXACT_UP_TO, permutations + 1):
        assignments, extreme, counted = combinations(range(units), pilots), 0, 0
    else:
        rng = np.random.default_rng(seed)
        assignments = (rng.choice(units, size=pilots, replace=False)
                       for _ in range(permutations))
        extreme, counted = 1, 1  # the observed assignment
    threshold = abs(beta) * (1 - 1e-9)
    for chosen in assignments:
        flags = np.zeros(units, dtype=bool)
        flags[list(chosen)] = True
        d = sweep(_treatment(flags, periods, first, observed), observed)
        try:
            extreme += abs(_beta(y, d)) >= threshold
        except NotEstimable:
            continue
        counted += 1
    return extreme / counted, counted

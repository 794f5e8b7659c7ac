"""PermutationShapley's regression adjustment: the unit kernels against loops, where "auto" adjusts and where
it must not, accuracy, calibration, unbiasedness, efficiency and invariance."""

import numpy as np
import pytest

import tabxai as tx
from tabxai._kernels.permutation import accumulate_units, unit_estimates
from tabxai._kernels.surrogate import fit_boosted_trees, shapley_boosted_trees
from tabxai.shapley._permutation_adjust import PermutationAdjustment, Units, _spread, _stratified
from tabxai.shapley.permutation import _orthogonal_design


def _interactions(data):
    """Interactions of order three and four: what antithetic pairs do not make exact, and trees represent."""
    return data[:, 0] * data[:, 1] * data[:, 2] + data[:, 3] * data[:, 4] * data[:, 5] * data[:, 6] \
        - data[:, 7] * data[:, 8] * data[:, 1]


def _parity(data):
    """The sign of a product of seven columns: no tree of depth five holds it."""
    return np.prod(np.sign(data[:, :7]), axis=1)


@pytest.fixture(scope="module")
def paying():
    """Explained rows far from a tight background: each background row's game is nearly the same one."""
    rng = np.random.default_rng(5)
    rows, background = rng.uniform(2, 3, size=(4, 10)), rng.normal(scale=0.1, size=(12, 10))
    return rows, background, tx.ExactShapley(_interactions, background).explain(rows).values


@pytest.fixture(scope="module")
def parity():
    rng = np.random.default_rng(0)
    rows, background = np.abs(rng.normal(size=(4, 10))), -np.abs(rng.normal(size=(12, 10)))
    return rows, background, tx.ExactShapley(_parity, background).explain(rows).values


def _runs(game, rows, background, adjustment, seeds, n_permutations=16, **options):
    return [tx.PermutationShapley(game, background, n_permutations=n_permutations, adjustment=adjustment,
                                  random_state=seed, n_jobs=1, **options).explain(rows) for seed in seeds]


def _error(runs, truth):
    return float(np.mean([np.linalg.norm(e.values - truth) / np.linalg.norm(truth) for e in runs]))


def test_unit_estimates_are_the_units_that_accumulate_units_sums():
    rng = np.random.default_rng(1)
    n, n_background, n_pairs, n_outputs = 5, 3, 4, 2
    designs = _orthogonal_design(rng, n, n - 1)[None]
    keys = np.array([987], dtype=np.uint64)
    unit_background = np.repeat(np.arange(n_background), n_pairs)
    unit_pair = np.tile(np.arange(n_pairs), n_background)
    unit_row = np.zeros(len(unit_pair), dtype=np.int64)
    values = rng.normal(size=(len(unit_pair) * 2 * (n - 1), n_outputs))
    full, empty = rng.normal(size=(1, n_outputs)), rng.normal(size=(n_background, n_outputs))
    estimates = np.empty((len(unit_pair), n, n_outputs))
    unit_estimates(values, full, empty, designs, keys, unit_row, unit_background, unit_pair, estimates)
    shift = np.zeros((1, n_background, n, n_outputs))
    sum1, sum2 = np.zeros_like(shift), np.zeros_like(shift)
    accumulate_units(values, full, empty, designs, keys, unit_row, unit_background, unit_pair, shift, sum1, sum2)
    for b in range(n_background):
        mine = estimates[unit_background == b]
        np.testing.assert_allclose(shift[0, b] + sum1[0, b] / n_pairs, mine.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(sum2[0, b] - sum1[0, b] ** 2 / n_pairs,
                                   ((mine - mine.mean(axis=0)) ** 2).sum(axis=0), atol=1e-10)
    # every unit's estimate sums to f(x) - f(b): efficiency, unit by unit
    np.testing.assert_allclose(estimates.sum(axis=1), full - empty[unit_background], atol=1e-12)


def test_stratified_estimate_and_spread_against_loops():
    rng = np.random.default_rng(2)
    n_background, n_pairs = 4, 5
    background = np.repeat(np.arange(n_background), n_pairs)[rng.permutation(n_background * n_pairs)]
    estimates = rng.normal(size=(len(background), 3, 2))
    weights = rng.dirichlet(np.ones(n_background))
    values, stderr = _stratified(estimates, background, weights, n_pairs)
    means = np.array([estimates[background == b].mean(axis=0) for b in range(n_background)])
    variances = np.array([estimates[background == b].var(axis=0, ddof=1) for b in range(n_background)])
    np.testing.assert_allclose(values, np.einsum("b,bpk->pk", weights, means))
    np.testing.assert_allclose(stderr, np.sqrt(np.einsum("b,bpk->pk", weights ** 2, variances) / n_pairs))
    unit_weights = weights[background] ** 2
    spread = sum(unit_weights[background == b] @ ((estimates[background == b, :, 0]
                                                    - means[b, :, 0]) ** 2).sum(axis=1) for b in range(n_background))
    assert _spread(estimates[:, :, 0], background, unit_weights) == pytest.approx(spread)



def _pilot_by_parts(units, adjustment):
    """The pilot's reduction from its definition, with the unit helpers: trees on the units of pairs 0 and 1 of the
    pilot's background rows, judged by the spread of ``D_u`` and ``D_u - (G_u - phi(h))`` on pairs 2 and 3."""
    n_near = max(2, int(np.ceil(adjustment.pilot.max_pairs / (2 * units.per_unit))))
    near = (units.background < n_near) & (units.pair < 4)
    train, held = np.flatnonzero(near & (units.pair < 2)), np.flatnonzero(near & (units.pair >= 2))
    coalitions = np.concatenate([units.coalitions(train), units.coalitions(held)])
    fit_on = np.arange(len(coalitions)) < len(train) * units.per_unit
    estimates, strata = units.estimates(held), units.background[held]
    weights = units.weights[strata] ** 2
    before = after = 0.0
    for k in range(units.n_outputs):
        targets = np.zeros(len(coalitions))
        targets[fit_on] = units.targets(train, k)
        pilot = adjustment.pilot
        base, split, value, prediction = fit_boosted_trees(coalitions, targets, fit_on, pilot.n_trees,
                                                           pilot.max_depth, pilot.learning_rate, 1, 1.0,
                                                           np.zeros((0, 0)))
        phi, empty, full = shapley_boosted_trees(units.n_players, base, split, value)
        surrogate = units.estimates(held, prediction[~fit_on, None], np.array([[full]]), np.array([[empty]]))
        before += _spread(estimates[:, :, k], strata, weights)
        after += _spread(estimates[:, :, k] - (surrogate[:, :, 0] - phi), strata, weights)
    return before, after


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_pilot_kernel_equals_the_pilot_by_parts(n_outputs):
    rng = np.random.default_rng(n_outputs)
    n, n_background, n_pairs = 6, 9, 5
    design = _orthogonal_design(rng, n, n - 1)
    background, pair = np.repeat(np.arange(n_background), n_pairs), np.tile(np.arange(n_pairs), n_background)
    values = rng.normal(size=(len(pair) * 2 * (n - 1), n_outputs))
    units = Units(values, rng.normal(size=n_outputs), rng.normal(size=(n_background, n_outputs)),
                  rng.dirichlet(np.ones(n_background)), design, 77, background, pair)
    adjustment = PermutationAdjustment()
    adjustment.pilot.max_pairs = 60  # six background rows of 2 * (n - 1) = 10 coalitions per unit
    before, after = _pilot_by_parts(units, adjustment)
    shuffled = rng.permutation(len(pair))  # the kernel finds its units in any order
    got = adjustment.reduction(units.values.reshape(len(pair), 2 * (n - 1), n_outputs)[shuffled], units.full,
                               units.empty, units.weights, design, 77, background[shuffled], pair[shuffled])
    assert got == pytest.approx(before / after, rel=1e-9)

def test_auto_adjusts_where_it_pays_with_calibrated_standard_errors(paying):
    rows, background, truth = paying
    seeds = range(6)
    auto, plain = _runs(_interactions, rows, background, "auto", seeds), \
        _runs(_interactions, rows, background, None, seeds)
    assert np.mean([e.diagnostics["adjusted"] for e in auto]) >= 0.8  # the pilot is noisy: 23 of 24 rows here
    assert _error(auto, truth) < 0.4 * _error(plain, truth)
    coverage = np.mean([np.abs(e.values - truth) <= 1.96 * e.stderr for e in auto])
    assert 0.88 <= coverage <= 1.0  # measured 0.97 over 240 (row, player) values
    for e in auto:  # exactly efficient
        np.testing.assert_allclose(e.values.sum(axis=1) + e.base_values, _interactions(rows), atol=1e-10)


def test_auto_leaves_pure_interactions_plain(parity):
    rows, background, truth = parity
    seeds = range(4)
    auto, plain = _runs(_parity, rows, background, "auto", seeds), _runs(_parity, rows, background, None, seeds)
    adjusted = np.concatenate([e.diagnostics["adjusted"] for e in auto])
    assert adjusted.mean() <= 0.25
    for a, p in zip(auto, plain):  # rows the pilot left alone get the plain values, bit for bit
        np.testing.assert_array_equal(a.values[~a.diagnostics["adjusted"]], p.values[~a.diagnostics["adjusted"]])
    assert _error(auto, truth) <= 1.2 * _error(plain, truth)


def test_trees_are_approximately_unbiased_and_keep_dummies_at_zero(paying):
    rows, background, truth = paying
    runs = _runs(_interactions, rows[:2], background, "trees", range(12), n_permutations=8)
    values = np.array([e.values for e in runs])
    stderr = np.array([e.stderr for e in runs])
    # the mean over seeds is within a few of its standard errors of the truth
    assert np.all(np.abs(values.mean(axis=0) - truth[:2]) <= 4 * np.sqrt((stderr ** 2).mean(axis=0) / 12) + 1e-3)
    np.testing.assert_array_equal(values[:, :, 9], 0.0)  # column 9 never enters the model


def test_auto_is_identical_whatever_n_jobs_and_max_rows(paying):
    rows, background, _ = paying
    reference = _runs(_interactions, rows, background, "auto", [3])[0]
    other = _runs(_interactions, rows, background, "auto", [3], max_rows=500)[0]
    np.testing.assert_array_equal(reference.values, other.values)
    np.testing.assert_array_equal(reference.stderr, other.stderr)
    def game(data):  # a local function travels to the workers by value
        return data[:, 0] * data[:, 1] * data[:, 2] + data[:, 3] * data[:, 4] * data[:, 5] * data[:, 6] \
            - data[:, 7] * data[:, 8] * data[:, 1]

    parallel = tx.PermutationShapley(game, background, n_permutations=16, random_state=3, n_jobs=2).explain(rows)
    np.testing.assert_array_equal(reference.values, parallel.values)


def test_adjustment_is_recorded_and_checked(paying):
    rows, background, _ = paying
    result = _runs(_interactions, rows[:1], background, None, [0])[0]
    assert result.params["parameters"]["adjustment"] is None and not result.diagnostics["adjusted"].any()
    with pytest.raises(ValueError, match="adjustment"):
        tx.PermutationShapley(_interactions, background, adjustment="always")

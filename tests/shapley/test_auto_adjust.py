"""KernelSHAP's default ``adjustment="auto"``: the tree adjustment where the row's sample says it pays,
the plain estimate where it cannot (pure interactions), never less accurate than plain beyond noise,
with calibrated standard errors and the same values whatever ``n_jobs``."""

import numpy as np
import pytest

import tabxai as tx
from tests.naive import naive_pilot_reduction, naive_within_strata
from tabxai._validation import row_generator
from tabxai._kernels.surrogate import held_out_reduction
from tabxai.shapley._adjust import AutoAdjustment
from tabxai.shapley.kernel import _Design, _estimate


def _smooth(X):
    """A logistic model of ten features with products: trees capture what paired sampling leaves."""
    X = np.asarray(X, dtype=float)
    score = X @ np.linspace(-1.0, 1.0, X.shape[1]) + X[:, 0] * X[:, 1] * X[:, 2] + np.maximum(X[:, 3], X[:, 4])
    return 1 / (1 + np.exp(-2 * score))


def _parity(X):
    """The sign of a product of seven features: against one background row of the opposite signs, the game
    is the parity of the coalition on those seven players, an interaction of order seven and nothing else
    (deeper than the surrogate's trees)."""
    return np.prod(np.sign(np.asarray(X, dtype=float)[:, :7]), axis=1)


@pytest.fixture(scope="module")
def smooth_problem():
    rng = np.random.default_rng(5)
    background, X = rng.normal(size=(10, 12)), rng.normal(size=(4, 12))
    return background, X, tx.ExactShapley(_smooth, background).explain(X).values


@pytest.fixture(scope="module")
def parity_problem():
    rng = np.random.default_rng(6)
    X, background = np.abs(rng.normal(size=(3, 12))), -np.abs(rng.normal(size=(1, 12)))
    return background, X, tx.ExactShapley(_parity, background).explain(X).values


def _error(values, truth):
    return np.mean(np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1))


def _runs(predict, background, X, adjustment, seeds, n_coalitions=400):
    return [tx.KernelSHAP(predict, background, n_coalitions=n_coalitions, adjustment=adjustment,
                          random_state=seed).explain(X) for seed in seeds]


def test_auto_adjusts_where_it_pays_and_equals_trees_there(smooth_problem):
    background, X, truth = smooth_problem
    auto, trees, plain = (_runs(_smooth, background, X, adjustment, range(3)) for adjustment in ("auto", "trees", None))
    for a, t in zip(auto, trees):
        assert a.diagnostics["adjusted"].all()
        np.testing.assert_array_equal(a.values, t.values)
        np.testing.assert_array_equal(a.stderr, t.stderr)
        np.testing.assert_allclose(a.values.sum(axis=1), _smooth(X) - _smooth(background).mean(), atol=1e-10)
    assert not any(p.diagnostics["adjusted"].any() for p in plain)
    assert np.mean([_error(a.values, truth) for a in auto]) < 0.75 * np.mean([_error(p.values, truth) for p in plain])
    assert auto[0].params["parameters"]["adjustment"] == "auto"


def test_auto_keeps_the_plain_estimate_on_pure_interactions(parity_problem):
    background, X, truth = parity_problem
    seeds = range(4)
    auto, plain = (_runs(_parity, background, X, adjustment, seeds) for adjustment in ("auto", None))
    for a, p in zip(auto, plain):
        assert not a.diagnostics["adjusted"].any()
        np.testing.assert_allclose(a.values, p.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.stderr, p.stderr, rtol=0, atol=1e-12)
    assert np.mean([_error(a.values, truth) for a in auto]) <= 1.05 * np.mean([_error(p.values, truth) for p in plain])


def test_auto_is_never_worse_than_plain_beyond_noise(parity_problem, smooth_problem):
    for predict, (background, X, truth) in [(_parity, parity_problem), (_smooth, smooth_problem)]:
        errors = {adjustment: [_error(e.values, truth) for e in _runs(predict, background, X, adjustment, range(4))]
                  for adjustment in ("auto", None)}
        spread = np.std(errors[None], ddof=1) / 2  # standard error of the plain mean over 4 seeds
        assert np.mean(errors["auto"]) <= np.mean(errors[None]) + 2 * spread, errors


def test_auto_standard_errors_are_calibrated(smooth_problem, parity_problem):
    hits = []
    for predict, (background, X, truth) in [(_smooth, smooth_problem), (_parity, parity_problem)]:
        for expl in _runs(predict, background, X, "auto", range(6)):
            hits.append((np.abs(expl.values - truth) <= 1.96 * expl.stderr).ravel())
    coverage = np.mean(np.concatenate(hits))
    assert 0.90 <= coverage <= 0.99, coverage


def test_auto_is_the_same_whatever_jobs_and_chunks(smooth_problem):
    background, X, _ = smooth_problem

    def predict(d):  # defined here, so that worker processes get it by value
        score = d @ np.linspace(-1.0, 1.0, d.shape[1]) + d[:, 0] * d[:, 1] * d[:, 2] + np.maximum(d[:, 3], d[:, 4])
        return 1 / (1 + np.exp(-2 * score))

    def run(**options):
        return tx.KernelSHAP(predict, background, n_coalitions=300, random_state=3, **options).explain(X)

    reference = run()
    for options in [{"n_jobs": 2}, {"max_rows": 7}]:
        other = run(**options)
        np.testing.assert_array_equal(other.diagnostics["adjusted"], reference.diagnostics["adjusted"])
        np.testing.assert_allclose(other.values, reference.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.stderr, reference.stderr, rtol=0, atol=1e-12)


def test_pilot_reduction_separates_games():
    """Near 1 on a random table game (nothing generalises), large on a smooth game."""
    n_players = 12
    table = np.random.default_rng(0).normal(size=2 ** n_players)
    powers = 1 << np.arange(n_players)
    rng = np.random.default_rng(1)
    background, x = rng.normal(size=(8, n_players)), rng.normal(size=n_players)

    def smooth(coalitions):
        rows = np.where(coalitions[:, None, :], x, background[None]).reshape(-1, n_players)
        return _smooth(rows).reshape(len(coalitions), -1).mean(axis=1)

    games = {"table": lambda c: table[c.astype(np.int64) @ powers], "smooth": smooth}
    reductions = {}
    for name, game in games.items():
        design = _Design(n_players, 1000)
        generator = row_generator(0, 0)
        members, strata = design.plan(generator)
        values = (np.concatenate([game(members), game(~members)]) - game(np.zeros((1, n_players), bool)))[:, None]
        delta = game(np.ones((1, n_players), bool)) - game(np.zeros((1, n_players), bool))
        phi, _ = _estimate(members, strata, values, design, delta)
        auto = AutoAdjustment()
        reductions[name] = auto.reduction(members, strata, auto.folds(strata, generator), values, design, phi)
    assert reductions["table"] < 1.1 < auto.min_reduction < 1.5 < reductions["smooth"], reductions


def test_within_strata_sum_of_squares_equals_the_loop():
    rng = np.random.default_rng(2)
    residuals, strata, weights = rng.normal(size=40), rng.integers(0, 4, 40), rng.random(40)
    expected = 0.0
    for stratum in range(4):
        r, w = residuals[strata == stratum], weights[strata == stratum]
        expected += float(np.sum(w * (r - np.sum(w * r) / np.sum(w)) ** 2))
    assert naive_within_strata(residuals, strata, weights) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_pilot_kernel_equals_the_naive_pilot(n_outputs):
    rng = np.random.default_rng(n_outputs)
    n_pairs, n_players = 60, 7
    members = rng.random((n_pairs, n_players)) < 0.4
    first, second = rng.normal(scale=0.3, size=(2, n_pairs, n_outputs))
    first[:, 0] += 3 * members[:, 0] * members[:, 1]  # an interaction, which trees find
    second[:, 0] += 3 * ~members[:, 0] * ~members[:, 1]
    phi = rng.normal(scale=0.1, size=(n_players, n_outputs))
    odd = rng.random(n_pairs) < 0.5
    held = odd & (rng.random(n_pairs) < 0.8)  # some odd pairs are neither fitted on nor judged
    strata, weights = rng.integers(0, 3, n_pairs), rng.random(n_pairs) + 0.1
    got = held_out_reduction(members, first, second, phi, ~odd, held, strata, weights, 3, 4, 3, 0.6, 0.0)
    expected = naive_pilot_reduction(members, first, second, phi, ~odd, held, strata, weights, 4, 3, 0.6)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[1] < got[0]


def test_pilot_fits_nothing_on_residuals_at_rounding_level():
    """An additive game: the plain fit is exact, its residuals are rounding; the pilot says 1.0 and ``auto``
    keeps the plain estimate (without the rule, the ratio of two rounding errors decided)."""
    rng = np.random.default_rng(3)
    background, X = rng.normal(size=(10, 12)), rng.normal(size=(3, 12))
    coefficients = rng.normal(size=12)

    def linear(data):
        return np.asarray(data, dtype=float) @ coefficients

    design = _Design(12, 400)
    generator = row_generator(0, 0)
    members, strata = design.plan(generator)
    x, reference = X[0], background.mean(axis=0)
    game = lambda c: np.where(c, x, reference) @ coefficients - reference @ coefficients  # noqa: E731
    values = np.concatenate([game(members), game(~members)])[:, None]
    phi, _ = _estimate(members, strata, values, design, np.array([(x - reference) @ coefficients]))
    auto = AutoAdjustment()
    assert auto.reduction(members, strata, auto.folds(strata, generator), values, design, phi) == 1.0
    expl = tx.KernelSHAP(linear, background, n_coalitions=400, random_state=0).explain(X)
    assert not expl.diagnostics["adjusted"].any()
    np.testing.assert_allclose(expl.values, coefficients * (X - background.mean(axis=0)), atol=1e-10)

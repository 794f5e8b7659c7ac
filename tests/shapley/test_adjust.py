"""KernelSHAP with regression adjustment: the tree kernels against naive references, the estimator's
exactness, efficiency, accuracy and calibration, and its invariances."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tabxai as tx
from naive import naive_boosted_trees, naive_game_shapley, naive_heap_tree_value, naive_tree_value
from tabxai._kernels.surrogate import fit_boosted_trees, shapley_boosted_trees
from tabxai._validation import row_generator
from tabxai.shapley._adjust import TreeAdjustment
from tabxai.shapley.kernel import _Design, _estimate


def _mixed(X):
    """Main effects, products and a max: interactions of order two to four among ten features."""
    X = np.asarray(X, dtype=float)
    return (np.sin(X[:, 0] + X[:, 1] * X[:, 2]) * X[:, 3] + np.maximum(np.maximum(X[:, 4], X[:, 5]), X[:, 6])
            + X[:, 7] * X[:, 8] * X[:, 9])


def _two_outputs(X):
    X = np.asarray(X, dtype=float)
    return np.column_stack([_mixed(X), np.tanh(X[:, 0] * X[:, 5] - X[:, 2]) * X[:, 9] + X[:, 1]])


@pytest.fixture(scope="module")
def mixed_problem():
    rng = np.random.default_rng(0)
    background, X = rng.normal(size=(10, 10)), rng.normal(size=(6, 10))
    truth = tx.ExactShapley(_mixed, background).explain(X).values
    return background, X, truth


def _error(values, truth):
    return np.mean(np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1))


def _boolean_data(seed, m, n):
    rng = np.random.default_rng(seed)
    Z = rng.random((m, n)) < 0.5
    y = Z[:, 0] * 1.5 - Z[:, 1] * Z[:, 2] + 2.0 * (Z[:, 1] & Z[:, 3] & ~Z[:, n - 1]) + rng.normal(size=m) * 0.3
    return rng, Z, y


# the kernels --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_players, max_depth, min_leaf, subsample", [
    (5, 3, 2, 1.0), (5, 3, 1, 0.6), (6, 0, 1, 1.0), (5, 2, 25, 1.0), (70, 2, 1, 0.8),
])
def test_boosting_equals_the_naive_reference(n_players, max_depth, min_leaf, subsample):
    rng, Z, y = _boolean_data(n_players, 40, n_players)
    train = rng.random(40) < 0.75
    uniforms = rng.random((4, 40))
    base, split, value, prediction = fit_boosted_trees(Z, y, train, 4, max_depth, 0.3, min_leaf, subsample, uniforms)
    naive_base, trees, naive_prediction = naive_boosted_trees(Z.tolist(), y.tolist(), train.tolist(), 4, max_depth,
                                                              0.3, min_leaf, subsample, uniforms.tolist())
    assert base == pytest.approx(naive_base, abs=1e-12)
    np.testing.assert_allclose(prediction, naive_prediction, rtol=0, atol=1e-12)
    for t, tree in enumerate(trees):  # the same trees, row by row
        for row in Z:
            assert naive_heap_tree_value(split[t], value[t], row) == pytest.approx(naive_tree_value(tree, row.tolist()),
                                                                                   abs=1e-12)
    if min_leaf == 25:  # no split leaves 25 rows on each side of 30
        assert (split == -1).all()


@given(st.integers(4, 6), st.integers(0, 3), st.integers(0, 10_000))
def test_closed_form_shapley_of_the_ensemble_equals_brute_force(n_players, max_depth, seed):
    rng, Z, y = _boolean_data(seed, 60, n_players)
    base, split, value, _ = fit_boosted_trees(Z, y, np.ones(60, bool), 3, max_depth, 0.5, 1, 1.0, np.zeros((3, 0)))

    def game(coalition):
        return base + sum(naive_heap_tree_value(split[t], value[t], coalition) for t in range(len(split)))

    phi, empty, full = shapley_boosted_trees(n_players, base, split, value)
    np.testing.assert_allclose(phi, naive_game_shapley(game, n_players), rtol=0, atol=1e-12)
    assert empty == pytest.approx(game((False,) * n_players), abs=1e-12)
    assert full == pytest.approx(game((True,) * n_players), abs=1e-12)


# the estimator ------------------------------------------------------------------------------------

def _table_game(n_players, seed):
    """A random game: an independent value for every coalition (interactions of every order)."""
    table = np.random.default_rng(seed).normal(size=2 ** n_players)
    powers = 1 << np.arange(n_players)

    def value(coalitions):
        return table[np.atleast_2d(coalitions).astype(np.int64) @ powers]

    return value


def _adjusted(n_players, budget, seed, game, adjustment):
    design = _Design(n_players, budget)
    generator = row_generator(seed, 0)
    members, strata = design.plan(generator)
    empty = game(np.zeros(n_players, bool))
    values = (np.concatenate([game(members), game(~members)]) - empty)[:, None]
    delta = game(np.ones(n_players, bool)) - empty
    folds = adjustment.folds(strata, generator)
    return adjustment.estimate(members, strata, folds, values, delta, design, _estimate, generator)[:2]


@pytest.mark.parametrize("n_players", [6, 7])
def test_exact_when_every_coalition_is_evaluated(n_players):
    game = _table_game(n_players, n_players)
    truth = naive_game_shapley(lambda c: game(np.array(c))[0], n_players)
    phi, stderr = _adjusted(n_players, 2 ** n_players - 2, 0, game, TreeAdjustment(min_pairs_per_fold=2))
    np.testing.assert_allclose(phi[:, 0], truth, rtol=0, atol=1e-10)  # phi(g) + L(v - g) = phi(v): linearity
    np.testing.assert_allclose(stderr, 0.0, atol=1e-10)


def test_folds_split_every_stratum_evenly():
    strata = np.repeat([0, 1, 2], [10, 23, 7])
    folds = TreeAdjustment(n_folds=5).folds(strata, np.random.default_rng(0))
    for stratum in range(3):
        counts = np.bincount(folds[strata == stratum], minlength=5)
        assert counts.max() - counts.min() <= 1



def test_folds_go_round_from_one_random_start_per_stratum():
    """The definition: each stratum present (in increasing order) draws its start, then its pairs in plan order
    take the folds start, start + 1, ... (mod n_folds)."""
    strata = np.random.default_rng(4).integers(0, 6, 200)
    strata[strata == 3] = 4  # a stratum absent
    folds = TreeAdjustment(n_folds=4).folds(strata, np.random.default_rng(9))
    rng, expected = np.random.default_rng(9), np.empty(len(strata), dtype=np.int64)
    for stratum in sorted(set(strata.tolist())):
        start = rng.integers(4)
        mine = np.flatnonzero(strata == stratum)
        expected[mine] = (start + np.arange(len(mine))) % 4
    np.testing.assert_array_equal(folds, expected)

@given(st.integers(7, 10), st.integers(0, 10_000), st.integers(1, 2))
def test_efficiency_holds_for_every_adjusted_estimate(n_features, seed, n_outputs):
    rng = np.random.default_rng(seed)
    background, X = rng.normal(size=(4, n_features)), rng.normal(size=(2, n_features))
    weights = rng.normal(size=(n_features, n_outputs))

    def predict(d):
        out = np.tanh(d @ weights) * d[:, :1] * d[:, -1:] + np.sin(d[:, 1:2] * d[:, 2:3] * d[:, 3:4])
        return out[:, 0] if n_outputs == 1 else out

    expl = tx.KernelSHAP(predict, background, n_coalitions=220, adjustment="trees", random_state=seed).explain(X)
    f = np.asarray(predict(X)).reshape(2, -1)
    base = np.asarray(predict(background)).reshape(4, -1).mean(axis=0)
    np.testing.assert_allclose(expl.values.sum(axis=1).reshape(2, -1), f - base, rtol=0, atol=1e-10)


def test_full_budget_through_the_explainer_is_exact():
    rng = np.random.default_rng(1)
    background, X = rng.normal(size=(5, 7)), rng.normal(size=(2, 7))

    def predict(d):
        return np.column_stack([d[:, 0] * d[:, 1] * d[:, 6], np.maximum(d[:, 2], d[:, 3]) - d[:, 4]])

    truth = tx.ExactShapley(predict, background).explain(X)
    expl = tx.KernelSHAP(predict, background, n_coalitions="auto", adjustment="trees", random_state=0).explain(X)
    np.testing.assert_allclose(expl.values, truth.values, rtol=0, atol=1e-9)
    assert expl.params["parameters"]["adjustment"] == "trees"


def test_adjustment_lowers_the_error_on_a_game_with_higher_order_interactions(mixed_problem):
    background, X, truth = mixed_problem
    errors = {}
    for adjustment in [None, "trees"]:
        errors[adjustment] = np.mean([
            _error(tx.KernelSHAP(_mixed, background, n_coalitions=300, adjustment=adjustment,
                                 random_state=seed).explain(X).values, truth) for seed in range(6)])
    assert errors["trees"] < 0.5 * errors[None], errors


def test_a_surrogate_that_does_not_help_is_weighted_down():
    """On a random table game no surrogate generalises: the estimate stays close to the plain one."""
    game = _table_game(10, 3)
    truth = naive_game_shapley(lambda c: game(np.array(c))[0], 10)
    plain, adjusted = [], []
    for seed in range(6):
        design = _Design(10, 400)
        members, strata = design.plan(row_generator(seed, 0))
        values = (np.concatenate([game(members), game(~members)]) - game(np.zeros(10, bool)))[:, None]
        delta = game(np.ones(10, bool)) - game(np.zeros(10, bool))
        plain.append(np.linalg.norm(_estimate(members, strata, values, design, delta)[0][:, 0] - truth))
        adjusted.append(np.linalg.norm(_adjusted(10, 400, seed, game, TreeAdjustment())[0][:, 0] - truth))
    assert np.mean(adjusted) < 1.1 * np.mean(plain)


@pytest.mark.slow
def test_standard_errors_are_calibrated(mixed_problem):
    background, X, truth = mixed_problem
    hits = []
    for seed in range(12):
        expl = tx.KernelSHAP(_mixed, background, n_coalitions=300, adjustment="trees", random_state=seed).explain(X)
        hits.append(np.abs(expl.values - truth) <= 1.96 * expl.stderr)
    coverage = np.mean(hits)
    assert 0.90 <= coverage <= 0.99, coverage


def test_same_seed_same_values_whatever_jobs_and_chunks(mixed_problem):
    background, X, _ = mixed_problem

    def predict(d):  # defined here, so that worker processes get it by value
        return np.sin(d[:, 0] + d[:, 1] * d[:, 2]) * d[:, 3] + np.maximum(d[:, 4], d[:, 5]) + d[:, 7] * d[:, 8]

    def run(**options):
        return tx.KernelSHAP(predict, background, n_coalitions=250, adjustment="trees", random_state=7,
                             **options).explain(X)

    reference = run()
    for options in [{"n_jobs": 2}, {"max_rows": 1}, {"max_rows": 77}]:
        other = run(**options)
        # equal to rounding: a fresh-venv CI run once showed differences of 6e-16 here (not reproduced since);
        # the plain estimator's test in test_kernel.py stays bit-identical
        np.testing.assert_allclose(other.values, reference.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.stderr, reference.stderr, rtol=0, atol=1e-12)
    plain = tx.KernelSHAP(predict, background, n_coalitions=250, adjustment=None, random_state=7).explain(X)
    assert not np.allclose(plain.values, reference.values)  # the adjustment did something


def test_outputs_are_adjusted_one_by_one():
    rng = np.random.default_rng(3)
    background, X = rng.normal(size=(8, 10)), rng.normal(size=(3, 10))
    both = tx.KernelSHAP(_two_outputs, background, n_coalitions=300, adjustment="trees", random_state=1).explain(X)
    assert both.values.shape == (3, 10, 2) and both.stderr.shape == (3, 10, 2)
    for k in range(2):
        one = tx.KernelSHAP(_two_outputs, background, n_coalitions=300, adjustment="trees", output=k,
                            random_state=1).explain(X)
        np.testing.assert_allclose(one.values, both.values[:, :, k], rtol=0, atol=1e-12)
        np.testing.assert_allclose(one.stderr, both.stderr[:, :, k], rtol=0, atol=1e-12)


def test_feature_groups_are_the_players(mixed_problem):
    background, X, _ = mixed_problem
    groups = {"a": ["x0", "x1"], "b": ["x4", "x5", "x6"]}
    truth = tx.ExactShapley(_mixed, background, feature_groups=groups).explain(X).values
    runs = [tx.KernelSHAP(_mixed, background, feature_groups=groups, n_coalitions=200, adjustment="trees",
                          random_state=seed).explain(X) for seed in range(4)]
    assert runs[0].feature_names == ("a", "x2", "x3", "b", "x7", "x8", "x9")
    np.testing.assert_allclose(runs[0].values.sum(axis=1), _mixed(X) - _mixed(background).mean(), atol=1e-10)
    assert np.mean([_error(r.values, truth) for r in runs]) < 0.05


def test_tol_with_adjustment(mixed_problem):
    background, X, _ = mixed_problem
    loose = tx.KernelSHAP(_mixed, background, n_coalitions=900, tol=0.05, adjustment="trees",
                          random_state=0).explain(X)
    assert set(loose.diagnostics["stopped_by"]) == {"tol"} and (loose.diagnostics["n_coalitions"] < 900).all()
    ratio = loose.stderr.max(axis=1) / (loose.values.max(axis=1) - loose.values.min(axis=1))
    assert (ratio <= 0.05).all()
    np.testing.assert_allclose(loose.values.sum(axis=1), _mixed(X) - _mixed(background).mean(), atol=1e-10)
    strict = tx.KernelSHAP(_mixed, background, n_coalitions=400, tol=1e-9, adjustment="trees",
                           random_state=0).explain(X)
    same = tx.KernelSHAP(_mixed, background, n_coalitions=400, adjustment="trees", random_state=0).explain(X)
    np.testing.assert_allclose(strict.values, same.values, atol=1e-12)  # the last round is the whole plan


def test_bad_adjustment(mixed_problem):
    background, _, _ = mixed_problem
    with pytest.raises(ValueError, match=r"`adjustment` must be one of 'auto', 'trees', None; got 'forest'"):
        tx.KernelSHAP(_mixed, background, adjustment="forest")

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tabxai as tx
from tabxai._kernels.kernel_shap import random_subsets, weighted_normal_equations
from tabxai.shapley.kernel import _allocate, _Design, _distinct_subsets


def _game(n_features, seed=0, n_outputs=1):
    """A model with main effects and interactions of order two and three."""
    rng = np.random.default_rng(seed)
    linear = rng.normal(size=(n_features, n_outputs))
    pairs = rng.normal(size=(n_features, n_features, n_outputs)) / n_features

    def predict(X):
        X = np.asarray(X, dtype=float)
        out = X @ linear + np.einsum("ni,nj,ijk->nk", X, X, pairs)
        out += (np.tanh(X[:, 0] * X[:, 1] * X[:, -1]))[:, None]
        return out[:, 0] if n_outputs == 1 else out

    return predict


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    background, X = rng.normal(size=(10, 10)), rng.normal(size=(6, 10))
    predict = _game(10)
    truth = tx.ExactShapley(predict, background).explain(X).values
    return predict, background, X, truth


def _error(values, truth):
    return np.mean(np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1))


def test_exact_when_the_budget_covers_every_coalition():
    rng = np.random.default_rng(1)
    background, X = rng.normal(size=(5, 5)), rng.normal(size=(3, 5))
    predict = _game(5, 3, n_outputs=2)
    truth = tx.ExactShapley(predict, background).explain(X)
    for budget in [30, 500, "auto"]:
        expl = tx.KernelSHAP(predict, background, n_coalitions=budget, random_state=0).explain(X)
        np.testing.assert_allclose(expl.values, truth.values, rtol=0, atol=1e-9)
        np.testing.assert_allclose(expl.stderr, 0.0, atol=1e-12)
        assert list(expl.diagnostics["stopped_by"]) == ["exact"] * 3
        assert list(expl.diagnostics["n_coalitions"]) == [30] * 3


def test_error_falls_with_the_budget_and_stays_unbiased(problem):
    predict, background, X, truth = problem
    errors = []
    for budget in [40, 200, 800]:
        runs = [tx.KernelSHAP(predict, background, n_coalitions=budget, random_state=seed).explain(X).values
                for seed in range(8)]
        errors.append(np.mean([_error(v, truth) for v in runs]))
        mean = np.mean(runs, axis=0)  # averaging independent runs shrinks the error: no bias left
        assert _error(mean, truth) < errors[-1] / 1.8
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.5 * errors[0]


@pytest.mark.slow
def test_standard_errors_are_calibrated(problem):
    predict, background, X, truth = problem
    hits = []
    for seed in range(12):
        expl = tx.KernelSHAP(predict, background, n_coalitions=120, random_state=seed).explain(X)
        hits.append(np.abs(expl.values - truth) <= 1.96 * expl.stderr)
    coverage = np.mean(hits)
    assert 0.90 <= coverage <= 0.99, coverage


@given(st.integers(2, 9), st.integers(0, 10_000), st.integers(1, 2))
def test_efficiency_holds_for_every_estimate(n_features, seed, n_outputs):
    rng = np.random.default_rng(seed)
    background, X = rng.normal(size=(4, n_features)), rng.normal(size=(2, n_features))
    predict = _game(n_features, seed, n_outputs)
    expl = tx.KernelSHAP(predict, background, n_coalitions=2 * n_features, random_state=seed).explain(X)
    f = np.asarray(predict(X)).reshape(2, -1)
    base = np.asarray(predict(background)).reshape(4, -1).mean(axis=0)
    np.testing.assert_allclose(expl.values.sum(axis=1).reshape(2, -1), f - base, rtol=0, atol=1e-10)


def test_dummy_and_symmetric_players_in_expectation():
    rng = np.random.default_rng(2)
    n = 9
    background = rng.normal(size=(8, n))
    background[:, 1] = background[:, 0]
    X = rng.normal(size=(3, n))
    X[:, 1] = X[:, 0]

    def predict(d):  # player 8 is a dummy; players 0 and 1 enter symmetrically
        return np.sin(d[:, 0] + d[:, 1]) * d[:, 2] + d[:, 3] * d[:, 4] * d[:, 5] + d[:, 6] - d[:, 7] ** 2

    runs = [tx.KernelSHAP(predict, background, n_coalitions=60, random_state=s).explain(X) for s in range(30)]
    values = np.array([r.values for r in runs])
    errors = np.array([r.stderr for r in runs])
    mean, standard = values.mean(axis=0), np.sqrt((errors ** 2).mean(axis=0) / len(runs))
    assert np.all(np.abs(mean[:, 8]) <= 4 * standard[:, 8] + 1e-12)
    assert np.all(np.abs(mean[:, 0] - mean[:, 1]) <= 4 * np.hypot(standard[:, 0], standard[:, 1]))


def test_same_seed_same_values_whatever_jobs_and_chunks(problem):
    _, background, X, _ = problem

    def predict(d):  # row-wise arithmetic only, so the model itself cannot depend on the batch
        return np.sin(d[:, 0]) * d[:, 1] + d[:, 2] * d[:, 3] * d[:, 9] - d[:, 4] + np.cos(d[:, 5] + d[:, 6] * d[:, 7])

    def run(**options):
        return tx.KernelSHAP(predict, background, n_coalitions=150, random_state=7, **options).explain(X)

    reference = run()
    for options in [{"n_jobs": 2}, {"max_rows": 1}, {"max_rows": 77}]:
        other = run(**options)
        np.testing.assert_array_equal(other.values, reference.values)
        np.testing.assert_array_equal(other.stderr, reference.stderr)
    assert not np.array_equal(tx.KernelSHAP(predict, background, n_coalitions=150, random_state=8)
                              .explain(X).values, reference.values)
    rows = tx.KernelSHAP(predict, background, n_coalitions=150, random_state=7).explain(X[2:4]).values
    assert not np.array_equal(rows, reference.values[2:4])  # a row's draws follow its position
    assert reference.params["random_state"] == 7
    assert tx.KernelSHAP(predict, background, n_coalitions=150).explain(X).params["random_state"] is not None


def test_tol_stops_early_or_says_the_budget_ran_out(problem):
    predict, background, X, truth = problem
    loose = tx.KernelSHAP(predict, background, n_coalitions=1000, tol=0.2, random_state=0).explain(X)
    assert loose.diagnostics["converged"].all() and set(loose.diagnostics["stopped_by"]) == {"tol"}
    assert (loose.diagnostics["n_coalitions"] < 1000).all()
    ratio = loose.stderr.max(axis=1) / (loose.values.max(axis=1) - loose.values.min(axis=1))
    assert (ratio <= 0.2).all()
    strict = tx.KernelSHAP(predict, background, n_coalitions=300, tol=1e-9, random_state=0).explain(X)
    assert not strict.diagnostics["converged"].any() and set(strict.diagnostics["stopped_by"]) == {"budget"}
    assert (strict.diagnostics["n_coalitions"] == 300).all()
    same = tx.KernelSHAP(predict, background, n_coalitions=300, random_state=0).explain(X)
    np.testing.assert_allclose(strict.values, same.values, atol=1e-12)  # spending the budget = no tol


def test_groups_pipelines_and_frames(german_small, german_pipeline):
    X, _ = german_small
    groups = {"money": ["duration", "amount"], "history": ["credit_history", "purpose"]}
    background, rows = X.iloc[:15], X.iloc[[100, 101]]
    truth = tx.ExactShapley(german_pipeline, background, feature_groups=groups, output="bad").explain(rows)
    expl = tx.KernelSHAP(german_pipeline, background, feature_groups=groups, output="bad",
                         n_coalitions=14, random_state=0).explain(rows)
    assert expl.feature_names == ("money", "status", "history", "housing")  # ordered by first column
    np.testing.assert_allclose(expl.values, truth.values, atol=1e-10)  # 4 players: 14 coalitions is all
    many = tx.KernelSHAP(german_pipeline, X.iloc[:10], n_coalitions=20, random_state=0).explain(rows)
    np.testing.assert_allclose(many.output_values, german_pipeline.predict_proba(rows), atol=1e-10)
    assert many.values.shape == (2, 6, 2) and many.stderr.shape == (2, 6, 2)


@pytest.mark.parametrize("options, message", [
    ({"n_coalitions": 7}, r"`n_coalitions` must be an int >= 20 or 'auto'; got 7"),
    ({"n_coalitions": 2.5}, r"`n_coalitions` must be an int"),
    ({"tol": 0}, r"`tol` must be a finite number > 0 or None; got 0.0"),
    ({"tol": "small"}, r"`tol` must be a finite number"),
    ({"random_state": -1}, r"`random_state` must be None, an int >= 0"),
])
def test_bad_parameters(problem, options, message):
    predict, background, X, _ = problem
    with pytest.raises((ValueError, TypeError), match=message):
        tx.KernelSHAP(predict, background, **options).explain(X)


# the sampling design ---------------------------------------------------------------------------

def test_design_enumerates_small_strata_first():
    design = _Design(16, 1024)
    assert list(design.units[:3]) == [16, 120, 560]
    assert design.taken[0] == 16 and design.taken[1] == 120 and design.taken[2] < 560
    assert design.n_units == 512 and not design.exact
    assert _Design(5, 30).exact and _Design(6, 62).exact and not _Design(6, 60).exact


@given(st.integers(1, 500), st.lists(st.integers(1, 300), min_size=1, max_size=6))
def test_allocation_is_proportional_within_capacity(total, capacity):
    capacity = np.array(capacity)
    weight = np.linspace(1, 2, len(capacity))
    taken = _allocate(total, capacity, weight)
    assert taken.sum() == min(total, capacity.sum()) and (taken <= capacity).all() and (taken >= 0).all()


@given(st.integers(2, 12), st.integers(0, 1000), st.data())
def test_distinct_subsets(n_players, seed, data):
    size = data.draw(st.integers(1, n_players // 2))
    middle = 2 * size == n_players
    from math import comb
    units = comb(n_players, size) // (2 if middle else 1)
    count = data.draw(st.integers(1, units))
    chosen = _distinct_subsets(n_players, size, count, units, np.random.default_rng(seed))
    assert chosen.shape == (count, n_players) and (chosen.sum(axis=1) == size).all()
    assert len({row.tobytes() for row in chosen}) == count
    if middle:
        assert chosen[:, 0].all()


def test_random_subsets_are_uniform():
    draws = random_subsets(5, 2, np.random.default_rng(0).random((20_000, 2)))
    keys, counts = np.unique(np.packbits(draws, axis=1), return_counts=True)
    assert len(keys) == 10 and np.all(np.abs(counts - 2000) < 5 * np.sqrt(2000))


def test_weighted_normal_equations_equal_dense_algebra():
    rng = np.random.default_rng(0)
    Z = rng.random((30, 6)) < 0.5
    w, y = rng.random(30), rng.normal(size=(30, 2))
    gram, moment = weighted_normal_equations(Z, w, y)
    np.testing.assert_allclose(gram, Z.T.astype(float) @ (w[:, None] * Z), atol=1e-12)
    np.testing.assert_allclose(moment, Z.T.astype(float) @ (w[:, None] * y), atol=1e-12)


def test_output_names_do_not_depend_on_n_jobs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    two = [tx.KernelSHAP(lambda a: a[:, :2] * 2, X[:10], random_state=0, n_jobs=n_jobs).explain(X[:4])
           for n_jobs in (1, 2)]
    assert two[0].output_names == two[1].output_names == ("output_0", "output_1")
    np.testing.assert_array_equal(two[0].values, two[1].values)
    one = [tx.KernelSHAP(lambda a: a[:, :2] * 2, X[:10], output=1, random_state=0, n_jobs=n_jobs).explain(X[:4])
           for n_jobs in (1, 2)]
    assert one[0].output_names == one[1].output_names == "output_1"
    np.testing.assert_allclose(one[1].output_values, 2 * X[:4, 1])
    for expl in two + one:  # every field, whatever n_jobs
        assert set(expl.diagnostics) == {"n_coalitions", "stopped_by", "adjusted"}
        assert expl.params["link"] is None and expl.params["response"] == "callable"


def test_a_single_player_gets_the_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    expl = tx.KernelSHAP(lambda a: a.sum(axis=1) ** 2, X[:10], feature_groups={"all": ["x0", "x1", "x2"]},
                         random_state=0).explain(X[:3])
    expected = X[:3].sum(axis=1) ** 2 - (X[:10].sum(axis=1) ** 2).mean()
    np.testing.assert_allclose(expl.values[:, 0], expected, atol=1e-12)
    np.testing.assert_array_equal(expl.stderr, 0.0)
    assert list(expl.diagnostics["stopped_by"]) == ["exact"] * 3


def test_logit_link_makes_a_logistic_regression_additive():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 5))
    y = (X @ [1.0, -2.0, 0.5, 0.0, 1.5] + rng.normal(size=300) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    background = X[:30]
    for explainer in (tx.KernelSHAP(model, background, output=1, link="logit", random_state=0),
                      tx.ExactShapley(model, background, output=1, link="logit"),
                      tx.PermutationShapley(model, background, output=1, link="logit", random_state=0)):
        expl = explainer.explain(X[:4])
        # on the log-odds scale the values are w_i (x_i - mean_i) exactly (a linear game)
        np.testing.assert_allclose(expl.values, model.coef_[0] * (X[:4] - background.mean(axis=0)), atol=1e-9)
        np.testing.assert_allclose(expl.output_values, model.decision_function(X[:4]), atol=1e-9)
        assert expl.params["link"] == "logit"


@pytest.mark.parametrize("n_players, n_coalitions, seed", [(6, 30, 0), (9, 120, 1), (12, 400, 2), (16, 300, 3), (70, 400, 4)])
def test_estimate_equals_the_dense_textbook_formulas(n_players, n_coalitions, seed):
    from naive import naive_constrained_wls

    from tabxai.shapley.kernel import _Design, _estimate

    rng = np.random.default_rng(seed)
    design = _Design(n_players, n_coalitions)
    members, strata = design.plan(rng)
    coalitions = np.concatenate([members, ~members])
    values = np.column_stack([coalitions @ rng.normal(size=n_players) + rng.normal(size=len(coalitions)),
                              (coalitions[:, 0] & coalitions[:, 1]) + 0.1 * rng.normal(size=len(coalitions))])
    delta = np.array([1.5, -0.5])
    phi, stderr = _estimate(members, strata, values, design, delta)
    counts = np.bincount(strata, minlength=len(design.units))
    weights = np.tile(design.mass[strata] / 2 / counts[strata], 2)
    # the Shapley kernel w(S) = (n - 1) / (C(n, |S|) |S| (n - |S|)) over the inclusion probability counts / units
    import math

    sizes = members.sum(axis=1)
    kernel = np.array([(n_players - 1) / (math.comb(n_players, int(k)) * int(k) * (n_players - int(k))) for k in sizes])
    np.testing.assert_allclose(weights[:len(members)], kernel * design.units[strata] / counts[strata], rtol=1e-12)
    naive_phi, naive_stderr = naive_constrained_wls(coalitions, weights, values, delta, strata, design.units)
    np.testing.assert_allclose(phi, naive_phi, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(stderr, naive_stderr, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(phi.sum(axis=0), delta, atol=1e-10)

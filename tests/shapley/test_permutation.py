import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive import naive_shapley, naive_shapley_by_permutations

import tabxai as tx
from tabxai._kernels.permutation import accumulate_units, fill_permutation_rows, unit_order
from tabxai.shapley.permutation import _orthogonal_design


def _random_model(seed, n_features, n_outputs=1):
    """A smooth model with main effects, pairwise and three-way interactions."""
    rng = np.random.default_rng(seed)
    linear = rng.normal(size=(n_features, n_outputs))
    pairs = rng.normal(size=(n_features, n_features, n_outputs))
    three = rng.normal(size=n_outputs)

    def predict(X):
        X = np.asarray(X, dtype=float)
        out = X @ linear + np.einsum("ni,nj,ijk->nk", X, X, pairs)
        out += three * (X[:, :1] * X[:, -1:] * np.sin(X[:, n_features // 2:n_features // 2 + 1]))
        return out[:, 0] if n_outputs == 1 else out

    return predict


def _interacting_model(seed, n_features=8):
    """Every feature in interactions of order three or more (at least six features)."""
    weights = np.random.default_rng(seed).normal(size=n_features)

    def predict(X):
        out = np.tanh(X @ weights) + X[:, 0] * X[:, 1] * X[:, 2]
        return out + np.sin(X[:, 3] * X[:, 4] * X[:, 5] + X[:, 6:].sum(axis=1) * X[:, 3])

    return predict


def _relative_error(values, truth):
    return float(np.mean(np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1)))


# --- kernels against plain loops --------------------------------------------------------------------

def test_unit_orders_are_uniform_permutations():
    design = _orthogonal_design(np.random.default_rng(0), 3, 2)
    sigma, order = np.empty(3, dtype=np.int64), np.empty(3, dtype=np.int64)
    counts = {}
    for b in range(30):
        for pair in range(200):
            unit_order(design, np.uint64(12345), b, pair, sigma, order)
            counts[tuple(order)] = counts.get(tuple(order), 0) + 1
    assert sorted(counts) == sorted(itertools.permutations(range(3)))
    shares = np.array(list(counts.values())) / 6000
    np.testing.assert_allclose(shares, 1 / 6, atol=0.02)


def test_orthogonal_design_rows_are_permutations():
    design = _orthogonal_design(np.random.default_rng(1), 9, 8)
    assert design.shape == (8, 9)
    assert all(sorted(row) == list(range(9)) for row in design)
    ranks = np.argsort(design, axis=1) - 4.0  # centred rank vectors: nearly orthogonal, unlike random orders
    off_diagonal = (ranks @ ranks.T)[~np.eye(8, dtype=bool)] / (ranks[0] @ ranks[0])
    assert np.abs(off_diagonal).mean() < 0.2


def test_fill_and_accumulate_against_loops():
    rng = np.random.default_rng(2)
    n_players, n_columns, n_outputs = 4, 5, 2
    player_of_column = np.array([0, 1, 1, 2, 3])  # player 1 holds two columns
    rows, background = rng.normal(size=(2, n_columns)), rng.normal(size=(3, n_columns))
    designs = np.stack([_orthogonal_design(rng, n_players, 3) for _ in range(2)])
    keys = np.array([7, 8], dtype=np.uint64)
    unit_row, unit_background = np.array([0, 0, 1, 1, 1]), np.array([0, 2, 1, 1, 1])
    unit_pair = np.array([0, 0, 0, 1, 2])
    per_unit = 2 * (n_players - 1)
    out = np.empty((5 * per_unit, n_columns))
    for start in range(0, len(out), 4):  # any chunking
        fill_permutation_rows(rows, background, player_of_column, designs, keys, unit_row, unit_background,
                              unit_pair, start, min(start + 4, len(out)), out[start:start + 4])
    weights = rng.normal(size=(n_columns, n_outputs))

    def model(data):
        return np.tanh(data @ weights) * data[:, :1]

    outputs, full, empty = model(out), model(rows), model(background)
    shift = np.zeros((2, 3, n_players, n_outputs))
    sum1, sum2 = np.zeros_like(shift), np.zeros_like(shift)
    accumulate_units(outputs, full, empty, designs, keys, unit_row, unit_background, unit_pair, shift, sum1, sum2)
    sigma, order = np.empty(n_players, dtype=np.int64), np.empty(n_players, dtype=np.int64)
    estimates = {}
    for u in range(5):
        i, b = unit_row[u], unit_background[u]
        unit_order(designs[i], keys[i], b, unit_pair[u], sigma, order)

        def value(players, i=i, b=b):
            on = np.isin(player_of_column, list(players))
            return model(np.where(on, rows[i], background[b])[None])[0]

        forward, reverse = np.zeros((n_players, n_outputs)), np.zeros((n_players, n_outputs))
        for t, player in enumerate(order):
            forward[player] = value(order[:t + 1]) - value(order[:t])
            reverse[player] = value(order[t:]) - value(order[t + 1:])
        for t in range(n_players - 1):
            np.testing.assert_array_equal(out[u * per_unit + t],
                                          np.where(np.isin(player_of_column, order[:t + 1]), rows[i], background[b]))
            np.testing.assert_array_equal(out[u * per_unit + n_players - 1 + t],
                                          np.where(np.isin(player_of_column, order[t + 1:]), rows[i], background[b]))
        estimates.setdefault((i, b), []).append((forward + reverse) / 2)
    for (i, b), pairs in estimates.items():
        pairs = np.array(pairs)
        np.testing.assert_allclose(shift[i, b] + sum1[i, b] / len(pairs), pairs.mean(axis=0), atol=1e-12)
        np.testing.assert_allclose(sum2[i, b] - sum1[i, b] ** 2 / len(pairs),
                                   ((pairs - pairs.mean(axis=0)) ** 2).sum(axis=0), atol=1e-12)


# --- the explainer against the definition ----------------------------------------------------------

def test_error_falls_as_the_budget_grows():
    rng = np.random.default_rng(3)
    background, X = rng.normal(size=(8, 6)), rng.normal(size=(6, 6))
    predict = _interacting_model(0, 6)
    truth = tx.ExactShapley(predict, background).explain(X).values
    errors = []
    for budget in [2, 8, 32, 128]:
        errors.append(np.mean([_relative_error(tx.PermutationShapley(predict, background, n_permutations=budget,
                                                                     random_state=seed).explain(X).values, truth)
                               for seed in range(3)]))
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < errors[0] / 4  # sampling error shrinks like 1 / sqrt(pairs): 8 for 64 times the budget
    assert errors[3] < 0.06


@pytest.mark.parametrize("n_features, n_outputs, budget", [(1, 1, 1), (1, 2, "auto"), (2, 1, 1), (2, 3, 50)])
def test_one_or_two_players_are_exact(n_features, n_outputs, budget):
    rng = np.random.default_rng(n_features)
    background, X = rng.normal(size=(5, n_features)), rng.normal(size=(3, n_features))
    predict = _random_model(n_features + 10, n_features, n_outputs)
    expl = tx.PermutationShapley(predict, background, n_permutations=budget, random_state=0).explain(X)
    for i in range(len(X)):
        truth = naive_shapley(predict, X[i], background, [[j] for j in range(n_features)])
        values = expl.values[i] if n_outputs > 1 else expl.values[i][:, None]
        np.testing.assert_allclose(values, truth, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(expl.stderr, 0.0)
    assert list(expl.diagnostics["n_permutations"]) == [n_features - 1] * 3
    assert list(expl.diagnostics["stopped_by"]) == ["exact"] * 3


def test_two_feature_groups_are_exact_with_weights():
    rng = np.random.default_rng(4)
    background, X = rng.normal(size=(6, 5)), rng.normal(size=(2, 5))
    weights = rng.uniform(0.1, 2.0, size=6)
    predict = _random_model(5, 5, 2)
    columns = [f"c{j}" for j in range(5)]
    groups = {"left": ["c0", "c3"], "right": ["c1", "c2", "c4"]}
    expl = tx.PermutationShapley(lambda d: predict(np.asarray(d)), pd.DataFrame(background, columns=columns),
                                 feature_groups=groups, background_weights=weights,
                                 random_state=0).explain(pd.DataFrame(X, columns=columns))
    assert expl.feature_names == ("left", "right")
    for i in range(len(X)):
        truth = naive_shapley_by_permutations(predict, X[i], background, [[0, 3], [1, 2, 4]], weights)
        np.testing.assert_allclose(expl.values[i], truth, rtol=0, atol=1e-10)


@st.composite
def games(draw):
    n_features = draw(st.integers(1, 6))
    n_background = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_background, n_features)), rng.normal(size=(2, n_features)),
            _random_model(seed, n_features, draw(st.integers(1, 2))))


@given(games(), st.integers(1, 6), st.integers(0, 2**31), st.sampled_from([None, 0.3]))
def test_efficiency(game, budget, seed, tol):
    background, X, predict = game
    expl = tx.PermutationShapley(predict, background, n_permutations=budget, tol=tol, random_state=seed).explain(X)
    f = np.asarray(predict(X)).reshape(len(X), -1)
    total = expl.values.sum(axis=1).reshape(len(X), -1)
    np.testing.assert_allclose(total, f - expl.base_values.reshape(len(X), -1), rtol=0, atol=1e-10)
    assert expl.stderr.shape == expl.values.shape


@given(st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**31))
def test_dummy_gets_exactly_zero(n_features, n_background, seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(3, n_features))

    def predict(d):  # row-wise (elementwise operations only), ignores the last column
        out = np.zeros(len(d))
        for j in range(n_features):
            out = out + weights[0, j] * np.sin(d[:, j]) + weights[1, j] * d[:, j] * d[:, (j + 1) % n_features]
        return out + weights[2, 0] * d[:, 0] * d[:, n_features // 2] * d[:, n_features - 1]

    background = np.column_stack([rng.normal(size=(n_background, n_features)), np.arange(n_background)])
    rows = np.column_stack([rng.normal(size=(2, n_features)), [7.0, -3.0]])
    expl = tx.PermutationShapley(predict, background, n_permutations=4, random_state=seed).explain(rows)
    np.testing.assert_array_equal(expl.values[:, n_features], 0.0)
    np.testing.assert_array_equal(expl.stderr[:, n_features], 0.0)


def test_symmetric_players_are_equal_in_expectation():
    rng = np.random.default_rng(5)
    background, X = rng.normal(size=(10, 4)), rng.normal(size=(4, 4))
    background[:, 1], X[:, 1] = background[:, 0], X[:, 0]  # players 0 and 1 are interchangeable

    def predict(d):
        return np.tanh(d[:, 0] + d[:, 1]) * d[:, 2] + d[:, 0] * d[:, 1] * d[:, 3]

    expl = tx.PermutationShapley(predict, background, n_permutations=60, random_state=0).explain(X)
    difference = expl.values[:, 0] - expl.values[:, 1]
    assert np.all(np.abs(difference) <= 4 * np.hypot(expl.stderr[:, 0], expl.stderr[:, 1]))
    exact = tx.ExactShapley(predict, background).explain(X).values
    np.testing.assert_allclose(exact[:, 0], exact[:, 1], atol=1e-12)
    assert np.all(np.abs(expl.values - exact) <= 4 * expl.stderr + 1e-12)


@pytest.mark.slow
def test_standard_errors_are_calibrated():
    covered = []
    for model_seed in range(2):
        rng = np.random.default_rng(100 + model_seed)
        background, X = rng.normal(size=(10, 8)), rng.normal(size=(20, 8))
        predict = _interacting_model(model_seed)
        truth = tx.ExactShapley(predict, background).explain(X).values
        for seed in range(4):
            expl = tx.PermutationShapley(predict, background, n_permutations=10, random_state=seed).explain(X)
            covered.append(np.abs(expl.values - truth) <= 1.96 * expl.stderr)
    share = np.mean(covered)  # 2 models x 4 seeds x 20 rows x 8 features
    assert 0.90 <= share <= 0.99, share


# --- reproducibility --------------------------------------------------------------------------------

def test_same_seed_is_bit_identical_across_jobs_and_chunks():
    rng = np.random.default_rng(6)
    background, X = rng.normal(size=(9, 5)), rng.normal(size=(7, 5))

    def predict(d):  # row-wise: each output depends on its own row only
        return np.sin(d[:, 0]) * d[:, 1] + d[:, 2] * d[:, 3] * d[:, 4]

    reference = tx.PermutationShapley(predict, background, n_permutations=12, random_state=42).explain(X)
    for options in [{"n_jobs": 2}, {"max_rows": 1}, {"max_rows": 50}, {"max_rows": 700}, {"max_rows": 2000}]:
        other = tx.PermutationShapley(predict, background, n_permutations=12, random_state=42, **options).explain(X)
        np.testing.assert_array_equal(other.values, reference.values)
        np.testing.assert_array_equal(other.stderr, reference.stderr)
    first = tx.PermutationShapley(predict, background, n_permutations=12, random_state=42).explain(X[:2])
    np.testing.assert_array_equal(first.values, reference.values[:2])  # each row draws from its own generator
    different = tx.PermutationShapley(predict, background, n_permutations=12, random_state=43).explain(X)
    assert np.abs(different.values - reference.values).max() > 1e-6
    with_tol = [tx.PermutationShapley(predict, background, n_permutations=60, tol=0.05, random_state=42,
                                      **options).explain(X) for options in [{}, {"n_jobs": 2}, {"max_rows": 50}]]
    assert len(set(with_tol[0].diagnostics["n_permutations"])) > 1  # rows stop at different rounds
    for other in with_tol[1:]:
        np.testing.assert_array_equal(other.values, with_tol[0].values)
        np.testing.assert_array_equal(other.diagnostics["n_permutations"], with_tol[0].diagnostics["n_permutations"])


def test_random_state_none_and_generators():
    rng = np.random.default_rng(7)
    background, X = rng.normal(size=(5, 4)), rng.normal(size=(2, 4))
    predict = _random_model(7, 4)
    explainer = tx.PermutationShapley(predict, background, n_permutations=5)
    first, second = explainer.explain(X), explainer.explain(X)
    assert isinstance(first.params["random_state"], int)
    assert np.abs(first.values - second.values).max() > 0
    again = tx.PermutationShapley(predict, background, n_permutations=5,
                                  random_state=first.params["random_state"]).explain(X)
    np.testing.assert_array_equal(again.values, first.values)
    from_generator = [tx.PermutationShapley(predict, background, n_permutations=5,
                                            random_state=np.random.default_rng(1)).explain(X).values for _ in range(2)]
    np.testing.assert_array_equal(from_generator[0], from_generator[1])


# --- tol ----------------------------------------------------------------------------------------------

def test_loose_tol_stops_early_and_impossible_tol_spends_the_budget():
    rng = np.random.default_rng(8)
    background, X = rng.normal(size=(10, 6)), rng.normal(size=(3, 6))
    predict = _interacting_model(1, 6)
    loose = tx.PermutationShapley(predict, background, n_permutations=200, tol=0.5, random_state=0).explain(X)
    assert list(loose.diagnostics["n_permutations"]) == [10, 10, 10]
    assert loose.diagnostics["converged"].all() and list(loose.diagnostics["stopped_by"]) == ["tol"] * 3
    assert loose.params["model_rows"] == 3 * (10 * 2 * 5 * 10 + 1)
    impossible = tx.PermutationShapley(predict, background, n_permutations=25, tol=1e-9,
                                       random_state=0).explain(X)
    assert list(impossible.diagnostics["n_permutations"]) == [25, 25, 25]
    assert not impossible.diagnostics["converged"].any() and list(impossible.diagnostics["stopped_by"]) == ["budget"] * 3
    plain = tx.PermutationShapley(predict, background, n_permutations=25, random_state=0).explain(X)
    np.testing.assert_allclose(impossible.values, plain.values, atol=1e-12)  # rounds do not change the sample
    assert "converged" not in plain.params


def test_tol_stops_each_row_on_its_own():
    rng = np.random.default_rng(9)
    background = rng.normal(size=(10, 5))
    X = np.vstack([rng.normal(size=(1, 5)), np.zeros((1, 5)) + background.mean(axis=0), rng.normal(size=(1, 5))])
    predict = _random_model(9, 5)
    expl = tx.PermutationShapley(predict, background, n_permutations=300, tol=0.02, random_state=0,
                                 max_rows=2_000).explain(X)
    used = expl.diagnostics["n_permutations"]
    assert expl.diagnostics["converged"].all() and (used < 300).all() and (used % 10 == 0).all()
    ratio = np.max(expl.stderr, axis=1) / np.ptp(expl.values, axis=1)
    assert (ratio <= 0.02).all()


# --- data, groups, outputs ----------------------------------------------------------------------------

def test_multi_output_equals_each_output_alone():
    rng = np.random.default_rng(10)
    background, X = rng.normal(size=(6, 5)), rng.normal(size=(3, 5))
    predict = _random_model(10, 5, 3)
    both = tx.PermutationShapley(predict, background, n_permutations=8, random_state=1).explain(X)
    assert both.values.shape == both.stderr.shape == (3, 5, 3)
    for k in range(3):
        alone = tx.PermutationShapley(predict, background, n_permutations=8, random_state=1, output=k).explain(X)
        np.testing.assert_array_equal(alone.values, both.values[:, :, k])
        np.testing.assert_array_equal(alone.stderr, both.stderr[:, :, k])


def test_feature_groups_against_exact():
    rng = np.random.default_rng(11)
    columns = list("abcdefg")
    background = pd.DataFrame(rng.normal(size=(8, 7)), columns=columns)
    X = pd.DataFrame(rng.normal(size=(3, 7)), columns=columns)
    predict = _random_model(11, 7)
    groups = {"ab": ["a", "b"], "dfg": ["d", "f", "g"]}
    expl = tx.PermutationShapley(lambda d: predict(np.asarray(d)), background, feature_groups=groups,
                                 n_permutations=40, random_state=0).explain(X)
    exact = tx.ExactShapley(lambda d: predict(np.asarray(d)), background, feature_groups=groups).explain(X)
    assert expl.feature_names == exact.feature_names == ("ab", "c", "dfg", "e")
    assert np.all(np.abs(expl.values - exact.values) <= 4 * expl.stderr + 1e-12)
    assert _relative_error(expl.values, exact.values) < 0.05


def test_zero_weight_background_rows_are_never_evaluated():
    rng = np.random.default_rng(12)
    background, X = rng.normal(size=(6, 4)), rng.normal(size=(2, 4))
    predict = _random_model(12, 4)
    weights = np.array([1.0, 0.0, 2.0, 0.0, 1.0, 1.0])
    weighted = tx.PermutationShapley(predict, background, background_weights=weights, n_permutations=5,
                                     random_state=0).explain(X)
    kept = weights > 0
    dropped = tx.PermutationShapley(predict, background[kept], background_weights=weights[kept], n_permutations=5,
                                    random_state=0).explain(X)
    np.testing.assert_allclose(weighted.values, dropped.values, rtol=0, atol=1e-12)
    assert weighted.params["model_rows"] == dropped.params["model_rows"] == 2 * (5 * 2 * 3 * 4 + 1)


def test_pipeline_on_raw_frame(german_small, german_pipeline):
    X, _ = german_small
    background = X.iloc[:12]
    rows = X.iloc[[20, 21, 40]]
    expl = tx.PermutationShapley(german_pipeline, background, output="bad", n_permutations=30,
                                 random_state=0).explain(rows)
    assert expl.values.shape == expl.stderr.shape == (3, 6) and expl.output_names == "bad"
    assert expl.feature_names == tuple(X.columns)
    exact = tx.ExactShapley(german_pipeline, background, output="bad").explain(rows).values
    assert np.all(np.abs(expl.values - exact) <= 4 * expl.stderr + 1e-12)
    np.testing.assert_allclose(expl.output_values, german_pipeline.predict_proba(rows)[:, 0], atol=1e-10)
    pd.testing.assert_frame_equal(expl.data, rows)


def test_params_record_the_run(regression_data):
    X, y = regression_data
    expl = tx.PermutationShapley(lambda d: d @ np.arange(5.0), X[:10], random_state=3).explain(X[:2])
    assert expl.params["method"] == "PermutationShapley"
    assert expl.params["random_state"] == 3
    parameters = expl.params["parameters"]
    assert parameters["n_permutations"] == "auto" and parameters["tol"] is None
    pairs = parameters["pairs_per_background_row"]
    assert pairs == 256  # ceil(2048 / (2 * 4))
    assert list(expl.diagnostics["n_permutations"]) == [pairs, pairs]
    assert expl.params["model_rows"] == 2 * (pairs * 2 * 4 * 10 + 1)
    # a linear model has no interactions: every pair is exact
    np.testing.assert_allclose(expl.values, (X[:2] - X[:10].mean(axis=0)) * np.arange(5.0), atol=1e-10)
    np.testing.assert_allclose(expl.stderr, 0.0, atol=1e-10)


def test_no_rows_gives_an_empty_explanation():
    expl = tx.PermutationShapley(lambda d: d[:, 0], np.zeros((3, 4)), random_state=0).explain(np.zeros((0, 4)))
    assert expl.values.shape == (0, 4)


def test_one_pair_has_unknown_standard_errors():
    rng = np.random.default_rng(13)
    background, X = rng.normal(size=(4, 4)), rng.normal(size=(2, 4))
    expl = tx.PermutationShapley(_random_model(13, 4), background, n_permutations=1, random_state=0).explain(X)
    assert np.isnan(expl.stderr).all() and np.isfinite(expl.values).all()


@pytest.mark.parametrize("options, message", [
    ({"n_permutations": 0}, r"`n_permutations` must be an int >= 1 or 'auto'; got 0"),
    ({"n_permutations": -3}, r"`n_permutations` must be an int >= 1 or 'auto'; got -3"),
    ({"n_permutations": 2.5}, r"`n_permutations` must be an int >= 1 or 'auto'; got 2.5"),
    ({"n_permutations": "many"}, r"`n_permutations` must be an int >= 1 or 'auto'; got 'many'"),
    ({"n_permutations": True}, r"`n_permutations` must be an int"),
    ({"tol": 0}, r"`tol` must be a finite number > 0 or None; got 0"),
    ({"tol": -0.1}, r"`tol` must be a finite number > 0"),
    ({"tol": float("nan")}, r"`tol` must be a finite number > 0"),
    ({"tol": "small"}, r"`tol` must be a finite number > 0"),
    ({"random_state": -1}, r"`random_state` must be None, an int >= 0 or a numpy Generator; got -1"),
    ({"random_state": "seed"}, r"`random_state` must be None, an int >= 0"),
    ({"n_jobs": 0}, r"`n_jobs` must be a non-zero int"),
    ({"max_rows": 0}, r"`max_rows` must be an int >= 1"),
    ({"background_weights": [1.0, 2.0]}, r"shape \(5,\)"),
    ({"feature_groups": {"g": ["nope"]}}, "unknown column"),
])
def test_bad_input(regression_data, options, message):
    X, _ = regression_data
    with pytest.raises((ValueError, TypeError), match=message):
        tx.PermutationShapley(lambda d: d[:, 0], X[:5], **options)


def test_bad_rows_and_failing_models(regression_data):
    X, _ = regression_data
    explainer = tx.PermutationShapley(lambda d: d[:, 0], X[:5], random_state=0)
    with pytest.raises(ValueError, match="X has 3 columns; expected 5"):
        explainer.explain(X[:2, :3])

    def predict(d):
        return np.where(d[:, 0] > 100, np.nan, d[:, 1])

    with pytest.raises(tx.ModelError, match="NaN or inf"):
        tx.PermutationShapley(predict, np.zeros((3, 3)), random_state=0).explain(np.array([[1000.0, 1.0, 1.0]]))

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import tabxai as tx
from naive import naive_shapley, naive_shapley_by_permutations


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


@pytest.mark.parametrize("n_features, n_outputs", [(1, 1), (3, 1), (5, 2), (6, 3)])
def test_equals_definition(n_features, n_outputs):
    rng = np.random.default_rng(n_features)
    background = rng.normal(size=(7, n_features))
    X = rng.normal(size=(3, n_features))
    predict = _random_model(n_features, n_features, n_outputs)
    expl = tx.ExactShapley(predict, background).explain(X)
    for i in range(len(X)):
        truth = naive_shapley(predict, X[i], background, [[j] for j in range(n_features)])
        values = expl.values[i] if n_outputs > 1 else expl.values[i][:, None]
        np.testing.assert_allclose(values, truth, rtol=0, atol=1e-10)


def test_equals_definition_with_groups_and_weights():
    rng = np.random.default_rng(3)
    background = rng.normal(size=(6, 6))
    weights = rng.uniform(0.1, 2.0, size=6)
    X = rng.normal(size=(2, 6))
    predict = _random_model(11, 6, 2)
    groups = {"first": [0, 3], "second": [1, 2, 5]}
    frame_columns = [f"c{j}" for j in range(6)]
    bg = pd.DataFrame(background, columns=frame_columns)
    named = {k: [frame_columns[j] for j in v] for k, v in groups.items()}
    expl = tx.ExactShapley(lambda d: predict(np.asarray(d)), bg, feature_groups=named,
                           background_weights=weights).explain(pd.DataFrame(X, columns=frame_columns))
    assert expl.feature_names == ("first", "second", "c4")
    players = [[0, 3], [1, 2, 5], [4]]
    for i in range(len(X)):
        truth = naive_shapley_by_permutations(predict, X[i], background, players, weights)
        np.testing.assert_allclose(expl.values[i], truth, rtol=0, atol=1e-10)


def test_pipeline_on_raw_frame_equals_definition(german_small, german_pipeline):
    X, _ = german_small
    background = X.iloc[:12]
    rows = X.iloc[[20, 21, 40]]
    expl = tx.ExactShapley(german_pipeline, background, output="bad").explain(rows)
    assert expl.values.shape == (3, 6) and expl.output_names == "bad"

    def predict(frame):
        return german_pipeline.predict_proba(frame)[:, 0]

    for i in range(len(rows)):
        truth = naive_shapley(predict, rows.iloc[i], background, [[c] for c in X.columns])
        np.testing.assert_allclose(expl.values[i], truth[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(expl.output_values, predict(rows), atol=1e-10)


def test_missing_values_and_unseen_categories_are_data(german_small, german_pipeline):
    X, _ = german_small
    background = X.iloc[:10].dropna()
    rows = X.iloc[[0]].copy()
    rows["amount"] = np.nan
    rows["purpose"] = "a purpose never seen"
    expl = tx.ExactShapley(german_pipeline, background, output="good").explain(rows)
    np.testing.assert_allclose(expl.output_values, german_pipeline.predict_proba(rows)[:, 1], atol=1e-12)
    assert np.isfinite(expl.values).all()


@st.composite
def games(draw):
    n_features = draw(st.integers(1, 5))
    n_background = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n_background, n_features)), rng.normal(size=(2, n_features)),
            _random_model(seed, n_features, draw(st.integers(1, 2))))


@given(games())
def test_efficiency(game):
    background, X, predict = game
    expl = tx.ExactShapley(predict, background).explain(X)
    f = np.asarray(predict(X)).reshape(len(X), -1)
    f_background = np.asarray(predict(background)).reshape(len(background), -1).mean(axis=0)
    total = expl.values.sum(axis=1).reshape(len(X), -1)
    np.testing.assert_allclose(total, f - f_background, rtol=0, atol=1e-10)
    np.testing.assert_allclose(expl.base_values.reshape(len(X), -1), np.broadcast_to(f_background, f.shape),
                               atol=1e-12)


@given(games())
def test_dummy_and_symmetry(game):
    background, X, predict = game
    # a dummy column the model ignores, and two interchangeable columns
    n = background.shape[1]
    twin = np.column_stack([background, background[:, :1], np.ones(len(background))])
    rows = np.column_stack([X, X[:, :1], X[:, :1] * 5])

    def model(d):
        base = np.asarray(predict(d[:, :n]))
        return base + (d[:, 0] * d[:, n]).reshape(-1, *([1] * (base.ndim - 1)))

    values = tx.ExactShapley(model, twin).explain(rows).values
    np.testing.assert_allclose(values[:, -1], 0.0, atol=1e-10)
    shared = values[:, 0] - tx.ExactShapley(lambda d: np.asarray(predict(d[:, :n])), twin).explain(rows).values[:, 0]
    np.testing.assert_allclose(shared, values[:, n], atol=1e-10)  # the product term splits equally


@given(games(), st.floats(-3, 3), st.floats(-3, 3))
def test_linearity(game, a, b):
    background, X, predict = game
    other = _random_model(99, background.shape[1], 1)

    def combined(d):
        first = np.asarray(predict(d)).reshape(len(d), -1)
        return a * first + b * np.asarray(other(d)).reshape(-1, 1)

    values = tx.ExactShapley(combined, background).explain(X).values.reshape(len(X), background.shape[1], -1)
    first = tx.ExactShapley(predict, background).explain(X).values.reshape(values.shape[0], values.shape[1], -1)
    second = tx.ExactShapley(other, background).explain(X).values[:, :, None]
    np.testing.assert_allclose(values, a * first + b * second, atol=1e-9)


@given(st.integers(1, 8), st.integers(0, 1000))
def test_linear_model_closed_form(n_features, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, n_features))
    model = LinearRegression().fit(X, X @ rng.normal(size=n_features) + rng.normal(size=40))
    background = X[:15]
    expl = tx.ExactShapley(model, background).explain(X[15:18])
    np.testing.assert_allclose(expl.values, model.coef_ * (X[15:18] - background.mean(axis=0)), atol=1e-10)


def test_invariance_to_jobs_chunks_containers_and_order(german_small, german_pipeline):
    X, _ = german_small
    background = X.iloc[:10]
    rows = X.iloc[50:56]
    reference = tx.ExactShapley(german_pipeline, background).explain(rows).values
    for options in [{"n_jobs": 2}, {"max_rows": 37}, {"max_rows": 333}, {"max_rows": 10_000}]:
        values = tx.ExactShapley(german_pipeline, background, **options).explain(rows).values
        np.testing.assert_allclose(values, reference, rtol=0, atol=1e-14)
    order = [3, 0, 5, 1, 4, 2]
    shuffled = tx.ExactShapley(german_pipeline, background).explain(rows.iloc[order]).values
    np.testing.assert_allclose(shuffled, reference[order], rtol=0, atol=1e-14)
    reordered = rows[rows.columns[::-1]]
    np.testing.assert_allclose(tx.ExactShapley(german_pipeline, background).explain(reordered).values,
                               reference, rtol=0, atol=1e-14)


def test_row_wise_model_is_bit_identical_across_jobs_and_chunks():
    rng = np.random.default_rng(0)
    background, X = rng.normal(size=(9, 4)), rng.normal(size=(5, 4))

    def predict(d):
        return np.sin(d[:, 0]) * d[:, 1] + d[:, 2] * d[:, 3]

    reference = tx.ExactShapley(predict, background).explain(X).values
    for options in [{"n_jobs": 2}, {"max_rows": 1}, {"max_rows": 13}]:
        np.testing.assert_array_equal(tx.ExactShapley(predict, background, **options).explain(X).values, reference)


def test_array_and_frame_give_the_same_values(regression_data, frame_data):
    X, y = regression_data
    frame, _ = frame_data
    on_array = LinearRegression().fit(X, y)
    on_frame = LinearRegression().fit(frame, y)
    expected = tx.ExactShapley(on_array, X[:20]).explain(X[20:23]).values
    for model, background, rows in [(on_array, frame.iloc[:20], frame.iloc[20:23]),
                                    (on_frame, X[:20], X[20:23]), (on_frame, frame.iloc[:20], frame.iloc[20:23])]:
        np.testing.assert_allclose(tx.ExactShapley(model, background).explain(rows).values, expected, atol=1e-12)


def test_user_objects_are_untouched(german_small, german_pipeline):
    X, _ = german_small
    background, rows = X.iloc[:8], X.iloc[[30, 31]]
    before = (background.copy(deep=True), rows.copy(deep=True), pickle.dumps(german_pipeline))
    expl = tx.ExactShapley(german_pipeline, background).explain(rows)
    pd.testing.assert_frame_equal(background, before[0])
    pd.testing.assert_frame_equal(rows, before[1])
    assert pickle.dumps(german_pipeline) == before[2]
    expl.data.iloc[0, 0] = -1  # the explanation's data is its own copy
    pd.testing.assert_frame_equal(rows, before[1])


def test_params_record_provenance(regression_data):
    X, y = regression_data
    expl = tx.ExactShapley(LinearRegression().fit(X, y), X[:10]).explain(X[:2])
    assert expl.params["method"] == "ExactShapley"
    assert expl.params["model_rows"] == 2 * 2 ** 5 * 10
    assert expl.params["parameters"]["n_background"] == 10
    assert {"tabxai", "numpy", "scikit-learn", "python"} <= set(expl.params["versions"])
    assert expl.stderr is None


@pytest.mark.parametrize("make, message", [
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:0]), "background is empty"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5]).explain(X[0]), r"X must be 2-D .* shape \(5,\)"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5]).explain(X[:2, :3]), "X has 3 columns; expected 5"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], np.zeros((3, 17))), "17 players would need 131,072"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], max_players=0), "`max_players` must be an int >= 1"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], n_jobs=0), "`n_jobs` must be a non-zero int"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], max_rows=-1), r"`max_rows` must be an int >= 1; got -1"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], progress="yes"), "`progress` must be True, False or None"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], background_weights=[1, 2]), r"shape \(5,\)"),
    (lambda X: tx.ExactShapley(lambda d: d[:, 0], X[:5], background_weights=-np.ones(5)), "non-negative"),
    (lambda X: tx.ExactShapley(lambda d: np.full(len(d), np.nan), X[:5]), "NaN or inf"),
    (lambda X: tx.ExactShapley(lambda d: d[:2, 0], X[:5]), "expected 5 rows"),
    (lambda X: tx.ExactShapley(lambda d: 1 / 0, X[:5]), "raised ZeroDivisionError"),
])
def test_bad_input(regression_data, make, message):
    X, _ = regression_data
    with pytest.raises((ValueError, TypeError), match=message):
        make(X)


def test_frame_columns_are_checked(german_small, german_pipeline):
    X, _ = german_small
    explainer = tx.ExactShapley(german_pipeline, X.iloc[:5])
    with pytest.raises(ValueError, match=r"missing columns \['housing'\]"):
        explainer.explain(X.iloc[:2].drop(columns="housing"))
    with pytest.raises(ValueError, match=r"unknown columns \['zzz'\]"):
        explainer.explain(X.iloc[:2].assign(zzz=1))


def test_model_that_fails_only_on_explained_rows():
    def predict(d):
        if (d[:, 0] > 100).any():
            return np.full(len(d), np.nan)
        return d[:, 0]

    explainer = tx.ExactShapley(predict, np.zeros((3, 2)))
    with pytest.raises(tx.ModelError, match="NaN or inf"):
        explainer.explain(np.array([[1000.0, 1.0]]))


def test_no_rows_gives_an_empty_explanation():
    expl = tx.ExactShapley(lambda d: d[:, 0], np.zeros((3, 2))).explain(np.zeros((0, 2)))
    assert expl.values.shape == (0, 2)


def test_blocks_of_explained_rows_are_bounded_by_max_rows():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 8))
    sizes = []

    def model(rows):
        sizes.append(len(rows))
        return rows.sum(axis=1)

    explainer = tx.ExactShapley(model, X[:4], max_rows=2 ** 8 * 4 * 2)  # two rows' coalitions per call
    sizes.clear()
    expl = explainer.explain(X[:10])
    assert max(sizes) <= 2 ** 8 * 4 * 2
    # the explained rows were cut into blocks of two (memory ~ block x 2**players), values unchanged
    reference = tx.ExactShapley(model, X[:4]).explain(X[:10])
    np.testing.assert_allclose(expl.values, reference.values, atol=1e-12)

"""partial_dependence: equal to scikit-learn's brute method, to a naive loop, and invariant to batching."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joblib import parallel_config
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import tabxai as tx
from naive import naive_partial_dependence


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=4, noise=1.0, random_state=0)
    return X, y, GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0, random_state=1)
    return X, y, LogisticRegression().fit(X, y)


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(n_samples=150, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=2)
    return X, y, RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def mixed_pipeline():
    rng = np.random.default_rng(3)
    n = 150
    X = pd.DataFrame({
        "age": rng.uniform(20, 70, n),
        "income": rng.lognormal(3, 0.5, n),
        "job": rng.choice(["clerk", "manager", "engineer"], n),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
    })
    y = (X["age"] / 50 + (X["job"] == "manager") + rng.normal(0, 0.5, n) > 1.3).astype(int)
    pre = ColumnTransformer([("num", StandardScaler(), ["age", "income"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["job", "region"])])
    return X, y, make_pipeline(pre, LogisticRegression()).fit(X, y)


def _as_sklearn(values, model):
    """Our outputs as scikit-learn reports them: a binary classifier keeps only the positive class."""
    classes = getattr(model, "classes_", None)
    return values[1:] if classes is not None and len(classes) == 2 else values


@pytest.mark.parametrize("data", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("features", [1, (0, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_sklearn_brute_on_arrays(request, data, features, weighted):
    X, _, model = request.getfixturevalue(data)
    weights = np.random.default_rng(0).uniform(0.1, 2.0, len(X)) if weighted else None
    ours = tx.partial_dependence(model, X, features, kind="both", grid_resolution=6, sample_weight=weights)
    sk_features = list(features) if isinstance(features, tuple) else [features]
    theirs = sk_partial_dependence(model, X, sk_features, kind="both", grid_resolution=6, method="brute",
                                   sample_weight=weights, response_method="auto")
    for ours_grid, their_grid in zip(ours.grid_values, theirs["grid_values"]):
        np.testing.assert_array_equal(ours_grid, their_grid)
    np.testing.assert_allclose(_as_sklearn(ours.average, model), theirs["average"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(_as_sklearn(ours.individual, model), theirs["individual"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("features", ["job", "region", "age", ("age", "job"), ("region", "income")])
def test_equals_sklearn_on_a_pipeline_with_a_raw_frame(mixed_pipeline, features):
    X, _, model = mixed_pipeline
    weights = np.linspace(0.5, 1.5, len(X))
    ours = tx.partial_dependence(model, X, features, kind="both", grid_resolution=5, sample_weight=weights,
                                 output=1)
    sk_features = list(features) if isinstance(features, tuple) else [features]
    theirs = sk_partial_dependence(model, X, sk_features, kind="both", grid_resolution=5, method="brute",
                                   categorical_features=["job", "region"], sample_weight=weights,
                                   response_method="predict_proba")
    for ours_grid, their_grid in zip(ours.grid_values, theirs["grid_values"]):
        assert list(ours_grid) == list(their_grid)
    assert ours.categorical == tuple(f in ("job", "region") for f in sk_features)
    np.testing.assert_allclose(ours.average, theirs["average"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.individual, theirs["individual"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("features", [["age"], ["age", "job"], ["region", "income"], "income", 0, [1],
                                      [0, 2], np.array([False, True, True, False])])
def test_a_scikit_learn_call_copied_verbatim_gives_scikit_learns_answer(mixed_pipeline, features):
    X, _, model = mixed_pipeline
    call = dict(kind="both", grid_resolution=5, categorical_features=["job", "region"])
    theirs = sk_partial_dependence(model, X, features, method="brute", **call)
    ours = tx.partial_dependence(model, X, features, output=model.classes_[1], **call)
    names = [X.columns[f] if isinstance(f, (int, np.integer)) else f for f in
             (np.flatnonzero(features) if isinstance(features, np.ndarray) else np.atleast_1d(features).tolist())]
    assert list(ours.features) == names and ours.average.ndim == 1 + len(names)
    for ours_grid, their_grid in zip(ours.grid_values, theirs["grid_values"], strict=True):
        assert list(ours_grid) == list(their_grid)
    np.testing.assert_allclose(ours.average, theirs["average"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.individual, theirs["individual"], rtol=0, atol=1e-12)


def test_partial_dependences_keeps_the_many_features_form(mixed_pipeline):
    X, _, model = mixed_pipeline
    several = tx.partial_dependences(model, X, ["age", "job", ("age", "job")], grid_resolution=5, output=1)
    assert [r.features for r in several] == [("age",), ("job",), ("age", "job")]
    pair = tx.partial_dependence(model, X, ["age", "job"], grid_resolution=5, output=1)
    np.testing.assert_allclose(several[2].average, pair.average, rtol=0, atol=1e-12)
    np.testing.assert_allclose(several[0].average, tx.partial_dependence(model, X, ["age"], grid_resolution=5,
                                                                         output=1).average, rtol=0, atol=1e-12)


@pytest.mark.skipif(tuple(int(p) for p in __import__("sklearn").__version__.split(".")[:2]) < (1, 7),
                    reason="scikit-learn's partial_dependence takes custom_values from 1.7 on")
def test_custom_values_and_categorical_features_match_sklearn(binary):
    X, _, model = binary
    grid = [-1.0, 0.0, 0.5, 2.0]
    ours = tx.partial_dependence(model, X, 2, custom_values={2: grid}, output=1)
    theirs = sk_partial_dependence(model, X, [2], custom_values={2: grid}, method="brute")
    np.testing.assert_array_equal(ours.grid_values[0], grid)
    np.testing.assert_allclose(ours.average, theirs["average"], rtol=0, atol=1e-12)
    rounded = np.round(X, 0)
    ours = tx.partial_dependence(model, rounded, 0, categorical_features=[0], output=1)
    theirs = sk_partial_dependence(model, rounded, [0], categorical_features=[0], method="brute")
    np.testing.assert_array_equal(ours.grid_values[0], np.unique(rounded[:, 0]))
    np.testing.assert_allclose(ours.average, theirs["average"], rtol=0, atol=1e-12)
    assert ours.categorical == (True,)


def test_custom_categories_unknown_to_the_data_reach_the_model(mixed_pipeline):
    X, _, model = mixed_pipeline
    result = tx.partial_dependence(model, X, "job", custom_values={"job": ["manager", "pilot"]}, output=1)
    assert list(result.grid_values[0]) == ["manager", "pilot"]
    changed = X.copy()
    changed["job"] = "pilot"  # unknown to the OneHotEncoder: all job columns zero
    np.testing.assert_allclose(result.average[0, 1], model.predict_proba(changed)[:, 1].mean(), atol=1e-12)


def test_ice_and_average_equal_a_naive_loop_on_a_bare_callable():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))
    X[::7, 1] = np.nan

    def predict(rows):
        rows = np.asarray(rows, dtype=float)
        return np.column_stack([np.nan_to_num(rows[:, 1]) * rows[:, 0] ** 2, np.sin(rows[:, 2])])

    weights = rng.uniform(0, 1, len(X))
    result = tx.partial_dependences(predict, X, [(0, 1), 2], kind="both", grid_resolution=4, sample_weight=weights)
    pair, single = result
    points = [(a, b) for a in pair.grid_values[0] for b in pair.grid_values[1]]
    average, individual = naive_partial_dependence(predict, X, [0, 1], points, weights)
    np.testing.assert_allclose(pair.average.reshape(2, -1), average.T, atol=1e-12)
    np.testing.assert_allclose(pair.individual.reshape(2, len(X), -1), individual.transpose(2, 1, 0), atol=1e-12)
    average, individual = naive_partial_dependence(predict, X, [2], [(g,) for g in single.grid_values[0]], weights)
    np.testing.assert_allclose(single.average, average.T, atol=1e-12)
    np.testing.assert_allclose(single.individual, individual.transpose(2, 1, 0), atol=1e-12)
    assert single.output_names == ("output_0", "output_1")


def test_centred_ice_starts_at_zero(regression):
    X, _, model = regression
    plain = tx.partial_dependence(model, X, 0, kind="both", grid_resolution=7)
    centred = tx.partial_dependence(model, X, 0, kind="both", grid_resolution=7, centered=True)
    np.testing.assert_array_equal(centred.individual[..., 0], 0.0)
    np.testing.assert_allclose(centred.individual, plain.individual - plain.individual[..., :1], atol=1e-12)
    np.testing.assert_allclose(centred.average, plain.average - plain.average[:, :1], atol=1e-12)
    pair = tx.partial_dependence(model, X, (0, 1), kind="individual", grid_resolution=3, centered=True)
    np.testing.assert_array_equal(pair.individual[..., 0, 0], 0.0)


def test_model_calls_are_stacked_and_bounded_by_max_rows():
    X = np.random.default_rng(5).normal(size=(50, 4))
    calls = []

    def predict(rows):
        calls.append(len(rows))
        return rows.sum(axis=1)

    result = tx.partial_dependences(predict, X, [0, 1, 3], grid_resolution=10, kind="both", max_rows=400)
    assert calls[0] == 1  # one probe row names the outputs of a bare callable, at bind time
    assert sum(calls[1:]) == 3 * 10 * 50 and max(calls) == 400 and len(calls) == 5
    reference = tx.partial_dependences(predict, X, [0, 1, 3], grid_resolution=10, kind="both")
    for a, b in zip(result, reference):
        np.testing.assert_array_equal(a.average, b.average)
        np.testing.assert_array_equal(a.individual, b.individual)
    assert result[2].params["model_rows"] == 1500


def test_n_jobs_and_frame_input_do_not_change_results(regression):
    X, _, model = regression
    sequential = tx.partial_dependences(model, X, [0, (1, 2)], kind="both", grid_resolution=5)
    with parallel_config(backend="threading"):  # the split is what matters; loky is tested with permutations
        parallel = tx.partial_dependences(model, X, [0, (1, 2)], kind="both", grid_resolution=5, n_jobs=2)
    for a, b in zip(sequential, parallel):
        np.testing.assert_array_equal(a.average, b.average)
        np.testing.assert_array_equal(a.individual, b.individual)
    def two_outputs(rows):
        return np.column_stack([rows[:, 0], rows[:, 1] * rows[:, 2]])

    with parallel_config(backend="threading"):
        named = tx.partial_dependence(two_outputs, X, 1, grid_resolution=3, output=1, n_jobs=2)
    assert named.output_names == tx.partial_dependence(two_outputs, X, 1, grid_resolution=3, output=1).output_names
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    fitted = GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0).fit(frame, model.predict(X))
    by_name = tx.partial_dependence(fitted, frame, "b", grid_resolution=5)
    by_position = tx.partial_dependence(fitted, frame.to_numpy(), 1, grid_resolution=5)
    assert by_name.features == ("b",) and by_position.features == ("b",)
    np.testing.assert_array_equal(by_name.average, by_position.average)


def test_shapes_and_output_selection(multiclass, binary):
    X, _, model = multiclass
    result = tx.partial_dependence(model, X, (0, 1), kind="both", grid_resolution=4)
    assert result.average.shape == (3, 4, 4) and result.individual.shape == (3, len(X), 4, 4)
    assert result.output_names == (0, 1, 2)
    one = tx.partial_dependence(model, X, (0, 1), grid_resolution=4, output=2)
    np.testing.assert_array_equal(one.average, result.average[2:])
    X, _, model = binary
    assert tx.partial_dependence(model, X, 0, kind="individual").average is None
    assert tx.partial_dependence(model, X, 0).individual is None
    frame = tx.partial_dependence(model, X, 0, grid_resolution=3, output=1).to_frame()
    assert list(frame.columns) == ["x0", "average"] and len(frame) == 3


def test_additive_model_partial_dependence_is_its_component_plus_a_constant():
    @settings(max_examples=15, deadline=None)
    @given(st.integers(0, 10_000), st.integers(5, 30))
    def check(seed, n_rows):
        X = np.random.default_rng(seed).normal(size=(n_rows, 2))

        def predict(rows):
            return np.sin(rows[:, 0]) + rows[:, 1] ** 3

        result = tx.partial_dependence(predict, X, 0, grid_resolution=5, percentiles=(0.0, 1.0))
        np.testing.assert_allclose(result.average[0], np.sin(result.grid_values[0]) + np.mean(X[:, 1] ** 3),
                                   atol=1e-10)

    check()


def test_bad_input_gets_clear_errors(binary, mixed_pipeline):
    X, _, model = binary
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        tx.partial_dependence(model, X, "nope")
    with pytest.raises(ValueError, match="out of range"):
        tx.partial_dependence(model, X, 7)
    with pytest.raises(ValueError, match="grid_resolution"):
        tx.partial_dependence(model, X, 0, grid_resolution=1)
    with pytest.raises(ValueError, match="pair"):
        tx.partial_dependence(model, X, (0, 1, 2))
    with pytest.raises(ValueError, match="two different"):
        tx.partial_dependence(model, X, (1, 1))
    with pytest.raises(TypeError, match="tuple"):
        tx.partial_dependences(model, X, [[0, 1]])
    with pytest.raises(ValueError, match=r"one feature or one pair \(2-D\); got 3 features \[0, 1, 2\]"):
        tx.partial_dependence(model, X, [0, 1, 2])
    with pytest.raises(ValueError, match="one entry per column"):
        tx.partial_dependence(model, X, [True, False])
    with pytest.raises(TypeError, match="use tx.partial_dependences"):
        tx.partial_dependence(model, X, [0, (1, 2)])
    with pytest.raises(TypeError, match="must be a list of features and pairs"):
        tx.partial_dependences(model, X, (0, 1))
    with pytest.raises(ValueError, match="kind"):
        tx.partial_dependence(model, X, 0, kind="mean")
    with pytest.raises(ValueError, match="sample_weight"):
        tx.partial_dependence(model, X, 0, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="percentiles"):
        tx.partial_dependence(model, X, 0, percentiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="empty"):
        tx.partial_dependences(model, X, [])
    with pytest.raises(ValueError, match="too close"):
        tx.partial_dependence(model, np.column_stack([np.r_[np.zeros(119), 1.0], X[:, 1:]]), 0, grid_resolution=2)
    frame, _, pipeline = mixed_pipeline
    with pytest.raises(ValueError, match="must be numbers"):
        tx.partial_dependence(pipeline, frame, "age", custom_values={"age": ["old"]})
    with pytest.raises(ValueError, match="unknown column 'Age'"):
        tx.partial_dependence(pipeline, frame, ("Age", "job"))

"""One matrix of bad input over every public entry point: the error type, a message that names the
problem, and no user object changed. Plus every pandas dtype (nullable ones included) and wide data."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import tabxai as tx


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame({
        "age": rng.integers(18, 70, n),
        "income": rng.normal(50, 10, n),
        "city": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "owner": rng.random(n) < 0.5,
    })
    y = np.where(X["income"] + (X["city"] == "a") * 5 + rng.normal(0, 3, n) > 52, "bad", "good")
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["city"]), remainder="passthrough"),
        LogisticRegression(max_iter=500)).fit(X, y)
    return X, pd.Series(y, index=X.index), model


def _entry_points(X, y, model):
    """name -> callable(X_explained, background, model, **options) for every public entry point."""
    return {
        "ExactShapley": lambda rows, bg, m, **kw: tx.ExactShapley(m, bg, **kw).explain(rows),
        "KernelSHAP": lambda rows, bg, m, **kw: tx.KernelSHAP(m, bg, n_coalitions=16, random_state=0, **kw)
        .explain(rows),
        "PermutationShapley": lambda rows, bg, m, **kw: tx.PermutationShapley(m, bg, n_permutations=2, random_state=0,
                                                                             **kw).explain(rows),
        "LimeTabular": lambda rows, bg, m, **kw: tx.LimeTabular(m, bg, n_samples=40, random_state=0, **kw)
        .explain(rows),
        "partial_dependence": lambda rows, bg, m, **kw: tx.partial_dependence(m, rows, "income", grid_resolution=4,
                                                                             **kw),
        "permutation_importance": lambda rows, bg, m, **kw: tx.permutation_importance(
            m, rows, y.loc[rows.index] if isinstance(rows, pd.DataFrame) else y.iloc[:len(rows)], n_repeats=2,
            random_state=0, **kw),
    }


ENTRY_POINTS = ["ExactShapley", "KernelSHAP", "PermutationShapley", "LimeTabular", "partial_dependence",
                "permutation_importance"]


def _unchanged(X, model, run):
    frame, state = X.copy(deep=True), pickle.dumps(model)
    try:
        run()
    finally:
        pd.testing.assert_frame_equal(X, frame)
        assert pickle.dumps(model) == state, "the user's model was changed"


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case, error, message", [
    ("one-dimensional", ValueError, r"must be 2-D"),
    ("unknown column", ValueError, r"(unknown columns \['extra'\]|not fitted on: \['extra'\])"),
    ("missing column", ValueError, r"(missing columns \['owner'\]|lacks: \['owner'\])"),
    ("duplicated column", ValueError, r"duplicated column names: \['income'\]"),
    ("model raises", tx.ModelError, r"the model raised RuntimeError on \d+ rows"),
    ("model returns NaN", tx.ModelError, r"NaN or inf for \d+ of \d+ rows"),
    ("max_rows 0", ValueError, r"`max_rows` must be an int >= 1; got 0"),
    ("n_jobs 0", ValueError, r"`n_jobs` must be a non-zero int"),
    ("progress string", TypeError, r"`progress` must be True, False or None; got 'yes'"),
])
def test_bad_input_gets_a_clear_error_and_changes_nothing(table, entry, case, error, message):
    X, y, model = table
    rows, background, m, options = X.iloc[:3], X.iloc[:20], model, {}
    if case == "one-dimensional":
        rows = X.iloc[0]
        if entry in ("partial_dependence", "permutation_importance"):
            rows = X["income"]
    elif case == "unknown column":
        rows = X.iloc[:3].assign(extra=1.0)
    elif case == "missing column":
        rows = X.iloc[:3].drop(columns="owner")
    elif case == "duplicated column":
        rows = pd.concat([X.iloc[:3], X.iloc[:3][["income"]]], axis=1)
    elif case == "model raises":
        def m(data):
            raise RuntimeError("broken model")
    elif case == "model returns NaN":
        def m(data):
            return np.full(len(data), np.nan)
    elif case == "max_rows 0":
        options = {"max_rows": 0}
    elif case == "n_jobs 0":
        options = {"n_jobs": 0}
    elif case == "progress string":
        options = {"progress": "yes"}
    run = _entry_points(X, y, model)[entry]
    if entry in ("partial_dependence", "permutation_importance") and case in ("unknown column", "missing column"):
        pytest.skip("these take one data set: any columns it has are the model's input")
    with pytest.raises(error, match=message):
        _unchanged(X, model, lambda: run(rows, background, m, **options))


@pytest.mark.parametrize("entry", ["ExactShapley", "KernelSHAP", "PermutationShapley", "LimeTabular"])
def test_empty_background_and_bad_parameters_are_checked_before_the_model_is_asked(table, entry):
    X, y, model = table
    calls = []

    def counted(data):
        calls.append(len(data))
        return model.predict_proba(data)

    run = _entry_points(X, y, model)[entry]
    with pytest.raises(ValueError, match="the background is empty"):
        run(X.iloc[:3], X.iloc[:0], counted)
    with pytest.raises(ValueError, match=r"`output` must be one of the classes \['bad', 'good'\]; got 'ok'"):
        run(X.iloc[:3], X.iloc[:20], model, output="ok")
    with pytest.raises(ValueError, match=r"`link` must be one of None, 'identity', 'logit'; got 'probit'"):
        run(X.iloc[:3], X.iloc[:20], counted, link="probit")
    explainer = {"KernelSHAP": lambda **kw: tx.KernelSHAP(counted, X.iloc[:20], **kw),
                 "PermutationShapley": lambda **kw: tx.PermutationShapley(counted, X.iloc[:20], **kw),
                 "ExactShapley": lambda **kw: tx.ExactShapley(counted, X.iloc[:20], **kw),
                 "LimeTabular": lambda **kw: tx.LimeTabular(counted, X.iloc[:20], **kw)}[entry]
    bad = {"KernelSHAP": [{"n_coalitions": 0}, {"tol": -1.0}, {"random_state": -3}, {"n_coalitions": 3}],
           "PermutationShapley": [{"n_permutations": 0}, {"tol": 0.0}, {"random_state": "seed"}],
           "ExactShapley": [{"max_players": 0}, {"max_players": 2}],
           "LimeTabular": [{"n_samples": 9}, {"kernel_width": 0.0}, {"n_features": 5}, {"sampling": "kernel"},
                           {"tol": 0.0}, {"random_state": -3}]}[entry]
    for options in bad:
        with pytest.raises((ValueError, TypeError)):
            explainer(**options)
    assert calls == [], f"the model was asked about {sum(calls)} rows before the arguments were checked"


def test_link_needs_probabilities(table):
    X, y, model = table
    regressor = LinearRegression().fit(X[["age", "income"]], X["income"])
    with pytest.raises(ValueError, match="link='logit' explains probabilities on the log-odds scale; LinearRegression"):
        tx.KernelSHAP(regressor, X[["age", "income"]].iloc[:10], link="logit")
    with pytest.raises(tx.ModelError, match="link='logit' .* returned values from"):
        tx.KernelSHAP(lambda d: d["income"].to_numpy(), X.iloc[:10], link="logit")


# --- every pandas dtype, nullable ones included ---------------------------------------------------

def _dtype_variants(X):
    nullable = X.convert_dtypes()  # Int64, Float64, boolean, category stays
    strings = X.assign(city=X["city"].astype("string"))  # pandas' string dtype
    objects = X.assign(city=X["city"].astype(object))
    missing = nullable.copy()
    missing.loc[missing.index[::7], "age"] = pd.NA
    missing.loc[missing.index[::5], "owner"] = pd.NA
    return {"numpy": X, "nullable": nullable, "string": strings, "object": objects, "nullable with NA": missing}


@pytest.fixture(scope="module")
def any_dtype_model():
    """A model that takes every dtype: the city as codes of its label, NA as a value of its own."""
    def predict(frame):
        age = pd.to_numeric(frame["age"], errors="coerce").astype("float64").fillna(-1.0).to_numpy()
        income = frame["income"].astype("float64").to_numpy()
        city = frame["city"].astype(object).map({"a": 1.0, "b": 2.0, "c": 3.0}).astype("float64").to_numpy()
        owner = frame["owner"].astype(object).map({True: 1.0, False: 0.0}).astype("float64").fillna(0.5).to_numpy()
        return 0.01 * age + 0.02 * income + 0.1 * city + 0.3 * owner + 0.05 * city * owner

    return predict


@pytest.mark.parametrize("variant", ["numpy", "nullable", "string", "object", "nullable with NA"])
def test_every_pandas_dtype_in_every_entry_point(table, any_dtype_model, variant):
    X, y, _ = table
    data = _dtype_variants(X)[variant]
    rows, background = data.iloc[:4], data.iloc[:25]
    expected = any_dtype_model(rows)
    for explainer in (tx.ExactShapley(any_dtype_model, background),
                      tx.KernelSHAP(any_dtype_model, background, random_state=0),
                      tx.PermutationShapley(any_dtype_model, background, n_permutations=3, random_state=0)):
        expl = explainer.explain(rows)
        np.testing.assert_allclose(expl.output_values, expected, atol=1e-10)
        assert list(expl.data.dtypes) == list(rows.dtypes)
    grid = tx.partial_dependence(any_dtype_model, data, "age", grid_resolution=5, kind="both")
    assert np.isfinite(grid.average).all() and grid.individual.shape == (1, len(data), len(grid.grid_values[0]))
    grid = tx.partial_dependence(any_dtype_model, data, "city", kind="average")
    assert [str(v) for v in grid.grid_values[0]] == ["a", "b", "c"]
    ale = tx.accumulated_local_effects(any_dtype_model, data, "income", grid_resolution=5)
    np.testing.assert_allclose(np.diff(ale.values[0]) / np.diff(ale.grid_values), 0.02, rtol=1e-8)
    importance = tx.permutation_importance(any_dtype_model, data, any_dtype_model(data), n_repeats=2,
                                           scoring="neg_mean_squared_error", random_state=0)
    assert importance.importances_mean[list(data.columns).index("income")] > 0


def test_integer_columns_never_get_silent_casts(table):
    X, y, model = table
    seen = []

    def predict(frame):
        seen.append(frame["age"].copy())
        return frame["age"].astype("float64").to_numpy()

    grid = tx.partial_dependence(predict, X, "age", custom_values={"age": [20.5, 30.25]})
    np.testing.assert_allclose(grid.average[0], [20.5, 30.25])  # a non-integral grid on an int64 column
    nullable = X.convert_dtypes()
    grid = tx.partial_dependence(predict, nullable, "age", custom_values={"age": [20.5, 30.25]})
    np.testing.assert_allclose(grid.average[0], [20.5, 30.25])  # Int64: became Float64, never rounded
    row = X.iloc[:1].astype({"age": "float64"})
    row.loc[row.index[0], "age"] = np.inf
    expl = tx.KernelSHAP(lambda f: np.minimum(f["age"].astype("float64").to_numpy(), 1e3), X.iloc[:10],
                         random_state=0).explain(row)
    np.testing.assert_allclose(expl.output_values, [1e3])  # inf reaches the model as inf, not -9.2e18


def test_duplicated_columns_are_an_error_everywhere(table):
    X, y, model = table
    doubled = pd.concat([X, X[["age"]]], axis=1)
    with pytest.raises(ValueError, match=r"background has duplicated column names: \['age'\]"):
        tx.KernelSHAP(model, doubled.iloc[:10])
    with pytest.raises(ValueError, match=r"X has duplicated column names: \['age'\]"):
        tx.KernelSHAP(model, X.iloc[:10], random_state=0).explain(doubled.iloc[:2])
    with pytest.raises(ValueError, match=r"X has duplicated column names: \['age'\]"):
        tx.permutation_importance(model, doubled, y)


def test_targets_are_paired_with_rows_by_index(table):
    X, y, model = table
    shuffled = y.sample(frac=1, random_state=0)
    aligned = tx.permutation_importance(model, X, shuffled, n_repeats=2, random_state=0)
    plain = tx.permutation_importance(model, X, y, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(aligned.importances, plain.importances)
    with pytest.raises(ValueError, match="X and y have different indexes"):
        tx.permutation_importance(model, X, y.set_axis(np.arange(1000, 1000 + len(y))), random_state=0)
    positional = tx.permutation_importance(model, X, y.set_axis(np.arange(1000, 1000 + len(y))).to_numpy(),
                                           n_repeats=2, random_state=0)
    np.testing.assert_array_equal(positional.importances, plain.importances)


@pytest.mark.parametrize("n_players", [57, 64, 200, 1000])
def test_kernel_shap_on_wide_data(n_players):
    rng = np.random.default_rng(n_players)
    X = rng.normal(size=(60, n_players))
    weights = rng.normal(size=n_players)

    def model(rows):  # additive with one interaction: paired sampling is exact up to order two
        return rows @ weights + rows[:, 0] * rows[:, 1]

    background = X[:20]
    exact = weights * (X[20] - background.mean(axis=0))
    exact[[0, 1]] += (X[20, 0] * X[20, 1] - (background[:, 0] * background[:, 1]).mean()) / 2 \
        - (X[20, 0] * background[:, 1].mean() - X[20, 1] * background[:, 0].mean()) * 0.0
    with pytest.warns(UserWarning, match=f"leaves 32 sampled pairs for {n_players} players"):
        explainer = tx.KernelSHAP(model, background, n_coalitions=2 * n_players + 64, random_state=0)
    expl = explainer.explain(X[20:21])
    np.testing.assert_allclose(expl.output_values, model(X[20:21]), atol=1e-8)  # values add up
    # additive players beyond the interacting pair are exact for paired sampling
    np.testing.assert_allclose(expl.values[0, 2:], exact[2:], atol=1e-6 * np.abs(exact).max())
    assert np.isfinite(expl.stderr).all()


def test_non_string_column_names():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=[2, 0, ("a", 1)])  # ints that are not positions, a tuple

    def model(data):
        return data[2].to_numpy() + 2 * data[0].to_numpy() * data[("a", 1)].to_numpy()

    expl = tx.ExactShapley(model, frame.iloc[:10]).explain(frame.iloc[:3])
    assert expl.feature_names == (2, 0, ("a", 1))
    np.testing.assert_allclose(expl.output_values, model(frame.iloc[:3]), atol=1e-12)
    np.testing.assert_array_equal(expl[:, 0].values, expl.values[:, 1])  # by name: column 0, not position 0
    grid = tx.partial_dependence(model, frame, 0, grid_resolution=3)  # the column named 0
    assert grid.features == (0,)
    np.testing.assert_allclose(np.diff(grid.average[0]) / np.diff(grid.grid_values[0]),
                               2 * frame[("a", 1)].mean(), rtol=1e-10)


@pytest.mark.parametrize("explainer", ["KernelSHAP", "PermutationShapley", "LimeTabular"])
def test_every_field_is_the_same_whatever_n_jobs_and_max_rows(table, explainer):
    X, y, model = table
    make = {"KernelSHAP": lambda **kw: tx.KernelSHAP(model, X.iloc[:15], n_coalitions=20, random_state=3, **kw),
            "PermutationShapley": lambda **kw: tx.PermutationShapley(model, X.iloc[:15], n_permutations=3,
                                                                     random_state=3, **kw),
            "LimeTabular": lambda **kw: tx.LimeTabular(model, X.iloc[:15], n_samples=200, random_state=3, **kw)}[explainer]
    results = [make(n_jobs=1).explain(X.iloc[:5]), make(n_jobs=2, max_rows=37).explain(X.iloc[:5])]
    first, second = results
    np.testing.assert_allclose(second.values, first.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.stderr, first.stderr, rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.base_values, first.base_values, rtol=0, atol=1e-12)
    assert second.feature_names == first.feature_names and second.output_names == first.output_names
    assert set(second.diagnostics) == set(first.diagnostics)
    for name in first.diagnostics:
        a, b = first.diagnostics[name], second.diagnostics[name]
        if a.dtype == object:
            assert list(a) == list(b), name
        else:
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12, err_msg=name)
    settings = ("n_jobs", "max_rows")
    assert {k: v for k, v in first.params["parameters"].items() if k not in settings} == \
        {k: v for k, v in second.params["parameters"].items() if k not in settings}
    for key in ("method", "random_state", "link", "response", "model_rows"):
        assert first.params[key] == second.params[key], key
    pd.testing.assert_frame_equal(first.data, second.data)

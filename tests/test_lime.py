import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import (
    naive_forward_selection,
    naive_lime_kernel,
    naive_lime_neighbourhood,
    naive_lime_pseudo_targets,
    naive_lime_sample,
    naive_ridge,
    naive_ridge_stderr,
)
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import tabxai as tx
from tabxai._display import number_text
from tabxai._kernels.lime_sampler import counter_uniforms, normal_quantile, truncated_normal
from tabxai._validation import call_keys
from tabxai._lime_fit import dense_fit


def _logistic(a):
    a = np.asarray(a, dtype=float)
    score = a[:, 0] - 0.5 * a[:, 1] + np.sin(2 * a[:, 2]) + 0.3 * a[:, 3] - 1.5 + (a[:, 4] == 1) - 0.7 * (a[:, 4] == 2)
    return 1 / (1 + np.exp(-score))


@pytest.fixture(scope="module")
def mixed():
    """Four continuous columns and one categorical (integer codes), as an array and as a frame."""
    rng = np.random.default_rng(0)
    numeric = rng.normal(size=(300, 4)) * [1, 2, 0.5, 3] + [0, 1, 0, 5]
    codes = rng.integers(0, 3, size=300)
    array = np.column_stack([numeric, codes])
    frame = pd.DataFrame(numeric, columns=list("abcd"))
    frame["e"] = pd.Categorical(codes)

    def predict_frame(df):
        return _logistic(np.column_stack([df[list("abcd")].to_numpy(float), df["e"].astype(int).to_numpy()]))

    return array, frame, predict_frame


# --- against lime --------------------------------------------------------------------------------

def test_bins_equal_limes_quartiles(mixed):
    QuartileDiscretizer = pytest.importorskip("lime.discretize").QuartileDiscretizer

    _, frame, predict = mixed
    tied = frame.copy()
    tied["a"] = np.round(tied["a"])  # ties at the quartiles: lime drops duplicated edges
    explainer = tx.LimeTabular(predict, tied, n_samples=100)
    reference = QuartileDiscretizer(tied[list("abcd")].to_numpy(), [], list("abcd"))
    for j, name in enumerate("abcd"):
        np.testing.assert_array_equal(explainer.bins[name], reference.maxs[j][:-1])
    assert set(explainer.bins) == set("abcd")


@pytest.mark.slow
def test_coefficients_agree_with_lime_within_standard_errors(mixed):
    LimeTabularExplainer = pytest.importorskip("lime.lime_tabular").LimeTabularExplainer

    array, frame, predict = mixed
    n_samples, rows = 20_000, [0, 1, 2, 3]
    ours = tx.LimeTabular(predict, frame, n_samples=n_samples, random_state=1).explain(frame.iloc[rows])
    runs = []
    for seed in range(4):
        reference = LimeTabularExplainer(array, mode="regression", categorical_features=[4], random_state=seed)
        coefs = []
        for i, row in enumerate(rows):
            theirs = reference.explain_instance(array[row], _logistic, num_features=5, num_samples=n_samples)
            coef = np.zeros(5)
            for j, value in theirs.local_exp[1]:
                coef[j] = value
            coefs.append(coef)
            assert abs(theirs.intercept[1] - ours.base_values[i]) < 0.03
            assert abs(theirs.score - ours.diagnostics["r2"][i]) < 0.04
        runs.append(coefs)
    runs = np.array(runs)
    # lime's mean over 4 seeds against ours: each with its own standard error
    z = (runs.mean(axis=0) - ours.values) / np.sqrt(runs.var(axis=0, ddof=1) / 4 + ours.stderr ** 2)
    assert np.abs(z).max() < 4.5, z
    assert np.mean(z ** 2) < 2.5, z


def test_values_equal_the_first_samplers_estimand_at_100000_samples():
    """The table sampler, counter-based uniforms and the control variate keep lime's estimand: at 100,000 samples
    the values agree with lime's sampler drawn independently (scipy's truncated normal, NumPy uniforms, plain ridge)."""
    rng = np.random.default_rng(8)
    background = np.column_stack([rng.normal(size=400), rng.lognormal(size=400), rng.gamma(2.0, size=400),
                                  rng.uniform(-2, 2, size=400)])

    def model(rows):
        return 1 / (1 + np.exp(-(rows[:, 0] - 0.4 * rows[:, 1] + np.sin(rows[:, 2]) + rows[:, 0] * rows[:, 3])))

    n_samples, rows = 100_000, background[[3, 50, 200]]
    expl = tx.LimeTabular(model, background, n_samples=n_samples, random_state=4).explain(rows)
    assert expl.diagnostics["used_control_variate"].all()
    edges = [np.unique(np.percentile(background[:, j], [25, 50, 75])) for j in range(4)]
    z = []
    for i, row in enumerate(rows):
        samples, binary = naive_lime_neighbourhood(row, background, edges, np.random.default_rng(i), n_samples)
        y = model(samples)
        weights = naive_lime_kernel(binary, 0.75 * 2.0)
        beta, _, _ = naive_ridge(binary, y, weights, 1.0)
        stderr = naive_ridge_stderr(binary, y, weights, 1.0, np.arange(n_samples))
        z.append((expl.values[i] - beta) / np.sqrt(expl.stderr[i] ** 2 + stderr ** 2))
        assert np.all(expl.stderr[i] < stderr)  # and the control variate makes it more precise
    z = np.array(z)
    assert np.abs(z).max() < 4.0, z
    assert np.mean(z ** 2) < 2.5, z


# --- against the slow references, on the same samples ---------------------------------------------

def test_samples_are_built_as_the_naive_sampler_builds_them(mixed):
    frame = mixed[1]
    background = frame.copy()
    background.loc[::17, "b"] = np.nan  # missing values get a bin of their own
    background["a"] = np.round(background["a"] * 2) / 2  # ties at the quartiles
    explainer = tx.LimeTabular(lambda df: df["a"].to_numpy(), background, n_samples=100, random_state=0)
    codes = explainer._schema.encode(background)
    edges = [explainer.bins.get(name, []) for name in "abcde"]
    numeric = [True, True, True, True, False]
    for index in [0, 17, 5]:
        row = codes[index]
        keys = explainer._discretizer.keys(row[None])[0]
        key = np.uint64(1000 + index)
        sample_codes, sample = explainer._neighbourhood(row, keys, key, 7, 50, True)
        sample_binary, levels, deviations = sample.binary, sample.levels, sample.deviations
        sample_keys = explainer._discretizer.keys(sample_codes)
        np.testing.assert_array_equal(levels, sample_keys + 1)
        np.testing.assert_array_equal(sample.patterns, sample_binary @ (1 << np.arange(5)))
        discretizer = explainer._discretizer
        for slot, j in enumerate(discretizer.numeric):
            present = sample_keys[:, j] >= 0
            np.testing.assert_allclose(deviations[present, j], sample_codes[present, j]
                                       - discretizer.expected[slot, sample_keys[present, j]], atol=1e-12)
            assert np.all(deviations[~present, j] == 0)
        np.testing.assert_array_equal(sample_codes[0], row)
        uniforms = counter_uniforms(key, 7, 50, 5)  # samples 7 ... 56 of the stream
        for s in range(50):
            values, binary = naive_lime_sample(row, codes, edges, numeric, uniforms[s])
            # the quantile table is exact to 1e-8 of a bin's width (bins here are at most a few units wide)
            np.testing.assert_allclose(sample_codes[s + 1], values, rtol=1e-8, atol=1e-7)
            np.testing.assert_array_equal(sample_binary[s + 1], binary)


@pytest.mark.parametrize("n_samples", [400, 30])  # 30 < 2 ** 5 patterns: the dense design
def test_values_equal_the_naive_fit_on_the_same_samples(mixed, n_samples):
    _, frame, predict = mixed
    seed = 11
    explainer = tx.LimeTabular(predict, frame, n_samples=n_samples, random_state=seed)
    expl = explainer.explain(frame.iloc[:3])
    width = explainer._kernel_width
    codes = explainer._schema.encode(frame.iloc[:3])
    keys = explainer._discretizer.keys(codes)
    control = explainer._control_tables(codes, keys)
    used = expl.diagnostics["used_control_variate"]
    assert used.any() or n_samples < 100  # the additive model explains much of this model
    for i in range(3):
        key = call_keys(seed, 2)[0]  # every row's samples: one stream of the call
        sample_codes, sample = explainer._neighbourhood(codes[i], keys[i], key, 0, n_samples - 1, True)
        binary = sample.binary.astype(float)
        y = predict(explainer._schema.decode(sample_codes))
        weights = naive_lime_kernel(binary, width)
        pseudo = naive_lime_pseudo_targets(binary, y, sample.levels.tolist(), sample.deviations.tolist(),
                                           explainer._players.columns, control["row_levels"][i],
                                           control["frequencies"], control["like_row"][i])
        targets = pseudo if used[i] else y
        beta, _, _ = naive_ridge(binary, targets, weights, 1.0)
        intercept = weights @ y / weights.sum() - (weights @ binary / weights.sum()) @ beta
        np.testing.assert_allclose(expl.values[i], beta, rtol=0, atol=1e-10)
        np.testing.assert_allclose(expl.base_values[i], intercept, rtol=0, atol=1e-10)
        stderr = naive_ridge_stderr(binary, targets, weights, 1.0, np.arange(n_samples))
        np.testing.assert_allclose(expl.stderr[i], stderr, rtol=1e-8)
        plain_stderr = naive_ridge_stderr(binary, y, weights, 1.0, np.arange(n_samples))
        controlled_stderr = naive_ridge_stderr(binary, pseudo, weights, 1.0, np.arange(n_samples))
        assert used[i] == ((controlled_stderr ** 2).sum() < (plain_stderr ** 2).sum())
        assert expl.diagnostics["model_prediction"][i] == pytest.approx(y[0], abs=1e-15)
        np.testing.assert_allclose(expl.diagnostics["surrogate_prediction"][i], intercept + beta.sum(), atol=1e-10)
        lime_ridge = Ridge(alpha=1.0).fit(binary, targets, sample_weight=weights)  # lime's own regressor
        np.testing.assert_allclose(expl.values[i], lime_ridge.coef_, atol=1e-9)
        residual = y - intercept - binary @ beta
        mean = weights @ y / weights.sum()
        r2 = 1 - (weights @ residual ** 2) / (weights @ (y - mean) ** 2)
        assert r2 == pytest.approx(expl.diagnostics["r2"][i], abs=1e-9)


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 7), st.sampled_from([0.0, 1.0, 5.0]), st.integers(1, 7))
def test_fit_and_forward_selection_equal_the_naive_ones(seed, n_players, alpha, n_selected):
    rng = np.random.default_rng(seed)
    binary = (rng.random((40, n_players)) < 0.6).astype(float)
    y = binary @ rng.normal(size=n_players) + 0.3 * rng.normal(size=40) + binary[:, 0] * binary[:, -1]
    weights = rng.random(40) + 0.05
    n_selected = min(n_selected, n_players)
    fit = dense_fit(binary, weights, y[:, None], alpha, n_selected)
    chosen = naive_forward_selection(binary, y, weights, alpha, n_selected)
    assert list(np.flatnonzero(fit.coef[:, 0])) == chosen
    beta, intercept, _ = naive_ridge(binary, y, weights, alpha, chosen)
    np.testing.assert_allclose(fit.coef[chosen, 0], beta, atol=1e-10)
    np.testing.assert_allclose(fit.intercept[0], intercept, atol=1e-10)


def test_kernels_match_scipy():
    from scipy.stats import norm, truncnorm

    p = np.concatenate([np.logspace(-300, -1, 60), np.linspace(0.01, 0.99, 99), 1 - np.logspace(-15, -1, 20)])
    np.testing.assert_allclose([normal_quantile(q) for q in p], norm.ppf(p), rtol=2e-9, atol=1e-12)
    for low, high, mean, std in [(-1, 2, 0.5, 1.0), (3, 4, 0, 1), (-40, -39, 0, 1), (0, 1, 0.5, 1e-11), (1, 1, 0, 1)]:
        for u in [0.0, 0.1, 0.5, 0.9, 0.999]:
            value = truncated_normal(low, high, mean, std, u)
            assert low <= value <= high
            if high > low and std > 1e-6:
                expected = truncnorm.ppf(u, (low - mean) / std, (high - mean) / std, loc=mean, scale=std)
                tail = high < mean - 37 * std  # beyond double precision: the exponential tail limit
                assert value == pytest.approx(expected, rel=1e-3 if tail else 1e-8, abs=1e-8)


# --- the background sampler ---------------------------------------------------------------------

def test_background_sampling_recovers_a_linear_model():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 6))
    model = LinearRegression().fit(X, X @ [1, -2, 0.5, 0, 3, 1])
    background = X[:50]
    expl = tx.LimeTabular(model, background, sampling="background", kernel_width=1e6, n_samples=500,
                          random_state=0).explain(X[100:104])
    expected = model.coef_ * (X[100:104] - background.mean(axis=0))
    np.testing.assert_allclose(expl.values, expected, atol=1e-9)
    np.testing.assert_allclose(expl.base_values, model.predict(background).mean(), atol=1e-9)
    np.testing.assert_allclose(expl.diagnostics["r2_holdout"], 1.0, atol=1e-9)


def test_a_model_of_one_feature_gets_one_value():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 5))

    def model(a):
        return np.tanh(3 * a[:, 2])

    for sampling in ["background", "lime"]:
        expl = tx.LimeTabular(model, X[:40], sampling=sampling, n_samples=300, random_state=1).explain(X[50:53])
        others = np.delete(expl.values, 2, axis=1)
        if sampling == "background":  # an additive game: exact
            assert np.abs(others).max() < 1e-9
        else:  # the other features are drawn independently: zero up to sampling error
            assert np.all(np.abs(others) < 4 * np.delete(expl.stderr, 2, axis=1))
        assert np.all(np.abs(expl.values[:, 2]) > 0.1)


def test_background_sampling_with_groups_goes_through_the_masker():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 4))
    model = LinearRegression().fit(X, X @ [1.0, 1.0, -1.0, 2.0])
    masker = tx.IndependentMasker(X[:30])
    expl = tx.LimeTabular(model, masker, sampling="background", kernel_width=1e6, n_samples=200, random_state=0,
                          feature_groups={"first": ["x0", "x1"]}).explain(X[60:62])
    delta = model.coef_ * (X[60:62] - X[:30].mean(axis=0))
    expected = np.column_stack([delta[:, 0] + delta[:, 1], delta[:, 2], delta[:, 3]])
    np.testing.assert_allclose(expl.values, expected, atol=1e-9)
    assert expl.feature_names == ("first", "x2", "x3")
    assert expl.conditions[0, 0] == f"x0 = {number_text(X[60, 0])} and x1 = {number_text(X[60, 1])}"


# --- standard errors and reproducibility -----------------------------------------------------------

@pytest.mark.slow
def test_standard_errors_are_calibrated(mixed):
    _, frame, predict = mixed
    rows = frame.iloc[[0, 1]]
    limit = tx.LimeTabular(predict, frame, n_samples=400_000, alpha=0.0, random_state=99).explain(rows).values
    hits = []
    for seed in range(30):
        expl = tx.LimeTabular(predict, frame, n_samples=1000, alpha=0.0, random_state=seed).explain(rows)
        hits.append(np.abs(expl.values - limit) <= 1.96 * expl.stderr)
    coverage = np.mean(hits)
    assert 0.90 <= coverage <= 0.99, coverage


@pytest.mark.slow
def test_same_values_whatever_n_jobs_max_rows_and_calls(mixed):
    array, frame, _ = mixed
    predict = make_pipeline(ColumnTransformer([("e", OneHotEncoder(), ["e"])], remainder="passthrough"),
                            LogisticRegression()).fit(frame, _logistic(array) > 0.5)
    rows = frame.iloc[:5]
    first = tx.LimeTabular(predict, frame, n_samples=300, random_state=5)
    reference = first.explain(rows)
    again = first.explain(rows)
    np.testing.assert_array_equal(again.values, reference.values)
    for n_jobs, max_rows in [(2, None), (1, 7), (2, 100)]:
        other = tx.LimeTabular(predict, frame, n_samples=300, random_state=5, n_jobs=n_jobs, max_rows=max_rows)
        expl = other.explain(rows)
        np.testing.assert_allclose(expl.values, reference.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(expl.stderr, reference.stderr, rtol=0, atol=1e-12)
    # a row's result does not depend on the rows explained beside it, nor on its position
    alone = first.explain(rows.iloc[3:4])
    np.testing.assert_allclose(alone.values[0], reference.values[3], rtol=0, atol=1e-12)
    for sampling in ["background"]:
        a = tx.LimeTabular(predict, frame[:20], sampling=sampling, n_samples=80, random_state=2).explain(rows)
        b = tx.LimeTabular(predict, frame[:20], sampling=sampling, n_samples=80, random_state=2, n_jobs=2,
                           max_rows=33).explain(rows)
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)


def test_rows_share_one_sample_set_and_one_model_call_per_sample():
    """lime's samples do not depend on the explained row: the rows of a call share them, so the model
    sees each sample once (plus each row itself), and a row's values depend on the seed and the row only."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3))
    model = LogisticRegression().fit(X, X[:, 0] + X[:, 1] ** 2 > 1)
    explainer = tx.LimeTabular(model, X[:100], n_samples=500, random_state=3)
    expl = explainer.explain(X[100:110])
    assert expl.params["model_rows"] == 499 + explainer._n_holdout + 10
    twice = explainer.explain(X[[105, 105, 101]])
    np.testing.assert_array_equal(twice.values[0], twice.values[1])
    np.testing.assert_allclose(twice.values[[0, 2]], expl.values[[5, 1]], rtol=0, atol=1e-13)
    np.testing.assert_allclose(twice.stderr[[0, 2]], expl.stderr[[5, 1]], rtol=0, atol=1e-13)
    np.testing.assert_allclose(twice.diagnostics["r2_holdout"][[0, 2]], expl.diagnostics["r2_holdout"][[5, 1]],
                               rtol=0, atol=1e-13)


def test_tol_stops_rows_early_and_says_why():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4))
    model = LinearRegression().fit(X, X @ [4.0, -3.0, 0.5, 0.1])
    explainer = tx.LimeTabular(model, X[:100], n_samples=20_000, tol=0.05, random_state=0)
    expl = explainer.explain(X[100:103])
    assert list(expl.diagnostics["stopped_by"]) == ["tol"] * 3
    assert np.all(expl.diagnostics["n_samples"] < 20_000)
    spread = expl.values.max(axis=1) - expl.values.min(axis=1)
    assert np.all(expl.stderr.max(axis=1) <= 0.05 * spread)
    # rows stop in different rounds, each on its own prefix of the shared samples: as if explained alone
    mixed = tx.LimeTabular(model, X[:100], n_samples=20_000, tol=0.005, random_state=0).explain(X[[100, 108, 101]])
    assert len(set(mixed.diagnostics["n_samples"])) == 3
    for i, index in enumerate([100, 108, 101]):
        alone = tx.LimeTabular(model, X[:100], n_samples=20_000, tol=0.005, random_state=0).explain(X[index:index + 1])
        assert alone.diagnostics["n_samples"][0] == mixed.diagnostics["n_samples"][i]
        np.testing.assert_allclose(alone.values[0], mixed.values[i], rtol=0, atol=1e-12)
        np.testing.assert_allclose(alone.diagnostics["r2_holdout"][0], mixed.diagnostics["r2_holdout"][i], atol=1e-12)
    tight = tx.LimeTabular(model, X[:100], n_samples=400, tol=1e-6, random_state=0).explain(X[100:101])
    assert list(tight.diagnostics["stopped_by"]) == ["budget"]
    assert tight.diagnostics["n_samples"][0] == 400


def test_n_features_keeps_at_most_k_players(mixed):
    _, frame, predict = mixed
    full = tx.LimeTabular(predict, frame, n_samples=2000, random_state=0).explain(frame.iloc[:4])
    sparse = tx.LimeTabular(predict, frame, n_samples=2000, n_features=2, random_state=0).explain(frame.iloc[:4])
    assert np.all((sparse.values != 0).sum(axis=1) == 2)
    assert np.all((sparse.stderr == 0) == (sparse.values == 0))
    assert np.all(sparse.diagnostics["r2"] <= full.diagnostics["r2"] + 1e-12)


# --- data a user meets ---------------------------------------------------------------------------

def test_german_credit_through_a_pipeline_with_readable_conditions():
    X, y = tx.datasets.load_german_credit()
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    model = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], remainder="passthrough"),
        LogisticRegression(max_iter=2000)).fit(X, y)
    explainer = tx.LimeTabular(model, X.iloc[:200], n_samples=500, random_state=0, output="bad")
    expl = explainer.explain(X.iloc[[0, 1]])
    assert expl.values.shape == (2, X.shape[1])
    conditions = dict(zip(expl.feature_names, expl.conditions[0]))
    duration = X["duration"].iloc[0]
    edges = explainer.bins["duration"]
    assert conditions["duration"].startswith("duration") and (
        (duration <= edges[0]) == conditions["duration"].startswith("duration <="))
    status = X[categorical[0]].iloc[0]
    assert conditions[categorical[0]] == f"{categorical[0]} = {status}"
    assert str(expl).splitlines()[2].strip().split("  ")[0] in expl.conditions[0]
    assert np.all(expl.diagnostics["kernel_width"] == 0.75 * np.sqrt(X.shape[1]))
    assert np.all(expl[1].conditions == expl.conditions[1])
    assert expl[:, ["duration"]].conditions.shape == (2, 1)
    assert expl[1].diagnostics["r2"] == expl.diagnostics["r2"][1]


def test_strings_categoricals_missing_and_nullable_dtypes():
    rng = np.random.default_rng(8)
    n = 150
    frame = pd.DataFrame({
        "size": pd.array(rng.choice(["s", "m", "l", None], n), dtype="string"),
        "colour": pd.Categorical(rng.choice(["red", "blue"], n)),
        "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "amount": pd.array(np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)), dtype="Float64"),
        "flag": pd.array(rng.random(n) < 0.5, dtype="boolean"),
    })
    frame.loc[3, "count"] = pd.NA

    def model(df):
        return ((df["size"] == "l").fillna(False).to_numpy(float) + (df["colour"] == "red").to_numpy(float)
                + df["amount"].fillna(0).to_numpy(float) + df["flag"].fillna(False).to_numpy(float))

    before = frame.copy()
    for sampling in ["lime", "background"]:
        expl = tx.LimeTabular(model, frame, sampling=sampling, n_samples=300, random_state=0).explain(frame.iloc[:4])
        assert np.isfinite(expl.values).all()
        assert abs(expl.values[:, 3]).max() > 0
    pd.testing.assert_frame_equal(frame, before)
    lime = tx.LimeTabular(model, frame, n_samples=300, random_state=0).explain(frame.iloc[[3]])
    assert lime.conditions[0, 2] == "count is missing"
    assert lime.conditions[0, 1] == f"colour = {frame['colour'][3]}"


def test_a_classifier_gives_one_value_per_class_and_link_logit():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(400, 3))
    model = HistGradientBoostingClassifier(max_iter=20).fit(X, X[:, 0] + X[:, 1] > 0)
    expl = tx.LimeTabular(model, X[:50], n_samples=200, random_state=0).explain(X[:2])
    assert expl.values.shape == (2, 3, 2)
    np.testing.assert_allclose(expl.values[..., 0], -expl.values[..., 1], atol=1e-9)  # probabilities sum to 1
    assert expl.diagnostics["r2"].shape == (2, 2)
    logit = tx.LimeTabular(model, X[:50], n_samples=200, random_state=0, link="logit", output=True).explain(X[:2])
    probability = model.predict_proba(X[:2])[:, 1]
    np.testing.assert_allclose(logit.diagnostics["model_prediction"], np.log(probability / (1 - probability)),
                               rtol=1e-6)
    assert logit.params["link"] == "logit"


def test_a_constant_model_says_r2_is_undefined():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.warns(UserWarning, match="R\\^2 is undefined"):
        expl = tx.LimeTabular(lambda a: np.full(len(a), 2.0), X, n_samples=100, random_state=0).explain(X[:2])
    assert np.all(expl.values == 0) and np.all(expl.stderr == 0)
    assert np.isnan(expl.diagnostics["r2"]).all() and np.isnan(expl.diagnostics["r2_holdout"]).all()
    np.testing.assert_allclose(expl.base_values, 2.0)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"kernel_width": 0}, ValueError, "kernel_width"),
    ({"kernel_width": -1.0}, ValueError, "kernel_width"),
    ({"n_samples": 5}, ValueError, "n_samples"),
    ({"n_samples": 2.5}, TypeError, "n_samples"),
    ({"n_features": 0}, ValueError, "n_features"),
    ({"n_features": 4}, ValueError, "n_features"),
    ({"sampling": "kernel"}, ValueError, "sampling"),
    ({"tol": 0}, ValueError, "tol"),
    ({"alpha": -1}, ValueError, "alpha"),
    ({"link": "probit"}, ValueError, "link"),
    ({"random_state": -3}, ValueError, "random_state"),
    ({"n_jobs": 0}, ValueError, "n_jobs"),
])
def test_bad_arguments_are_refused_before_the_model_is_called(kwargs, error, message):
    calls = []

    def model(a):
        calls.append(len(a))
        return a[:, 0]

    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(error, match=message):
        tx.LimeTabular(model, X, **kwargs)
    assert calls == []


def test_wrong_columns_and_unseen_shapes_are_refused():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 1.0]})
    explainer = tx.LimeTabular(lambda df: df["a"].to_numpy(), frame, n_samples=50)
    with pytest.raises(ValueError, match="missing columns"):
        explainer.explain(frame[["a"]])
    with pytest.raises(ValueError, match="2-D"):
        explainer.explain(frame.iloc[0])
    empty = explainer.explain(frame.iloc[:0])
    assert empty.values.shape == (0, 2) and empty.conditions.shape == (0, 2)


def test_results_do_not_depend_on_warnings_state(mixed):
    _, frame, predict = mixed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expl = tx.LimeTabular(predict, frame, n_samples=200, random_state=0).explain(frame.iloc[:1])
    assert np.isfinite(expl.values).all()


def test_deviations_have_mean_zero_in_every_bin(mixed):
    """The control variate needs the exact expected value of a sampled value in its bin."""
    frame = mixed[1]
    background = frame.assign(count=np.random.default_rng(2).integers(0, 9, len(frame)))
    explainer = tx.LimeTabular(lambda df: df["a"].to_numpy(), background, n_samples=100, random_state=0)
    codes = explainer._schema.encode(background)
    keys = explainer._discretizer.keys(codes)
    _, sample = explainer._neighbourhood(codes[0], keys[0], np.uint64(1), 0, 40_000, False)
    levels, deviations = sample.levels, sample.deviations
    for slot, j in enumerate(explainer._discretizer.numeric):
        for level in np.unique(levels[:, j]):
            inside = deviations[levels[:, j] == level, j]
            if level == 0 or len(inside) < 100:
                continue
            assert abs(inside.mean()) <= 4 * inside.std() / np.sqrt(len(inside)) + 1e-12, (j, level)


def test_printed_and_drawn_lime_explanations_name_the_model_output_beside_the_surrogate():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 3))

    def model(rows):
        return np.tanh(rows[:, 0]) + rows[:, 1] * rows[:, 2]

    expl = tx.LimeTabular(model, X[:100], n_samples=500, random_state=0).explain(X[:2])
    surrogate, truth = expl.output_values[0], model(X[:1])[0]
    assert expl.model_output(0, 0) == pytest.approx(truth)
    assert f"the model gives {truth:.3f}"[:-1] in repr(expl)  # the model's value, beside the surrogate's sum
    ax = tx.plots.waterfall(expl[0])
    assert "surrogate" in ax.get_title() and "model f(x)" in ax.get_title()
    assert abs(surrogate - truth) > 1e-6  # a surrogate does not add up to the model: the text must say so

"""Influence of training rows by refits on random subsets: exact enumeration, label errors, invariance."""

import numpy as np
import pandas as pd
import pytest
from naive import naive_subset_influence
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

import tabxai as tx
from tabxai.examples._influence import _subset_mask


def _ridge_data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = X @ np.array([1.5, -1.0]) + rng.normal(0, 0.5, n)
    return X, y, rng.normal(size=(3, 2))


def test_ridge_agrees_with_enumeration_of_all_subsets_within_standard_errors():
    X, y, X_test = _ridge_data()
    truth = naive_subset_influence(lambda a, b, t: Ridge(alpha=1.0).fit(a, b).predict(t), X, y, X_test, 5)
    infl = tx.influence(Ridge(alpha=1.0), X, y, X_test, n_models=400, random_state=1)
    z = (infl.values - truth) / infl.stderr
    assert np.isfinite(z).all()
    assert np.mean(np.abs(z) < 3) >= 0.95
    assert 0.4 < np.mean(z ** 2) < 2.0  # standard errors of the right size, neither far too small nor too large


@pytest.mark.parametrize("pending_bytes", [1, 32 << 20])  # one matrix product per task of 4 models, or one in all
def test_values_are_the_mean_with_minus_the_mean_without_over_the_same_subsets(pending_bytes, monkeypatch):
    import tabxai.examples._influence as module

    monkeypatch.setattr(module, "_PENDING_BYTES", pending_bytes)
    X, y, X_test = _ridge_data(30, seed=2)
    infl = tx.influence(Ridge(), X, y, X_test, n_models=24, random_state=5)
    masks = np.array([_subset_mask(5, m, 30, 15) for m in range(24)])
    models = [Ridge().fit(X[mask], y[mask]) for mask in masks]
    test = np.array([m.predict(X_test) for m in models])
    own = np.array([-(m.predict(X) - y) ** 2 for m in models])
    for i in range(30):
        inside, outside = masks[:, i], ~masks[:, i]
        expected = test[inside].mean(axis=0) - test[outside].mean(axis=0)
        assert np.allclose(infl.values[i], expected, atol=1e-12)
        se = np.sqrt(test[inside].var(axis=0, ddof=1) / inside.sum() + test[outside].var(axis=0, ddof=1) / outside.sum())
        assert np.allclose(infl.stderr[i], se, rtol=1e-7, atol=1e-12)
        assert infl.self_influence[i] == pytest.approx(own[inside, i].mean() - own[outside, i].mean(), abs=1e-12)
    assert infl.n_in.tolist() == masks.sum(axis=0).tolist()


def test_self_influence_ranks_flipped_labels_first():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=300, n_features=5, n_informative=4, n_redundant=0, class_sep=1.5,
                               random_state=0)
    rng = np.random.default_rng(0)
    flipped = rng.choice(300, 30, replace=False)
    y = y.copy()
    y[flipped] = 1 - y[flipped]
    infl = tx.influence(DecisionTreeClassifier(random_state=0), X, y, n_models=100, random_state=0)
    top = np.argsort(-infl.self_influence, kind="stable")[:30]
    assert np.intersect1d(top, flipped).size >= 21  # most of the flipped rows
    frame = infl.most_self_influential(30)
    assert frame["row"].tolist() == top.tolist()
    assert infl.values.shape == (300, 0)


def test_results_do_not_depend_on_n_jobs():
    X, y, X_test = _ridge_data(40, seed=3)
    labels = (y > 0).astype(int)
    one = tx.influence(LogisticRegression(), X, labels, X_test, n_models=16, random_state=0, n_jobs=1)
    two = tx.influence(LogisticRegression(), X, labels, X_test, n_models=16, random_state=0, n_jobs=2)
    for field in ("values", "stderr", "self_influence", "self_influence_stderr", "n_in"):
        assert np.array_equal(getattr(one, field), getattr(two, field), equal_nan=True), field


def test_raw_frame_through_a_pipeline_and_top_rows(german_small):
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = german_small
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numeric = [c for c in X.columns if c not in categorical]
    model = make_pipeline(make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical), (make_pipeline(SimpleImputer(), StandardScaler()), numeric)), LogisticRegression())
    train, test = X.iloc[:200], X.iloc[200:203]
    before = train.copy()
    infl = tx.influence(model, train, y.iloc[:200], test[list(reversed(test.columns))], y_test=y.iloc[200:203],
                        n_models=8, random_state=0)
    pd.testing.assert_frame_equal(train, before)
    table = infl.top(test.index[0], k=3)
    assert set(table["direction"]) <= {"helpful", "harmful"} and len(table) <= 6
    column = infl.values[:, 0]
    positions = [train.index.get_loc(r) for r in table["row"]]
    assert np.allclose(table["effect"], column[positions])
    helpful = table[table["direction"] == "helpful"]
    known = np.sort(column[~np.isnan(column)])[::-1]
    assert np.allclose(helpful["effect"], known[:len(helpful)])
    assert list(table.columns[:5]) == ["row", "effect", "stderr", "direction", "label"]
    assert infl.params["response"] == "probability of the row's own label"


class _NotClonable:
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize("case, error, message", [
    ("not clonable", TypeError, "sklearn.base.clone can copy"),
    ("other columns", ValueError, "must have the columns of `X_train`"),
    ("too few models", ValueError, "`n_models` must be an int >= 4"),
    ("subsample", ValueError, "`subsample` must be a finite number > 0 and <= 1"),
    ("labels", ValueError, "one label per row"),
    ("no test rows", ValueError, "pass X_test"),
    ("no probabilities", TypeError, "classifier without predict_proba"),
])
def test_bad_input_gets_a_clear_error(case, error, message):
    X = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) % 3})
    y = np.arange(20.0)
    kwargs = {"estimator": Ridge(), "X_train": X, "y_train": y, "X_test": None, "n_models": 8}
    if case == "not clonable":
        kwargs["estimator"] = _NotClonable()
    elif case == "other columns":
        kwargs["X_test"] = X.rename(columns={"b": "c"})
    elif case == "too few models":
        kwargs["n_models"] = 2
    elif case == "subsample":
        kwargs["subsample"] = 1.5
    elif case == "labels":
        kwargs["y_train"] = y[:5]
    elif case == "no probabilities":
        from sklearn.svm import SVC

        kwargs["estimator"], kwargs["y_train"] = SVC(), np.arange(20) % 2
    with pytest.raises(error, match=message):
        result = tx.influence(**kwargs)
        result.top(0)

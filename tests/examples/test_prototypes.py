"""Prototypes and criticisms: against brute force and an independent MMD, on raw mixed-type tables."""

import numpy as np
import pandas as pd
import pytest
from naive import (naive_best_single_prototype, naive_median_gamma, naive_mixed_points, naive_mmd2,
                   naive_protodash, naive_simplex_weights)

import tabxai as tx
from tabxai.examples._encoding import MixedEncoding


def _mixed(n=60, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.normal(50, 12, n),
        "housing": rng.choice(["own", "rent", None], n),
        "purpose": pd.Categorical(rng.choice(["car", "tv", "education"], n), categories=["tv", "car", "education"]),
        "age": rng.integers(18, 70, n),
        "guarantor": rng.random(n) < 0.3,
    }, index=[f"r{i}" for i in range(n)])
    frame.loc[frame.index[[2, 7]], "income"] = np.nan
    return frame


def test_encoding_equals_cell_by_cell_reference():
    frame = _mixed()
    assert np.allclose(MixedEncoding(frame).reference_points, naive_mixed_points(frame))


def test_mmd2_gamma_and_weights_equal_independent_computation():
    frame = _mixed()
    before = frame.copy()
    p = tx.Prototypes(n_prototypes=6, n_criticisms=3).fit(frame)
    pd.testing.assert_frame_equal(frame, before)  # the user's frame is not touched
    points = naive_mixed_points(frame)
    gamma = naive_median_gamma(points)
    assert p.gamma_ == pytest.approx(gamma, rel=1e-12)
    chosen = points[p.prototype_indices_]
    assert p.mmd2_ == pytest.approx(naive_mmd2(points, chosen, p.weights_, gamma), rel=1e-9, abs=1e-12)
    assert (p.weights_ >= 0).all() and p.weights_.sum() == pytest.approx(1.0)
    # the weights are the best on the simplex for the chosen rows
    best = naive_simplex_weights(points, chosen, gamma)
    assert p.mmd2_ <= naive_mmd2(points, chosen, best, gamma) + 1e-10
    # prototypes are the user's rows: same dtypes and index labels
    assert list(p.prototypes_.index) == [frame.index[i] for i in p.prototype_indices_]
    pd.testing.assert_frame_equal(p.prototypes_, frame.iloc[p.prototype_indices_])
    assert (np.diff(p.weights_) <= 0).all()  # most representative first


def test_first_choice_is_the_brute_force_best_single_row():
    frame = _mixed(40, seed=3)
    points = naive_mixed_points(frame)
    best, scores = naive_best_single_prototype(points, naive_median_gamma(points))
    p = tx.Prototypes(n_prototypes=1, n_criticisms=0).fit(frame)
    assert p.prototype_indices_.tolist() == [best]
    assert p.mmd2_ == pytest.approx(scores[best], rel=1e-9)


def test_greedy_mmd_falls_with_more_prototypes_and_beats_uniform_weights():
    frame = _mixed(80, seed=1)
    points = naive_mixed_points(frame)
    gamma = naive_median_gamma(points)
    values = [tx.Prototypes(n_prototypes=m, n_criticisms=0).fit(frame).mmd2_ for m in (1, 3, 6, 12)]
    assert all(a > b for a, b in zip(values, values[1:]))
    p = tx.Prototypes(n_prototypes=12, n_criticisms=0).fit(frame)
    uniform = np.full(12, 1 / 12)
    assert p.mmd2_ < naive_mmd2(points, points[p.prototype_indices_], uniform, gamma)


def test_representative_on_german_credit_and_criticisms_find_planted_rows():
    X, y = tx.datasets.load_german_credit()
    X = X.copy()
    rng = np.random.default_rng(0)
    planted = rng.choice(len(X), 10, replace=False)
    numeric = ["duration", "amount", "age"]
    for k, position in enumerate(planted):  # each unusual in its own way: one number far out
        column = numeric[k % 3]
        X.iloc[position, X.columns.get_loc(column)] = round(X[column].mean() + (6 + 2 * k) * X[column].std())
    p = tx.Prototypes(n_prototypes=20, n_criticisms=10, random_state=0).fit(X)
    encoding = MixedEncoding(X)
    from tabxai.examples._encoding import kernel_means, kernel_matrix

    points = encoding.reference_points
    mu = kernel_means(points, points, p.gamma_, "rbf")
    constant = mu.mean()
    random_mmd = []
    for seed in range(30):
        subset = np.random.default_rng(seed).choice(len(X), 20, replace=False)
        kss = kernel_matrix(points[subset], points[subset], p.gamma_, "rbf")
        random_mmd.append(constant - 2 * mu[subset].mean() + kss.mean())
    assert p.mmd2_ <= 0.5 * np.median(random_mmd)
    _, _, protodash_mmd2 = naive_protodash(points, 20, p.gamma_)
    assert p.mmd2_ <= protodash_mmd2
    found = np.intersect1d(p.criticism_indices_, planted).size
    assert found >= 8, f"criticisms found {found} of 10 planted rows"
    witness = tx.Prototypes(n_prototypes=20, n_criticisms=10, criticism="witness").fit(X)
    assert np.intersect1d(witness.criticism_indices_, planted).size < found


def test_by_class_prototypes_and_nearest_prototype_classifier():
    rng = np.random.default_rng(0)
    n = 400
    label = rng.choice(["good", "bad"], n, p=[0.6, 0.4])
    X = pd.DataFrame({"score": rng.normal(0, 1, n) + 2.5 * (label == "good"),
                      "kind": np.where(rng.random(n) < 0.8, label, "other")})
    p = tx.Prototypes(n_prototypes=5, n_criticisms=4, by_class=True).fit(X, label)
    assert list(p.classes_) == ["bad", "good"]
    for k, cls in enumerate(p.classes_):
        mine = p.prototype_labels_ == cls
        assert mine.sum() == 5 and (label[p.prototype_indices_[mine]] == cls).all()
        assert p.weights_[mine].sum() == pytest.approx(1.0)
        points = naive_mixed_points(X)
        rows = np.flatnonzero(label == cls)
        assert p.mmd2_[k] == pytest.approx(
            naive_mmd2(points[rows], points[p.prototype_indices_[mine]], p.weights_[mine], p.gamma_), rel=1e-9)
    proba = p.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1) and (p.predict(X) == p.classes_[proba.argmax(axis=1)]).all()
    accuracy = p.score(X, label)
    assert accuracy > max(np.mean(label == "good"), np.mean(label == "bad")) + 0.2
    assert len(p.criticism_indices_) == 4
    shuffled = pd.Series(label, index=X.index)[::-1]  # labels are paired with rows by index
    again = tx.Prototypes(n_prototypes=5, n_criticisms=4, by_class=True).fit(X, shuffled)
    assert np.array_equal(again.prototype_indices_, p.prototype_indices_)


def test_more_rows_than_max_samples_uses_a_sample_and_searches_all_rows_for_criticisms():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    X[2500] = [9, 9, 9]
    p = tx.Prototypes(n_prototypes=5, n_criticisms=1, max_samples=500, random_state=0).fit(X)
    assert p.criticism_indices_.tolist() == [2500]
    again = tx.Prototypes(n_prototypes=5, n_criticisms=1, max_samples=500, random_state=0).fit(X)
    assert np.array_equal(p.prototype_indices_, again.prototype_indices_)
    assert isinstance(p.prototypes_, np.ndarray) and p.prototypes_.shape == (5, 3)


def test_frame_and_array_give_the_same_prototypes():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 3))
    a = tx.Prototypes(n_prototypes=4).fit(X)
    b = tx.Prototypes(n_prototypes=4).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    assert np.array_equal(a.prototype_indices_, b.prototype_indices_)
    assert np.array_equal(a.criticism_indices_, b.criticism_indices_)


@pytest.mark.parametrize("kwargs, data, message", [
    ({"n_prototypes": 11}, "ten", "`n_prototypes` must be at most the number of rows of X \\(10\\); got 11"),
    ({}, "one", "at least 2 rows; got 1"),
    ({}, "all_missing", "every value is missing: \\['empty'\\]"),
    ({"by_class": True}, "ten", "needs the class labels `y`"),
    ({"kernel": "cosine"}, "ten", "`kernel` must be one of 'rbf', 'laplacian'"),
    ({}, "inf", "finite numbers or missing values; got inf"),
])
def test_bad_input_gets_a_clear_error(kwargs, data, message):
    frames = {
        "ten": pd.DataFrame({"a": np.arange(10.0)}),
        "one": pd.DataFrame({"a": [1.0], "b": ["x"]}),
        "all_missing": pd.DataFrame({"a": np.arange(5.0), "empty": [np.nan] * 5}),
        "inf": pd.DataFrame({"a": [1.0, np.inf, 2.0]}),
    }
    with pytest.raises(ValueError, match=message):
        tx.Prototypes(n_criticisms=0, **({"n_prototypes": 1} | kwargs)).fit(frames[data])


def test_predict_needs_by_class():
    p = tx.Prototypes(n_prototypes=2, n_criticisms=0).fit(np.arange(10.0)[:, None])
    assert not hasattr(p, "predict")


def _checks():
    from sklearn.utils.estimator_checks import parametrize_with_checks

    return parametrize_with_checks([tx.Prototypes(n_prototypes=3, n_criticisms=2, by_class=True)])


@_checks()
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)

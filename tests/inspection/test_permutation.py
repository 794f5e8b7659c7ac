"""permutation_importance: closed form, naive reference, scikit-learn agreement, invariances, bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LinearRegression
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error
from sklearn.svm import SVC

import tabxai as tx
from tabxai.inspection.permutation import task_permutations
from tabxai.model import ModelError
from naive import naive_permutation_scores


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3)) * [1.0, 2.0, 0.5]
    coef = np.array([1.5, -0.5, 3.0])
    y = X @ coef + 1.0
    return X, y, LinearRegression().fit(X, y)


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(n_samples=600, n_features=5, n_informative=3, n_redundant=0, random_state=0)
    return X, y, GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)


def test_linear_regression_closed_form(linear):
    X, y, model = linear
    result = tx.permutation_importance(model, X, y, scoring="neg_mean_squared_error", n_repeats=30, random_state=0)
    expected = 2 * model.coef_ ** 2 * X.var(axis=0)
    assert np.all(np.abs(result.importances_mean - expected) < 4 * result.stderr)
    np.testing.assert_allclose(result.importances_mean, expected, rtol=0.05)
    assert result.baseline_score == pytest.approx(0.0, abs=1e-20)


@pytest.mark.parametrize("max_rows", [None, 1000])
def test_equals_a_naive_loop_with_the_same_permutations(classification, max_rows):
    X, y, model = classification
    seed, n_repeats = 7, 2
    result = tx.permutation_importance(model, X, y, scoring="roc_auc", n_repeats=n_repeats, random_state=seed,
                                       feature_groups={"pair": [1, 3]}, max_rows=max_rows)
    scorer = get_scorer("roc_auc")
    baseline = scorer(model, X, y)
    players = [[0], [1, 3], [2], [4]]
    assert result.feature_names == ("x0", "pair", "x2", "x4")
    for g, columns in enumerate(players):
        keys = [r * (X.shape[1] + 1) + 1 + min(columns) for r in range(n_repeats)]
        permutations = task_permutations(seed, keys, len(X))
        scores = naive_permutation_scores(lambda data, target: scorer(model, data, target), X, y, columns,
                                          permutations)
        np.testing.assert_allclose(result.importances[g], baseline - scores, atol=1e-12)
    np.testing.assert_array_equal(result.baseline_scores, baseline)


@pytest.mark.parametrize("scoring", [None, "accuracy", "r2", "neg_mean_squared_error", "neg_mean_absolute_error"])
def test_directly_computed_scores_equal_sklearn_scorers(classification, scoring):
    X, y, model = classification
    rng = np.random.default_rng(8)
    weights = rng.uniform(0.1, 2.0, len(X))
    if scoring in ("r2", "neg_mean_squared_error", "neg_mean_absolute_error"):
        y = np.column_stack([X @ [1.0, -1.0, 0.5, 0.0, 2.0], X[:, 0] ** 2]) + rng.normal(size=(len(X), 2))
        model = LinearRegression().fit(X, y)
    result = tx.permutation_importance(model, X, y, scoring=scoring, n_repeats=2, random_state=9,
                                       sample_weight=weights)
    assert result.params["direct_metric"]
    scorer = get_scorer(scoring or "accuracy")

    def score(data, target):
        return scorer(model, data, target, sample_weight=weights)

    baseline = score(X, y)
    for j in range(X.shape[1]):
        permutations = task_permutations(9, [r * (X.shape[1] + 1) + 1 + j for r in range(2)], len(X))
        expected = baseline - naive_permutation_scores(score, X, y, [j], permutations)
        np.testing.assert_allclose(result.importances[j], expected, rtol=0, atol=1e-12)


def test_agrees_with_sklearn_within_standard_errors(classification):
    X, y, model = classification
    ours = tx.permutation_importance(model, X, y, scoring="neg_log_loss", n_repeats=20, random_state=1)
    theirs = sk_permutation_importance(model, X, y, scoring="neg_log_loss", n_repeats=20, random_state=1)
    their_stderr = theirs.importances_std * np.sqrt(20 / 19) / np.sqrt(20)
    tolerance = 4 * np.sqrt(ours.stderr ** 2 + their_stderr ** 2) + 1e-3
    assert np.all(np.abs(ours.importances_mean - theirs.importances_mean) < tolerance)
    assert ours.baseline_score == pytest.approx(get_scorer("neg_log_loss")(model, X, y), abs=1e-12)


def test_identical_whatever_n_jobs_and_max_rows(classification):
    X, y, model = classification
    reference = tx.permutation_importance(model, X, y, n_repeats=4, random_state=3)
    parallel = tx.permutation_importance(model, X, y, n_repeats=4, random_state=3, n_jobs=2, max_rows=999)
    np.testing.assert_array_equal(reference.importances, parallel.importances)
    again = tx.permutation_importance(model, X, y, n_repeats=4, random_state=3)
    np.testing.assert_array_equal(reference.importances, again.importances)
    other = tx.permutation_importance(model, X, y, n_repeats=4, random_state=4)
    assert not np.array_equal(reference.importances, other.importances)
    more = tx.permutation_importance(model, X, y, n_repeats=6, random_state=3)
    np.testing.assert_array_equal(more.importances[:, :4], reference.importances)


def test_a_group_of_one_column_equals_that_column(classification):
    X, y, model = classification
    columns = tx.permutation_importance(model, X, y, n_repeats=3, random_state=5)
    grouped = tx.permutation_importance(model, X, y, n_repeats=3, random_state=5, feature_groups={"second": ["x1"]})
    assert grouped.feature_names == ("x0", "second", "x2", "x3", "x4")
    np.testing.assert_array_equal(grouped.importances, columns.importances)


def test_model_calls_are_stacked_and_bounded_by_max_rows():
    X = np.random.default_rng(6).normal(size=(100, 4))
    y = X.sum(axis=1)
    calls = []

    def predict(rows):
        calls.append(len(rows))
        return rows.sum(axis=1)

    result = tx.permutation_importance(predict, X, y, n_repeats=5, random_state=0, max_rows=700)
    assert calls[0] == 1  # one probe row names the outputs of a bare callable, at bind time
    assert calls[1] == 100  # the baseline, which also finds the responses the scorer needs
    assert sum(calls[2:]) == 4 * 5 * 100 and max(calls) == 700 and len(calls) == 2 + 3
    assert result.scoring == "r2" and result.params["responses"] == ["predict"] and result.params["direct_metric"]


def test_max_samples_scores_each_repeat_on_its_own_subsample(linear):
    X, y, model = linear
    noisy = y + np.random.default_rng(7).normal(size=len(y))
    result = tx.permutation_importance(model, X, noisy, n_repeats=4, max_samples=0.25, random_state=0)
    assert result.params["parameters"]["n_samples"] == 500
    assert len(set(result.baseline_scores)) == 4
    full = tx.permutation_importance(model, X, noisy, n_repeats=4, max_samples=len(X), random_state=0)
    assert len(set(full.baseline_scores)) == 1


def test_pipeline_with_a_raw_frame_string_labels_and_scorers(german_small, german_pipeline):
    X, y = german_small
    weights = np.linspace(0.5, 1.5, len(X))
    for scoring in (None, "roc_auc", "neg_log_loss", "balanced_accuracy"):
        result = tx.permutation_importance(german_pipeline, X, y, scoring=scoring, n_repeats=2, random_state=0,
                                           sample_weight=weights)
        scorer = get_scorer(scoring or "accuracy")
        assert result.baseline_score == pytest.approx(scorer(german_pipeline, X, y, sample_weight=weights), abs=1e-12)
        assert result.feature_names == tuple(X.columns)
    target = (y == y.iloc[0]).astype(float).to_numpy()
    custom = make_scorer(mean_absolute_error, greater_is_better=False, response_method="predict_proba")
    positive = (y == german_pipeline.classes_[1]).astype(float).to_numpy()
    by_scorer = tx.permutation_importance(german_pipeline, X, positive, scoring=custom, n_repeats=2, random_state=0)
    assert by_scorer.params["responses"] == ["predict_proba"] and not by_scorer.params["direct_metric"]
    assert by_scorer.baseline_score == pytest.approx(custom(german_pipeline, X, positive), abs=1e-12)

    def scorer(estimator, rows, truth):
        return -np.abs(estimator.predict_proba(rows)[:, 0] - truth).mean()

    by_callable = tx.permutation_importance(german_pipeline.predict_proba, X, target, scoring=scorer, n_repeats=2,
                                            random_state=0)
    assert by_callable.scoring == "scorer" and by_callable.importances.shape == (6, 2)
    assert by_callable.baseline_score == pytest.approx(scorer(german_pipeline, X, target), abs=1e-12)
    encoded = german_pipeline[:-1].transform(X).toarray()
    with pytest.raises(ValueError, match="LogisticRegression.predict_proba offers only predict_proba"):
        tx.permutation_importance(german_pipeline[-1].predict_proba, encoded, y)


def test_confidence_interval_and_frame(classification):
    X, y, model = classification
    result = tx.permutation_importance(model, X, y, n_repeats=5, random_state=0)
    # a textbook case: importances 1..5 have mean 3, standard error sqrt(2.5 / 5), and the 95% quantile
    # of Student's t with 4 degrees of freedom is 2.131847 (statistical tables)
    known = tx.PermutationImportance(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), np.zeros(5), ["a"], "r2", {})
    np.testing.assert_allclose(known.confidence_interval(0.9), [[3 - 2.131847 * 0.5 ** 0.5, 3 + 2.131847 * 0.5 ** 0.5]],
                               rtol=1e-6)
    interval = result.confidence_interval(0.9)
    assert np.all(interval[:, 0] <= result.importances_mean) and np.all(result.importances_mean <= interval[:, 1])
    frame = result.to_frame()
    assert list(frame.columns) == ["mean", "std", "stderr", "ci_low", "ci_high"]
    assert frame["mean"].is_monotonic_decreasing
    np.testing.assert_allclose(result.importances_std, result.importances.std(axis=1))
    with pytest.raises(ValueError, match="level"):
        result.confidence_interval(1.0)


def test_bad_input_gets_clear_errors(linear, classification):
    X, y, model = linear
    with pytest.raises(ValueError, match="needs the model's predict_proba.*LinearRegression offers only predict"):
        tx.permutation_importance(model, X, y, scoring="neg_log_loss")
    Xc, yc, _ = classification
    svc = SVC().fit(Xc[:200], yc[:200])
    with pytest.raises(ValueError, match="predict_proba"):
        tx.permutation_importance(svc, Xc[:50], yc[:50], scoring="neg_log_loss")
    with pytest.raises(ValueError, match="`y` has 1999 rows; X has 2000"):
        tx.permutation_importance(model, X, y[1:])
    with pytest.raises(ValueError, match="not a scikit-learn scorer name"):
        tx.permutation_importance(model, X, y, scoring="r3")
    with pytest.raises(TypeError, match="scoring"):
        tx.permutation_importance(model, X, y, scoring=["r2", "neg_mean_squared_error"])
    with pytest.raises(ValueError, match="n_repeats"):
        tx.permutation_importance(model, X, y, n_repeats=0)
    with pytest.raises(ValueError, match="max_samples"):
        tx.permutation_importance(model, X, y, max_samples=0.0)
    with pytest.raises(ValueError, match="max_samples"):
        tx.permutation_importance(model, X, y, max_samples=5000)
    with pytest.raises(ValueError, match="unknown column 'x9'"):
        tx.permutation_importance(model, X, y, feature_groups={"g": ["x9"]})
    with pytest.raises(ValueError, match="sample_weight"):
        tx.permutation_importance(model, X, y, sample_weight=[1.0, 2.0])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="needs the targets"):
        tx.permutation_importance(LinearRegression().fit(frame, y), frame, None)


def test_duck_typed_classifier_is_scored_like_a_scikit_learn_one():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    fitted = LogisticRegression().fit(X, labels)

    class Duck:  # no scikit-learn base class, no tags: string labels from predict, classes_, probabilities
        classes_ = fitted.classes_

        def fit(self, X, y):
            return self

        def predict(self, X):
            return fitted.predict(X)

        def predict_proba(self, X):
            return fitted.predict_proba(X)

    duck = tx.permutation_importance(Duck(), X, labels, n_repeats=3, random_state=0)
    real = tx.permutation_importance(fitted, X, labels, n_repeats=3, random_state=0)
    np.testing.assert_array_equal(duck.importances, real.importances)
    assert duck.baseline_score == real.baseline_score > 0.9


def test_one_repeat_on_a_subsample(linear):
    X, y, model = linear
    result = tx.permutation_importance(model, X, y, n_repeats=1, max_samples=0.5, random_state=0,
                                       scoring="neg_mean_squared_error")
    assert result.importances.shape == (3, 1)
    np.testing.assert_allclose(result.importances[:, 0], 2 * model.coef_ ** 2 * X.var(axis=0), rtol=0.25)


def test_a_model_that_writes_into_its_input_fails_loudly():
    """Rows stay in the buffer between model calls (only permuted columns change), so the model gets them
    read-only: a model that scales its input in place gets an error instead of changing later rows."""
    X = np.random.default_rng(2).normal(size=(50, 3))

    def scales_in_place(rows):
        rows *= 2.0
        return rows.sum(axis=1)

    with pytest.raises(ModelError, match="read-only"):
        tx.permutation_importance(scales_in_place, X, X.sum(axis=1), n_repeats=2, random_state=0)


def test_default_calls_hold_whole_tasks_up_to_8_mib():
    X = np.random.default_rng(6).normal(size=(1000, 4))
    calls = []

    def predict(rows):
        calls.append(len(rows))
        return rows.sum(axis=1)

    reference = tx.permutation_importance(predict, X, X.sum(axis=1), n_repeats=300, random_state=0)
    # 8 MiB of 4-column rows hold 262,144 rows: 262 whole tasks of 1,000 rows per call
    assert calls[2:] == [262_000] * 4 + [4 * 300 * 1000 - 262_000 * 4]
    del calls[:]
    small = tx.permutation_importance(predict, X, X.sum(axis=1), n_repeats=300, random_state=0, max_rows=2500)
    assert max(calls) == 2000  # whole tasks within max_rows
    np.testing.assert_array_equal(small.importances, reference.importances)

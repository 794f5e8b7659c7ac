"""Both learners inside scikit-learn machinery: Pipeline, GridSearchCV, clone, pickle."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from tabxai.rules import OneR, RuleListClassifier


def test_pipeline_on_raw_frames(german_small):
    X, y = german_small
    impute = ColumnTransformer([("numeric", SimpleImputer(strategy="median"), ["duration", "amount"])],
                               remainder="passthrough", verbose_feature_names_out=False).set_output(transform="pandas")
    pipeline = make_pipeline(impute, RuleListClassifier(max_rules=4)).fit(X, y)
    rules = pipeline[-1]
    assert not any(c.operator == "is missing" and c.feature == "amount" for r in rules.rules_ for c in r.conditions)
    assert (pipeline.predict(X) == rules.predict(impute.transform(X))).all()
    assert 0.5 < pipeline.score(X, y) <= 1


@pytest.mark.parametrize("estimator, grid", [
    (RuleListClassifier(), {"max_rules": [1, 4], "max_conditions": [1, 2]}),
    (OneR(), {"min_bucket_size": [1, 6, 20]}),
])
def test_grid_search(german_small, estimator, grid):
    X, y = german_small
    search = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert search.best_estimator_.classes_.tolist() == sorted(set(y))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("estimator", [OneR(min_bucket_size=3), RuleListClassifier(max_rules=3)])
def test_pickle_and_clone(german_small, estimator):
    X, y = german_small
    fitted = clone(estimator).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert str(restored) == str(fitted)
    assert restored.rules_ == fitted.rules_
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert clone(fitted).get_params() == estimator.get_params()
    assert not hasattr(clone(fitted), "rules_")


def test_cross_validation_with_string_arrays():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.choice(["low", "high"], 120), rng.normal(size=120)]).astype(object)
    X[:, 1] = X[:, 1].astype(float)
    y = np.where(X[:, 0] == "high", "yes", "no")
    scores = cross_val_score(RuleListClassifier(), X, y, cv=3)
    assert (scores == 1).all()
    assert str(OneR().fit(X, y)).startswith("IF x0 = high THEN class = yes")

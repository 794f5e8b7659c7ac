"""fit_surrogate: fidelity on held-out rows beside accuracies, determinism, callables, bad input."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from tabxai.rules import OneR, RuleListClassifier, Surrogate, fit_surrogate


def test_fidelity_and_accuracies(german_small, german_pipeline):
    X, y = german_small
    result = fit_surrogate(german_pipeline, X, RuleListClassifier(max_rules=5), y=y, random_state=0)
    assert isinstance(result, Surrogate)
    assert (result.n_train, result.n_test) == (225, 75)
    learner = result.learner
    assert isinstance(learner, RuleListClassifier) and len(learner.rules_) <= 6
    # recompute the figures from their definitions, on the documented split
    labels = german_pipeline.predict(X)
    train, test = train_test_split(np.arange(len(X)), test_size=0.25, random_state=0, stratify=labels)
    predicted = learner.predict(X)
    assert result.fidelity == pytest.approx(np.mean(predicted[test] == labels[test]))
    assert result.train_fidelity == pytest.approx(np.mean(predicted[train] == labels[train]))
    truth = y.to_numpy()
    assert result.model_accuracy == pytest.approx(np.mean(labels[test] == truth[test]))
    assert result.accuracy == pytest.approx(np.mean(predicted[test] == truth[test]))
    baseline = RuleListClassifier(max_rules=5).fit(X.iloc[train], truth[train])
    assert result.baseline_accuracy == pytest.approx(np.mean(baseline.predict(X.iloc[test]) == truth[test]))
    assert 0.6 < result.fidelity <= 1
    assert result.params["random_state"] == 0 and result.params["test_size"] == 0.25
    assert str(result).startswith("RuleListClassifier surrogate: fidelity")
    assert str(learner) in str(result)


def test_same_seed_same_result_and_callables(german_small, german_pipeline):
    X, y = german_small
    first = fit_surrogate(german_pipeline, X, OneR(), y=y, random_state=3)
    again = fit_surrogate(german_pipeline, X, OneR(), y=y, random_state=3)
    assert first.fidelity == again.fidelity and first.learner.rules_ == again.learner.rules_
    through_proba = fit_surrogate(german_pipeline.predict_proba, X, OneR(), y=y, random_state=3)
    assert through_proba.fidelity == first.fidelity
    assert through_proba.learner.rules_ == first.learner.rules_


def test_default_learner_and_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + 0.2 * rng.normal(size=400) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    result = fit_surrogate(model, X, y=y, random_state=0)
    assert isinstance(result.learner, RuleListClassifier)
    assert result.fidelity > 0.9
    assert result.accuracy is not None and result.baseline_accuracy is not None
    plain = fit_surrogate(model, X, random_state=0)
    assert plain.accuracy is None and plain.model_accuracy is None and plain.fidelity == result.fidelity


def test_bad_input(german_small, german_pipeline):
    X, y = german_small
    with pytest.raises(ValueError, match=r"`test_size` must be a float in \(0, 1\); got 1.0"):
        fit_surrogate(german_pipeline, X, test_size=1.0)
    with pytest.raises(ValueError, match=r"`test_size` must be a finite number > 0"):
        fit_surrogate(german_pipeline, X, test_size=0.0)
    with pytest.raises(ValueError, match="not fitted"):
        fit_surrogate(LogisticRegression(), X)
    with pytest.raises(TypeError, match="`learner` must be a classifier"):
        fit_surrogate(german_pipeline, X, learner="rules")
    with pytest.raises(ValueError, match="X has 300 rows but y has 10 values"):
        fit_surrogate(german_pipeline, X, y=y[:10])
    constant = DummyClassifier(strategy="constant", constant="good").fit(X, y)
    with pytest.raises(ValueError, match="predicts one class only"):
        fit_surrogate(constant, X)

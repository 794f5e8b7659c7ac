"""Scoring model outputs that were computed in stacked model calls, with any scikit-learn scorer.

A scikit-learn scorer is called as ``scorer(estimator, X, y)`` and asks the estimator for the
response it needs (``predict``, ``predict_proba`` or ``decision_function``). Permutation importance
asks the model about all its rows in large chunks first; :class:`ResponseReplay` then stands in for
the estimator and hands the scorer the responses of one block of rows, carried by a
:class:`ScoredRows` placeholder in the place of ``X``. A response that was not computed in advance
is computed on demand through the same Model adapter.

Scikit-learn's metrics validate their input on every call, which costs more than a cheap model's
predictions on thousands of rows. For the most common scorers :func:`direct_metric` gives the same
formula in a few NumPy operations; permutation importance uses it only after checking, on the
baseline, that it equals the scikit-learn scorer (which also validated ``y`` once).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from ..model import METHODS, as_model, has_method

__all__ = ["ResponseReplay", "ScoredRows", "direct_metric", "response_models", "resolve_scorer"]


def response_models(model, adapter, schema, codes):
    """The Model of each response the user's model offers, bound to ``schema`` (probed on ``codes``).

    A fitted estimator or pipeline offers each of ``predict``, ``predict_proba`` and
    ``decision_function`` it has; a bound method only itself; a bare callable is ``predict``.
    A classifier's ``predict`` comes as label positions (see :func:`tabxai.as_model`).
    """
    owner = adapter.owner
    if owner is not None and model is owner:
        names = [name for name in METHODS if has_method(owner, name)]
    elif adapter.method in METHODS:
        names = [adapter.method]
    else:
        names = ["predict"]
    classes = getattr(owner, "classes_", None) if adapter.is_classifier else None
    models = {}
    for name in names:
        response = adapter if owner is None else as_model(owner, method=name, max_rows=adapter.max_rows)
        models[name] = response.bind(schema, sample=codes)
    return models, classes


class ScoredRows:
    """What a scorer receives as ``X``: a block of rows, represented by the model's responses on them.

    A callable scorer must only pass it on to the estimator's methods (``len`` and ``shape`` work).
    """

    def __init__(self, n_rows, n_columns, responses, build):
        self.shape = (n_rows, n_columns)
        self.responses = responses
        self.build = build

    def __len__(self):
        return self.shape[0]


def _offers(name):
    """Whether a ResponseReplay offers the response ``name`` (the model has that method)."""
    return lambda replay: name in replay.models


class ResponseReplay(BaseEstimator):
    """Stands in for the user's estimator in a scorer call; records which responses were asked for."""

    def __init__(self, owner=None, models=None, classes=None):
        self.owner = owner
        self.models = models
        self.classes = classes
        self.used = set()

    def __sklearn_tags__(self):
        if self.owner is not None and hasattr(self.owner, "__sklearn_tags__"):
            try:
                return self.owner.__sklearn_tags__()
            except (AttributeError, TypeError):
                pass
        return super().__sklearn_tags__()

    @property
    def classes_(self):
        if self.classes is None:
            raise AttributeError("the model has no classes_")
        return self.classes

    @available_if(_offers("predict"))
    def predict(self, X):
        return self.response("predict", X)

    @available_if(_offers("predict_proba"))
    def predict_proba(self, X):
        return self.response("predict_proba", X)

    @available_if(_offers("decision_function"))
    def decision_function(self, X):
        return self.response("decision_function", X)

    def convert(self, name, outputs):
        """The response as the estimator's own method returns it, from the adapter's ``(n, k)`` outputs."""
        if name == "predict" and self.classes is not None:
            return np.asarray(self.classes)[outputs[:, 0].astype(np.intp)]
        if name != "predict_proba" and outputs.shape[1] == 1:
            return outputs[:, 0]
        return outputs

    def response(self, name, rows):
        """The response ``name`` on ``rows`` (a ScoredRows), computed now if it was not in advance."""
        if not isinstance(rows, ScoredRows):
            raise TypeError("a scorer in permutation_importance must pass X on to the estimator unchanged")
        self.used.add(name)
        if name not in rows.responses:
            rows.responses[name] = self.convert(name, self.models[name](rows.build()))
        return rows.responses[name]


def resolve_scorer(scoring, classifier):
    """``(scorer, name)`` for None (accuracy for classifiers, R2 otherwise), a scorer name or a callable."""
    from sklearn.metrics import get_scorer

    if scoring is None:
        scoring = "accuracy" if classifier else "r2"
    if isinstance(scoring, str):
        try:
            return get_scorer(scoring), scoring
        except ValueError as exc:
            raise ValueError(f"`scoring` {scoring!r} is not a scikit-learn scorer name: {exc}") from None
    if callable(scoring):
        return scoring, getattr(scoring, "__name__", type(scoring).__name__)
    raise TypeError(
        "`scoring` must be None, a scikit-learn scorer name such as 'roc_auc', or a callable "
        f"scorer(estimator, X, y); got {type(scoring).__name__}. For several metrics call permutation_importance "
        "once per metric")


def _columns(values):
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values


def _accuracy(y, predicted, weights):
    if weights is None:  # the share of matches, as np.average of the booleans gives it (an exact count over n)
        return np.count_nonzero(y == predicted) / len(y)
    return float(np.average(y == predicted, weights=weights))


def _r2(y, predicted, weights):
    """R2 as ``sklearn.metrics.r2_score`` (``force_finite=True``, uniform average over outputs)."""
    y, predicted = _columns(y), _columns(predicted)
    weight = 1.0 if weights is None else weights[:, None]
    numerator = np.sum(weight * (y - predicted) ** 2, axis=0)
    denominator = np.sum(weight * (y - np.average(y, axis=0, weights=weights)) ** 2, axis=0)
    scores = np.ones(y.shape[1])
    valid = (numerator != 0) & (denominator != 0)
    scores[valid] = 1 - numerator[valid] / denominator[valid]
    scores[(numerator != 0) & (denominator == 0)] = 0.0
    return float(np.mean(scores))


def _neg_mean_squared_error(y, predicted, weights):
    y, predicted = _columns(y), _columns(predicted)
    return -float(np.mean(np.average((y - predicted) ** 2, axis=0, weights=weights)))


def _neg_mean_absolute_error(y, predicted, weights):
    y, predicted = _columns(y), _columns(predicted)
    return -float(np.mean(np.average(np.abs(predicted - y), axis=0, weights=weights)))


_DIRECT = {
    "accuracy": _accuracy,
    "r2": _r2,
    "neg_mean_squared_error": _neg_mean_squared_error,
    "neg_mean_absolute_error": _neg_mean_absolute_error,
}


def direct_metric(scoring_name, targets):
    """``metric(y, predictions, weights)`` for a scorer name computed directly from ``predict``, or None."""
    if not isinstance(scoring_name, str) or scoring_name not in _DIRECT:
        return None
    if scoring_name == "accuracy" and targets.ndim != 1:
        return None  # multilabel accuracy: left to scikit-learn
    return _DIRECT[scoring_name]

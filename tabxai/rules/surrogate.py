"""Surrogates: a glass-box learner fitted to a black box's predictions, with its fidelity."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from .._provenance import package_versions
from .._validation import check_real, resolve_seed
from .._engine import predict
from ..data import TabularSchema, align_targets
from ..model import as_model
from .rule_list import RuleListClassifier

__all__ = ["Surrogate", "fit_surrogate"]


@dataclass(frozen=True)
class Surrogate:
    """A learner fitted to a model's predictions, and how faithfully and accurately it predicts.

    All rates are shares of rows; the held-out rows were seen by neither learner.

    Attributes
    ----------
    learner : estimator
        The fitted surrogate (``print(result.learner)`` shows its rules).
    fidelity : float
        Share of held-out rows on which the surrogate predicts what the model predicts.
    train_fidelity : float
        The same share on the rows the surrogate was fitted on.
    accuracy : float or None
        The surrogate's accuracy against the true labels on the held-out rows (None without ``y``).
    model_accuracy : float or None
        The model's accuracy on the held-out rows.
    majority_accuracy : float or None
        Held-out accuracy of always predicting the most frequent true label of the training rows: the
        floor every accuracy here should beat.
    baseline_accuracy : float or None
        Held-out accuracy of the same learner fitted on the true labels of the training rows: what
        readable rules reach without the model.
    n_train, n_test : int
        Rows the surrogate was fitted on, and held-out rows.
    params : dict
        Method, learner, ``test_size``, the integer seed used and package versions.
    """

    learner: object
    fidelity: float
    train_fidelity: float
    accuracy: float | None
    model_accuracy: float | None
    baseline_accuracy: float | None
    majority_accuracy: float | None
    n_train: int
    n_test: int
    params: dict = field(repr=False)

    def __str__(self):
        name = type(self.learner).__name__
        lines = [f"{name} surrogate: fidelity {self.fidelity:.3f} on {self.n_test} held-out rows "
                 f"({self.train_fidelity:.3f} on {self.n_train} training rows)"]
        if self.accuracy is not None:
            lines.append(f"held-out accuracy: model {self.model_accuracy:.3f}, surrogate {self.accuracy:.3f}, "
                         f"{name} fitted on y {self.baseline_accuracy:.3f}, majority class "
                         f"{self.majority_accuracy:.3f}")
        lines.append(str(self.learner))
        return "\n".join(lines)


def _take(data, rows):
    return data.iloc[rows] if hasattr(data, "iloc") else data[rows]


def _model_labels(model, X):
    """The model's own decisions on ``X`` (:meth:`tabxai.Model.decisions`: an estimator's ``predict``, a
    callable's ``decision`` or largest output), asked through the model adapter and the engine.

    A callable that returns one number per row gives its labels directly; one that returns a matrix of
    class scores without ``classes`` gives the position of its decision.
    """
    adapter = as_model(model)
    schema = TabularSchema.from_data(X, feature_names=None if isinstance(X, pd.DataFrame)
                                     else adapter.feature_names_in, what="X")
    codes = schema.encode(X, what="X")
    bound = adapter.bind(schema, sample=codes)
    if bound.classes is None:
        return predict(bound, codes)[:, 0]
    positions = predict(bound.decisions(), codes)[:, 0].astype(np.intp)
    if bound.owner is None and bound._classes is None:
        return positions
    return np.asarray(bound.classes)[positions]


def fit_surrogate(model, X, learner=None, *, y=None, test_size=0.25, random_state=None):
    """Fit ``learner`` to mimic ``model`` on ``X`` and measure its fidelity on held-out rows.

    The rows of ``X`` are split (stratified by the model's predictions when every class has two
    rows); the learner is fitted on the model's predictions for the training rows. Fidelity is the
    share of held-out rows where the two agree. With ``y``, the result also holds the held-out
    accuracy of the model, of the surrogate and of the same learner fitted on ``y`` directly.

    Parameters
    ----------
    model : fitted estimator, Pipeline or callable
        The black box. An estimator's ``predict`` gives its classes; a callable must return numeric
        class labels, or a probability matrix (n_rows, n_classes) whose argmax is the class. It is
        asked through the model adapter, in calls of at most 32,768 rows, with its answers checked.
    X : DataFrame or array of shape (n_rows, n_columns)
        Rows in the model's own input format; the learner sees the same columns.
    learner : classifier, default=None
        A scikit-learn classifier, cloned before fitting; None means ``RuleListClassifier()``.
    y : array-like of shape (n_rows,), default=None
        True labels, for the accuracies.
    test_size : float, default=0.25
        Share of rows held out, in (0, 1).
    random_state : int, numpy Generator or None, default=None
        Seed of the split.

    Returns
    -------
    Surrogate

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> X, y = make_classification(n_samples=600, n_features=5, random_state=0)
    >>> forest = RandomForestClassifier(random_state=0).fit(X, y)
    >>> result = fit_surrogate(forest, X, y=y, random_state=0)
    >>> result.fidelity > 0.8
    True
    """
    as_model(model)  # a clear error for what is not a model, before anything else
    learner = RuleListClassifier() if learner is None else learner
    if not (hasattr(learner, "fit") and hasattr(learner, "predict")):
        raise TypeError(f"`learner` must be a classifier with fit and predict; got {type(learner).__name__}")
    test_size = check_real(test_size, "test_size", min_value=0, min_inclusive=False, max_value=1)
    if test_size >= 1:
        raise ValueError(f"`test_size` must be a float in (0, 1); got {test_size}")
    seed = resolve_seed(random_state)
    if not isinstance(X, pd.DataFrame):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (rows x columns); got an array of shape {X.shape}")
    if y is not None:
        y = align_targets(X, y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} values; they must match")
    labels = _model_labels(model, X)
    _, class_counts = np.unique(labels, return_counts=True)
    stratify = labels if len(class_counts) > 1 and class_counts.min() >= 2 else None
    train, test = train_test_split(np.arange(len(X)), test_size=test_size, random_state=seed % 2**32,
                                   stratify=stratify)
    if len(np.unique(labels[train])) < 2:
        raise ValueError(
            f"the model predicts one class only ({labels[train][0]!r}) on the training rows; "
            "a surrogate needs at least two"
        )
    fitted = clone(learner).fit(_take(X, train), labels[train])
    held_out = fitted.predict(_take(X, test))
    fidelity = float(np.mean(held_out == labels[test]))
    train_fidelity = float(np.mean(fitted.predict(_take(X, train)) == labels[train]))
    accuracy = model_accuracy = baseline_accuracy = majority_accuracy = None
    if y is not None:
        majority = pd.Series(y[train]).value_counts(sort=True).index[0]
        majority_accuracy = float(np.mean(y[test] == majority))
        accuracy = float(np.mean(held_out == y[test]))
        model_accuracy = float(np.mean(labels[test] == y[test]))
        baseline = clone(learner).fit(_take(X, train), y[train])
        baseline_accuracy = float(np.mean(baseline.predict(_take(X, test)) == y[test]))
    params = {"method": "fit_surrogate", "learner": repr(learner), "test_size": test_size,
              "random_state": seed, "versions": package_versions()}
    return Surrogate(fitted, fidelity, train_fidelity, accuracy, model_accuracy, baseline_accuracy,
                     majority_accuracy, len(train), len(test), params)

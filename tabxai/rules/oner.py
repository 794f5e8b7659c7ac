"""OneR: Holte's 1R, the best rule set on a single column."""

from __future__ import annotations

import numpy as np

from .._kernels.rules import oner_numeric_buckets
from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import Condition, Rule, RuleListBase, as_python, nice_threshold

__all__ = ["OneR"]


class OneR(RuleListBase):
    """Holte's 1R (1993): one rule per value of the single most predictive column.

    For every column, each value predicts its majority class: categorical values (and missing
    values) are values of their own; numeric columns are cut into intervals first. The column whose
    rules make the fewest training errors is kept. Works for any number of classes, on DataFrames
    with categorical, numeric and missing values, or on arrays.

    Numeric intervals follow Holte's rule as Weka implements it. Rows are sorted by value; rows
    with equal values always share an interval. Walking up the values, an interval absorbs the next
    value while it holds fewer than ``min_bucket_size`` rows of its majority class, or while the next
    value's majority class is its own (so every interval but the last holds at least
    ``min_bucket_size`` rows of its majority class). Adjacent intervals with the same majority class
    are then merged. A threshold is the shortest decimal between the two values it separates.

    Ties are broken deterministically: within a value, the majority class is the first of
    ``classes_`` among the most frequent; among columns, the fewest training errors wins, then the
    fewest rules (values, intervals and the missing-value rule), then the first column. Columns that
    are entirely missing are skipped.

    Parameters
    ----------
    min_bucket_size : int, default=6
        Rows of its majority class every interval of a numeric column must hold, except the last
        (Holte's SMALL).

    Attributes
    ----------
    rules_ : list of Rule
        The rules in order; the last one has no conditions and holds the training class
        frequencies. It classifies values with no rule of their own: categories not seen in
        training, and missing values when the training data had none.
    feature_ : column name
        The chosen column.
    n_errors_ : int
        Training rows the chosen rules misclassify.
    feature_errors_ : dict
        Training errors of the rules of every column (entirely missing columns are left out).
    classes_ : ndarray
        The class labels, sorted.
    target_name_ : str
        The name of ``y`` (its Series name, else ``"class"``), used when printing.
    schema_ : TabularSchema
        Columns, kinds and categories seen in fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X was a DataFrame with string column names.

    Notes
    -----
    ``predict_proba`` returns the training class frequencies of the rule a row falls in.
    ``print(model)`` shows the rules with the user's column names and category labels.

    References
    ----------
    R. C. Holte, "Very simple classification rules perform well on most commonly used datasets",
    Machine Learning 11, 63-91 (1993).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"size": ["small", "big", "big", "medium", "small", "medium"],
    ...                   "pets": ["yes", "no", "yes", "no", "no", "yes"]})
    >>> y = pd.Series(["low", "high", "high", "medium", "low", "medium"], name="price")
    >>> model = OneR().fit(X, y)
    >>> model.feature_, model.n_errors_
    ('size', 0)
    >>> print(model)
    IF size = big THEN price = high
    ELSE IF size = medium THEN price = medium
    ELSE IF size = small THEN price = low
    ELSE price = high
    """

    _parameter_constraints = {"min_bucket_size": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, min_bucket_size=6):
        self.min_bucket_size = min_bucket_size

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # one column cannot separate data that needs two
        return tags

    def _learn(self, schema, codes, y_codes, n_classes):
        n_rows = codes.shape[0]
        best = None
        feature_errors = {}
        for j, column in enumerate(schema.columns):
            values = codes[:, j]
            missing = np.isnan(values)
            if missing.all():
                continue
            buckets = _column_rules(values, missing, y_codes, n_classes, column.is_categorical, self.min_bucket_size)
            errors = n_rows - sum(int(counts.max()) for _, counts in buckets)
            feature_errors[column.name] = errors
            key = (errors, len(buckets), j)
            if best is None or key < best[0]:
                best = (key, j, buckets)
        (errors, _, _), j, buckets = best
        self.feature_ = schema.names[j]
        self.n_errors_ = errors
        self.feature_errors_ = feature_errors
        total = np.bincount(y_codes, minlength=n_classes)
        rules = [self._rule(schema.columns[j], description, counts) for description, counts in buckets]
        if rules[-1].conditions:
            rules.append(self._rule(schema.columns[j], None, total))
        return rules

    def _rule(self, column, description, counts):
        if description is None:
            conditions = ()
        elif description[0] == "=":
            conditions = (Condition(column.name, "=", as_python(column.labels[description[1]])),)
        elif description[0] == "is missing":
            conditions = (Condition(column.name, "is missing"),)
        else:
            low, high = description[1], description[2]
            conditions = tuple(
                [Condition(column.name, ">", low)] * (low is not None)
                + [Condition(column.name, "<=", high)] * (high is not None)
            )
        counts = np.asarray(counts, dtype=np.int64)
        probabilities = counts / counts.sum()
        return Rule(conditions, as_python(self.classes_[int(np.argmax(counts))]), tuple(int(c) for c in counts),
                    tuple(float(p) for p in probabilities))


def _column_rules(values, missing, y_codes, n_classes, categorical, min_bucket_size):
    """The 1R rules of one column: a list of (description, class counts), missing values first.

    A description is ``("is missing",)``, ``("=", code)`` or ``("interval", low, high)`` with None
    for an open end; a numeric column with a single interval gets ``None`` (no condition).
    """
    rules = []
    if missing.any():
        rules.append((("is missing",), np.bincount(y_codes[missing], minlength=n_classes)))
    present = ~missing
    if categorical:
        codes = values[present].astype(np.int64)
        counts = np.zeros((int(codes.max()) + 1, n_classes), dtype=np.int64)
        np.add.at(counts, (codes, y_codes[present]), 1)
        rules.extend((("=", code), counts[code]) for code in np.flatnonzero(counts.sum(axis=1)))
        return rules
    order = np.argsort(values[present], kind="stable")
    sorted_values = np.ascontiguousarray(values[present][order])
    last, counts = oner_numeric_buckets(sorted_values, np.ascontiguousarray(y_codes[present][order]),
                                        n_classes, min_bucket_size)
    if len(last) == 1:
        rules.append((None, counts[0]))
        return rules
    thresholds = [nice_threshold(sorted_values[i], sorted_values[i + 1]) for i in last[:-1]]
    bounds = [None] + thresholds + [None]
    rules.extend((("interval", bounds[b], bounds[b + 1]), counts[b]) for b in range(len(last)))
    return rules

"""What the rule learners share: rules as data, input checks, and the ordered-list classifier.

A fitted learner is an ordered list of :class:`Rule` objects whose last rule has no conditions (the
default). A row gets the prediction and probabilities of the first rule whose conditions all hold,
which is exactly how the list reads when printed: ``IF ... THEN ... ELSE IF ... ELSE ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from .. import _display, _html
from ..data import NUMERIC, TabularSchema

__all__ = ["Condition", "Rule"]


@dataclass(frozen=True)
class Condition:
    """One test on one column: ``feature = value``, ``feature <= value``, ``feature > value`` or
    ``feature is missing``.

    ``value`` is a category label for ``=``, a finite float threshold for ``<=`` and ``>``, and None
    for ``is missing``. A missing value satisfies only ``is missing``; a category not seen in
    training satisfies no ``=`` condition.
    """

    feature: Hashable
    operator: str
    value: Any = None

    def __str__(self):
        if self.operator == "is missing":
            return f"{self.feature} is missing"
        return f"{self.feature} {self.operator} {format_value(self.value)}"


@dataclass(frozen=True)
class Rule:
    """``IF all conditions THEN prediction``; the rule with no conditions is the default.

    Attributes
    ----------
    conditions : tuple of Condition
        A conjunction; empty for the default rule.
    prediction : label
        The class the rule predicts.
    class_counts : tuple of int
        Training rows per class (in ``classes_`` order) that reach this rule and satisfy it. A
        default rule that no training row reaches holds the counts of all training rows.
    probabilities : tuple of float
        What ``predict_proba`` returns for the rows this rule classifies.
    """

    conditions: tuple
    prediction: Any
    class_counts: tuple
    probabilities: tuple

    @property
    def n_conditions(self):
        return len(self.conditions)

    def text(self, target_name="class"):
        """The rule as ``IF ... THEN target = label`` (``ELSE target = label`` for the default)."""
        then = f"{target_name} = {format_value(self.prediction)}"
        if not self.conditions:
            return f"ELSE {then}"
        return "IF " + " AND ".join(str(c) for c in self.conditions) + f" THEN {then}"


def format_value(value):
    """Print a category label or threshold so that reading it back gives the same value."""
    if isinstance(value, (float, np.floating)):
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def as_python(value):
    """A NumPy scalar as the matching Python object (labels in rules read as plain data)."""
    return value.item() if isinstance(value, np.generic) else value


def format_rules(rules, target_name):
    """``IF ... THEN ...`` / ``ELSE IF ...`` lines of an ordered rule list."""
    lines = []
    for position, rule in enumerate(rules):
        text = rule.text(target_name)
        lines.append(text if position == 0 or not rule.conditions else "ELSE " + text)
    return "\n".join(lines)


def nice_threshold(low, high):
    """A threshold ``t`` with ``low <= t < high``, the shortest decimal near the midpoint.

    The midpoint ``low/2 + high/2`` cannot overflow; it is rounded to the fewest significant digits
    that keep it strictly between ``low`` and ``high`` so that printed rules stay short and exact.
    When no such number exists (adjacent floats) the threshold is ``low``.
    """
    middle = 0.5 * low + 0.5 * high
    for digits in range(1, 18):
        candidate = float(f"{middle:.{digits}g}")
        if low < candidate < high:
            return candidate
    return float(low)


# input checks ------------------------------------------------------------------------------
def _fit_frame(estimator, X, names):
    """``X`` as a DataFrame; arrays and lists are checked like scikit-learn does and named ``names``."""
    name = type(estimator).__name__
    if sparse.issparse(X):
        raise TypeError(f"{name} does not accept sparse input; pass a dense array or a DataFrame (X.toarray())")
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must have at least 1 row and 1 column; got a DataFrame of shape {X.shape}")
        return X, X
    array = check_array(X, dtype=None, ensure_all_finite=False, estimator=estimator, input_name="X")
    if names is None or len(names) != array.shape[1]:  # a wrong width is reported by validate_data
        names = [f"x{j}" for j in range(array.shape[1])]
    if array.dtype.kind == "O":
        try:
            return pd.DataFrame(array.astype(np.float64), columns=list(names)), array
        except ValueError:  # strings: numeric columns stay numeric, the others become categorical
            return pd.DataFrame(array, columns=list(names)).infer_objects(), array
    return pd.DataFrame(array, columns=list(names), copy=False), array


def check_fit_input(estimator, X, y):
    """Validate ``X, y`` for fit; return ``(schema, codes, y_codes, classes, target_name)``.

    Sets ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame with string column names).
    """
    name = type(estimator).__name__
    frame, checked = _fit_frame(estimator, X, None)
    validate_data(estimator, checked, reset=True, skip_check_array=True)
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None")
    target_name = y.name if isinstance(y, pd.Series) and y.name is not None else "class"
    y = column_or_1d(y, warn=True)
    if len(y) != len(frame):
        raise ValueError(f"X has {len(frame)} rows but y has {len(y)} values; they must match")
    if pd.isna(y).any():
        raise ValueError(f"y contains {int(pd.isna(y).sum())} missing values (NaN or None); drop those rows first")
    check_classification_targets(y)
    classes, y_codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y has one class only ({classes[0]!r}); {name} needs at least 2 classes")
    schema = TabularSchema.from_data(frame, what="X")
    codes = schema.encode(frame, what="X")
    numeric = [j for j, c in enumerate(schema.columns) if c.kind == NUMERIC]
    for j in numeric:
        if np.isinf(codes[:, j]).any():
            raise ValueError(
                f"column {schema.names[j]!r} of X holds infinite values; rule thresholds must be finite. "
                "Replace them with NaN (treated as missing) or with a finite number"
            )
    if np.isnan(codes).all(axis=0).all():
        raise ValueError(f"every column of X is entirely missing; {name} has nothing to learn from")
    return schema, codes, y_codes.astype(np.int64), classes, target_name


class RuleListBase(ClassifierMixin, BaseEstimator):
    """An ordered rule list as a scikit-learn classifier; subclasses learn ``rules_`` in ``_learn``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags

    def _check_params(self):
        """Checks beyond what ``_parameter_constraints`` can say (subclasses)."""

    def fit(self, X, y):
        """Learn the rules from ``X`` (DataFrame or array; categorical, numeric, missing) and ``y``.

        Returns
        -------
        self
        """
        self._validate_params()  # scikit-learn's check of _parameter_constraints
        self._check_params()
        schema, codes, y_codes, classes, target_name = check_fit_input(self, X, y)
        self.classes_ = classes
        self.target_name_ = target_name
        self.schema_ = schema
        self.rules_ = self._learn(schema, codes, y_codes, len(classes))
        self._compiled = _compile(self.rules_, schema)
        return self

    def _codes(self, X):
        check_is_fitted(self)
        schema = self.schema_
        frame, checked = _fit_frame(self, X, schema.names)
        validate_data(self, checked, reset=False, skip_check_array=True)
        if not hasattr(self, "feature_names_in_"):  # fitted without names: match columns by position
            frame = frame.set_axis(list(schema.names), axis=1)
        return schema.extended(frame, what="X").encode(frame, what="X")

    def predict_proba(self, X):
        """Class probabilities (n_rows, n_classes) of the first rule each row satisfies.

        Returns
        -------
        ndarray of shape (n_rows, n_classes)
        """
        positions = self._first_rules(self._codes(X))
        table = np.array([rule.probabilities for rule in self.rules_], dtype=np.float64)
        return table[positions]

    def predict(self, X):
        """The class of the first rule each row satisfies.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        positions = self._first_rules(self._codes(X))
        predictions = np.array([rule.prediction for rule in self.rules_], dtype=self.classes_.dtype)
        return predictions[positions]

    def apply(self, X):
        """Index in ``rules_`` of the rule that classifies each row.

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        return self._first_rules(self._codes(X))

    def _first_rules(self, codes):
        positions = np.full(codes.shape[0], len(self.rules_) - 1, dtype=np.intp)
        open_rows = np.ones(codes.shape[0], dtype=bool)
        for position, conditions in enumerate(self._compiled[:-1]):
            holds = open_rows.copy()
            for column, operator, value in conditions:
                holds &= _holds(codes[:, column], operator, value)
            positions[holds] = position
            open_rows &= ~holds
        return positions

    def __str__(self):
        if not hasattr(self, "rules_"):
            return repr(self)
        return format_rules(self.rules_, self.target_name_)

    def _repr_html_(self):
        """The rules as a table for notebooks (at most 30), with the training rows each one classifies."""
        name = _html.escape(type(self).__name__)
        if not hasattr(self, "rules_"):
            return _html.render(f"{name} (not fitted)", _html.note(repr(self)))
        rules = self.rules_
        support = np.array([sum(rule.class_counts) for rule in rules], dtype=np.float64)
        scale = float(support.max()) or 1.0
        rows = []
        for position, rule in enumerate(rules[:30]):
            text = rule.text(self.target_name_)
            probability = max(rule.probabilities) if rule.probabilities else float("nan")
            rows.append([str(position + 1), _html.escape(text), _html.escape(f"{probability:.2f}"),
                         _html.escape(f"{int(support[position])}"), _html.bar(support[position], scale, signed=False)])
        classes = _display.names_list(list(self.classes_))
        title = (f"{name}: {len(rules)} rule{'s' * (len(rules) != 1)}, target {_html.escape(self.target_name_)} "
                 f"(classes {_html.escape(classes)})")
        parts = [_html.table(["#", "rule", "P(predicted class)", "training rows", ""], rows, numeric=(0, 2, 3))]
        if len(rules) > 30:
            parts.append(_html.note(f"{len(rules) - 30} more rules not shown"))
        return _html.render(title, *parts)

    def _repr_mimebundle_(self, **kwargs):
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def _holds(values, operator, value):
    if operator == "is missing":
        return np.isnan(values)
    if operator == "<=":
        return values <= value
    if operator == ">":
        return values > value
    return values == value


def _compile(rules, schema):
    """Conditions as (column position, operator, code or threshold) tuples, one list per rule."""
    compiled = []
    for rule in rules:
        items = []
        for condition in rule.conditions:
            j = schema.position(condition.feature)
            value = condition.value
            if condition.operator == "=":
                value = float(schema.columns[j].labels.index(value))
            items.append((j, condition.operator, value))
        compiled.append(items)
    return compiled

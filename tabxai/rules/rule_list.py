"""RuleListClassifier: an ordered decision list learned by beam-search sequential covering."""

from __future__ import annotations

import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, RealNotInt

from .._kernels.rules import EQUAL, GREATER, LESS_EQUAL
from .._validation import check_real
from ._base import Condition, Rule, RuleListBase, as_python
from ._search import Candidates, ListEvaluator, grow, objective, prune

__all__ = ["RuleListClassifier"]


class RuleListClassifier(RuleListBase):
    """An ordered decision list: ``IF ... THEN ... ELSE IF ... THEN ... ELSE default``.

    Conditions are conjunctions of ``feature = category``, ``feature <= t``, ``feature > t`` and
    ``feature is missing`` on the user's own columns (DataFrames with categorical, numeric and
    missing values, or arrays); any number of classes.

    The list is learned by sequential covering (CN2, ordered mode): a beam search finds the
    conjunction of at most ``max_conditions`` conditions, covering at least ``min_support`` of the
    rows no earlier rule covers, whose majority class has the highest m-estimate
    ``(n_class + m * prior_class) / (n + m)``, with the class frequencies of those rows as prior and
    ``m = prior_weight * (number of those rows)``. Its rows are removed and the search repeats, up to
    ``max_rules`` rules, while the rule's class is more frequent among its rows than among the
    remaining ones. Candidate counts for every threshold and category are computed in Numba from
    per-column class histograms.

    The list is then pruned against the objective ``training error rate + complexity_penalty *
    n_conditions``: the condition or rule whose deletion lowers it most is deleted, until no
    deletion does. When ``prior_weight`` holds several values, a list is learned and pruned for
    each and the one with the lowest objective is kept (the first of ties). Each rule finally
    predicts the majority class of the training rows it classifies, and the default rule the
    majority of the rows no rule covers (of all rows when every row is covered). The search is
    deterministic: it does not depend on the order of the rows.

    Parameters
    ----------
    max_rules : int, default=10
        Most rules before the default rule.
    max_conditions : int, default=3
        Most conditions in one rule.
    min_support : int or float, default=0.01
        Fewest training rows a rule must cover among the rows that reach it: a count (int >= 1) or a
        fraction of the training rows (float in (0, 1)).
    beam_width : int, default=5
        Conjunctions kept at each step of the beam search.
    prior_weight : float or tuple of float, default=(0.1, 0.25, 0.5, 1.0)
        The ``m`` of the m-estimate as a multiple of the rows the rule is searched on: 0 ranks rules
        by precision alone, larger values favour rules that cover more rows. Several values: one
        search each, the best list by the pruning objective is kept.
    complexity_penalty : float, default=0.01
        Training error rate a condition must remove to be kept by pruning (0 keeps every rule the
        search found).

    Attributes
    ----------
    rules_ : list of Rule
        The rules in order; the last one has no conditions (the default). Each holds the class counts
        of the training rows it classifies and its Laplace-smoothed probabilities
        ``(n_class + 1) / (n + n_classes)``.
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
    A missing value satisfies only ``is missing`` conditions, a category not seen in training no
    ``=`` condition: such rows fall through to later rules and the default. Infinite values are
    rejected in fit (thresholds must be finite); at predict time they compare as numbers.

    References
    ----------
    P. Clark and R. Boswell, "Rule induction with CN2: some recent improvements", EWSL 1991.
    S. Dzeroski, B. Cestnik and I. Petrovski, "Using the m-estimate in rule induction",
    Journal of Computing and Information Technology 1, 37-46 (1993).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [22, 25, 31, 45, 52, 61, 38, 29],
    ...                   "job": ["a", "b", "a", "b", "b", "a", "b", "a"]})
    >>> y = ["no", "no", "no", "yes", "yes", "yes", "yes", "no"]
    >>> model = RuleListClassifier(min_support=2).fit(X, y)
    >>> print(model)
    IF age <= 34 THEN class = no
    ELSE class = yes
    >>> model.predict(X.head(3)).tolist()
    ['no', 'no', 'no']
    """

    _parameter_constraints = {
        "max_rules": [Interval(Integral, 0, None, closed="left")],
        "max_conditions": [Interval(Integral, 1, None, closed="left")],
        "min_support": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, 1, closed="neither")],
        "beam_width": [Interval(Integral, 1, None, closed="left")],
        "prior_weight": [Interval(Real, 0, None, closed="left"), "array-like"],
        "complexity_penalty": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, max_rules=10, max_conditions=3, min_support=0.01, beam_width=5,
                 prior_weight=(0.1, 0.25, 0.5, 1.0), complexity_penalty=0.01):
        self.max_rules = max_rules
        self.max_conditions = max_conditions
        self.min_support = min_support
        self.beam_width = beam_width
        self.prior_weight = prior_weight
        self.complexity_penalty = complexity_penalty

    def _check_params(self):
        _prior_weights(self.prior_weight)  # each weight of a sequence >= 0

    def _learn(self, schema, codes, y_codes, n_classes):
        n_rows = codes.shape[0]
        if isinstance(self.min_support, numbers.Integral):
            min_support = int(self.min_support)
        else:
            min_support = max(1, int(np.ceil(self.min_support * n_rows)))
        candidates = Candidates(schema, codes)
        penalty = float(self.complexity_penalty)
        best_value, found = None, []
        for prior_weight in _prior_weights(self.prior_weight):
            rules = grow(candidates, y_codes, n_classes, max_rules=self.max_rules, max_conditions=self.max_conditions,
                         beam_width=self.beam_width, min_support=min_support, prior_weight=prior_weight)
            rules = prune(candidates, y_codes, rules, n_classes, penalty)
            counts = ListEvaluator(candidates, y_codes, rules, n_classes).counts(rules)
            value = objective(counts, sum(len(r) for r in rules), penalty)
            if best_value is None or value < best_value - 1e-12:
                best_value, found = value, rules
        counts = ListEvaluator(candidates, y_codes, found, n_classes).counts(found)
        if counts[-1].sum() == 0:  # every row is covered: the default falls back on all rows
            counts[-1] = np.bincount(y_codes, minlength=n_classes)
        return [self._rule(schema, candidates, conditions, row) for conditions, row in zip(found + [()], counts)]

    def _rule(self, schema, candidates, conditions, counts):
        readable = tuple(_condition(schema, candidates, candidate) for candidate in conditions)
        probabilities = (counts + 1.0) / (counts.sum() + len(counts))
        return Rule(readable, as_python(self.classes_[int(np.argmax(counts))]), tuple(int(c) for c in counts),
                    tuple(float(p) for p in probabilities))


def _condition(schema, candidates, candidate):
    """The readable :class:`Condition` of a candidate, with the column's name and category label."""
    j, kind = candidates.column[candidate], candidates.kind[candidate]
    name = schema.names[j]
    if kind == EQUAL:
        return Condition(name, "=", as_python(schema.columns[j].labels[candidates.index[candidate]]))
    if kind in (LESS_EQUAL, GREATER):
        return Condition(name, "<=" if kind == LESS_EQUAL else ">", candidates.threshold(candidate))
    return Condition(name, "is missing")


def _prior_weights(value):
    """``prior_weight`` as a tuple of floats >= 0 (one number, or a non-empty sequence of them)."""
    values = tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else (value,)
    expected = "`prior_weight` must be a finite number >= 0 or a non-empty sequence of them"
    if not values:
        raise ValueError(f"{expected}; got an empty sequence")
    try:
        return tuple(check_real(v, "prior_weight", min_value=0) for v in values)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{expected}; got {value!r}") from None

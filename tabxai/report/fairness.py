"""Outcome rates by group: fairlearn's MetricFrame, the four-fifths rule, bootstrap intervals.

Point estimates come from fairlearn's ``MetricFrame`` (the field's standard, so that numbers agree
with what auditors already compute); the bootstrap resamples rows with NumPy counts, which is what
makes hundreds of resamples affordable.
"""

from __future__ import annotations

import warnings
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from .._display import is_missing, number_text, plain
from .._validation import check_int, check_real, row_generator

__all__ = ["group_fairness", "numeric_bands"]

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision")


def numeric_bands(values, n_bands=4):
    """Bands of a numeric attribute at quantile cut points, labelled truly for every member.

    Cut points are the attribute's quantiles moved to the shortest decimal that splits the data
    at the same place (so at the data's own precision: whole years for ages), never leaving a band
    empty: ties and values piled at one end give fewer bands. Whole-number data is labelled with
    its first and last value (``"19-25"``, ``"75"``), other data with half-open intervals
    (``"[0.12, 0.35)"``, the last closed: ``"[0.8, 0.95]"``). Missing values stay missing.
    Used for numeric sensitive attributes such as age.

    Parameters
    ----------
    values : array-like of numbers
    n_bands : int, default=4
        Most bands (quartiles by default).

    Returns
    -------
    Series
        Categorical, bands ordered from low to high, with the index and name of ``values``.

    Examples
    --------
    >>> numeric_bands([19, 22, 25, 30, 33, 41, 52, 67]).cat.categories.tolist()
    ['19-24', '25-32', '33-51', '52-67']
    >>> numeric_bands([0.12, 0.2, 0.35, 0.4, 0.5, 0.95], n_bands=2).tolist()
    ['[0.12, 0.4)', '[0.12, 0.4)', '[0.12, 0.4)', '[0.4, 0.95]', '[0.4, 0.95]', '[0.4, 0.95]']
    >>> numeric_bands([20, 30, 40, 75, 75, 75, 75, 75]).value_counts(sort=False).to_dict()
    {'20-39': 2, '40-74': 1, '75': 5}
    """
    n_bands = check_int(n_bands, "n_bands", min_value=1)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    if not np.all(np.isfinite(numbers.dropna())):
        raise ValueError("numeric_bands needs finite numbers; got infinite values")
    present = np.unique(numbers.dropna().to_numpy())
    if present.size == 0:
        return pd.Series(pd.Categorical([None] * len(numbers)), index=series.index, name=series.name)
    # a cut at the first distinct value at or above each quantile: [cut_b, cut_b+1) holds cut_b, never empty
    quantiles = np.quantile(numbers.dropna().to_numpy(), np.linspace(0, 1, n_bands + 1)[1:-1])
    at = np.unique(np.searchsorted(present, quantiles, side="left"))
    at = at[(at > 0) & (at < present.size)]
    cuts = np.array([_shortest_between(present[j - 1], present[j]) for j in at])
    whole = bool(np.all(present == np.round(present)))
    lows = np.concatenate([[present[0]], cuts])
    highs = np.concatenate([cuts - 1 if whole else cuts, [present[-1]]])  # whole numbers: the band's last one
    labels = [_band_label(low, high, whole, last=b == len(lows) - 1) for b, (low, high) in enumerate(zip(lows, highs))]
    codes = np.searchsorted(cuts, numbers.to_numpy(), side="right")
    result = pd.Categorical.from_codes(np.where(numbers.isna(), -1, codes), categories=labels, ordered=True)
    return pd.Series(result, index=series.index, name=series.name)


def _shortest_between(low, high):
    """The number with the fewest decimals in ``(low, high]``: a cut point that splits the data there."""
    exact = Decimal(number_text(high))
    for decimals in range(0, 18):
        cut = float(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_FLOOR))
        if low < cut <= high:
            return cut
    return float(high)


def _band_label(low, high, whole, last):
    if whole:
        if low == high:
            return number_text(low)
        return f"{number_text(low)}{' to ' if low < 0 or high < 0 else '-'}{number_text(high)}"
    if low == high:
        return number_text(low)
    return f"[{number_text(low)}, {number_text(high)}{']' if last else ')'}"


def _group_rates(positive_pred, positive_true, groups, n_groups, weights=None):
    """Per group: count, selection rate, TPR, FPR, precision (NaN where undefined), from counts."""
    w = np.ones(len(groups)) if weights is None else weights
    count = np.bincount(groups, weights=w, minlength=n_groups)
    selected = np.bincount(groups, weights=w * positive_pred, minlength=n_groups)
    rates = {"count": count}
    with np.errstate(divide="ignore", invalid="ignore"):
        rates["selection_rate"] = selected / count
        if positive_true is not None:
            tp = np.bincount(groups, weights=w * (positive_pred & positive_true), minlength=n_groups)
            fp = np.bincount(groups, weights=w * (positive_pred & ~positive_true), minlength=n_groups)
            actual = np.bincount(groups, weights=w * positive_true, minlength=n_groups)
            rates["true_positive_rate"] = tp / actual
            rates["false_positive_rate"] = fp / (count - actual)
            rates["precision"] = tp / selected
    return rates


def _summary(rates, favorable_is_positive):
    with warnings.catch_warnings():  # a rate undefined in every group (no positives) gives NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return _summary_of(rates, favorable_is_positive)


def _summary_of(rates, favorable_is_positive):
    favorable = rates["selection_rate"] if favorable_is_positive else 1.0 - rates["selection_rate"]
    with np.errstate(divide="ignore", invalid="ignore"):
        impact = favorable / np.nanmax(favorable) if np.any(np.isfinite(favorable)) else favorable
    summary = {"impact_ratio": impact, "favorable_rate": favorable}
    if "true_positive_rate" in rates:
        tpr, fpr = rates["true_positive_rate"], rates["false_positive_rate"]
        summary["equalized_odds_difference"] = float(max(np.nanmax(tpr) - np.nanmin(tpr), np.nanmax(fpr) - np.nanmin(fpr)))
    summary["demographic_parity_difference"] = float(np.nanmax(rates["selection_rate"]) -
                                                     np.nanmin(rates["selection_rate"]))
    return summary


def group_labels(groups, order=None):
    """The distinct non-missing groups: in ``order`` (a categorical's own, e.g. age bands from young to
    old) when given, else sorted (in order of appearance when they cannot be sorted)."""
    labels = list(pd.unique(groups[groups.notna()]))
    if order is not None:
        present = set(labels)
        return [label for label in order if label in present]
    try:
        return sorted(labels)
    except TypeError:
        return labels


def group_fairness(y_pred, sensitive, *, y_true=None, positive, favorable=None, labels=None, n_bootstrap=200,
                   level=0.95, threshold=0.8, random_state=0):
    """Outcome rates of one sensitive attribute's groups, the impact ratio and the four-fifths flag.

    Parameters
    ----------
    y_pred : array-like of shape (n_rows,)
        The model's decisions (class labels).
    sensitive : array-like of shape (n_rows,)
        The group of each row (missing values form no group; their rows are left out). Groups are
        listed in a categorical's order, otherwise sorted.
    y_true : array-like of shape (n_rows,), default=None
        True labels; without them only counts and selection rates are given.
    positive : label
        The positive class of the rates: selection rate is the share of rows decided ``positive``,
        TPR, FPR and precision treat it as the positive label (fairlearn's ``pos_label``).
    favorable : label, default=None
        The favourable decision whose rate the four-fifths rule compares; default ``positive``.
        It is ``positive`` or, for a decision with two labels, the other label (whose rate is one
        minus the selection rate).
    labels : sequence, default=None
        Every label a decision can take (a classifier's ``classes_``); default: the labels seen in
        ``y_pred`` and ``y_true``. ``positive`` and ``favorable`` must be among them (a label that
        is not would silently count no row, and invert the four-fifths comparison).
    n_bootstrap : int, default=200
        Bootstrap resamples of the rows for the intervals (0: none).
    level : float, default=0.95
        Coverage of the percentile intervals.
    threshold : float, default=0.8
        A group is flagged when its impact ratio (favourable rate over the highest group's) is below
        this (the four-fifths rule of the US Uniform Guidelines, 29 CFR 1607.4(D)).
    random_state : int, default=0
        Seed of the bootstrap.

    Returns
    -------
    dict
        ``table`` (DataFrame, one line per group: count, selection_rate, true_positive_rate,
        false_positive_rate, precision, favorable_rate, impact_ratio, four_fifths_flag and
        ``*_low``/``*_high`` interval bounds), ``equalized_odds_difference``,
        ``demographic_parity_difference`` (with their intervals) and the parameters.

    Examples
    --------
    >>> result = group_fairness(["yes", "yes", "no", "yes", "no", "no"], ["a", "a", "a", "b", "b", "b"],
    ...                         positive="yes", n_bootstrap=0)
    >>> result["table"]["impact_ratio"].round(2).tolist(), result["table"]["four_fifths_flag"].tolist()
    ([1.0, 0.5], [False, True])
    """
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import precision_score

    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", min_value=0)
    level = check_real(level, "level", min_value=0.0, max_value=1.0, min_inclusive=False)
    threshold = check_real(threshold, "threshold", min_value=0.0, max_value=1.0)
    y_pred = np.asarray(y_pred, dtype=object)
    favorable = _check_labels(y_pred, y_true, labels, positive, favorable)
    order = list(sensitive.cat.categories) if isinstance(getattr(sensitive, "dtype", None), pd.CategoricalDtype) \
        else None
    sensitive = pd.Series(np.asarray(sensitive, dtype=object) if not isinstance(sensitive, pd.Series)
                          else sensitive.to_numpy(dtype=object))
    if len(sensitive) != len(y_pred) or (y_true is not None and len(y_true) != len(y_pred)):
        raise ValueError(f"y_pred, sensitive and y_true must have one entry per row; got {len(y_pred)}, "
                         f"{len(sensitive)} and {None if y_true is None else len(y_true)}")
    keep = sensitive.notna().to_numpy()
    groups_text = sensitive[keep]
    group_names = group_labels(groups_text, order)
    if not group_names:
        raise ValueError("the sensitive attribute has no non-missing values")
    code_of = {label: j for j, label in enumerate(group_names)}
    codes = _map_distinct(groups_text.to_numpy(dtype=object), lambda g: code_of[g]).astype(np.int64)
    pred_pos = _map_distinct(y_pred[keep], lambda v: _same(v, positive)).astype(bool)
    true_pos = None
    if y_true is not None:
        true_pos = _map_distinct(np.asarray(y_true, dtype=object)[keep], lambda v: _same(v, positive)).astype(bool)

    # point estimates: fairlearn's MetricFrame on 0/1 labels (1 = positive), given each distinct (group, label,
    # decision) once with its number of rows as sample weight: the same rates, in memory bounded by the cells
    actual = true_pos if true_pos is not None else pred_pos
    cell = (codes * 2 + actual) * 2 + pred_pos
    cells, sizes = np.unique(cell, return_counts=True)
    metrics = {"selection_rate": selection_rate}
    if true_pos is not None:
        metrics.update({"true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate,
                        "precision": lambda t, p, sample_weight: precision_score(t, p, sample_weight=sample_weight,
                                                                               zero_division=np.nan)})
    frame = MetricFrame(metrics=metrics, y_true=(cells // 2) % 2, y_pred=cells % 2, sensitive_features=cells // 4,
                        sample_params={name: {"sample_weight": sizes.astype(np.float64)} for name in metrics})
    by_group = frame.by_group.reindex(range(len(group_names)))
    rates = {"count": np.bincount(codes, minlength=len(group_names)).astype(np.float64),
             **{name: by_group[name].to_numpy(dtype=np.float64) for name in metrics}}
    metrics = {"count": count, **metrics}
    summary = _summary(rates, _same(favorable, positive))
    table = pd.DataFrame({name: rates[name] for name in metrics},
                         index=pd.Index(group_names, name="group", dtype=object))
    table["count"] = table["count"].astype(np.int64)
    table["favorable_rate"] = summary["favorable_rate"]
    table["impact_ratio"] = summary["impact_ratio"]
    table["four_fifths_flag"] = table["impact_ratio"] < threshold
    result = {"table": table, "positive": positive, "favorable": favorable, "threshold": threshold,
              "level": level, "n_bootstrap": n_bootstrap, "random_state": random_state,
              "demographic_parity_difference": summary["demographic_parity_difference"]}
    if "equalized_odds_difference" in summary:
        result["equalized_odds_difference"] = summary["equalized_odds_difference"]

    if n_bootstrap:
        generator = row_generator(random_state, 0)
        n = len(codes)
        draws = {name: np.full((n_bootstrap, len(group_names)), np.nan) for name in (*_RATES, "impact_ratio")
                 if name in table.columns}
        overall = {name: np.full(n_bootstrap, np.nan) for name in ("equalized_odds_difference",
                                                                   "demographic_parity_difference")
                   if name in result}
        for b in range(n_bootstrap):
            weights = np.bincount(generator.integers(0, n, size=n), minlength=n).astype(np.float64)
            sample = _group_rates(pred_pos, true_pos, codes, len(group_names), weights)
            present = sample["count"] > 0
            sample = {name: np.where(present, value, np.nan) for name, value in sample.items()}
            sample_summary = _summary(sample, _same(favorable, positive))
            for name in draws:
                draws[name][b] = sample_summary["impact_ratio"] if name == "impact_ratio" else sample[name]
            for name in overall:
                overall[name][b] = sample_summary[name]
        low, high = 50 * (1 - level), 50 * (1 + level)
        with warnings.catch_warnings():  # a group absent from every resample has an all-NaN interval
            warnings.simplefilter("ignore", RuntimeWarning)
            for name, values in draws.items():
                table[f"{name}_low"] = np.nanpercentile(values, low, axis=0)
                table[f"{name}_high"] = np.nanpercentile(values, high, axis=0)
            for name, values in overall.items():
                result[f"{name}_interval"] = (float(np.nanpercentile(values, low)),
                                              float(np.nanpercentile(values, high)))
    return result


def _check_labels(y_pred, y_true, labels, positive, favorable):
    """``favorable`` (default ``positive``) after checking both against the decision's labels."""
    if labels is None:
        seen = list(y_pred) + ([] if y_true is None else list(np.asarray(y_true, dtype=object)))
        labels = [label for label in pd.unique(pd.Series(seen, dtype=object)) if not is_missing(label)]
    else:
        labels = list(np.asarray(labels, dtype=object).ravel())
    try:
        labels = sorted(labels)
    except TypeError:
        pass
    shown = [plain(label) for label in labels]
    for name, label in (("positive", positive), ("favorable", favorable)):
        if (name == "positive" or label is not None) and not any(_same(label, known) for known in labels):
            raise ValueError(f"`{name}` must be one of the decision's labels {shown}; got {label!r}")
    if favorable is None:
        return positive
    if not _same(favorable, positive) and len(labels) > 2:
        raise ValueError(f"`favorable` must equal `positive` ({positive!r}) when the decision has more than two "
                         f"labels {shown}: the rate of another label is not one minus the selection rate; "
                         f"got {favorable!r}")
    return favorable


def _map_distinct(values, function):
    """``function`` of every value of an object array, called once per distinct value (hash-based, so values
    of mixed types are fine): an int64 array."""
    positions, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.asarray([function(v) for v in distinct], dtype=np.int64)[positions]


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False

"""Outcome rates by group: fairlearn's MetricFrame, the four-fifths rule, bootstrap intervals.

Point estimates come from fairlearn's ``MetricFrame`` (the field's standard, so that numbers agree
with what auditors already compute); the bootstrap resamples rows with NumPy counts, which is what
makes hundreds of resamples affordable.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import check_int, check_real, row_generator

__all__ = ["group_fairness", "numeric_bands"]

_RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "precision")


def numeric_bands(values, n_bands=4):
    """Bands of a numeric attribute: quantile cuts rounded to whole numbers, labelled ``"19-26"``.

    Missing values stay missing. Used for numeric sensitive attributes such as age.
    """
    values = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    present = values.dropna()
    if present.empty:
        return pd.Series(pd.Categorical([None] * len(values)), index=values.index, name=values.name)
    edges = np.unique(np.floor(np.quantile(present, np.linspace(0, 1, n_bands + 1)[1:-1])))
    lower = [present.min()] + [e + 1 for e in edges]
    upper = list(edges) + [present.max()]
    labels = [_band_label(lo, hi) for lo, hi in zip(lower, upper)]
    codes = np.searchsorted(edges, values.to_numpy(), side="left")
    result = pd.Categorical.from_codes(np.where(values.isna(), -1, codes), categories=labels)
    return pd.Series(result, index=values.index, name=values.name)


def _band_label(low, high):
    text = lambda v: str(int(v)) if float(v).is_integer() else f"{v:.4g}"
    return text(low) if low == high else f"{text(low)}-{text(high)}"


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


def group_fairness(y_pred, sensitive, *, y_true=None, positive, favorable=None, n_bootstrap=200, level=0.95,
                   threshold=0.8, random_state=0):
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
        For a binary decision the other label's rate is one minus the selection rate.
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
    favorable = positive if favorable is None else favorable
    y_pred = np.asarray(y_pred, dtype=object)
    order = list(sensitive.cat.categories) if isinstance(getattr(sensitive, "dtype", None), pd.CategoricalDtype) \
        else None
    sensitive = pd.Series(np.asarray(sensitive, dtype=object) if not isinstance(sensitive, pd.Series)
                          else sensitive.to_numpy(dtype=object))
    if len(sensitive) != len(y_pred) or (y_true is not None and len(y_true) != len(y_pred)):
        raise ValueError(f"y_pred, sensitive and y_true must have one entry per row; got {len(y_pred)}, "
                         f"{len(sensitive)} and {None if y_true is None else len(y_true)}")
    keep = sensitive.notna().to_numpy()
    groups_text = sensitive[keep]
    labels = group_labels(groups_text, order)
    if not labels:
        raise ValueError("the sensitive attribute has no non-missing values")
    code_of = {label: j for j, label in enumerate(labels)}
    codes = np.array([code_of[g] for g in groups_text], dtype=np.int64)
    pred_pos = np.array([_same(v, positive) for v in y_pred[keep]], dtype=bool)
    true_pos = None
    if y_true is not None:
        true_pos = np.array([_same(v, positive) for v in np.asarray(y_true, dtype=object)[keep]], dtype=bool)

    # point estimates: fairlearn's MetricFrame on 0/1 labels (1 = positive)
    metrics = {"count": count, "selection_rate": selection_rate}
    if true_pos is not None:
        metrics.update({"true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate,
                        "precision": lambda t, p: precision_score(t, p, zero_division=np.nan)})
    frame = MetricFrame(metrics=metrics, y_true=(true_pos if true_pos is not None else pred_pos).astype(int),
                        y_pred=pred_pos.astype(int), sensitive_features=codes)
    by_group = frame.by_group.reindex(range(len(labels)))
    rates = {name: by_group[name].to_numpy(dtype=np.float64) for name in metrics}
    summary = _summary(rates, _same(favorable, positive))
    table = pd.DataFrame({name: rates[name] for name in metrics}, index=pd.Index(labels, name="group", dtype=object))
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
        draws = {name: np.full((n_bootstrap, len(labels)), np.nan) for name in (*_RATES, "impact_ratio")
                 if name in table.columns}
        overall = {name: np.full(n_bootstrap, np.nan) for name in ("equalized_odds_difference",
                                                                   "demographic_parity_difference")
                   if name in result}
        for b in range(n_bootstrap):
            weights = np.bincount(generator.integers(0, n, size=n), minlength=n).astype(np.float64)
            sample = _group_rates(pred_pos, true_pos, codes, len(labels), weights)
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


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False

"""Fairness by group: equal to fairlearn on the same predictions; the four-fifths rule on known answers."""

import re
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_group_rates

from tabxai.report import group_fairness, numeric_bands

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    groups = rng.choice(["women", "men", "non-binary"], size=n, p=[0.45, 0.45, 0.1])
    truth = np.where(rng.random(n) < np.where(groups == "men", 0.4, 0.3), "bad", "good")
    predicted = np.where(rng.random(n) < np.where(truth == "bad", 0.7, 0.2), "bad", "good")
    return predicted, truth, groups


def test_point_estimates_equal_fairlearn_metricframe():
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import precision_score

    predicted, truth, groups = _data()
    result = group_fairness(predicted, groups, y_true=truth, positive="bad", n_bootstrap=0)
    frame = MetricFrame(
        metrics={"selection_rate": lambda t, p: selection_rate(t, p, pos_label="bad"),
                 "true_positive_rate": lambda t, p: true_positive_rate(t, p, pos_label="bad"),
                 "false_positive_rate": lambda t, p: false_positive_rate(t, p, pos_label="bad"),
                 "precision": lambda t, p: precision_score(t, p, pos_label="bad")},
        y_true=truth, y_pred=predicted, sensitive_features=groups)
    table = result["table"]
    expected = frame.by_group.loc[list(table.index)]
    for column in expected.columns:
        np.testing.assert_allclose(table[column].to_numpy(float), expected[column].to_numpy(float), atol=1e-15)
    assert table["count"].tolist() == [int((groups == g).sum()) for g in table.index]
    eod = fairlearn_metrics.equalized_odds_difference(truth == "bad", predicted == "bad", sensitive_features=groups)
    dpd = fairlearn_metrics.demographic_parity_difference(truth == "bad", predicted == "bad",
                                                          sensitive_features=groups)
    assert result["equalized_odds_difference"] == pytest.approx(eod, abs=1e-15)
    assert result["demographic_parity_difference"] == pytest.approx(dpd, abs=1e-15)
    naive = naive_group_rates(predicted == "bad", truth == "bad", groups)
    for group, rates in naive.items():
        np.testing.assert_allclose(table.loc[group, ["count", "selection_rate", "true_positive_rate",
                                                     "false_positive_rate", "precision"]].to_numpy(float), rates)


def test_impact_ratio_and_four_fifths_flag_known_answer():
    # favourable ("approve") rates: a 50/100, b 30/100, c 45/100 -> impact ratios 1, 0.6, 0.9
    groups = np.repeat(["a", "b", "c"], 100)
    decisions = np.concatenate([np.repeat(["approve", "deny"], [50, 50]), np.repeat(["approve", "deny"], [30, 70]),
                                np.repeat(["approve", "deny"], [45, 55])])
    result = group_fairness(decisions, groups, positive="approve", n_bootstrap=0)
    table = result["table"]
    np.testing.assert_allclose(table["impact_ratio"], [1.0, 0.6, 0.9])
    assert table["four_fifths_flag"].tolist() == [False, True, False]
    assert result["demographic_parity_difference"] == pytest.approx(0.2)
    # the positive class is the adverse one ("deny"), the favourable one is "approve": same ratios
    flipped = group_fairness(decisions, groups, positive="deny", favorable="approve", n_bootstrap=0)["table"]
    np.testing.assert_allclose(flipped["selection_rate"], [0.5, 0.7, 0.55])
    np.testing.assert_allclose(flipped["impact_ratio"], [1.0, 0.6, 0.9])
    # exactly four fifths is not flagged; a custom threshold is honoured
    edge = group_fairness(np.repeat(["approve", "deny", "approve", "deny"], [50, 50, 40, 60]),
                          np.repeat(["a", "b"], 100), positive="approve", n_bootstrap=0)["table"]
    assert edge["impact_ratio"].tolist() == pytest.approx([1.0, 0.8]) and not edge["four_fifths_flag"].any()
    strict = group_fairness(decisions, groups, positive="approve", n_bootstrap=0, threshold=0.95)["table"]
    assert strict["four_fifths_flag"].tolist() == [False, True, True]


def test_bootstrap_intervals_are_reproducible_and_cover_the_estimate():
    predicted, truth, groups = _data(seed=1)
    first = group_fairness(predicted, groups, y_true=truth, positive="bad", n_bootstrap=150, random_state=4)
    again = group_fairness(predicted, groups, y_true=truth, positive="bad", n_bootstrap=150, random_state=4)
    pd.testing.assert_frame_equal(first["table"], again["table"])
    table = first["table"]
    for name in ("selection_rate", "true_positive_rate", "false_positive_rate", "precision", "impact_ratio"):
        assert (table[f"{name}_low"] <= table[name] + 1e-12).all() and (table[name] <= table[f"{name}_high"] + 1e-12).all()
    low, high = first["equalized_odds_difference_interval"]
    assert low < first["equalized_odds_difference"] < high
    # the interval of a selection rate is about +- 2 binomial standard errors
    p, n = table.loc["men", "selection_rate"], table.loc["men", "count"]
    width = table.loc["men", "selection_rate_high"] - table.loc["men", "selection_rate_low"]
    assert width == pytest.approx(2 * 1.96 * np.sqrt(p * (1 - p) / n), rel=0.3)


def test_missing_groups_are_left_out_and_labels_can_be_numbers():
    groups = pd.Series(["a", None, "b", "a", "b", np.nan])
    result = group_fairness([1, 1, 0, 0, 1, 1], groups, y_true=[1, 0, 0, 1, 1, 1], positive=1, n_bootstrap=0)
    table = result["table"]
    assert table.index.tolist() == ["a", "b"] and table["count"].tolist() == [2, 2]
    np.testing.assert_allclose(table["selection_rate"], [0.5, 0.5])


def test_numeric_bands():
    ages = pd.Series([19, 22, 25, 30, 33, 41, 52, 67, np.nan], name="age")
    bands = numeric_bands(ages)
    assert bands.name == "age" and bands.isna().tolist()[-1]
    labels = list(bands.cat.categories)
    assert len(labels) == 4 and labels[0].startswith("19-") and labels[-1].endswith("-67")
    assert bands.iloc[0] == labels[0] and bands.iloc[7] == labels[-1]


def test_bad_input():
    with pytest.raises(ValueError, match="one entry per row"):
        group_fairness([1, 0], ["a"], positive=1)
    with pytest.raises(ValueError, match="no non-missing values"):
        group_fairness([1, 0], [None, None], positive=1)
    with pytest.raises(ValueError, match="`n_bootstrap` must be an int >= 0"):
        group_fairness([1, 0], ["a", "b"], positive=1, n_bootstrap=-1)


def test_groups_in_a_categoricals_order():
    bands = pd.Series(pd.Categorical(["50+", "< 25", "25-49", "< 25"], categories=["< 25", "25-49", "50+"]))
    table = group_fairness([1, 0, 1, 1], bands, positive=1, n_bootstrap=0)["table"]
    assert table.index.tolist() == ["< 25", "25-49", "50+"]


# --- bands of a numeric sensitive attribute: every label true of every member -------------------------

def _label_holds(label, value):
    """Re-read a band label (``19-25``, ``-5 to -1``, ``75``, ``[0.12, 0.35)``, ``[0.8, 0.95]``) against a value."""
    number = r"-?\d+(?:\.\d+)?"
    if match := re.fullmatch(rf"\[({number}), ({number})([)\]])", label):
        low, high, close = float(match[1]), float(match[2]), match[3]
        return low <= value and (value < high if close == ")" else value <= high)
    if match := re.fullmatch(rf"({number})(?:-| to )({number})", label):
        return float(match[1]) <= value <= float(match[2]) and float(value).is_integer()
    if re.fullmatch(number, label):
        return value == float(label)
    raise AssertionError(f"cannot read band label {label!r}")


def _check_bands(values, n_bands=4):
    values = pd.Series(values, dtype="float64")
    bands = numeric_bands(values, n_bands)
    labels = list(bands.cat.categories)
    assert 1 <= len(labels) <= n_bands and len(set(labels)) == len(labels)
    counts = bands.value_counts(sort=False)
    assert (counts > 0).all(), counts  # no band is empty
    assert bands.isna().tolist() == values.isna().tolist()
    for value, band in zip(values, bands):
        if not np.isnan(value):
            assert _label_holds(band, value), (band, value)
    # labels are ordered from low to high and cover the values in that order
    order = {label: b for b, label in enumerate(labels)}
    present = values.notna()
    codes = bands[present].map(order).to_numpy()
    assert np.all(np.diff(codes[np.argsort(values[present].to_numpy(), kind="stable")]) >= 0)
    return bands


def test_numeric_bands_fractional_values_of_the_issue():
    # ten fractional values in [0.12, 0.95] used to fall into one band "1-0.95"
    values = [0.12, 0.13, 0.15, 0.34, 0.57, 0.62, 0.73, 0.8, 0.88, 0.95]
    bands = _check_bands(values)
    assert list(bands.cat.categories) == ["[0.12, 0.3)", "[0.3, 0.6)", "[0.6, 0.8)", "[0.8, 0.95]"]
    assert bands.value_counts(sort=False).tolist() == [3, 2, 2, 3]


def test_numeric_bands_ages_piled_at_the_maximum_and_whole_years():
    rng = np.random.default_rng(0)
    ages = np.r_[rng.integers(19, 75, 50), [75] * 60].astype(float)
    bands = _check_bands(ages)
    assert list(bands.cat.categories)[-1] == "75"  # never an empty "76-75"
    assert all("." not in label for label in bands.cat.categories)  # whole years
    assert _check_bands([30, 30, 30]).cat.categories.tolist() == ["30"]
    assert _check_bands([-5, -3, -1, 0, 2, 4], n_bands=2).cat.categories.tolist() == ["-5 to -1", "0-4"]


def test_numeric_bands_german_credit_ages_and_missing_values():
    import tabxai as tx

    X, _ = tx.datasets.load_german_credit()
    ages = X["age"].astype(float)
    ages.iloc[::50] = np.nan
    bands = _check_bands(ages)
    assert len(bands.cat.categories) == 4 and bands.index.equals(ages.index) and bands.name == "age"
    assert numeric_bands([np.nan, np.nan]).isna().all()


def test_numeric_bands_bad_input():
    with pytest.raises(ValueError, match="`n_bands` must be an int >= 1"):
        numeric_bands([1, 2], n_bands=0)
    with pytest.raises(ValueError, match="finite numbers"):
        numeric_bands([1.0, np.inf])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(-50, 120).map(float),
                          st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: round(v, 3)),
                          st.just(float("nan"))), min_size=1, max_size=60),
       st.integers(1, 6), st.booleans())
def test_numeric_bands_labels_hold_for_every_member(values, n_bands, whole):
    values = [v if np.isnan(v) or not whole else float(round(v)) for v in values]
    if all(np.isnan(v) for v in values):
        assert numeric_bands(values, n_bands).isna().all()
        return
    _check_bands(values, n_bands)


# --- the labels of positive and favorable are checked -------------------------------------------------

def test_favorable_and_positive_must_be_labels_of_the_decision():
    predicted, truth, groups = _data()
    with pytest.raises(ValueError, match=r"`favorable` must be one of the decision's labels \['bad', 'good'\]; "
                                         r"got 'Good'"):
        group_fairness(predicted, groups, y_true=truth, positive="bad", favorable="Good", n_bootstrap=0)
    with pytest.raises(ValueError, match=r"`positive` must be one of the decision's labels \['bad', 'good'\]; got 1"):
        group_fairness(predicted, groups, positive=1, n_bootstrap=0)
    with pytest.raises(ValueError, match="`favorable` must be one of the decision's labels"):
        group_fairness(predicted, groups, positive="bad", favorable="good", labels=["bad", "fine"], n_bootstrap=0)
    with pytest.raises(ValueError, match="more than two labels"):
        group_fairness(["a", "b", "c", "a"], ["x", "x", "y", "y"], positive="a", favorable="b", n_bootstrap=0)
    # the right label: the favourable rate is one minus the adverse rate, in every group
    result = group_fairness(predicted, groups, y_true=truth, positive="bad", favorable="good", n_bootstrap=0)
    table = result["table"]
    np.testing.assert_allclose(table["favorable_rate"], 1 - table["selection_rate"])
    good = pd.Series(predicted == "good").groupby(groups).mean()
    np.testing.assert_allclose(table["favorable_rate"], good[table.index])
    # a label no row was given is fine when `labels` says the decision can take it
    none_bad = group_fairness(["good"] * 4, ["x", "x", "y", "y"], positive="bad", favorable="good",
                              labels=["bad", "good"], n_bootstrap=0)
    assert none_bad["table"]["impact_ratio"].tolist() == [1.0, 1.0]
    ints = group_fairness([0, 1, 1, 0], ["x", "x", "y", "y"], positive=np.int64(1), n_bootstrap=0)
    assert ints["table"]["selection_rate"].tolist() == [0.5, 0.5]

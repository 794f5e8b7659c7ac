"""Fairness by group: equal to fairlearn on the same predictions; the four-fifths rule on known answers."""

import numpy as np
import pandas as pd
import pytest
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

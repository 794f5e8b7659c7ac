"""OneR: Holte's worked example, the naive reference, bucketing, missing and unseen values, bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive import naive_oner
from tabxai.rules import Condition, OneR

PRICES = """good,small,yes,high / good,big,no,high / good,big,no,high / bad,medium,no,medium /
good,medium,only cats,medium / good,small,only cats,medium / bad,medium,yes,medium / bad,small,yes,low /
bad,medium,yes,low / bad,small,no,low"""


@pytest.fixture
def prices():
    rows = [row.strip().split(",") for row in PRICES.replace("\n", " ").split("/")]
    frame = pd.DataFrame(rows, columns=["Location", "Size", "Pets", "Price"])
    return frame.drop(columns="Price"), frame["Price"]


def test_holte_example_chooses_size_with_three_errors(prices):
    X, y = prices
    model = OneR().fit(X, y)
    assert model.feature_ == "Size"
    assert model.n_errors_ == 3
    assert (model.predict(X) != y.to_numpy()).sum() == 3
    assert model.feature_errors_ == {"Location": 4, "Size": 3, "Pets": 4}
    mapping = {rule.conditions[0].value: rule.prediction for rule in model.rules_[:-1]}
    assert mapping == {"small": "low", "medium": "medium", "big": "high"}
    assert all(rule.conditions[0].feature == "Size" for rule in model.rules_[:-1])
    assert all(rule.conditions[0].operator == "=" for rule in model.rules_[:-1])
    assert str(model) == (
        "IF Size = big THEN Price = high\n"
        "ELSE IF Size = medium THEN Price = medium\n"
        "ELSE IF Size = small THEN Price = low\n"
        "ELSE Price = medium"
    )


def test_probabilities_are_bucket_frequencies(prices):
    X, y = prices
    model = OneR().fit(X, y)
    assert list(model.classes_) == ["high", "low", "medium"]
    small = model.predict_proba(pd.DataFrame({"Location": ["good"], "Size": ["small"], "Pets": ["no"]}))
    np.testing.assert_allclose(small, [[0.25, 0.5, 0.25]])
    assert model.rules_[-1].class_counts == (3, 3, 4)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_unseen_category_and_unseen_missing_take_the_default(prices):
    X, y = prices
    model = OneR().fit(X, y)
    new = pd.DataFrame({"Location": ["good", "bad"], "Size": ["huge", None], "Pets": ["no", "yes"]})
    np.testing.assert_allclose(model.predict_proba(new), [[0.3, 0.3, 0.4]] * 2)
    assert model.predict(new).tolist() == ["medium", "medium"]


def test_numeric_buckets_follow_the_minimum_bucket_size_rule():
    # Classes by increasing x: a a a b a a a a b b b b b b a. With min_bucket_size=3 the lone b at
    # x=4 opens a bucket that must collect three rows of its majority class: it ends up with three a's
    # (majority a) and merges into the first bucket. The last bucket (x=15) may be smaller.
    values = np.arange(1, 16, dtype=float)
    labels = list("aaabaaaabbbbbba")
    model = OneR(min_bucket_size=3).fit(pd.DataFrame({"x": values}), labels)
    assert [rule.prediction for rule in model.rules_[:-1]] == ["a", "b", "a"]
    assert [[str(c) for c in rule.conditions] for rule in model.rules_[:-1]] == [
        ["x <= 8.5"], ["x > 8.5", "x <= 14.5"], ["x > 14.5"]]
    assert model.n_errors_ == 1
    # with buckets of one row of the majority class every class change starts a bucket
    exact = OneR(min_bucket_size=1).fit(pd.DataFrame({"x": values}), labels)
    assert exact.n_errors_ == 0
    assert len(exact.rules_) - 1 == 5


def test_equal_values_share_a_bucket():
    X = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]})
    y = ["a", "a", "a", "b", "b", "b", "b", "a"]
    model = OneR(min_bucket_size=1).fit(X, y)
    assert model.predict(X).tolist() == ["a"] * 4 + ["b"] * 4
    assert str(model.rules_[0].conditions[0]) == "x <= 1.5"


def test_missing_values_are_a_value_of_their_own():
    X = pd.DataFrame({"x": [np.nan, np.nan, np.nan, 1.0, 2.0, 3.0, 4.0]})
    y = ["c", "c", "c", "a", "a", "a", "a"]
    model = OneR().fit(X, y)
    assert model.n_errors_ == 0
    assert model.rules_[0].conditions == (Condition("x", "is missing"),)
    assert model.predict(pd.DataFrame({"x": [np.nan, 10.0]})).tolist() == ["c", "a"]


def test_entirely_missing_columns_are_skipped():
    X = pd.DataFrame({"empty": [np.nan] * 6, "x": [1.0, 2, 3, 4, 5, 6]})
    model = OneR(min_bucket_size=1).fit(X, [0, 0, 0, 1, 1, 1])
    assert model.feature_ == "x" and "empty" not in model.feature_errors_
    with pytest.raises(ValueError, match="entirely missing"):
        OneR().fit(X[["empty"]], [0, 0, 0, 1, 1, 1])


def test_ties_go_to_fewer_rules_then_the_first_column():
    X = pd.DataFrame({"many": ["a", "b", "c", "d"], "few": ["u", "u", "v", "v"], "same": ["u", "u", "v", "v"]})
    model = OneR().fit(X, [0, 0, 1, 1])
    assert model.feature_ == "few"
    assert model.feature_errors_ == {"many": 0, "few": 0, "same": 0}


def test_within_a_value_ties_go_to_the_first_class():
    model = OneR().fit(pd.DataFrame({"x": ["a", "a", "b", "b"]}), ["yes", "no", "no", "yes"])
    assert [rule.prediction for rule in model.rules_] == ["no", "no", "no"]


@pytest.mark.parametrize("value, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("6", TypeError)])
def test_min_bucket_size_is_validated(prices, value, error):
    with pytest.raises(error, match=r"'min_bucket_size' parameter of OneR must be an int in the range \[1, inf\)\. Got"):
        OneR(min_bucket_size=value).fit(*prices)


def test_bad_targets(prices):
    X, y = prices
    with pytest.raises(ValueError, match="one class"):
        OneR().fit(X, ["a"] * len(X))
    with pytest.raises(ValueError, match="X has 10 rows but y has 9 values"):
        OneR().fit(X, y[:9])
    with pytest.raises(ValueError, match="missing values"):
        OneR().fit(X, [None] + list(y[1:]))


def test_infinite_values_are_rejected_in_fit():
    with pytest.raises(ValueError, match="infinite values"):
        OneR().fit(pd.DataFrame({"x": [1.0, np.inf, 2.0]}), [0, 1, 0])


# --- the naive reference -----------------------------------------------------------------------
numeric_values = st.one_of(st.integers(-3, 3).map(float), st.floats(-1e3, 1e3, allow_nan=False), st.just(math.nan))
category_values = st.one_of(st.sampled_from(["p", "q", "r", "s"]), st.none())


@st.composite
def tables(draw):
    n_rows = draw(st.integers(2, 40))
    kinds = draw(st.lists(st.sampled_from(["numeric", "categorical"]), min_size=1, max_size=4))
    columns = {}
    for j, kind in enumerate(kinds):
        strategy = numeric_values if kind == "numeric" else category_values
        columns[f"{kind}{j}"] = draw(st.lists(strategy, min_size=n_rows, max_size=n_rows))
    labels = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_rows, max_size=n_rows))
    return columns, labels, draw(st.integers(1, 8))


@settings(max_examples=150, deadline=None)
@given(tables())
def test_matches_the_naive_reference(table):
    columns, labels, min_bucket_size = table
    if len(set(labels)) < 2:
        return
    categorical = {name for name in columns if name.startswith("categorical")}
    if all(all(v is None or (isinstance(v, float) and math.isnan(v)) for v in values) for values in columns.values()):
        return
    frame = pd.DataFrame({name: pd.Series(values, dtype=object if name in categorical else float)
                          for name, values in columns.items()})
    name, errors, per_column, predictions = naive_oner(columns, labels, categorical, min_bucket_size)
    model = OneR(min_bucket_size=min_bucket_size).fit(frame, labels)
    assert model.feature_ == name
    assert model.n_errors_ == errors
    assert model.feature_errors_ == per_column
    assert model.predict(frame).tolist() == predictions


@settings(max_examples=40, deadline=None)
@given(tables())
def test_row_order_does_not_matter(table):
    columns, labels, min_bucket_size = table
    if len(set(labels)) < 2:
        return
    frame = pd.DataFrame({name: pd.Series(values, dtype=object if name.startswith("categorical") else float)
                          for name, values in columns.items()})
    if frame.isna().all().all():
        return
    order = np.random.default_rng(0).permutation(len(frame))
    model = OneR(min_bucket_size=min_bucket_size).fit(frame, labels)
    shuffled = OneR(min_bucket_size=min_bucket_size).fit(frame.iloc[order], np.array(labels)[order])
    assert str(model) == str(shuffled)
    assert model.rules_ == shuffled.rules_

"""Printed numbers and conditions are true: re-read what is printed and check it against the row."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tabxai as tx
from tabxai._display import NumberFormat, number_text, threshold_text, value_text

_NUMBER = r"-?[\d,]+(?:\.\d+)?"


def _read(text):
    return float(text.replace(",", ""))


def _range(part):
    """``(low, name, high)`` of ``a < x <= b``, ``x <= b`` or ``x > a`` (None for an open side), or None."""
    if match := re.fullmatch(rf"(\S+) > ({_NUMBER})", part):
        return _read(match[2]), match[1], None
    if match := re.fullmatch(rf"(?:({_NUMBER}) < )?(\S+) <= ({_NUMBER})", part):
        return (None if match[1] is None else _read(match[1])), match[2], _read(match[3])
    return None


def holds(condition, row):
    """Whether a printed condition (LIME's ``a < x <= b``, ``x > a``, ``x <= b`` joined by ``and``,
    ``x = v``, ``x is missing``) is true of ``row`` (a mapping of column to value); raises when the
    text cannot be read."""
    for part in condition.split(" and "):
        if part.endswith(" is missing"):
            if not pd.isna(row[part[:-len(" is missing")]]):
                return False
        elif " = " in part:
            name, value = part.split(" = ", 1)
            actual = row[name]
            if isinstance(actual, (int, float, np.number)) and not isinstance(actual, bool):
                if pd.isna(actual) or _read(value) != float(actual):
                    return False
            elif str(actual) != value:
                return False
        elif (parsed := _range(part)) is not None:
            low, name, high = parsed
            value = float(row[name])
            if math.isnan(value) or (low is not None and not low < value) or (high is not None and not value <= high):
                return False
        else:
            raise AssertionError(f"cannot read condition {part!r}")
    return True


# --- the one number formatter ----------------------------------------------------------------------

def test_number_text_options():
    assert number_text(1365.5) == "1365.5" and number_text(48.0) == "48" and number_text(np.int64(25000)) == "25000"
    assert number_text(25000, grouping=True) == "25,000" and number_text(1234.5, grouping=True) == "1,234.5"
    assert number_text(0.1 + 0.2) == "0.30000000000000004" and number_text(0.1 + 0.2, digits=4) == "0.3"
    assert number_text(1.5e-7) == "0.00000015"  # positional, never an exponent
    assert number_text(-0.0004, decimals=3) == "0.000" and number_text(0.0, decimals=2, sign=True) == "+0.00"
    assert number_text(-2.5, decimals=1, sign=True) == "-2.5" and number_text(2.5, sign=True) == "+2.5"
    assert number_text(float("nan")) == "nan" and number_text(-np.inf) == "-inf"
    assert NumberFormat([0.25])(0.125) == number_text(0.125, decimals=3, grouping=True)
    assert value_text(True) == "True" and value_text(None) == "missing" and value_text(123456.5, None) == "123456.5"


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_number_text_reads_back_exactly(value):
    assert float(number_text(value)) == value
    assert float(number_text(value, grouping=True).replace(",", "")) == value


# --- thresholds: a printed cut point keeps every value on its side ------------------------------------

def test_threshold_text_examples_of_the_issue():
    # edge 1365.5, a row with amount 1366: "1366 < amount" would be false
    assert threshold_text(1365.5, [1366]) == "1365.5"
    assert threshold_text(123456.5, [123457]) == "123456"
    assert threshold_text(123456.5, [123456.4, 123457]) == "123456.5"
    # nothing near the edge: four significant digits
    assert threshold_text(1365.5, [10, 5000]) == "1366" and threshold_text(0.123456, [0.5]) == "0.1235"
    # never longer than the exact number
    assert threshold_text(0.35, [0.35, 0.36]) == "0.35"


_MAGNITUDES = st.sampled_from([1e-4, 0.01, 1.0, 100.0, 1e4, 1e6])


@settings(max_examples=400, deadline=None)
@given(_MAGNITUDES, st.lists(st.floats(min_value=-1.0, max_value=1.0, allow_nan=False), min_size=2, max_size=40),
       st.integers(min_value=1, max_value=6), st.data())
def test_printed_conditions_are_true_for_their_rows(scale, unit_values, digits, data):
    values = np.round(np.asarray(unit_values) * scale, data.draw(st.integers(0, 8)))
    values = np.asarray([data.draw(st.sampled_from(list(values)))] + list(values) * 1)
    edge = float(np.percentile(values, data.draw(st.floats(0, 100))))
    row = float(data.draw(st.sampled_from(list(values))))
    text = threshold_text(edge, values, digits=digits)
    printed = float(text)
    assert (row <= printed) == (row <= edge)
    assert np.array_equal(values <= printed, values <= edge)
    assert len(text) <= len(number_text(edge))
    # with the row alone, the row's own inequality holds
    printed = float(threshold_text(edge, [row], digits=digits))
    assert (row <= printed) == (row <= edge)


# --- LIME's conditions on real rows ---------------------------------------------------------------------

def _lime_conditions(X, background, explained, model=None):
    if model is None:
        numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]

        def model(frame):
            return frame[numeric].fillna(0).to_numpy(dtype=float).sum(axis=1) * 1e-3

    lime = tx.LimeTabular(model, background, n_samples=100, random_state=0)
    return lime.explain(explained), lime


@pytest.mark.parametrize("name", ["german", "adult"])
def test_lime_conditions_are_true_for_every_explained_row(name):
    if name == "german":
        X, _ = tx.datasets.load_german_credit()
        X = X.copy()
        X["amount_per_month"] = X["amount"] / X["duration"]  # fractional values, fractional edges
    else:
        X, _ = tx.datasets.load_adult()
        X = X.iloc[:2000].copy()
        X["gain_share"] = X["capital_gain"] / (X["capital_gain"] + X["fnlwgt"])
    X.loc[X.index[::17], X.columns[1]] = np.nan
    background, explained = X.iloc[:150], X.iloc[150:450]  # explained rows outside the background too
    expl, lime = _lime_conditions(X, background, explained)
    assert expl.conditions.shape == (len(explained), X.shape[1])
    ranges = 0
    for i in range(len(explained)):
        row = explained.iloc[i]
        for condition in expl.conditions[i]:
            assert holds(condition, row), (condition, row.to_dict())
            ranges += any(_range(part) is not None for part in condition.split(" and "))
    assert ranges > len(explained)  # numeric ranges were checked, not only equalities


def test_lime_condition_of_the_issue_amount_1366():
    # the median of the background is 1365.5 and no background amount lies in (1365.5, 1366]: four digits
    # would print "1366 < amount", false for an applicant with amount 1366
    background = pd.DataFrame({"amount": [0.0, 1360.0, 1371.0, 5000.0]})
    model = lambda f: f["amount"].to_numpy() * 1e-3
    lime = tx.LimeTabular(model, background, n_samples=50, random_state=0)
    assert 1365.5 in lime.bins["amount"]
    expl = lime.explain(pd.DataFrame({"amount": [1366.0, 1367.0, 1365.0]}))
    assert expl.conditions[0, 0].startswith("1365.5 < amount <= ")
    assert expl.conditions[1, 0].startswith("1366 < amount <= ")  # short where short is true
    assert expl.conditions[2, 0].endswith("< amount <= 1366") or expl.conditions[2, 0].endswith("<= 1365.5")


def test_lime_condition_keeps_the_row_on_its_side_of_a_half_edge():
    background = pd.DataFrame({"x": np.arange(1, 9, dtype=float) * 1000 + 0.5})  # quartiles 2750.5, 4500.5, 6250.5
    lime = tx.LimeTabular(lambda f: f["x"].to_numpy() * 1e-3, background, n_samples=50, random_state=0)
    edge = 4500.5
    rows = pd.DataFrame({"x": [edge + 0.01, edge, np.nextafter(edge, np.inf)]})
    expl = lime.explain(rows)
    assert [holds(c, rows.iloc[i]) for i, c in enumerate(expl.conditions[:, 0])] == [True] * 3
    assert expl.conditions[:, 0].tolist() == ["4500 < x <= 6250", "2750 < x <= 4500.5", "4500 < x <= 6250"]
    assert lime.explain(pd.DataFrame({"x": [7000.0, 1000.0]})).conditions[:, 0].tolist() == ["x > 6250", "x <= 2750"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=4, unique=True),
       st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=30),
       st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 6))
def test_lime_bin_conditions_hold_for_random_edges_and_values(edges, data, value, decimals):
    from tabxai._lime_tables import _bin_condition

    edges = np.sort(np.round(edges, decimals) + 0.5 * 10.0 ** -decimals)  # edges between the data's values
    edges = np.unique(edges)
    data = np.sort(np.round(np.asarray(data, dtype=float), decimals))
    value = float(np.round(value, decimals + 1))
    shared = [threshold_text(e, data) for e in edges]
    key = int(np.searchsorted(edges, value))  # LIME's bin: edges[key - 1] < value <= edges[key]
    condition = _bin_condition("x", edges, shared, key, value, data)
    assert holds(condition, {"x": value}), (condition, value)
    for other in data:  # the shared words are true for every background value of the same bin
        if int(np.searchsorted(edges, other)) == key:
            assert holds(_bin_condition("x", edges, shared, key, other, data), {"x": other})


def test_lime_cached_bin_conditions_are_the_per_row_conditions():
    """The texts built once per (column, bin) are exactly :func:`_bin_condition` of each row, also on and near edges."""
    from tabxai._lime_tables import _bin_condition

    rng = np.random.default_rng(5)
    background = pd.DataFrame({"x": np.arange(1, 9, dtype=float) * 1000 + 0.5, "y": rng.normal(size=8).round(3)})
    lime = tx.LimeTabular(lambda f: f["x"].to_numpy() * 1e-3, background, n_samples=50, random_state=0)
    discretizer = lime._discretizer
    for slot, name in enumerate(["x", "y"]):
        edges, data = discretizer.edges[slot], discretizer.values[slot]
        near = np.concatenate([edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf), edges + 0.01,
                               edges - 0.3, [float(t) for t in discretizer.edge_texts(slot)]])
        values = np.concatenate([near, rng.normal(size=50) * data.std() + data.mean(), near])
        keys = np.searchsorted(edges, values)
        expected = [_bin_condition(name, edges, discretizer.edge_texts(slot), k, v, data) for k, v in zip(keys, values)]
        assert discretizer.bin_conditions(name, slot, keys, values) == expected
        assert discretizer.bin_conditions(name, slot, keys, values) == expected  # again, from the cache

"""Rule kernels and helpers against brute force: candidate counts, list counts, thresholds."""

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tabxai._kernels.rules import list_class_counts, m_estimate_scores
from tabxai.data import TabularSchema
from tabxai.rules._base import format_value, nice_threshold
from tabxai.rules._search import Candidates, ListEvaluator


@st.composite
def frames(draw):
    n_rows = draw(st.integers(1, 30))
    numeric = st.one_of(st.integers(-2, 2).map(float), st.floats(-10, 10, allow_nan=False), st.just(math.nan))
    categorical = st.one_of(st.sampled_from(["p", "q", "r"]), st.none())
    columns = {}
    for j in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            columns[f"n{j}"] = pd.Series(draw(st.lists(numeric, min_size=n_rows, max_size=n_rows)), dtype=float)
        else:
            columns[f"c{j}"] = pd.Series(draw(st.lists(categorical, min_size=n_rows, max_size=n_rows)), dtype=object)
    classes = np.array(draw(st.lists(st.integers(0, 2), min_size=n_rows, max_size=n_rows)), dtype=np.int64)
    return pd.DataFrame(columns), classes


def brute_force_holds(frame, schema, candidates, candidate):
    """Evaluate a candidate on the raw values, row by row."""
    column = schema.columns[candidates.column[candidate]]
    values = frame[column.name].tolist()
    kind, index = candidates.kind[candidate], candidates.index[candidate]
    out = []
    for value in values:
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if kind == 3:
            out.append(missing)
        elif missing:
            out.append(False)
        elif kind == 2:
            out.append(value == column.categories[index])
        else:
            threshold = candidates.threshold(candidate)
            out.append(value <= threshold if kind == 0 else value > threshold)
    return np.array(out, dtype=bool)


@settings(max_examples=60, deadline=None)
@given(frames(), st.data())
def test_candidate_counts_match_brute_force(table, data):
    frame, classes = table
    schema = TabularSchema.from_data(frame)
    codes = schema.encode(frame)
    candidates = Candidates(schema, codes)
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, len(frame) - 1)))), dtype=np.int64)
    counts = candidates.counts(classes, rows, 3)
    assert counts.shape == (len(candidates.kind), 3)
    for candidate in range(len(candidates.kind)):
        holds = brute_force_holds(frame, schema, candidates, candidate)
        expected = np.bincount(classes[rows][holds[rows]], minlength=3)
        np.testing.assert_array_equal(counts[candidate], expected)
        np.testing.assert_array_equal(candidates.holds(candidate), holds)


@settings(max_examples=40, deadline=None)
@given(frames(), st.integers(0, 3))
def test_list_counts_match_first_rule_by_loops(table, n_rules):
    frame, classes = table
    schema = TabularSchema.from_data(frame)
    candidates = Candidates(schema, schema.encode(frame))
    rng = np.random.default_rng(n_rules)
    rules = [tuple(sorted(set(rng.integers(0, len(candidates.kind), size=rng.integers(1, 3)).tolist())))
             for _ in range(n_rules)]
    counts = ListEvaluator(candidates, classes, rules, 3).counts(rules)
    expected = np.zeros((n_rules + 1, 3), dtype=np.int64)
    for i in range(len(frame)):
        position = n_rules
        for r, conditions in enumerate(rules):
            if all(candidates.holds(c)[i] for c in conditions):
                position = r
                break
        expected[position, classes[i]] += 1
    np.testing.assert_array_equal(counts, expected)


def test_list_counts_of_an_empty_list_is_the_class_count():
    holds = np.zeros((4, 1), dtype=np.bool_)
    counts = list_class_counts(holds, np.array([0], dtype=np.int64), np.array([], dtype=np.int64),
                               np.array([0, 1, 1, 1], dtype=np.int64), 2)
    np.testing.assert_array_equal(counts, [[1, 3]])


def test_m_estimate_scores_by_hand():
    counts = np.array([[3, 1], [0, 0], [1, 1], [4, 4]], dtype=np.int64)
    prior = np.array([0.5, 0.5])
    scores, heads = m_estimate_scores(counts, prior, 2.0, 1, 8)
    np.testing.assert_allclose(scores[0], (3 + 1) / (4 + 2))
    assert heads[0] == 0
    assert scores[1] == -np.inf  # covers nothing
    assert heads[2] == 0  # a tie goes to the first class
    assert scores[3] == -np.inf  # covers the whole parent: no refinement


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(finite, finite)
def test_nice_threshold_separates_and_prints_exactly(a, b):
    if a == b:
        return
    low, high = min(a, b), max(a, b)
    threshold = nice_threshold(low, high)
    assert math.isfinite(threshold)
    assert low <= threshold < high
    assert float(format_value(threshold)) == threshold


def test_nice_threshold_is_short():
    assert nice_threshold(1.0, 2.0) == 1.5
    assert nice_threshold(31.0, 38.0) == 34.0
    assert nice_threshold(0.1, 0.2) == 0.15
    assert nice_threshold(1.0, np.nextafter(1.0, 2.0)) == 1.0
    assert format_value(34.0) == "34" and format_value(1e-05) == "1e-05"

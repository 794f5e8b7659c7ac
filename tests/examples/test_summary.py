"""The weighted background summary: medoids are real rows, weights count every row of their cluster."""

import numpy as np
import pandas as pd
import pytest

import tabxai as tx
from tabxai.examples import _summary


def _blobs(sizes, seed=0):
    """Well separated groups (numbers far apart, a category of their own): k-means must find them."""
    rng = np.random.default_rng(seed)
    parts = [pd.DataFrame({"income": rng.normal(100 * g, 1, size=n), "debt": rng.normal(-50 * g, 1, size=n),
                           "job": [f"job{g}"] * n}) for g, n in enumerate(sizes)]
    return pd.concat(parts, ignore_index=True).rename(lambda i: f"r{i}")


@pytest.mark.parametrize("fit_rows", [None, 97])  # 97: the large-table path (sampled fit, counted in blocks)
def test_one_medoid_per_group_weighted_by_its_size(monkeypatch, fit_rows):
    if fit_rows is not None:
        monkeypatch.setattr(_summary, "_FIT_ROWS", fit_rows)
    sizes = [300, 120, 60]
    X = _blobs(sizes)
    before = X.copy()
    summary = tx.background_summary(X, n_rows=3, random_state=1)
    background = summary.background
    assert set(background.index) <= set(X.index)  # real rows, with their labels
    pd.testing.assert_frame_equal(background, X.loc[background.index])
    groups = background["job"].str[3:].astype(int).to_numpy()
    assert sorted(groups) == [0, 1, 2]
    np.testing.assert_allclose(summary.weights, np.array(sizes)[groups] / sum(sizes))
    pd.testing.assert_frame_equal(X, before)  # the user's frame is not touched


def test_small_tables_are_their_own_summary():
    X = _blobs([2, 1])
    summary = tx.background_summary(X, n_rows=8)
    pd.testing.assert_frame_equal(summary.background, X)
    np.testing.assert_allclose(summary.weights, np.full(3, 1 / 3))
    with pytest.raises(ValueError, match="empty"):
        tx.background_summary(X.iloc[:0])

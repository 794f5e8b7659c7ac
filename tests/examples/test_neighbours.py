"""Similar cases: against a row-by-row nearest-neighbour search in the same mixed-type geometry."""

import numpy as np
import pandas as pd
import pytest
from naive import naive_mixed_points, naive_neighbours
from sklearn.linear_model import LogisticRegression

import tabxai as tx
import tabxai.examples._neighbours as module


def _frame(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(50, 10, n).round(), "housing": rng.choice(["own", "rent", None], n),
                         "guarantor": rng.random(n) < 0.4}, index=[f"a{i}" for i in range(n)])


def test_nearest_rows_equal_a_row_by_row_search(monkeypatch):
    monkeypatch.setattr(module, "_BLOCK_ENTRIES", 50)  # many small blocks
    reference = _frame(80, 0)
    rows = reference.iloc[[3, 10, 11]]
    out = tx.neighbours(reference, rows, k=4)
    expected = naive_neighbours(naive_mixed_points(reference), naive_mixed_points(reference)[[3, 10, 11]], 4)
    for r, (order, distances) in enumerate(expected):
        part = out[out["row"] == rows.index[r]]
        assert part["neighbour"].tolist() == [reference.index[i] for i in order]
        assert np.allclose(part["distance"] ** 2, distances)
        assert part["rank"].tolist() == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(out.iloc[:4, 4:].reset_index(drop=True),
                                  reference.loc[out["neighbour"].iloc[:4]].reset_index(drop=True))


def test_model_outputs_and_unseen_categories():
    reference = _frame(60, 1)
    y = (reference["income"] > 50).to_numpy()
    model = LogisticRegression().fit(reference[["income"]], y)
    rows = pd.DataFrame({"income": [52.0], "housing": ["free"], "guarantor": [True]})  # "free" is not in the reference
    out = tx.neighbours(reference[["income"]], rows[["income"]], k=3, model=model)
    assert np.allclose(out["P(True)"], model.predict_proba(reference.loc[out["neighbour"], ["income"]])[:, 1])
    mixed = tx.neighbours(reference, rows, k=2)
    assert len(mixed) == 2 and (mixed["distance"] > 0).all()


def test_bad_input():
    reference = _frame(5, 2)
    with pytest.raises(ValueError, match="`k` must be an int >= 1 and <= 5; got 6"):
        tx.neighbours(reference, reference, k=6)
    with pytest.raises(ValueError, match="missing columns \\['guarantor'\\]"):
        tx.neighbours(reference, reference[["income", "housing"]], k=1)

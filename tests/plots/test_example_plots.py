"""Plots of example-based results draw the numbers of the result, labelled with the rows."""

import matplotlib
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

import tabxai as tx
from tabxai._display import AGAINST, TOWARDS

matplotlib.use("Agg")


def test_prototype_strip_draws_the_weights_with_row_labels():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.integers(20, 70, 80), "housing": rng.choice(["own", "rent"], 80)},
                     index=[f"id{i}" for i in range(80)])
    y = np.where(X["age"] > 45, "old", "young")
    p = tx.Prototypes(n_prototypes=3, by_class=True).fit(X, y)
    ax = p.plot()
    widths = [patch.get_width() for patch in ax.patches]
    assert np.allclose(widths, p.weights_)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.split(":")[0] for label in labels] == list(p.prototypes_.index)
    assert "age=" in labels[0] and "housing=" in labels[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["old", "young"]


def test_influence_bars_are_the_top_rows_coloured_by_sign():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    infl = tx.influence(Ridge(), X, X[:, 0] + rng.normal(0, 0.1, 30), X[:2], n_models=40)
    ax = infl.plot(1, k=3)
    table = infl.top(1, k=3)
    bars = [patch for patch in ax.patches]
    assert np.allclose([b.get_width() for b in bars], table["effect"])
    expected = [TOWARDS if e >= 0 else AGAINST for e in table["effect"]]
    assert [matplotlib.colors.to_hex(b.get_facecolor()).upper() for b in bars] == [c.upper() for c in expected]
    assert ax.get_xlabel() == "change of the prediction"

"""Example-based results: prototypes as a strip of weights, influential training rows as bars."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._display import plain, shorten, value_text
from ._common import CATEGORY_COLORS, MAGNITUDE, axes, sign_colors

__all__ = ["influence", "prototypes"]


def prototypes(p, ax=None, *, max_columns=4):
    """Draw the weights of fitted :class:`tabxai.Prototypes`, each bar labelled with its row.

    Labels give the row's index label and its values in the ``max_columns`` columns in which the
    prototypes differ most; with ``by_class`` the bars take the colour of their class.

    Parameters
    ----------
    p : Prototypes
        Fitted.
    ax : matplotlib Axes, default=None
    max_columns : int, default=4

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, tabxai as tx
    >>> p = tx.Prototypes(n_prototypes=3).fit(np.random.default_rng(0).normal(size=(50, 2)))
    >>> tx.plots.prototypes(p).get_xlabel()
    'weight'
    """
    if not hasattr(p, "prototype_indices_"):
        raise ValueError("the Prototypes are not fitted; call fit(X) first")
    columns = p.telling_columns(max_columns)
    data = p.prototypes_
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data, columns=list(p._encoding.names))
    labels = []
    for position, (_, row) in zip(p.prototype_indices_, frame.iterrows()):
        name = frame.index[len(labels)] if isinstance(data, pd.DataFrame) else position
        values = ", ".join(f"{shorten(plain(c), 14)}={value_text(row[c], 14)}" for c in columns)
        labels.append(f"{plain(name)}: {values}")
    n = len(labels)
    ax = axes(ax, 7.5, 0.8 + 0.32 * n)
    if p.prototype_labels_ is not None:
        classes = list(p.classes_)
        colors = [CATEGORY_COLORS[classes.index(c) % len(CATEGORY_COLORS)] for c in p.prototype_labels_]
    else:
        colors = [MAGNITUDE] * n
    positions = np.arange(n)[::-1]
    ax.barh(positions, p.weights_, color=colors)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.set_xlabel("weight")
    ax.set_title("prototypes" + (" by class" if p.prototype_labels_ is not None else ""), fontsize=10)
    if p.prototype_labels_ is not None:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=CATEGORY_COLORS[k % len(CATEGORY_COLORS)], label=plain(c))
                           for k, c in enumerate(classes)], fontsize=8, loc="lower right")
    return ax


def influence(result, test_row, *, k=5, ax=None):
    """Draw the training rows that move one test prediction most (:meth:`tabxai.Influence.top`).

    Bars are the effects with 1.96 standard errors; rows that raise the prediction (or help the
    test row's label) are vermillion, the others blue.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, tabxai as tx
    >>> from sklearn.linear_model import Ridge
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> infl = tx.influence(Ridge(), X, X[:, 0], X[:2], n_models=20)
    >>> tx.plots.influence(infl, 0).get_xlabel()
    'change of the prediction'
    """
    table = result.top(test_row, k=k)
    n = len(table)
    ax = axes(ax, 6.5, 0.8 + 0.3 * max(n, 1))
    positions = np.arange(n)[::-1]
    ax.barh(positions, table["effect"], xerr=1.96 * table["stderr"].fillna(0), color=sign_colors(table["effect"]),
            ecolor="#333333", capsize=2)
    ax.set_yticks(positions, [f"row {plain(r)} (label {plain(y)})" for r, y in zip(table["row"], table["label"])],
                  fontsize=8)
    ax.axvline(0, color="#333333", linewidth=0.8)
    response = result.params["response"]
    ax.set_xlabel("change of the " + ("prediction" if response == "prediction" else response))
    ax.set_title(f"training rows that move test row {plain(test_row)} most", fontsize=10)
    return ax

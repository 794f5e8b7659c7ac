"""Heat map: the attributions of many rows at once, rows ordered so that similar rows sit together."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice
from ._common import axes, diverging_cmap, fold, other_label, select

__all__ = ["heatmap"]

_MAX_CLUSTERED_ROWS = 3000


def heatmap(explanation, ax=None, *, output=None, max_display=10, order="output"):
    """Draw the attributions as a heat map: explained rows across, players down.

    Players are ordered by mean absolute attribution (largest on top; beyond ``max_display`` the
    rest are summed into "k other features"). Rows are ordered by the model's output
    (``order="output"``), by a hierarchical clustering of their attributions with optimal leaf order
    (``"clustering"``, at most 3,000 rows), or kept as given (``"none"``). Colours are symmetric
    around 0: vermillion pushes the output up, blue pulls it down. A line above the map shows the
    model's output for each row.

    Parameters
    ----------
    explanation : Explanation
        Several rows.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    output : label or int, default=None
        The output to draw; needed when the explanation has several outputs (a binary
        classifier's positive class when None).
    max_display : int, default=10
        Rows of the map, the folded one included.
    order : {"output", "clustering", "none"}, default="output"

    Returns
    -------
    matplotlib Axes
        The heat map's Axes (the output line is an inset of it).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tabxai as tx
    >>> expl = tx.Explanation([[1.0, -2.0], [3.0, 0.0], [0.5, 0.5]], [0.0, 0.0, 0.0], None, ["a", "b"],
    ...                       ["output"])
    >>> tx.plots.heatmap(expl).images[0].get_array().tolist()   # rows by output: -1, 1, 3
    [[1.0, 0.5, 3.0], [-2.0, 0.5, 0.0]]
    """
    order = check_choice(order, "order", ("output", "clustering", "none"))
    selected = select(explanation, output)
    values = selected.values
    n_rows = values.shape[0]
    if n_rows == 0:
        raise ValueError("the explanation has no rows; a heat map needs at least one")
    players = np.argsort(-np.abs(values).mean(axis=0), kind="stable")
    shown, folded = fold(players, max_display)
    labels = selected.name_labels()
    columns = [values[:, j] for j in shown]
    names = [labels[j] for j in shown]
    if folded:
        columns.append(values[:, folded].sum(axis=1))
        names.append(other_label(folded))
    table = np.column_stack(columns)
    rows = _row_order(values, selected.output_values, order)
    image = table[rows].T
    limit = float(np.abs(image).max()) or 1.0
    ax = axes(ax, 8.0, 1.8 + 0.38 * len(names))
    mesh = ax.imshow(image, aspect="auto", interpolation="nearest", cmap=diverging_cmap(), vmin=-limit,
                     vmax=limit)
    ax.set_yticks(np.arange(len(names)))
    ax.set_yticklabels(names)
    described = {"output": "ordered by output", "clustering": "ordered by a clustering", "none": "as given"}[order]
    ax.set_xlabel(f"explained rows ({described})")
    bar = ax.figure.colorbar(mesh, ax=ax, aspect=30, pad=0.02)
    bar.set_label(f"attribution to {selected.label}")
    bar.outline.set_visible(False)
    top = ax.inset_axes([0.0, 1.03, 1.0, 0.18], sharex=ax)
    top.plot(np.arange(n_rows), selected.output_values[rows], color="#333333", linewidth=1.0)
    top.set_ylabel(selected.label, fontsize=8, rotation=0, ha="right", va="center")
    top.tick_params(labelbottom=False, labelsize=7)
    for side in ("top", "right"):
        top.spines[side].set_visible(False)
    return ax


def _row_order(values, outputs, order):
    n_rows = values.shape[0]
    if order == "none" or n_rows < 3:
        return np.arange(n_rows) if order == "none" else np.argsort(outputs, kind="stable")
    if order == "output":
        return np.argsort(outputs, kind="stable")
    if n_rows > _MAX_CLUSTERED_ROWS:
        raise ValueError(f"order='clustering' takes at most {_MAX_CLUSTERED_ROWS} rows (memory grows with rows "
                         f"squared); got {n_rows}: use order='output' or explain fewer rows")
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import pdist

    distances = pdist(values, metric="cityblock")
    tree = linkage(distances, method="complete")
    return leaves_list(optimal_leaf_ordering(tree, distances))

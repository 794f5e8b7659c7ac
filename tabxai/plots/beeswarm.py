"""Beeswarm: every row's attribution for every player, coloured by the player's value."""

from __future__ import annotations

import numpy as np

from ._common import (CATEGORY_COLORS, NEUTRAL, axes, category_codes, fold, is_categorical, numeric_values,
                      other_label, select, value_cmap)

__all__ = ["beeswarm"]


def beeswarm(explanation, ax=None, *, output=None, max_display=10):
    """Draw one dot per explained row and player at its attribution, stacked where dots crowd.

    Players are ordered by their mean absolute attribution, largest on top; beyond ``max_display``
    rows of dots the rest are folded into "k other features" (the sum of their attributions per
    row). A dot's colour is the player's value in that row: from blue (low, the 5th percentile) to
    vermillion (high, the 95th) for a numeric column, with a colour bar; one colour per category
    for a categorical column (read which is which with :func:`scatter`); grey for missing values,
    feature groups and the folded row.

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
        Rows of dots, the folded one included.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import pandas as pd
    >>> import tabxai as tx
    >>> data = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "a"]})
    >>> expl = tx.Explanation(np.array([[1.0, 0.1], [-2.0, 0.2], [3.0, -0.1]]), np.zeros(3), data, ["x", "y"],
    ...                       ["output"])
    >>> ax = tx.plots.beeswarm(expl)
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.collections[0].get_offsets()[:, 0].tolist()
    (['x', 'y'], [1.0, -2.0, 3.0])
    """
    selected = select(explanation, output)
    values = selected.values
    n_rows = values.shape[0]
    if n_rows == 0:
        raise ValueError("the explanation has no rows; a beeswarm needs at least one")
    order = np.argsort(-np.abs(values).mean(axis=0), kind="stable")
    shown, folded = fold(order, max_display)
    labels = selected.name_labels()
    columns = [values[:, j] for j in shown]
    names = [labels[j] for j in shown]
    colours = [_colours(selected, j) for j in shown]
    if folded:
        columns.append(values[:, folded].sum(axis=1))
        names.append(other_label(folded))
        colours.append(None)
    ax = axes(ax, 7.5, 1.4 + 0.42 * len(names))
    cmap = value_cmap()
    numeric = False
    # dense swarms: small squares, which look like dots at that size and render a third faster
    marker, marker_size = ("o", 12) if n_rows <= 2000 else ("s", 4)
    for position, column, colour in zip(range(len(names) - 1, -1, -1), columns, colours):
        offsets = _swarm(column, 0.4)
        if colour is None:
            facecolors = NEUTRAL
        elif colour[0] == "numeric":
            numeric = True
            facecolors = _numeric_colours(colour[1], cmap)
        else:
            facecolors = colour[1]
        ax.scatter(column, position + offsets, s=marker_size, c=facecolors, marker=marker, linewidths=0,
                   rasterized=n_rows > 2000, zorder=2)
    ax.axvline(0.0, color="#999999", linewidth=0.8, zorder=1)
    ax.set_yticks(np.arange(len(names))[::-1])
    ax.set_yticklabels(names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlabel(f"attribution to {selected.label}")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if numeric:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        bar = ax.figure.colorbar(ScalarMappable(Normalize(0.0, 1.0), cmap), ax=ax, aspect=40, pad=0.02)
        bar.set_ticks([0.0, 1.0])
        bar.set_ticklabels(["low", "high"])
        bar.set_label("feature value")
        bar.outline.set_visible(False)
    return ax


def _colours(selected, player):
    """("numeric", scaled values in [0, 1] or NaN) or ("categorical", RGBA per row), or None (grey)."""
    frame = selected.frame
    members = selected.members[player]
    if frame is None or len(members) != 1:
        return None
    column = frame[members[0]]
    if is_categorical(column):
        codes, labels = category_codes(column)
        palette = np.array([_rgba(c) for c in CATEGORY_COLORS])
        rgba = palette[codes % len(palette)]
        rgba[codes < 0] = _rgba(NEUTRAL)
        return "categorical", rgba
    numbers = numeric_values(column)
    present = numbers[np.isfinite(numbers)]
    if present.size == 0:
        return None
    low, high = np.percentile(present, [5, 95])
    if high <= low:
        low, high = present.min(), present.max()
    scaled = np.clip((numbers - low) / (high - low), 0.0, 1.0) if high > low else np.full(numbers.shape, 0.5)
    scaled[~np.isfinite(numbers)] = np.nan
    return "numeric", scaled


def _numeric_colours(scaled, cmap):
    rgba = cmap(np.nan_to_num(scaled, nan=0.5))
    rgba[np.isnan(scaled)] = _rgba(NEUTRAL)
    return rgba


def _rgba(colour):
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(colour))


def _swarm(values, width, n_bins=100):
    """Vertical offsets that stack the dots of each of ``n_bins`` value bins, alternating up and down."""
    n = values.shape[0]
    if n == 0:
        return np.zeros(0)
    low, high = float(values.min()), float(values.max())
    span = high - low
    bins = np.zeros(n, dtype=np.int64) if span == 0 else np.minimum(
        ((values - low) / span * n_bins).astype(np.int64), n_bins - 1)
    order = np.lexsort((np.arange(n), bins))
    sorted_bins = bins[order]
    starts = np.searchsorted(sorted_bins, sorted_bins, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts
    counts = np.bincount(bins, minlength=n_bins)
    step = width / max((counts.max() + 1) // 2, 1)
    level = (rank + 1) // 2
    sign = np.where(rank % 2 == 1, 1.0, -1.0)
    return np.minimum(level * step, width) * sign

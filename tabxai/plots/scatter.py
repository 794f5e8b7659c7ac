"""Scatter (dependence plot): a player's attribution against the value of one of its columns."""

from __future__ import annotations

import numpy as np

from .. import _display
from ._common import (CATEGORY_COLORS, NEUTRAL, axes, category_codes, is_categorical, numeric_values, select,
                      value_cmap)

__all__ = ["scatter"]


def scatter(explanation, feature, color=None, ax=None, *, output=None):
    """Draw each explained row's attribution of ``feature`` against the feature's value.

    A numeric feature is drawn on a numeric axis (rows where it is missing are left out and counted
    in the title); a categorical one on a categorical axis with its labels, spread a little
    sideways so that dots do not hide each other (deterministic). A column inside a feature group
    is drawn against the group's attribution. ``color`` names another column to colour the dots by:
    a colour bar for a numeric one, a legend for a categorical one.

    Parameters
    ----------
    explanation : Explanation
        Several rows, with their data.
    feature : column name
        A column of the explained rows (a player, or a member of a feature group).
    color : column name, default=None
        A column to colour the dots by.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    output : label or int, default=None
        The output to draw; needed when the explanation has several outputs (a binary
        classifier's positive class when None).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> import tabxai as tx
    >>> data = pd.DataFrame({"age": [20, 40, 60]})
    >>> expl = tx.Explanation([[-1.0], [0.0], [1.0]], [0.0, 0.0, 0.0], data, ["age"], ["output"])
    >>> tx.plots.scatter(expl, "age").collections[0].get_offsets().tolist()
    [[20.0, -1.0], [40.0, 0.0], [60.0, 1.0]]
    """
    selected = select(explanation, output)
    frame = selected.frame
    if frame is None:
        raise ValueError("a scatter plot needs the explained rows' data; this explanation has none")
    player = _player_of(selected, feature)
    column = frame[_column(frame, feature)]
    values = selected.values[:, player]
    ax = axes(ax, 6.5, 4.2)
    title = ""
    if is_categorical(column):
        codes, labels = category_codes(column)
        if (codes < 0).any():
            labels = labels + ["missing"]
            codes = np.where(codes < 0, len(labels) - 1, codes)
        x = codes + _spread(codes)
        keep = np.ones(len(x), dtype=bool)
        ax.set_xticks(np.arange(len(labels)))
        rotate = len(labels) > 4 or max((len(str(v)) for v in labels), default=0) > 12
        ax.set_xticklabels([_display.shorten(_display.plain(v), 22) for v in labels], rotation=30 if rotate else 0,
                           ha="right" if rotate else "center")
        ax.set_xlim(-0.6, len(labels) - 0.4)
    else:
        x = numeric_values(column)
        keep = np.isfinite(x)
        if not keep.all():
            missing = int((~keep).sum())
            title = f"{missing} row{'s' * (missing != 1)} with {_display.plain(feature)} missing not drawn"
    style = {"s": 14 if len(values) <= 2000 else 5, "linewidths": 0, "zorder": 2}
    if color is None:
        ax.scatter(x[keep], values[keep], color=_display.MAGNITUDE, **style)
    else:
        _coloured(ax, frame[_column(frame, color)], color, x, values, keep, style)
    ax.axhline(0.0, color="#999999", linewidth=0.8, zorder=1)
    ax.set_xlabel(_display.shorten(_display.plain(feature), 60))
    name = selected.names[player]
    what = _display.plain(name) if _display.plain(name) == _display.plain(feature) else \
        f"group {_display.plain(name)}"
    ax.set_ylabel(f"attribution of {_display.shorten(what, 30)}\nto {selected.label}")
    if title:
        ax.set_title(title, fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _column(frame, name):
    matches = [c for c in frame.columns if c == name]
    if not matches:
        raise ValueError(f"unknown feature {name!r}; the columns are {[_display.plain(c) for c in frame.columns]}")
    return matches[0]


def _player_of(selected, feature):
    for j, members in enumerate(selected.members):
        if any(m == feature for m in members):
            return j
    for j, name in enumerate(selected.names):
        if name == feature:
            return j
    raise ValueError(f"unknown feature {feature!r}; the players are {[_display.plain(n) for n in selected.names]}")


def _spread(codes):
    """Deterministic sideways offsets within each category, in [-0.3, 0.3]."""
    offsets = np.zeros(len(codes))
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        if len(rows) > 1:
            offsets[rows] = (np.arange(len(rows)) * 0.618034) % 1.0 * 0.6 - 0.3
    return offsets


def _coloured(ax, column, name, x, values, keep, style):
    label = _display.shorten(_display.plain(name), 30)
    if is_categorical(column):
        codes, labels = category_codes(column)
        for code, category in [(c, labels[c]) for c in range(len(labels))] + [(-1, "missing")]:
            rows = keep & (codes == code)
            if not rows.any():
                continue
            colour = NEUTRAL if code < 0 else CATEGORY_COLORS[code % len(CATEGORY_COLORS)]
            ax.scatter(x[rows], values[rows], color=colour, label=_display.shorten(_display.plain(category), 24),
                       **style)
        ax.legend(title=label, fontsize=8, title_fontsize=8, frameon=False, loc="best")
        return
    numbers = numeric_values(column)
    present = keep & np.isfinite(numbers)
    if (keep & ~present).any():
        ax.scatter(x[keep & ~present], values[keep & ~present], color=NEUTRAL, **style)
    points = ax.scatter(x[present], values[present], c=numbers[present], cmap=value_cmap(), **style)
    bar = ax.figure.colorbar(points, ax=ax, pad=0.02)
    bar.set_label(label)
    bar.outline.set_visible(False)

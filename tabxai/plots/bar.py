"""Bar: global importance, the mean absolute attribution per player, overall or per cohort of rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _display
from ._common import CATEGORY_COLORS, MAGNITUDE, axes, fold, other_label, select

__all__ = ["bar"]


def bar(explanation, ax=None, *, output=None, max_display=10, cohorts=None):
    """Draw the mean absolute attribution of each player over the explained rows.

    Bars are sorted, largest on top, with a 95% confidence interval over the rows
    (``1.96 x std(|values|) / sqrt(n)``: how much the mean would move with other rows from the same
    population; it does not include the estimators' own standard errors). Beyond ``max_display``
    bars the rest are folded into one bar, "k other features", whose length is the mean over rows of
    their summed absolute values. Player names are wrapped or shortened to fit.

    With ``cohorts`` (one label per explained row, e.g. a sensitive attribute), each player gets one
    bar per cohort, in the cohort's colour, ordered by the overall mean; the legend gives each
    cohort's number of rows.

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
        Number of players drawn, the folded bar included.
    cohorts : array-like of shape (n_rows,), default=None
        A cohort label per explained row (missing labels form the cohort "missing"); at most 8
        distinct labels.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import tabxai as tx
    >>> expl = tx.Explanation([[1.0, -2.0], [3.0, 0.0]], [0.0, 0.0], None, ["a", "b"], ["output"])
    >>> ax = tx.plots.bar(expl)
    >>> [t.get_text() for t in ax.get_yticklabels()], [float(p.get_width()) for p in ax.patches]
    (['a', 'b'], [2.0, 1.0])
    """
    selected = select(explanation, output)
    magnitudes = np.abs(selected.values)
    n_rows, n_players = magnitudes.shape
    if n_rows == 0:
        raise ValueError("the explanation has no rows; a bar plot needs at least one")
    means = magnitudes.mean(axis=0)
    order = np.argsort(-means, kind="stable")
    shown, folded = fold(order, max_display)
    labels = selected.name_labels()
    columns = [magnitudes[:, j] for j in shown]
    names = [labels[j] for j in shown]
    if folded:
        columns.append(magnitudes[:, folded].sum(axis=1))
        names.append(other_label(folded))
    table = np.column_stack(columns)  # (n_rows, bars), most important first
    positions = np.arange(len(names))[::-1].astype(float)  # first bar on top
    ax = axes(ax, 7.0, 1.3 + 0.38 * len(names) * (1 if cohorts is None else 1.6))
    if cohorts is None:
        _overall(ax, table, positions)
    else:
        _cohorts(ax, table, positions, _cohort_labels(cohorts, n_rows))
    ax.set_yticks(positions)
    ax.set_yticklabels(names)
    ax.set_xlabel(f"mean |attribution| to {selected.label}")
    ax.set_xlim(left=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _interval(table):
    n_rows = table.shape[0]
    if n_rows < 2:
        return None
    return 1.96 * table.std(axis=0, ddof=1) / np.sqrt(n_rows)


def _overall(ax, table, positions):
    means = table.mean(axis=0)
    errors = _interval(table)
    ax.barh(positions, means, height=0.65, color=MAGNITUDE, gid="importance")
    if errors is not None:
        ax.errorbar(means, positions, xerr=errors, fmt="none", ecolor="#333333", elinewidth=1.0, capsize=3,
                    gid="whiskers")
    fmt = _display.NumberFormat(means)
    reach = means + (errors if errors is not None else 0.0)
    pad = 0.01 * (reach.max() or 1.0)
    for p, mean, end in zip(positions, means, reach):
        ax.text(end + pad, p, fmt(mean), va="center", ha="left", fontsize=8)
    ax.set_xlim(0, 1.15 * (reach.max() or 1.0))


def _cohort_labels(cohorts, n_rows):
    labels = cohorts.to_numpy(dtype=object) if isinstance(cohorts, (pd.Series, pd.Index)) else \
        np.asarray(cohorts, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(f"`cohorts` must give one label per explained row ({n_rows}); got shape {labels.shape}")
    return np.array(["missing" if (not isinstance(v, str) and pd.isna(v)) else v for v in labels], dtype=object)


def _cohorts(ax, table, positions, labels):
    names = list(pd.unique(labels))
    try:
        names = sorted(names)
    except TypeError:
        names = sorted(names, key=str)
    if len(names) > len(CATEGORY_COLORS):
        raise ValueError(f"`cohorts` has {len(names)} distinct labels; a bar plot by cohort draws at most "
                         f"{len(CATEGORY_COLORS)} (group the labels first)")
    height = 0.8 / len(names)
    reach = 0.0
    for c, name in enumerate(names):
        rows = labels == name
        part = table[rows]
        means = part.mean(axis=0)
        errors = _interval(part)
        offset = (len(names) - 1) / 2 * height - c * height
        colour = CATEGORY_COLORS[c]
        ax.barh(positions + offset, means, height=height * 0.92, color=colour,
                label=f"{_display.shorten(_display.plain(name), 24)} (n={int(rows.sum())})", gid=f"cohort {c}")
        if errors is not None:
            ax.errorbar(means, positions + offset, xerr=errors, fmt="none", ecolor="#333333", elinewidth=0.8,
                        capsize=2)
        reach = max(reach, float((means + (0 if errors is None else errors)).max()))
    ax.legend(title="cohort", fontsize=8, title_fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncols=min(len(names), 4), alignment="left")
    ax.set_xlim(0, 1.1 * (reach or 1.0))

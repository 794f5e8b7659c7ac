"""Waterfall: how one row's attributions lead from the base value to the model's output."""

from __future__ import annotations

import numpy as np

from .. import _display
from ._common import _output_position, axes, fold, other_label, select, sign_colors

__all__ = ["waterfall"]


def waterfall(explanation, ax=None, *, output=None, max_display=10):
    """Draw one explained row as a waterfall from the base value to the model's output.

    Players are sorted by the size of their attribution, largest on top; beyond ``max_display``
    bars the smallest are folded into one bar "k other features" (their sum). Each bar starts where
    the previous one ended, so the bottom bar starts at the base value ``E[f(X)]`` and the top one
    ends at the model's output ``f(x) = base + sum of the values``. Labels carry the row's values
    (``duration = 48``; a feature group lists its columns). Bars that push the output up are
    vermillion, those that pull it down blue. Where the method gives standard errors, whiskers
    span ``value ± 1.96 x stderr`` (none on the folded bar, whose terms are correlated).

    Parameters
    ----------
    explanation : Explanation
        One row: ``expl[i]`` (or an Explanation of a single row).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    output : label or int, default=None
        The output to draw; needed when the explanation has several outputs (a binary
        classifier's positive class when None).
    max_display : int, default=10
        Number of bars, the folded one included.

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
    >>> data = pd.DataFrame({"age": [30], "income": [5.0], "job": ["clerk"]})
    >>> expl = tx.Explanation([[0.5, -0.25, 0.125]], [1.0], data, ["age", "income", "job"], ["output"])
    >>> ax = tx.plots.waterfall(expl[0])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['job = clerk', 'income = 5', 'age = 30']
    >>> float(ax.patches[-1].get_x() + ax.patches[-1].get_width())   # ends at f(x) = 1 + 0.375
    1.375
    """
    selected = select(explanation, output)
    n_rows = selected.values.shape[0]
    if n_rows != 1:
        raise ValueError(f"a waterfall draws one row; give one row of the explanation, e.g. expl[0] "
                         f"(this one has {n_rows} rows)")
    values = selected.values[0]
    base = float(selected.base[0])
    order = np.argsort(-np.abs(values), kind="stable")
    shown, folded = fold(order, max_display)
    labels = selected.row_labels(0)
    # bottom to top: the folded bar first, then the shown players from the smallest to the largest
    bars = ([(other_label(folded), float(values[folded].sum()), None)] if folded else [])
    errors = None if selected.stderr is None else 1.96 * selected.stderr[0]
    for j in reversed(shown):
        bars.append((labels[j], float(values[j]), None if errors is None else float(errors[j])))
    widths = np.array([b[1] for b in bars])
    lefts = base + np.concatenate([[0.0], np.cumsum(widths)[:-1]])
    ends = lefts + widths
    positions = np.arange(len(bars), dtype=float)
    fmt = _display.NumberFormat(np.concatenate([[base, base + values.sum()], widths]))

    ax = axes(ax, 7.5, 1.4 + 0.42 * len(bars))
    ax.barh(positions, widths, left=lefts, height=0.62, color=sign_colors(widths), gid="attributions")
    whiskers = [(p, end, err) for p, end, (_, _, err) in zip(positions, ends, bars) if err is not None]
    if whiskers:
        ys, xs, xerr = (np.array(column) for column in zip(*whiskers))
        ax.errorbar(xs, ys, xerr=xerr, fmt="none", ecolor="#333333", elinewidth=1.0, capsize=3, gid="whiskers")
    for p in positions[:-1]:  # connectors: where one bar ends the next begins
        ax.plot([ends[int(p)], ends[int(p)]], [p + 0.31, p + 0.69], color="#777777", linewidth=0.6, gid="connector")
    span = max(ends.max(), lefts.max(), base) - min(ends.min(), lefts.min(), base)
    pad = 0.015 * (span or 1.0)
    for p, left, width in zip(positions, lefts, widths):
        right = width >= 0
        ax.text(left + width + (pad if right else -pad), p, fmt(width, sign=True), va="center",
                ha="left" if right else "right", fontsize=8)
    output_value = base + values.sum()
    ax.axvline(base, color="#999999", linestyle=":", linewidth=0.9)
    ax.axvline(output_value, color="#333333", linestyle=":", linewidth=0.9)
    ax.set_yticks(positions)
    ax.set_yticklabels([b[0] for b in bars])
    ax.set_ylim(-0.6, len(bars) - 0.4)
    low = min(lefts.min(), ends.min(), base)
    high = max(lefts.max(), ends.max(), base)
    margin = 0.18 * (high - low or 1.0)
    ax.set_xlim(low - margin, high + margin)
    ax.set_xlabel(selected.label)
    model = explanation.model_output(0, _output_position(explanation._output_names, output, explanation.params))
    if model is None:
        ax.set_title(f"{selected.label}: base value {fmt(base)} → f(x) = {fmt(output_value)}", fontsize=10)
    else:  # a LIME surrogate: its values add up to its own prediction at the row, not to the model's
        ax.set_title(f"{selected.label}: intercept {fmt(base)} → surrogate {fmt(output_value)} "
                     f"(model f(x) = {fmt(model)})", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax

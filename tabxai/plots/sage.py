"""Bar plot of SAGE values with 95% intervals."""

from __future__ import annotations

import numpy as np

from .. import _display
from ._common import MAGNITUDE, axes, fold

__all__ = ["sage_values"]


def sage_values(result, ax=None, *, max_features=20):
    """Draw SAGE values as horizontal bars with 95% intervals (1.96 standard errors), largest on top.

    Parameters
    ----------
    result : SageValues
    ax : matplotlib Axes, default=None
    max_features : int, default=20
        Most features drawn (the largest values).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from tabxai.inspection import SageValues
    >>> result = SageValues([0.2, 0.05], [0.01, 0.02], ["a", "b"], "mse", {}, n_permutations=64,
    ...                     converged=True, total=0.25)
    >>> [round(float(p.get_width()), 2) for p in sage_values(result).patches]
    [0.05, 0.2]
    """
    from ..inspection import SageValues

    if not isinstance(result, SageValues):
        raise TypeError(f"expected tabxai SageValues; got {type(result).__name__}")
    order = np.argsort(-result.values, kind="stable")
    shown, _ = fold(order, max_features)
    shown = shown if len(order) <= max_features else list(order[:max_features])
    shown = shown[::-1]
    ax = axes(ax, 6.5, 1.0 + 0.32 * len(shown))
    ax.barh(range(len(shown)), result.values[shown], xerr=1.96 * result.stderr[shown], color=MAGNITUDE,
            error_kw={"ecolor": "black", "capsize": 2, "linewidth": 1})
    ax.set_yticks(range(len(shown)), [_display.shorten(_display.plain(result.feature_names[j]), 30) for j in shown])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"SAGE value: decrease in {result.loss} (± 95% interval)")
    return ax

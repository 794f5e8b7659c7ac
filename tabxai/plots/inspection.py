"""Plots of the global inspection results: partial dependence and ICE, ALE, permutation importance.

Every function takes an optional matplotlib ``ax`` (default: a new figure), draws on it and
returns it; several results at once give a figure with one panel each. matplotlib is imported
when a plot is drawn, never when tabxai is imported.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .. import _display
from .._validation import check_int, resolve_seed
from ._common import MAGNITUDE, NEUTRAL, axes

__all__ = ["accumulated_local_effects", "partial_dependence", "permutation_importance"]

_AVERAGE_COLOR = MAGNITUDE  # curves and sizes have no direction: slate, never the towards/against pair
_ICE_COLOR = NEUTRAL


def _panels(results, ax, draw):
    """One panel per result on a new figure (or on the Axes in ``ax``); returns the Figure."""
    results = list(results)
    if not results:
        raise ValueError("give at least one result to plot")
    if ax is None:
        import matplotlib.pyplot as plt

        n_cols = min(3, len(results))
        n_rows = math.ceil(len(results) / n_cols)
        figure = plt.figure(figsize=(4.2 * n_cols, 3.4 * n_rows), layout="constrained")
        grid = figure.subplots(n_rows, n_cols, squeeze=False).ravel()
        for extra in grid[len(results):]:
            extra.set_visible(False)
    else:
        grid = np.asarray(ax, dtype=object).ravel()
        if len(grid) < len(results):
            raise ValueError(f"`ax` has {len(grid)} Axes for {len(results)} results")
        figure = grid[0].figure
    for result, panel in zip(results, grid):
        draw(result, panel)
    n_cols = 3 if ax is None else None
    if n_cols is not None:  # one y-label per row of panels when they share the output
        labels = {panel.get_ylabel() for panel in grid[:len(results)]}
        if len(labels) == 1:
            for position, panel in enumerate(grid[:len(results)]):
                if position % min(3, len(results)) != 0:
                    panel.set_ylabel("")
    return figure


def partial_dependence(result, ax=None, *, output=None, max_ice_lines=100, random_state=None):
    """Draw a :class:`~tabxai.PartialDependence`, or several as a figure with one panel each.

    One numeric feature: the average (partial dependence) as a thick line over at most
    ``max_ice_lines`` ICE curves drawn lighter (a random subsample of the rows), with a legend,
    and the deciles of the feature's data as a rug along the bottom (as scikit-learn does). One
    categorical feature: bars of the average, ICE values as points, labels shortened to fit. A
    pair: a heat map of the average with a colour bar, and contour lines when both features are
    numeric. The y-axis (or colour bar) always names the output, e.g. ``P(bad)``.

    Parameters
    ----------
    result : PartialDependence or list of PartialDependence
        A list (as ``tx.partial_dependences(model, X, [f1, f2])`` returns) gives one panel each.
    ax : matplotlib Axes (or a sequence of Axes for a list), default=None
        Where to draw; a new figure when None.
    output : class label or int, default=None
        Which output to draw; needed when the model has more than two outputs.
    max_ice_lines : int, default=100
        At most this many ICE curves.
    random_state : None, int or Generator, default=None
        Seed of the subsample of ICE curves.

    Returns
    -------
    matplotlib Axes, or a Figure for a list of results

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> pd_ = tx.partial_dependence(LinearRegression().fit(X, X[:, 0]), X, 0, kind="both")
    >>> ax = tx.plots.partial_dependence(pd_, max_ice_lines=10, random_state=0)
    >>> len(ax.lines), ax.get_ylabel()  # 10 ICE curves and the average
    (11, 'prediction')
    """
    max_ice_lines = check_int(max_ice_lines, "max_ice_lines", min_value=0)
    if isinstance(result, (list, tuple)):
        return _panels(result, ax, lambda r, panel: partial_dependence(
            r, panel, output=output, max_ice_lines=max_ice_lines, random_state=random_state))
    k = result.output_index(output)
    label = _display.output_label(result.params, result.output_names[k])
    ax = axes(ax, 5.5, 4.0)
    if len(result.features) == 2:
        return _plot_pair(result, ax, k, label)
    grid = result.grid_values[0]
    ice = None
    rng = np.random.default_rng(resolve_seed(random_state))
    if result.individual is not None and max_ice_lines > 0:
        curves = result.individual[k]
        n_lines = min(max_ice_lines, curves.shape[0])
        ice = curves[np.sort(rng.choice(curves.shape[0], size=n_lines, replace=False))]
    if result.categorical[0]:
        positions = np.arange(len(grid))
        if result.average is not None:
            ax.bar(positions, result.average[k], color=_AVERAGE_COLOR, alpha=0.45, label="average (PD)")
        if ice is not None:
            jitter = rng.uniform(-0.2, 0.2, size=ice.shape)
            ax.scatter((positions[None, :] + jitter).ravel(), ice.ravel(), s=6, color="#333333", alpha=0.45,
                       label="individual rows (ICE)", zorder=3)
        _category_ticks(ax, grid)
    else:
        if ice is not None:
            lines = ax.plot(grid, ice.T, color=_ICE_COLOR, alpha=0.3, linewidth=0.6)
            lines[0].set_label("individual rows (ICE)")
        if result.average is not None:
            ax.plot(grid, result.average[k], color=_AVERAGE_COLOR, linewidth=2.5, label="average (PD)")
        deciles = result.deciles[0] if getattr(result, "deciles", None) else None
        if deciles is not None and len(deciles):
            ax.vlines(deciles, 0.0, 0.05, transform=ax.get_xaxis_transform(), colors="black", linewidth=0.8,
                      gid="deciles")
    ax.set_xlabel(_display.shorten(_display.plain(result.features[0]), 50))
    ax.set_ylabel(("centred " if result.centered else "") + label)
    if ice is not None and result.average is not None:  # above the panel: never over the bars, dots or curves
        ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2,
                  borderaxespad=0.2, handletextpad=0.4, columnspacing=1.0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def _category_ticks(ax, labels, axis="x"):
    """Category labels that fit: shortened, and turned when there are many or long ones."""
    texts = [_display.shorten(_display.plain(v), 18) for v in labels]
    turn = axis == "x" and (len(texts) > 4 or max((len(t) for t in texts), default=0) > 10)
    if axis == "x":
        ax.set_xticks(np.arange(len(texts)))
        ax.set_xticklabels(texts, rotation=35 if turn else 0, ha="right" if turn else "center",
                           rotation_mode="anchor" if turn else "default")
    else:
        ax.set_yticks(np.arange(len(texts)))
        ax.set_yticklabels(texts)


def _plot_pair(result, ax, k, label):
    if result.average is None:
        raise ValueError("a pair is drawn as a heat map of the average; compute it with kind='average' or 'both'")
    average = result.average[k]
    coordinates = []
    for values, categorical in zip(result.grid_values, result.categorical):
        coordinates.append(np.arange(len(values)) if categorical else np.asarray(values, dtype=np.float64))
    mesh = ax.pcolormesh(coordinates[0], coordinates[1], average.T, shading="nearest", cmap="viridis")
    numeric = not any(result.categorical)
    if numeric and min(average.shape) >= 2 and np.ptp(average) > 0:
        contours = ax.contour(coordinates[0], coordinates[1], average.T, colors="white", linewidths=0.7)
        ax.clabel(contours, fontsize=7)
    for axis, values, categorical in (("x", result.grid_values[0], result.categorical[0]),
                                      ("y", result.grid_values[1], result.categorical[1])):
        if categorical:
            _category_ticks(ax, values, axis)
    ax.figure.colorbar(mesh, ax=ax, label=("centred " if result.centered else "") + label)
    ax.set_xlabel(_display.shorten(_display.plain(result.features[0]), 50))
    ax.set_ylabel(_display.shorten(_display.plain(result.features[1]), 50))
    return ax


def accumulated_local_effects(result, ax=None, *, output=None):
    """Draw an :class:`~tabxai.AccumulatedLocalEffects` (or several, one panel each).

    The ALE at the bin edges, the edges as a rug along the bottom, and the y-axis naming the
    output (``ALE of P(bad)``).

    Parameters
    ----------
    result : AccumulatedLocalEffects or list of them
    ax : matplotlib Axes (or a sequence of Axes for a list), default=None
        Where to draw; a new figure when None.
    output : class label or int, default=None
        Which output to draw; needed when the model has more than two outputs.

    Returns
    -------
    matplotlib Axes, or a Figure for a list of results

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> ale = tx.accumulated_local_effects(LinearRegression().fit(X, X[:, 0]), X, 0, grid_resolution=5)
    >>> tx.plots.accumulated_local_effects(ale).lines[0].get_xdata().shape
    (5,)
    """
    if isinstance(result, (list, tuple)):
        return _panels(result, ax, lambda r, panel: accumulated_local_effects(r, panel, output=output))
    k = result.output_index(output)
    label = _display.output_label(result.params, result.output_names[k])
    ax = axes(ax, 5.5, 4.0)
    ax.plot(result.grid_values, result.values[k], color=_AVERAGE_COLOR, linewidth=2, marker="o", markersize=3,
            label="ALE")
    ax.axhline(0.0, color="#999999", linewidth=0.6)
    ax.vlines(result.grid_values, 0.0, 0.04, transform=ax.get_xaxis_transform(), color="black", linewidth=0.6,
              gid="edges")
    ax.set_xlabel(_display.shorten(_display.plain(result.feature), 50))
    ax.set_ylabel(f"ALE of {label}")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def permutation_importance(result, ax=None, *, max_features=20):
    """Draw a :class:`~tabxai.PermutationImportance` as horizontal box plots over the repeats.

    The most important feature (largest mean) is on top; the title states the baseline score
    the drops are measured from. Long names are shortened to fit.

    Parameters
    ----------
    result : PermutationImportance
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    max_features : int, default=20
        Show at most this many features, the most important.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2)); y = X[:, 0]
    >>> imp = tx.permutation_importance(LinearRegression().fit(X, y), X, y, random_state=0)
    >>> [t.get_text() for t in tx.plots.permutation_importance(imp).get_yticklabels()]
    ['x1', 'x0']
    """
    max_features = check_int(max_features, "max_features", min_value=1)
    order = np.argsort(result.importances_mean, kind="stable")[-max_features:]
    ax = axes(ax, 7.0, 1.5 + 0.36 * len(order))
    data = [result.importances[j] for j in order]
    positions = np.arange(1, len(order) + 1)
    style = {"positions": positions, "widths": 0.6, "medianprops": {"gid": "median", "color": _AVERAGE_COLOR},
             "patch_artist": True, "boxprops": {"facecolor": "#DDE3E8", "edgecolor": "#333333"}}
    if "orientation" in inspect.signature(ax.boxplot).parameters:
        ax.boxplot(data, orientation="horizontal", **style)
    else:
        ax.boxplot(data, vert=False, **style)
    ax.set_yticks(positions)
    ax.set_yticklabels([_display.shorten(_display.plain(result.feature_names[j]), 30) for j in order])
    ax.axvline(0.0, color="#999999", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"decrease in {result.scoring} when the feature is permuted")
    fmt = _display.NumberFormat([result.baseline_score])
    # two short lines: the title fits a narrow report figure whatever the scoring's name
    ax.set_title(f"baseline {result.scoring} = {fmt(result.baseline_score)}, {result.importances.shape[1]} repeats\n"
                 "boxes show permutation noise only", fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax

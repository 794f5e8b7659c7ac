"""Plots of the global inspection results: partial dependence and ICE, ALE, permutation importance.

Every function takes an optional matplotlib ``ax`` (default: the current axes), draws on it and
returns it. matplotlib is imported when a plot is drawn, never when tabxai is imported.
"""

from __future__ import annotations

import inspect

import numpy as np

from .._validation import check_int, resolve_seed

__all__ = ["plot_accumulated_local_effects", "plot_partial_dependence", "plot_permutation_importance"]

_ICE_COLOR = "tab:blue"
_AVERAGE_COLOR = "tab:orange"


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _output_label(result, k):
    return f" ({result.output_names[k]})" if len(result.output_names) > 1 else ""


def plot_partial_dependence(result, ax=None, *, output=None, max_ice_lines=100, random_state=None):
    """Draw a :class:`~tabxai.PartialDependence`.

    One numeric feature: the average as a thick line over at most ``max_ice_lines`` ICE curves
    (a random subsample of the rows). One categorical feature: bars of the average, ICE values as
    points. A pair: a heat map of the average with a colour bar, and contour lines when both
    features are numeric.

    Parameters
    ----------
    result : PartialDependence
    ax : matplotlib Axes, default=None
        Where to draw (default: the current axes).
    output : class label or int, default=None
        Which output to draw; needed when the model has more than two outputs.
    max_ice_lines : int, default=100
        At most this many ICE curves.
    random_state : None, int or Generator, default=None
        Seed of the subsample of ICE curves.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> pd_ = tx.partial_dependence(LinearRegression().fit(X, X[:, 0]), X, 0, kind="both")
    >>> ax = plot_partial_dependence(pd_, plt.figure().gca(), max_ice_lines=10, random_state=0)
    >>> len(ax.lines)  # 10 ICE curves and the average
    11
    """
    max_ice_lines = check_int(max_ice_lines, "max_ice_lines", min_value=0)
    k = result.output_index(output)
    ax = _axes(ax)
    if len(result.features) == 2:
        return _plot_pair(result, ax, k)
    grid = result.grid_values[0]
    ice = None
    if result.individual is not None and max_ice_lines > 0:
        curves = result.individual[k]
        rng = np.random.default_rng(resolve_seed(random_state))
        n_lines = min(max_ice_lines, curves.shape[0])
        ice = curves[np.sort(rng.choice(curves.shape[0], size=n_lines, replace=False))]
    else:
        rng = None
    what = "centred partial dependence" if result.centered else "partial dependence"
    if result.categorical[0]:
        positions = np.arange(len(grid))
        if result.average is not None:
            ax.bar(positions, result.average[k], color=_AVERAGE_COLOR, alpha=0.8, label="average")
        if ice is not None:
            jitter = rng.uniform(-0.2, 0.2, size=ice.shape)
            ax.scatter((positions[None, :] + jitter).ravel(), ice.ravel(), s=6, color=_ICE_COLOR, alpha=0.4,
                       label="individual")
        ax.set_xticks(positions)
        ax.set_xticklabels([str(v) for v in grid], rotation=45 if len(grid) > 6 else 0, ha="right"
                           if len(grid) > 6 else "center")
    else:
        if ice is not None:
            ax.plot(grid, ice.T, color=_ICE_COLOR, alpha=0.25, linewidth=0.6)
        if result.average is not None:
            ax.plot(grid, result.average[k], color=_AVERAGE_COLOR, linewidth=2.5, label="average")
    ax.set_xlabel(str(result.features[0]))
    ax.set_ylabel(what + _output_label(result, k))
    return ax


def _plot_pair(result, ax, k):
    if result.average is None:
        raise ValueError("a pair is drawn as a heat map of the average; compute it with kind='average' or 'both'")
    average = result.average[k]
    axes = []
    for values, categorical in zip(result.grid_values, result.categorical):
        axes.append(np.arange(len(values)) if categorical else np.asarray(values, dtype=np.float64))
    mesh = ax.pcolormesh(axes[0], axes[1], average.T, shading="nearest", cmap="viridis")
    numeric = not any(result.categorical)
    if numeric and min(average.shape) >= 2 and np.ptp(average) > 0:
        contours = ax.contour(axes[0], axes[1], average.T, colors="white", linewidths=0.7)
        ax.clabel(contours, fontsize=7)
    for set_ticks, set_labels, values, categorical in (
            (ax.set_xticks, ax.set_xticklabels, result.grid_values[0], result.categorical[0]),
            (ax.set_yticks, ax.set_yticklabels, result.grid_values[1], result.categorical[1])):
        if categorical:
            set_ticks(np.arange(len(values)))
            set_labels([str(v) for v in values])
    label = ("centred partial dependence" if result.centered else "partial dependence") + _output_label(result, k)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    ax.set_xlabel(str(result.features[0]))
    ax.set_ylabel(str(result.features[1]))
    return ax


def plot_accumulated_local_effects(result, ax=None, *, output=None):
    """Draw an :class:`~tabxai.AccumulatedLocalEffects`: the ALE at the bin edges, and the edges as a rug.

    Parameters
    ----------
    result : AccumulatedLocalEffects
    ax : matplotlib Axes, default=None
    output : class label or int, default=None
        Which output to draw; needed when the model has more than two outputs.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> ale = tx.accumulated_local_effects(LinearRegression().fit(X, X[:, 0]), X, 0, grid_resolution=5)
    >>> plot_accumulated_local_effects(ale, plt.figure().gca()).lines[0].get_xdata().shape
    (5,)
    """
    k = result.output_index(output)
    ax = _axes(ax)
    ax.plot(result.grid_values, result.values[k], color=_AVERAGE_COLOR, linewidth=2, marker="o", markersize=3,
            label="ALE")
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.vlines(result.grid_values, 0.0, 0.03, transform=ax.get_xaxis_transform(), color="black", linewidth=0.6)
    ax.set_xlabel(str(result.feature))
    ax.set_ylabel("accumulated local effect" + _output_label(result, k))
    return ax


def plot_permutation_importance(result, ax=None, *, max_features=20):
    """Draw a :class:`~tabxai.PermutationImportance` as horizontal box plots over the repeats.

    The most important feature (largest mean) is on top.

    Parameters
    ----------
    result : PermutationImportance
    ax : matplotlib Axes, default=None
    max_features : int, default=20
        Show at most this many features, the most important.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> import tabxai as tx
    >>> X = np.random.default_rng(0).normal(size=(100, 2)); y = X[:, 0]
    >>> imp = tx.permutation_importance(LinearRegression().fit(X, y), X, y, random_state=0)
    >>> [t.get_text() for t in plot_permutation_importance(imp, plt.figure().gca()).get_yticklabels()]
    ['x1', 'x0']
    """
    max_features = check_int(max_features, "max_features", min_value=1)
    ax = _axes(ax)
    order = np.argsort(result.importances_mean, kind="stable")[-max_features:]
    data = [result.importances[j] for j in order]
    positions = np.arange(1, len(order) + 1)
    style = {"positions": positions, "widths": 0.6, "medianprops": {"gid": "median"}}
    if "orientation" in inspect.signature(ax.boxplot).parameters:
        ax.boxplot(data, orientation="horizontal", **style)
    else:
        ax.boxplot(data, vert=False, **style)
    ax.set_yticks(positions)
    ax.set_yticklabels([str(result.feature_names[j]) for j in order])
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"decrease in {result.scoring}")
    return ax

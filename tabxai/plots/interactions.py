"""Plots of Shapley interactions: a heat map of mean |interaction| and a dependence scatter of one pair."""

from __future__ import annotations

import numpy as np

from .. import _display
from ._common import MAGNITUDE, axes

__all__ = ["interaction_dependence", "interaction_heatmap"]


def _check(explanation):
    from ..interaction_explanation import InteractionExplanation

    if not isinstance(explanation, InteractionExplanation):
        raise TypeError(f"expected a tabxai InteractionExplanation; got {type(explanation).__name__}")


def interaction_heatmap(explanation, ax=None, *, output=None, max_features=20):
    """Draw the mean over rows of |interaction| for every pair of players (main effects on the diagonal).

    Players are ordered by their total mean |value| (row sum); at most ``max_features`` are shown.

    Parameters
    ----------
    explanation : InteractionExplanation
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    output : label or int, default=None
        The output to draw (a binary classifier's positive class when None).
    max_features : int, default=20
        Most players shown (the strongest).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import tabxai as tx
    >>> values = np.array([[[1.0, 2.0], [2.0, -1.0]]])
    >>> ie = tx.InteractionExplanation(values, [0.0], None, ["a", "b"], ["y"])
    >>> tx.plots.interaction_heatmap(ie).images[0].get_array().tolist()
    [[1.0, 2.0], [2.0, 1.0]]
    """
    _check(explanation)
    from .._validation import check_int

    max_features = check_int(max_features, "max_features", min_value=1)
    k = explanation._output_position(output)
    matrix = explanation.mean_abs(k)
    order = np.argsort(-matrix.sum(axis=1), kind="stable")[:max_features]
    shown = matrix[np.ix_(order, order)]
    names = [_display.shorten(_display.plain(explanation.feature_names[j]), 25) for j in order]
    size = 1.2 + 0.38 * len(order)
    ax = axes(ax, size + 1.6, size)
    image = ax.imshow(shown, cmap=_magnitude_cmap(), vmin=0)
    ax.set_xticks(range(len(order)), names, rotation=90)
    ax.set_yticks(range(len(order)), names)
    label = _display.output_label(explanation.params, explanation._output_names[k])
    ax.figure.colorbar(image, ax=ax, label=f"mean |interaction| ({label})")
    index = explanation.params.get("parameters", {}).get("index", "")
    ax.set_title(f"{index} interactions: pairs off the diagonal, main effects on it".strip())
    return ax


def interaction_dependence(explanation, feature, partner=None, ax=None, *, output=None):
    """Draw the interaction of ``feature`` with ``partner`` against the feature's value, coloured by the partner.

    ``partner`` defaults to the player with the largest mean |interaction| with ``feature``;
    ``partner=feature`` draws the main effect (the diagonal). Built on :func:`tabxai.plots.scatter`.

    Parameters
    ----------
    explanation : InteractionExplanation
        Several rows, with their data.
    feature, partner : player name
    ax : matplotlib Axes, default=None
    output : label or int, default=None

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> import tabxai as tx
    >>> values = np.zeros((3, 2, 2)); values[:, 0, 1] = values[:, 1, 0] = [1.0, 2.0, 3.0]
    >>> data = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    >>> ax = tx.plots.interaction_dependence(tx.InteractionExplanation(values, np.zeros(3), data, ["a", "b"], ["y"]), "a")
    >>> ax.collections[0].get_offsets()[:, 1].tolist()
    [1.0, 2.0, 3.0]
    """
    _check(explanation)
    from ..explanation import Explanation
    from .scatter import scatter

    names = list(explanation.feature_names)
    if feature not in names:
        raise ValueError(f"unknown feature {feature!r}; the players are {names}")
    i = names.index(feature)
    k = explanation._output_position(output)
    if partner is None:
        strength = explanation.mean_abs(k)[i].copy()
        strength[i] = -np.inf
        partner = names[int(np.argmax(strength))]
    if partner not in names:
        raise ValueError(f"unknown partner {partner!r}; the players are {names}")
    j = names.index(partner)
    values = explanation._values[:, i, :, k].copy()
    values[:, i] = explanation._values[:, i, j, k]
    single = Explanation(values, explanation._base[:, k], explanation._data, names,
                         [explanation._output_names[k]], params=explanation.params, groups=explanation.groups)
    ax = scatter(single, feature, color=None if j == i else partner, ax=ax)
    what = "main effect" if i == j else f"interaction with {_display.plain(partner)}"
    ax.set_ylabel(f"{what} of {_display.plain(feature)}")
    return ax


def _magnitude_cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("tabxai_magnitude", ["#FFFFFF", MAGNITUDE])

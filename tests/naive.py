"""Slow, obviously correct reference implementations that the fast paths are tested against.

Each section belongs to one part of the package; keep them free of tabxai imports, so that a bug in
tabxai cannot hide in its own reference.
"""

import itertools
import math

import numpy as np
import pandas as pd

# --- shapley: begin ---


def naive_coalition_value(predict, x, background, on_columns, weights=None):
    """v(S): weighted mean over background rows of the model with the columns in ``on_columns`` from ``x``.

    ``x`` is one row (a pandas Series or 1-D array), ``background`` a DataFrame or 2-D array,
    ``predict`` maps such rows to outputs. Built row by row with plain assignments.
    """
    if isinstance(background, pd.DataFrame):
        masked = background.copy()
        for column in on_columns:
            masked[column] = [x[column]] * len(masked)
            masked[column] = masked[column].astype(background[column].dtype)
    else:
        masked = np.array(background, dtype=float, copy=True)
        for column in on_columns:
            masked[:, column] = x[column]
    outputs = np.asarray(predict(masked), dtype=float)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if weights is None:
        weights = np.ones(len(outputs))
    weights = np.asarray(weights, dtype=float)
    return (weights[:, None] * outputs).sum(axis=0) / weights.sum()


def naive_shapley(predict, x, background, groups, weights=None):
    """Shapley values straight from the definition: a sum over all subsets of the other players.

    ``groups`` is a list of players, each a list of columns (names for a DataFrame background,
    positions for an array). Returns an array (n_players, n_outputs).
    """
    n = len(groups)
    cache = {}

    def value(players):
        key = tuple(sorted(players))
        if key not in cache:
            columns = [c for p in key for c in groups[p]]
            cache[key] = naive_coalition_value(predict, x, background, columns, weights)
        return cache[key]

    phi = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                total = total + weight * (value(subset + (i,)) - value(subset))
        phi.append(total)
    return np.array(phi)


def naive_shapley_by_permutations(predict, x, background, groups, weights=None):
    """Shapley values as the mean marginal contribution over all n! orders of the players."""
    n = len(groups)
    phi = 0.0
    count = 0
    for order in itertools.permutations(range(n)):
        contributions = [None] * n
        before = naive_coalition_value(predict, x, background, [], weights)
        on = []
        for player in order:
            on = on + list(groups[player])
            after = naive_coalition_value(predict, x, background, on, weights)
            contributions[player] = after - before
            before = after
        phi = phi + np.array(contributions)
        count += 1
    return phi / count


# --- shapley: end ---

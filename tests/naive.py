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

# --- inspection: begin ---


def naive_partial_dependence(predict, X, columns, points, weights=None):
    """Average and ICE values at grid points by a loop: one copy of ``X`` per point, columns assigned.

    ``columns`` are names (DataFrame) or positions (array); ``points`` is a sequence of tuples, one
    value per column. Returns ``average (n_points, n_outputs)`` and ``individual (n_points, n_rows, n_outputs)``.
    """
    averages, individual = [], []
    for point in points:
        if isinstance(X, pd.DataFrame):
            changed = X.copy()
            for column, value in zip(columns, point):
                changed[column] = [value] * len(changed)
                changed[column] = changed[column].astype(X[column].dtype)
        else:
            changed = np.array(X, dtype=float, copy=True)
            for column, value in zip(columns, point):
                changed[:, column] = value
        outputs = np.asarray(predict(changed), dtype=float)
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        w = np.ones(len(outputs)) if weights is None else np.asarray(weights, dtype=float)
        averages.append((w[:, None] * outputs).sum(axis=0) / w.sum())
        individual.append(outputs)
    return np.array(averages), np.array(individual)


def naive_ale(predict, X, column, edges, weights=None):
    """Accumulated local effects at ``edges`` by loops over bins and rows (Apley and Zhu 2020, eqs. 15-16).

    Bin ``k`` (1-based) holds the rows with ``edges[k-1] < x <= edges[k]``, the first bin also ``edges[0]``.
    Returns ``(n_outputs, len(edges))``, centred so that the weighted mean over rows of the value at
    the upper edge of each row's bin is 0.
    """
    X = np.asarray(X, dtype=float)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    n_bins = len(edges) - 1
    effects, counts = [], []
    for k in range(1, n_bins + 1):
        total, count = 0.0, 0.0
        for i in range(len(X)):
            x = X[i, column]
            inside = (edges[k - 1] < x <= edges[k]) or (k == 1 and x == edges[0])
            if not inside:
                continue
            low, high = X[i].copy(), X[i].copy()
            low[column], high[column] = edges[k - 1], edges[k]
            difference = np.atleast_1d(np.asarray(predict(high[None, :]), dtype=float)[0]) - \
                np.atleast_1d(np.asarray(predict(low[None, :]), dtype=float)[0])
            total = total + w[i] * difference
            count += w[i]
        effects.append(total / count if count > 0 else 0.0 * total)
        counts.append(count)
    n_outputs = np.atleast_1d(effects[0]).shape[0]
    uncentred = np.zeros((n_outputs, len(edges)))
    for k in range(1, len(edges)):
        uncentred[:, k] = uncentred[:, k - 1] + np.atleast_1d(effects[k - 1])
    offset = sum(counts[k - 1] * uncentred[:, k] for k in range(1, len(edges))) / sum(counts)
    return uncentred - offset[:, None]


def naive_permutation_scores(score, X, y, columns, permutations):
    """Scores with ``columns`` permuted: ``score(X_permuted, y)`` for each permutation of the rows."""
    scores = []
    for permutation in permutations:
        if isinstance(X, pd.DataFrame):
            changed = X.copy()
            for column in columns:
                changed[column] = X[column].to_numpy()[permutation]
        else:
            changed = np.array(X, copy=True)
            for column in columns:
                changed[:, column] = np.asarray(X)[permutation, column]
        scores.append(score(changed, y))
    return np.array(scores)


# --- inspection: end ---

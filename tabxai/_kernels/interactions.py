"""Kernels for Shapley interactions: the order-two design, its normal equations, the coalition weights of an index."""

import numba
import numpy as np

from .kernel_shap import accumulate_active


@numba.njit(cache=True)
def pair_design_normal_equations(coalitions, weights, targets, pair_position):
    """``A = sum_S w_S z_S z_S^T`` and ``b = sum_S w_S z_S y_S^T`` for the order-two design.

    ``z_S`` has one entry per singleton ``i`` (1 if ``i`` in S) and per pair ``(i, j)`` (1 if both
    are in S); ``pair_position[i, j]`` (``i < j``) is the column of a pair, singletons are columns
    ``0 .. n - 1``. Only the ``m + m (m - 1) / 2`` active columns of a coalition of ``m`` players
    are visited.
    """
    count, n_players = coalitions.shape
    n_columns = n_players + n_players * (n_players - 1) // 2
    gram = np.zeros((n_columns, n_columns))
    moment = np.zeros((n_columns, targets.shape[1]))
    members = np.empty(n_players, dtype=np.int64)
    active = np.empty(n_columns, dtype=np.int64)
    for c in range(count):
        size = 0
        for i in range(n_players):
            if coalitions[c, i]:
                members[size] = i
                size += 1
        n_active = 0
        for a in range(size):
            active[n_active] = members[a]
            n_active += 1
        for a in range(size):
            for b in range(a + 1, size):
                active[n_active] = pair_position[members[a], members[b]]
                n_active += 1
        accumulate_active(gram, moment, active, n_active, weights[c], targets, c)
    return gram, moment


@numba.njit(cache=True)
def pair_design_rows(coalitions, first, second):
    """The order-two design rows ``z_S`` (float64, one column per interaction ``(first, second)``)."""
    count = coalitions.shape[0]
    n_columns = first.shape[0]
    out = np.zeros((count, n_columns))
    for c in range(count):
        for d in range(n_columns):
            if coalitions[c, first[d]] and coalitions[c, second[d]]:
                out[c, d] = 1.0
    return out


@numba.njit(cache=True)
def index_weights(coalitions, gamma, first, second):
    """Weight of each coalition in each interaction: ``gamma[order, |A|, |A & S|]``, ``(count, n_interactions)``."""
    count, n_players = coalitions.shape
    n_columns = first.shape[0]
    out = np.empty((count, n_columns))
    for c in range(count):
        size = 0
        for i in range(n_players):
            if coalitions[c, i]:
                size += 1
        for d in range(n_columns):
            i = first[d]
            j = second[d]
            if i == j:
                out[c, d] = gamma[1, size, 1 if coalitions[c, i] else 0]
            else:
                inside = (1 if coalitions[c, i] else 0) + (1 if coalitions[c, j] else 0)
                out[c, d] = gamma[2, size, inside]
    return out

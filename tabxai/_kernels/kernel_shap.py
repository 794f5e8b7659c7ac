"""Kernels for KernelSHAP: random coalitions of a given size and the weighted normal equations."""

import numba
import numpy as np


@numba.njit(cache=True)
def random_subsets(n_players, size, uniforms):
    """Coalitions of ``size`` players, one per row of ``uniforms`` (count x size floats in [0, 1)).

    A partial Fisher-Yates shuffle per row: every subset of that size is equally likely, and the
    result depends only on ``uniforms`` (drawn from the explained row's own generator).
    """
    count = uniforms.shape[0]
    out = np.zeros((count, n_players), dtype=np.bool_)
    order = np.empty(n_players, dtype=np.int64)
    for c in range(count):
        for i in range(n_players):
            order[i] = i
        for t in range(size):
            j = t + int(uniforms[c, t] * (n_players - t))
            if j >= n_players:
                j = n_players - 1
            swap = order[t]
            order[t] = order[j]
            order[j] = swap
            out[c, order[t]] = True
    return out


@numba.njit(cache=True)
def weighted_normal_equations(coalitions, weights, targets):
    """``A = sum_S w_S z_S z_S^T`` and ``b = sum_S w_S z_S y_S^T`` for boolean coalition rows ``z_S``."""
    count, n_players = coalitions.shape
    n_outputs = targets.shape[1]
    gram = np.zeros((n_players, n_players))
    moment = np.zeros((n_players, n_outputs))
    members = np.empty(n_players, dtype=np.int64)
    for c in range(count):
        size = 0
        for i in range(n_players):
            if coalitions[c, i]:
                members[size] = i
                size += 1
        w = weights[c]
        for a in range(size):
            i = members[a]
            for k in range(n_outputs):
                moment[i, k] += w * targets[c, k]
            for b in range(size):
                gram[i, members[b]] += w
    return gram, moment

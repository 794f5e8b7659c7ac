"""Kernels for Shapley values from enumerated coalition values."""

import math

import numba
import numpy as np


@numba.njit(cache=True)
def shapley_weights(n_players):
    """``w[s] = s! (n - s - 1)! / n!``: the weight of a coalition of size ``s`` not holding the player."""
    weights = np.empty(n_players, dtype=np.float64)
    for s in range(n_players):
        weights[s] = math.exp(math.lgamma(s + 1) + math.lgamma(n_players - s) - math.lgamma(n_players + 1))
    return weights


@numba.njit(cache=True)
def exact_shapley_from_values(values, n_players):
    """Shapley values from the values of all ``2**n_players`` coalitions (index = bitmask).

    ``phi_i = sum_{S not containing i} w(|S|) (v(S + i) - v(S))``, Shapley (1953).
    ``values`` has shape (2**n_players, n_outputs); the result (n_players, n_outputs).
    """
    n_outputs = values.shape[1]
    weights = shapley_weights(n_players)
    phi = np.zeros((n_players, n_outputs), dtype=np.float64)
    for subset in range(values.shape[0]):
        size = 0
        rest = subset
        while rest:
            rest &= rest - 1
            size += 1
        if size == n_players:
            continue
        w = weights[size]
        for i in range(n_players):
            bit = 1 << i
            if subset & bit:
                continue
            with_i = subset | bit
            for k in range(n_outputs):
                phi[i, k] += w * (values[with_i, k] - values[subset, k])
    return phi


@numba.njit(cache=True)
def all_coalitions(n_players):
    """Boolean matrix (2**n_players, n_players): row ``c`` holds the bits of ``c``."""
    n = 1 << n_players
    out = np.empty((n, n_players), dtype=np.bool_)
    for c in range(n):
        for i in range(n_players):
            out[c, i] = (c >> i) & 1
    return out

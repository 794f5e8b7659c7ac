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
def accumulate_active(gram, moment, active, n_active, w, targets, c):
    """Add ``w z z^T`` and ``w z y_c^T`` for a 0/1 row ``z`` whose ones are the columns ``active[:n_active]``."""
    for a in range(n_active):
        column = active[a]
        for k in range(moment.shape[1]):
            moment[column, k] += w * targets[c, k]
        for b in range(n_active):
            gram[column, active[b]] += w


@numba.njit(cache=True)
def weighted_normal_equations(coalitions, weights, targets):
    """``A = sum_S w_S z_S z_S^T`` and ``b = sum_S w_S z_S y_S^T`` for boolean coalition rows ``z_S``."""
    count, n_players = coalitions.shape
    gram = np.zeros((n_players, n_players))
    moment = np.zeros((n_players, targets.shape[1]))
    members = np.empty(n_players, dtype=np.int64)
    for c in range(count):
        size = 0
        for i in range(n_players):
            if coalitions[c, i]:
                members[size] = i
                size += 1
        accumulate_active(gram, moment, members, size, weights[c], targets, c)
    return gram, moment


@numba.njit(cache=True)
def pair_scores(members, pair_weights, values, phi, projection, group, group_factor, leverages):
    """The centred pair scores of KernelSHAP's sandwich standard errors, ``(pairs, players, outputs)``.

    ``members`` (pairs, players) are the first members S of the complementary pairs, ``values`` (2 * pairs,
    outputs) the game at S then at N - S, each member weighted by ``pair_weights`` (its kernel weight over
    its inclusion probability). A pair's score is ``sum over its two members of w z_S r_S`` (r the residual
    under ``phi``), divided by one minus its leverage ``sum w z_S' P z_S`` (at most 0.99, HC3). Scores are
    centred within their variance group and scaled by ``sqrt(group_factor)``; a negative factor marks a
    group of one pair, kept raw (its second moment); ``group`` -1 (an enumerated stratum) is zero.
    ``leverages`` (one per pair, before the 0.99 cap) may be given (computed with BLAS when there are many
    players); an empty array has them computed here, at ``players^2`` per pair. The
    standard errors are ``sqrt(diag(P C P))``, ``C`` the sum of the scores' outer products (a matrix
    product, left to BLAS: it is the costly step at hundreds of players).
    """
    n_pairs, n_players = members.shape
    n_outputs = values.shape[1]
    n_groups = group_factor.shape[0]
    totals = np.zeros((n_pairs, n_players, n_outputs))
    sums = np.zeros((n_groups, n_players, n_outputs))
    sizes = np.zeros(n_groups, dtype=np.int64)
    inside = np.empty(n_players, dtype=np.int64)
    outside = np.empty(n_players, dtype=np.int64)
    for t in range(n_pairs):
        g = group[t]
        if g < 0:
            continue
        n_in = 0
        n_out = 0
        for i in range(n_players):
            if members[t, i]:
                inside[n_in] = i
                n_in += 1
            else:
                outside[n_out] = i
                n_out += 1
        w = pair_weights[t]
        if leverages.shape[0] == n_pairs:
            leverage = min(leverages[t], 0.99)
        else:
            leverage = 0.0
            for a in range(n_in):
                for b in range(n_in):
                    leverage += projection[inside[a], inside[b]]
            for a in range(n_out):
                for b in range(n_out):
                    leverage += projection[outside[a], outside[b]]
            leverage = min(w * leverage, 0.99)
        scale = w / (1.0 - leverage)
        for k in range(n_outputs):
            fit_in = 0.0
            for a in range(n_in):
                fit_in += phi[inside[a], k]
            fit_out = 0.0
            for a in range(n_out):
                fit_out += phi[outside[a], k]
            r_in = (values[t, k] - fit_in) * scale
            r_out = (values[n_pairs + t, k] - fit_out) * scale
            for a in range(n_in):
                totals[t, inside[a], k] = r_in
            for a in range(n_out):
                totals[t, outside[a], k] = r_out
            for i in range(n_players):
                sums[g, i, k] += totals[t, i, k]
        sizes[g] += 1
    for t in range(n_pairs):
        g = group[t]
        if g < 0:
            continue
        factor = group_factor[g]
        for k in range(n_outputs):
            for i in range(n_players):
                if factor >= 0.0:
                    totals[t, i, k] = (totals[t, i, k] - sums[g, i, k] / sizes[g]) * np.sqrt(factor)
    return totals


@numba.njit(cache=True)
def round_robin_folds(strata, starts, n_folds):
    """Fold of each pair: the pairs of a stratum, in order, go round the folds from ``starts[stratum]``."""
    seen = np.zeros(starts.shape[0], dtype=np.int64)
    folds = np.empty(strata.shape[0], dtype=np.int64)
    for i in range(strata.shape[0]):
        s = strata[i]
        folds[i] = (starts[s] + seen[s]) % n_folds
        seen[s] += 1
    return folds

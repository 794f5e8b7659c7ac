"""Greedy MMD prototype selection with simplex weights, and criticisms.

The squared maximum mean discrepancy between the rows ``X`` (reference points) and a weighted set
of prototypes ``S`` (weights ``w >= 0``, ``sum(w) = 1``) in the kernel's feature space is

    MMD^2 = mean_{i,j} k(x_i, x_j) - 2 sum_s w_s mu_s + sum_{s,t} w_s w_t k(s, t),

with ``mu_s = mean_j k(s, x_j)`` (Gretton et al. 2012). Each step adds the candidate whose best
mixing step ``(1 - a) P + a delta_c`` lowers MMD^2 most (an exact line search per candidate, from
the kernel column of each prototype), then re-fits all weights on the simplex exactly (a small
active-set quadratic program), as ProtoDash (Gurumoorthy et al. 2019) re-fits its non-negative
weights at each step. Kim et al.'s MMD-critic keeps uniform weights, which leave more MMD^2.
"""

from __future__ import annotations

import numpy as np

from .._kernels.examples import farthest_points
from ._encoding import kernel_matrix, squared_distances

__all__ = ["greedy_prototypes", "simplex_weights", "farthest_criticisms", "witness_criticisms"]

_RIDGE = 1e-12
_MIN_GAIN = 1e-14


def simplex_weights(K, mu, start=None, max_iter=500):
    """``argmin w'Kw - 2 mu'w`` over ``w >= 0, sum(w) = 1`` (primal active set, exact for small sets).

    ``start`` is a feasible starting point (default uniform weights on the best single point).
    """
    m = K.shape[0]
    if m == 1:
        return np.ones(1)
    if start is None:
        start = np.zeros(m)
        start[int(np.argmin(np.diag(K) - 2 * mu))] = 1.0
    w = np.array(start, dtype=np.float64)
    free = w > 0
    for _ in range(max_iter):
        index = np.flatnonzero(free)
        size = index.size
        system = np.zeros((size + 1, size + 1))
        system[:size, :size] = 2 * K[np.ix_(index, index)] + _RIDGE * np.eye(size)
        system[:size, size] = 1.0
        system[size, :size] = 1.0
        rhs = np.concatenate([2 * mu[index], [1.0]])
        target = np.linalg.lstsq(system, rhs, rcond=None)[0][:size]
        if (target >= 0).all():
            w[:] = 0.0
            w[index] = target
            gradient = K @ w - mu
            level = gradient[index].mean()
            outside = np.flatnonzero(~free)
            if outside.size == 0:
                return w
            worst = outside[np.argmin(gradient[outside])]
            if gradient[worst] >= level - 1e-12 * max(1.0, abs(level)):
                return w
            free[worst] = True
            continue
        current = w[index]
        falling = target < current
        steps = np.where(falling, current / np.where(falling, current - target, 1.0), np.inf)
        step = min(1.0, float(steps[target < 0].min()))
        w[index] = current + step * (target - current)
        leaving = index[w[index] <= 1e-15]
        w[leaving] = 0.0
        free[leaving] = False
        if not free.any():  # cannot happen for a feasible start; keep the best single point
            free[int(np.argmin(np.diag(K) - 2 * mu))] = True
    return w / w.sum()


def greedy_prototypes(points, mu, n_prototypes, gamma, kernel):
    """Choose up to ``n_prototypes`` of ``points`` (the candidates) and their simplex weights.

    ``mu[c]`` is the mean kernel value of candidate ``c`` over the reference rows. Stops early when
    no candidate lowers MMD^2 (every remaining row duplicates the prototypes' mixture).

    Returns
    -------
    chosen : int ndarray (m,)
    weights : ndarray (m,)
    objective : float
        ``- 2 sum_s w_s mu_s + w'K_SS w`` (MMD^2 without the constant term of the reference rows).
    """
    n = points.shape[0]
    diagonal = 1.0  # k(x, x) for the rbf and laplacian kernels
    columns = np.empty((n, n_prototypes))
    chosen = [int(np.argmax(2 * mu - diagonal))]
    columns[:, 0] = kernel_matrix(points, points[chosen[0]:chosen[0] + 1], gamma, kernel)[:, 0]
    weights = np.ones(1)
    taken = np.zeros(n, dtype=np.bool_)
    taken[chosen[0]] = True
    while len(chosen) < n_prototypes:
        t = len(chosen)
        mixed = columns[:, :t] @ weights  # (K w)_c for every candidate
        wkw = float(weights @ mixed[chosen])
        wmu = float(weights @ mu[chosen])
        inner = (mixed - mu) - (wkw - wmu)  # <residual, phi_c - phi_P>
        norm2 = diagonal - 2 * mixed + wkw  # ||phi_c - phi_P||^2
        usable = (~taken) & (norm2 > 1e-12) & (inner < 0)
        if not usable.any():
            break
        step = np.where(usable, -inner / np.where(usable, norm2, 1.0), 0.0)
        gain = np.where(step <= 1, inner ** 2 / np.where(usable, norm2, 1.0), -(2 * inner + norm2))
        gain[~usable] = -np.inf
        pick = int(np.argmax(gain))
        if gain[pick] <= _MIN_GAIN:
            break
        a = min(1.0, float(step[pick]))
        chosen.append(pick)
        taken[pick] = True
        columns[:, t] = kernel_matrix(points, points[pick:pick + 1], gamma, kernel)[:, 0]
        K = columns[chosen, :t + 1]
        K = (K + K.T) / 2
        weights = simplex_weights(K, mu[chosen], np.concatenate([(1 - a) * weights, [a]]))
    chosen = np.array(chosen, dtype=np.int64)
    K = columns[chosen, :len(chosen)]
    objective = float(-2 * weights @ mu[chosen] + weights @ ((K + K.T) / 2) @ weights)
    return chosen, weights, objective


def farthest_criticisms(points, prototype_points, n_criticisms):
    """Rows least like every prototype, each also unlike the criticisms chosen before it.

    The first is the row whose nearest prototype is farthest; each next one the row farthest from
    every prototype and every criticism already chosen (with the rbf and laplacian kernels, the
    largest distance is the largest kernel distance ``sqrt(2 - 2 k)``, without its saturation).

    Returns the chosen rows and their squared distances to the nearest prototype.
    """
    nearest = np.full(points.shape[0], np.inf)
    for start in range(0, points.shape[0], 65536):
        block = squared_distances(points[start:start + 65536], prototype_points)
        nearest[start:start + 65536] = block.min(axis=1)
    to_prototypes = nearest.copy()
    chosen = np.empty(min(n_criticisms, points.shape[0]), dtype=np.int64)
    farthest_points(nearest, np.ascontiguousarray(points), chosen)
    return chosen, to_prototypes[chosen]


def witness_criticisms(points, reference_mu, prototype_points, weights, n_criticisms, gamma, kernel, row_group,
                       prototype_group):
    """MMD-critic's rule: the rows with the largest |witness| ``mu_x - sum_s w_s k(x, s)`` (no diversity term).

    ``row_group`` / ``prototype_group`` pair each row with the prototypes of its own class.
    """
    similarity = kernel_matrix(points, prototype_points, gamma, kernel) * weights
    same = row_group[:, None] == prototype_group[None, :]
    witness = reference_mu - np.where(same, similarity, 0.0).sum(axis=1)
    order = np.argsort(-np.abs(witness), kind="stable")[:n_criticisms]
    return order.astype(np.int64), np.abs(witness[order])

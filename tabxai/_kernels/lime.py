"""Kernels for LIME: neighbourhood samples, kernel weights, weighted ridge normal equations, selection.

Nothing here validates input; :mod:`tabxai.lime` converts everything to the dtypes used here
(float64, int64, C order) and draws every uniform number from the explained row's own generator.
"""

import math

import numba
import numpy as np

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)

# Acklam's rational approximation of the normal quantile (relative error 1.2e-9 before refinement)
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


@numba.njit(cache=True)
def normal_cdf(x):
    """Standard normal distribution function, accurate in the lower tail (through ``erfc``)."""
    return 0.5 * math.erfc(-x / _SQRT2)


@numba.njit(cache=True)
def normal_quantile(p):
    """Inverse of :func:`normal_cdf` for ``0 < p < 1`` (Acklam's approximation, relative error < 1.2e-9)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    low = 0.02425
    if p < low:
        q = math.sqrt(-2.0 * math.log(p))
        return ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
                / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    if p <= 1.0 - low:
        q = p - 0.5
        r = q * q
        return ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
                / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    q = math.sqrt(-2.0 * math.log(1.0 - p))
    return -((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))


@numba.njit(cache=True)
def truncation_table(low, high, mean, std):
    """What :func:`truncated_quantile` needs for one bin: ``(a, b, Phi(a), Phi(b), flipped)``.

    Bounds ``a, b`` are standardised; when both lie above the mean they are mirrored into the lower
    tail (``flipped``), where the distribution function keeps its relative accuracy.
    """
    a = (low - mean) / std
    b = (high - mean) / std
    flipped = a > 0.0
    if flipped:
        a, b = -b, -a
    return a, b, normal_cdf(a), normal_cdf(b), flipped


@numba.njit(cache=True)
def truncated_quantile(low, high, mean, std, a, b, pa, pb, flipped, uniform):
    """The ``uniform``-quantile of the normal (``mean``, ``std``) truncated to ``[low, high]``.

    Inverse-CDF sampling from the bin's :func:`truncation_table`; ``low == high`` gives that value.
    Beyond double precision in the tail (``Phi(a) == Phi(b)``) the density's exponential limit is used.
    """
    if not high > low:
        return low
    if flipped:  # mirrored: the complement keeps the map from uniforms to values increasing
        uniform = 1.0 - uniform
    if not pb > pa:
        rate = -b
        z = b + math.log(uniform + (1.0 - uniform) * math.exp(-rate * (b - a))) / rate
    else:
        z = normal_quantile(pa + uniform * (pb - pa))
        z = min(max(z, a), b)
    if flipped:
        z = -z
    value = mean + std * z
    return min(max(value, low), high)


@numba.njit(cache=True)
def truncated_normal(low, high, mean, std, uniform):
    """:func:`truncated_quantile` with the bin's table computed on the spot."""
    a, b, pa, pb, flipped = truncation_table(low, high, mean, std)
    return truncated_quantile(low, high, mean, std, a, b, pa, pb, flipped, uniform)


@numba.njit(cache=True, nogil=True)
def lime_samples(row_keys, background_keys, background_codes, orders, cumulative, segments, equal_weights, uniforms,
                 numeric_slot, integral, tables, flipped, expected, player_columns, player_start, codes_out,
                 binary_out, levels_out, deviations_out):
    """Neighbourhood of one explained row, as lime's tabular sampler with a quartile discretizer.

    For sample ``s`` and player ``p`` with first column ``j0``, the uniform ``u = uniforms[s, j0]``
    picks a background row: ``orders[p]`` lists the background rows sorted by the bin (or category)
    and value of column ``j0``, ``cumulative[p]`` their cumulative weights (total 1), and ``u``
    falls in the share of row ``b``. So a row is picked with its weight, and a bin with its
    background frequency. The player takes the bins (or categories) of row ``b``. A numeric column
    then takes a value inside its bin: the ``v``-quantile of the normal with the bin's background
    mean and standard deviation truncated to the bin (``tables[slot, bin]`` holds ``low, high,
    mean, std, a, b, Phi(a), Phi(b)``), where for column ``j0`` ``v`` is ``u``'s position within
    the bin's share ``segments[p, bin]`` (uniform, independent of the bin) and for the other
    columns of a group their own uniform. A missing bin gives NaN; a categorical column, or a
    numeric column whose slot is ``integral``, takes row ``b``'s own code. Every map from ``u`` to
    a value is monotone within a bin.
    ``binary_out[s, p]`` is 1 when every column of the player falls in the explained row's bin;
    ``levels_out[s, j]`` is 1 + the key of the sample's column ``j`` (0 for missing) and
    ``deviations_out[s, j]`` its value minus ``expected[slot, bin]`` (0 for other columns). Keys are bin indices (numeric columns) or codes (categorical), ``-1`` for missing.
    """
    n_samples = uniforms.shape[0]
    n_players = player_start.shape[0] - 1
    n_background = orders.shape[1]
    for s in range(n_samples):
        for p in range(n_players):
            first = player_columns[player_start[p]]
            u = uniforms[s, first]
            if equal_weights:
                position = min(int(u * n_background), n_background - 1)
            else:
                lo = 0
                hi = n_background - 1
                while lo < hi:  # first position with cumulative > u
                    mid = (lo + hi) // 2
                    if cumulative[p, mid] > u:
                        hi = mid
                    else:
                        lo = mid + 1
                position = lo
            b = orders[p, position]
            same = 1.0
            for t in range(player_start[p], player_start[p + 1]):
                j = player_columns[t]
                key = background_keys[b, j]
                levels_out[s, j] = key + 1
                deviations_out[s, j] = 0.0
                if key != row_keys[j]:
                    same = 0.0
                slot = numeric_slot[j]
                if slot < 0 or integral[slot]:
                    codes_out[s, j] = background_codes[b, j]
                elif key < 0:
                    codes_out[s, j] = np.nan
                else:
                    if t == player_start[p]:
                        share = segments[p, key, 1] - segments[p, key, 0]
                        v = (u - segments[p, key, 0]) / share if share > 0 else 0.5
                        v = min(max(v, 0.0), 1.0)
                    else:
                        v = uniforms[s, j]
                    codes_out[s, j] = truncated_quantile(tables[slot, key, 0], tables[slot, key, 1],
                                                         tables[slot, key, 2], tables[slot, key, 3],
                                                         tables[slot, key, 4], tables[slot, key, 5],
                                                         tables[slot, key, 6], tables[slot, key, 7],
                                                         flipped[slot, key], v)
                if slot >= 0 and key >= 0:
                    deviations_out[s, j] = codes_out[s, j] - expected[slot, key]
            binary_out[s, p] = same


@numba.njit(cache=True)
def kernel_weights(binary, kernel_width):
    """``sqrt(exp(-d^2 / w^2))`` with ``d`` the Euclidean distance of each binary row from all ones."""
    n_samples, n_players = binary.shape
    out = np.empty(n_samples)
    scale = 1.0 / (kernel_width * kernel_width)
    for s in range(n_samples):
        d2 = 0.0
        for p in range(n_players):
            gap = 1.0 - binary[s, p]
            d2 += gap * gap
        out[s] = math.sqrt(math.exp(-d2 * scale))
    return out


@numba.njit(cache=True)
def centred_normal_equations(design, weights, targets):
    """Weighted means and the centred ``G = X'WX``, ``m = X'Wy`` of a regression with intercept.

    Two passes (means, then centred sums) so that the sums lose no precision to cancellation.
    """
    n_samples, n_players = design.shape
    n_outputs = targets.shape[1]
    total = 0.0
    x_mean = np.zeros(n_players)
    y_mean = np.zeros(n_outputs)
    for s in range(n_samples):
        w = weights[s]
        total += w
        for p in range(n_players):
            x_mean[p] += w * design[s, p]
        for k in range(n_outputs):
            y_mean[k] += w * targets[s, k]
    x_mean /= total
    y_mean /= total
    gram = np.zeros((n_players, n_players))
    moment = np.zeros((n_players, n_outputs))
    y_square = np.zeros(n_outputs)
    centred = np.empty(n_players)
    for s in range(n_samples):
        w = weights[s]
        for p in range(n_players):
            centred[p] = design[s, p] - x_mean[p]
        for k in range(n_outputs):
            r = targets[s, k] - y_mean[k]
            y_square[k] += w * r * r
            wr = w * r
            for p in range(n_players):
                moment[p, k] += wr * centred[p]
        for p in range(n_players):
            wp = w * centred[p]
            for q in range(n_players):
                gram[p, q] += wp * centred[q]
    for p in range(n_players):
        for q in range(p):
            gram[p, q] = gram[q, p]
    return total, x_mean, y_mean, gram, moment, y_square


@numba.njit(cache=True)
def cluster_scores(design, weights, x_mean, residuals, clusters, n_clusters):
    """Scores of the weighted regression summed per cluster: ``G_c = sum_{s in c} w_s r_s (x_s - mean)``.

    Shape (n_clusters, n_players, n_outputs); ``clusters[s]`` is the cluster of sample ``s``.
    """
    n_samples, n_players = design.shape
    n_outputs = residuals.shape[1]
    out = np.zeros((n_clusters, n_players, n_outputs))
    for s in range(n_samples):
        c = clusters[s]
        w = weights[s]
        for p in range(n_players):
            centred = w * (design[s, p] - x_mean[p])
            for k in range(n_outputs):
                out[c, p, k] += centred * residuals[s, k]
    return out


@numba.njit(cache=True)
def forward_selection(gram, moment, y_square, alpha, n_selected):
    """Players chosen one at a time, each the one whose addition most lowers the ridge objective.

    From the centred normal equations of one output (``gram`` p x p, ``moment`` p, ``y_square`` the
    centred weighted sum of squares): the residual sum of squares of the ridge fit on players ``S``
    is ``y_square - m_S' (G_SS + alpha I)^-1 m_S`` (exact for ``alpha = 0``, the penalised objective
    otherwise). Ties go to the lower index. Returns the chosen players in order of choice.
    """
    n_players = gram.shape[0]
    chosen = np.empty(n_selected, dtype=np.int64)
    used = np.zeros(n_players, dtype=np.bool_)
    for step in range(n_selected):
        best = -1
        best_gain = -np.inf
        for candidate in range(n_players):
            if used[candidate]:
                continue
            chosen[step] = candidate
            size = step + 1
            sub = np.empty((size, size))
            rhs = np.empty(size)
            for a in range(size):
                rhs[a] = moment[chosen[a]]
                for b in range(size):
                    sub[a, b] = gram[chosen[a], chosen[b]]
                sub[a, a] += alpha
            gain = -np.inf
            if np.linalg.matrix_rank(sub) == size:
                gain = np.dot(rhs, np.linalg.solve(sub, rhs))
            if gain > best_gain + 1e-12 * abs(y_square) or best < 0:
                best_gain = gain
                best = candidate
        chosen[step] = best
        used[best] = True
    return chosen


@numba.njit(cache=True)
def additive_fit(levels, deviations, targets, fit_on, n_levels, sweeps):
    """An additive model ``g(x) = sum_j gamma[j, level_j] + slope[j, level_j] * deviation_j`` by backfitting.

    ``levels`` (n, columns) index each sample's bin or category (``n_levels[j]`` of them per
    column), ``deviations`` (n, columns) its distance from the bin's expected value (0 where there
    is none), ``targets`` (n,); only samples with ``fit_on`` are used. Each sweep refits, column by
    column, the mean and the slope of the partial residuals within each level. The overall mean
    is folded into column 0's ``gamma``. Returns ``gamma`` and ``slope`` (columns, max levels).
    """
    n_samples, n_columns = levels.shape
    width = 0
    for j in range(n_columns):
        width = max(width, n_levels[j])
    gamma = np.zeros((n_columns, width))
    slope = np.zeros((n_columns, width))
    residual = np.empty(n_samples)
    mean = 0.0
    count = 0
    for s in range(n_samples):
        if fit_on[s]:
            mean += targets[s]
            count += 1
    mean = mean / max(count, 1)
    for s in range(n_samples):
        residual[s] = targets[s] - mean
    sums = np.empty(width)
    counts = np.empty(width)
    cross = np.empty(width)
    square = np.empty(width)
    deviation_sums = np.empty(width)
    for _ in range(sweeps):
        for j in range(n_columns):
            for level in range(n_levels[j]):
                sums[level] = 0.0
                counts[level] = 0.0
                cross[level] = 0.0
                square[level] = 0.0
                deviation_sums[level] = 0.0
            for s in range(n_samples):
                level = levels[s, j]
                d = deviations[s, j]
                partial = residual[s] + gamma[j, level] + slope[j, level] * d
                residual[s] = partial
                if fit_on[s]:
                    sums[level] += partial
                    counts[level] += 1.0
                    cross[level] += partial * d
                    square[level] += d * d
                    deviation_sums[level] += d
            for level in range(n_levels[j]):
                c = counts[level]
                if c > 0:
                    mean_y = sums[level] / c
                    mean_d = deviation_sums[level] / c
                    spread = square[level] - c * mean_d * mean_d
                    b = (cross[level] - c * mean_d * mean_y) / spread if spread > 1e-9 * square[level] else 0.0
                    slope[j, level] = b
                    gamma[j, level] = mean_y - b * mean_d
                else:
                    slope[j, level] = 0.0
                    gamma[j, level] = 0.0
            for s in range(n_samples):
                level = levels[s, j]
                residual[s] -= gamma[j, level] + slope[j, level] * deviations[s, j]
    for level in range(width):
        gamma[0, level] += mean
    return gamma, slope


@numba.njit(cache=True)
def additive_predict(levels, deviations, gamma, slope):
    """``g`` of :func:`additive_fit` at each sample."""
    n_samples, n_columns = levels.shape
    out = np.empty(n_samples)
    for s in range(n_samples):
        total = 0.0
        for j in range(n_columns):
            level = levels[s, j]
            total += gamma[j, level] + slope[j, level] * deviations[s, j]
        out[s] = total
    return out


@numba.njit(cache=True)
def centred_gram(design, weights, x_mean, take):
    """``sum w (x - x_mean)(x - x_mean)'`` over the samples with ``take``, about a given mean."""
    n_samples, n_players = design.shape
    gram = np.zeros((n_players, n_players))
    centred = np.empty(n_players)
    for s in range(n_samples):
        if not take[s]:
            continue
        w = weights[s]
        for p in range(n_players):
            centred[p] = design[s, p] - x_mean[p]
        for p in range(n_players):
            wp = w * centred[p]
            for q in range(n_players):
                gram[p, q] += wp * centred[q]
    for p in range(n_players):
        for q in range(p):
            gram[p, q] = gram[q, p]
    return gram

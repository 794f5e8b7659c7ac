"""Kernels for LIME's fit: kernel weights, weighted ridge normal equations, selection, the control variate.

Nothing here validates input; :mod:`tabxai.lime` converts everything to the dtypes used here
(float64, int64, C order). The sampler's kernels are in :mod:`tabxai._kernels.lime_sampler`.
"""

import math

import numba
import numpy as np

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


@numba.njit(cache=True, nogil=True)
def control_sums(levels, deviations, targets, width, first):
    """Sums for the one-pass additive fit of the control variate, per half of the samples ``first ...``.

    ``levels`` and ``deviations`` are (columns, samples). Half ``s % 2`` of sample ``s``; per (half,
    column ``j``, level ``l``): ``[count, sum d, sum d^2]`` then per output ``[sum y, sum d y]``, with
    ``l = levels[j, s]`` and ``d = deviations[j, s]``. Shape (2, columns, width, 3 + 2 * outputs).
    Samples before ``first`` (the explained row itself, which is not drawn) take no part.
    """
    n_columns, n_samples = levels.shape
    n_outputs = targets.shape[1]
    n_sums = 3 + 2 * n_outputs
    out = np.zeros((2, n_columns, width, n_sums))
    flat = np.zeros(2 * width * n_sums)  # one column's sums, (half, level, sum) flat: unsigned offsets
    stride = np.uint64(n_sums)
    half = np.uint64(width * n_sums)
    one = np.uint64(1)
    y = targets.T.copy()  # (outputs, samples)
    for j in range(np.uint64(n_columns)):
        flat[:] = 0.0
        column_levels, column_deviations = levels[j], deviations[j]
        for s in range(np.uint64(first), np.uint64(n_samples)):  # a pass for counts and deviations, one per output
            o = (s & one) * half + np.uint64(column_levels[s]) * stride
            d = column_deviations[s]
            flat[o] += 1.0
            flat[o + one] += d
            flat[o + np.uint64(2)] += d * d
        for k in range(np.uint64(n_outputs)):
            outputs = y[k]
            offset = np.uint64(3) + np.uint64(2) * k
            for s in range(np.uint64(first), np.uint64(n_samples)):
                o = (s & one) * half + np.uint64(column_levels[s]) * stride + offset
                d = column_deviations[s]
                value = outputs[s]
                flat[o] += value
                flat[o + one] += d * value
        for h in range(2):
            for level in range(width):
                for m in range(n_sums):
                    out[h, j, level, m] = flat[(h * width + level) * n_sums + m]
    return out


@numba.njit(cache=True, nogil=True)
def control_model(sums):
    """The additive model of each half from :func:`control_sums`.

    Within each level of each column, the least-squares line of the outputs on the deviations
    (slope 0 when they hardly vary); ``gamma`` is its value at deviation 0 minus the half's mean.
    Players are drawn independently, so these marginal fits are the additive projection up to
    sampling noise (which only costs variance: a half's model is applied to the other half).
    Returns ``mean`` (2, k), ``gamma`` and ``slope`` (2, columns, width, k).
    """
    _, n_columns, width, n_sums = sums.shape
    n_outputs = (n_sums - 3) // 2
    mean = np.zeros((2, n_outputs))
    gamma = np.zeros((2, n_columns, width, n_outputs))
    slope = np.zeros((2, n_columns, width, n_outputs))
    for h in range(2):
        count = 0.0
        for level in range(width):
            count += sums[h, 0, level, 0]
            for k in range(n_outputs):
                mean[h, k] += sums[h, 0, level, 3 + 2 * k]
        for k in range(n_outputs):
            mean[h, k] /= max(count, 1.0)
        for j in range(n_columns):
            for level in range(width):
                n = sums[h, j, level, 0]
                if n == 0:
                    continue
                mean_d = sums[h, j, level, 1] / n
                spread = sums[h, j, level, 2] - n * mean_d * mean_d
                for k in range(n_outputs):
                    mean_y = sums[h, j, level, 3 + 2 * k] / n
                    b = 0.0
                    if spread > 1e-9 * sums[h, j, level, 2]:
                        b = (sums[h, j, level, 4 + 2 * k] - n * mean_d * mean_y) / spread
                    slope[h, j, level, k] = b
                    gamma[h, j, level, k] = mean_y - b * mean_d - mean[h, k]
    return mean, gamma, slope


@numba.njit(cache=True, nogil=True)
def control_deltas(gamma, row_levels, frequencies, like_row, membership):
    """The exact surrogate coefficients of each half's additive model (:func:`control_model`) for one row.

    ``Delta_p = sum_{j in p} gamma_j(row) - (E gamma_j - q_p gamma_j(row)) / (1 - q_p)`` with ``q_p =
    like_row[p]`` the background share like the row (0 where ``q_p = 1``) and ``E`` over the background
    ``frequencies`` of column ``j``'s levels; ``membership`` (columns, players) is 0/1. Shape (2, players, k).
    """
    _, n_columns, width, n_outputs = gamma.shape
    n_players = membership.shape[1]
    deltas = np.zeros((2, n_players, n_outputs))
    for h in range(2):
        for j in range(n_columns):
            for p in range(n_players):
                if membership[j, p] == 0.0 or like_row[p] >= 1.0:
                    continue
                q = like_row[p]
                for k in range(n_outputs):
                    own = gamma[h, j, row_levels[j], k]
                    expected = 0.0
                    for level in range(width):
                        expected += frequencies[j, level] * gamma[h, j, level, k]
                    deltas[h, p, k] += own - (expected - q * own) / (1.0 - q)
    return deltas


@numba.njit(cache=True, nogil=True)
def fold_pattern_sums(sums, bits, deltas):
    """Per pattern over both halves: counts, the outputs' sums and squares, and those of the pseudo-outputs.

    ``sums`` from :func:`control_residuals`; a sample of half ``h`` was corrected with the other
    half's model, whose ``Delta`` goes back: pseudo-output ``e + bits[P] . deltas[1 - h]``.
    """
    n_patterns, n_players = bits.shape
    n_outputs = deltas.shape[2]
    counts = np.zeros(n_patterns)
    y_sums = np.zeros((n_patterns, n_outputs))
    y_squares = np.zeros((n_patterns, n_outputs))
    t_sums = np.zeros((n_patterns, n_outputs))
    t_squares = np.zeros((n_patterns, n_outputs))
    for q in range(n_patterns):
        for h in range(2):
            n = sums[h, q, 0]
            if n == 0:
                continue
            counts[q] += n
            for k in range(n_outputs):
                c = 0.0
                for a in range(n_players):
                    c += bits[q, a] * deltas[1 - h, a, k]
                e_sum, e_square = sums[h, q, 3 + 4 * k], sums[h, q, 4 + 4 * k]
                y_sums[q, k] += sums[h, q, 1 + 4 * k]
                y_squares[q, k] += sums[h, q, 2 + 4 * k]
                t_sums[q, k] += e_sum + n * c
                t_squares[q, k] += e_square + 2.0 * c * e_sum + n * c * c
    return counts, y_sums, y_squares, t_sums, t_squares


@numba.njit(cache=True, nogil=True)
def control_residuals(levels, deviations, targets, mean, gamma, slope):
    """Outputs minus the additive model fitted on the other half, (samples, outputs).

    ``levels`` and ``deviations`` are (columns, samples). ``e[s, k] = y[s, k] - mean[o, k] - sum_j
    (gamma[o, j, l, k] + slope[o, j, l, k] * d)`` with ``o = 1 - s % 2`` (cross-fitting: a sample is
    corrected by the fit it took no part in).
    """
    n_columns, n_samples = levels.shape
    n_outputs = targets.shape[1]
    width = gamma.shape[2]
    one = np.uint64(1)
    residual = np.empty((n_outputs, n_samples))  # (outputs, samples) while columns are taken out
    for k in range(n_outputs):
        for s in range(n_samples):
            residual[k, s] = targets[s, k] - mean[1 - (s & 1), k]
    line = np.empty(2 * width * 2)  # a column's (other half, level) -> gamma, slope of one output
    for k in range(n_outputs):
        for j in range(n_columns):
            for other in range(2):
                for level in range(width):
                    line[(other * width + level) * 2] = gamma[other, j, level, k]
                    line[(other * width + level) * 2 + 1] = slope[other, j, level, k]
            for s in range(np.uint64(n_samples)):
                o = ((one - (s & one)) * np.uint64(width) + np.uint64(levels[j, s])) * np.uint64(2)
                residual[k, s] -= line[o] + line[o + one] * deviations[j, s]
    return np.ascontiguousarray(residual.T)


@numba.njit(cache=True, nogil=True)
def pattern_sums(patterns, targets, residuals, shift, n_patterns):
    """Sums per half and bit pattern of the outputs and of the control variate's residuals.

    ``sums[h, P]`` holds, over the samples ``s`` of half ``h = s % 2`` whose binary features have
    bits ``P``: ``[count]`` then per output ``[sum y', sum y'^2, sum e, sum e^2]`` with ``y' = y -
    shift`` and ``e`` the residuals (:func:`control_residuals`).
    """
    n_samples, n_outputs = targets.shape
    width = 1 + 4 * n_outputs
    flat = np.zeros(2 * n_patterns * width)  # (half, pattern, sum) flat, unsigned offsets: simple loops
    half = np.uint64(n_patterns * width)
    stride = np.uint64(width)
    one = np.uint64(1)
    for s in range(np.uint64(n_samples)):
        flat[(s & one) * half + np.uint64(patterns[s]) * stride] += 1.0
    for k in range(n_outputs):  # one pass per output
        first = np.uint64(1 + 4 * k)
        for s in range(np.uint64(n_samples)):
            o = (s & one) * half + np.uint64(patterns[s]) * stride + first
            y = targets[s, k] - shift[k]
            e = residuals[s, k]
            flat[o] += y
            flat[o + one] += y * y
            flat[o + np.uint64(2)] += e
            flat[o + np.uint64(3)] += e * e
    return flat.reshape((2, n_patterns, width))


@numba.njit(cache=True, nogil=True)
def row_features(levels, row_levels, player_columns, player_start, binary_out, patterns_out):
    """The binary features of samples around one explained row, from the samples' levels.

    ``levels`` (columns, samples) and ``row_levels`` (columns,) are 1 + a bin or category (0:
    missing). ``binary_out[p, s]`` is 1 when every column of player ``p`` (``player_columns[
    player_start[p]:player_start[p + 1]]``) has the row's level in sample ``s``; ``patterns_out[s]``
    these bits as an integer (bit ``p``; 0 beyond 62 players).
    """
    n_samples = levels.shape[1]
    n_players = player_start.shape[0] - 1
    bits = n_players <= 62
    for s in range(n_samples):
        patterns_out[s] = 0
    for p in range(n_players):
        for m in range(player_start[p], player_start[p + 1]):
            j = player_columns[m]
            own = row_levels[j]
            column = levels[j]
            if m == player_start[p]:
                for s in range(n_samples):
                    binary_out[p, s] = column[s] == own
            else:
                for s in range(n_samples):
                    binary_out[p, s] &= column[s] == own
        if bits:
            bit = np.int64(1) << p
            row = binary_out[p]
            for s in range(n_samples):
                patterns_out[s] |= np.int64(row[s]) * bit


@numba.njit(cache=True, nogil=True)
def pattern_system(bits, weights, counts, alpha):
    """What every fit on the same patterns shares: the weighted mean of the features, the total weight,
    the number of samples, the inverse of ``X'WX + alpha I`` (centred ``x``) and the centred features
    of every pattern (P, p); see :func:`pattern_fit`."""
    n_patterns, n_players = bits.shape
    total = 0.0
    samples = 0.0
    x_mean = np.zeros(n_players)
    for q in range(n_patterns):
        mass = weights[q] * counts[q]
        total += mass
        samples += counts[q]
        for a in range(n_players):
            x_mean[a] += mass * bits[q, a]
    x_mean /= total
    centred = np.empty((n_patterns, n_players))
    scaled = np.empty((n_patterns, n_players))
    for q in range(n_patterns):
        for a in range(n_players):
            centred[q, a] = bits[q, a] - x_mean[a]
            scaled[q, a] = weights[q] * counts[q] * centred[q, a]
    system = centred.T @ scaled
    for a in range(n_players):
        system[a, a] += alpha
    return x_mean, total, samples, _spd_inverse(system), centred


@numba.njit(cache=True, nogil=True)
def _spd_inverse(matrix):
    """Inverse of a small symmetric positive definite matrix through its Cholesky factor; the
    pseudo-inverse when a pivot is not positive (a player constant on the samples with ``alpha = 0``:
    its coefficient is 0, as the dense design's fit gives it)."""
    n = matrix.shape[0]
    lower = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            total = matrix[i, j]
            for m in range(j):
                total -= lower[i, m] * lower[j, m]
            if i == j:
                if not total > 1e-12 * abs(matrix[i, i]) or not total > 0.0:
                    return np.ascontiguousarray(np.linalg.pinv(matrix))
                lower[i, i] = math.sqrt(total)
            else:
                lower[i, j] = total / lower[j, j]
    inverse_lower = np.zeros((n, n))  # L^-1, lower triangular
    for i in range(n):
        inverse_lower[i, i] = 1.0 / lower[i, i]
        for j in range(i):
            total = 0.0
            for m in range(j, i):
                total -= lower[i, m] * inverse_lower[m, j]
            inverse_lower[i, j] = total / lower[i, i]
    out = np.empty((n, n))  # L^-T L^-1
    for i in range(n):
        for j in range(i + 1):
            total = 0.0
            for m in range(i, n):
                total += inverse_lower[m, i] * inverse_lower[m, j]
            out[i, j] = total
            out[j, i] = total
    return out


@numba.njit(cache=True, nogil=True)
def pattern_solution(weights, counts, sums, squares, outcome_sums, outcome_squares, x_mean, total, samples, inverse,
                     centred):
    """:func:`pattern_fit` given its :func:`pattern_system`: coefficients, intercept, standard errors, R^2
    and the outcome's weighted centred sum of squares (products of the (P, p) centred features by BLAS)."""
    n_patterns, n_players = centred.shape
    n_outputs = sums.shape[1]
    y_mean = np.zeros(n_outputs)
    outcome_mean = np.zeros(n_outputs)
    for q in range(n_patterns):
        for k in range(n_outputs):
            y_mean[k] += weights[q] * sums[q, k]
            outcome_mean[k] += weights[q] * outcome_sums[q, k]
    y_mean /= total
    outcome_mean /= total
    deviation = np.empty((n_patterns, n_outputs))  # w (S - n mean) per pattern
    outcome_square = np.zeros(n_outputs)
    for q in range(n_patterns):
        w = weights[q]
        for k in range(n_outputs):
            deviation[q, k] = w * (sums[q, k] - counts[q] * y_mean[k])
            m = outcome_mean[k]
            outcome_square[k] += w * (outcome_squares[q, k] - 2.0 * m * outcome_sums[q, k] + counts[q] * m * m)
    coef = inverse @ (centred.T @ deviation)
    intercept = outcome_mean - x_mean @ coef
    fitted = centred @ coef  # (P, k)
    factor = samples / (samples - 1.0) if samples > 1.0 else 1.0
    stderr = np.zeros((n_players, n_outputs))
    r2 = np.zeros(n_outputs)
    scaled = np.empty((n_patterns, n_players))
    for k in range(n_outputs):
        residual_square = 0.0
        for q in range(n_patterns):
            n = counts[q]
            level = y_mean[k] + fitted[q, k]
            spread = max(squares[q, k] - 2.0 * level * sums[q, k] + n * level * level, 0.0) if n > 0 else 0.0
            scale = weights[q] * weights[q] * spread
            for a in range(n_players):
                scaled[q, a] = scale * centred[q, a]
            if n > 0:
                level = outcome_mean[k] + fitted[q, k]
                residual_square += weights[q] * (outcome_squares[q, k] - 2.0 * level * outcome_sums[q, k]
                                                 + n * level * level)
        covariance = inverse @ (centred.T @ scaled) @ inverse
        for a in range(n_players):
            stderr[a, k] = math.sqrt(max(factor * covariance[a, a], 0.0))
        r2[k] = 1.0 - residual_square / outcome_square[k] if outcome_square[k] > 0 else np.nan
    return coef, intercept, stderr, r2, outcome_square


@numba.njit(cache=True, nogil=True)
def pattern_fit(bits, weights, counts, sums, squares, outcome_sums, outcome_squares, alpha):
    """Weighted ridge on every player from sums per bit pattern: the dense fit's numbers in ``O(patterns p^2)``.

    Pattern ``P`` has binary features ``bits[P]``, kernel weight ``weights[P]`` and ``counts[P]``
    samples, whose regression targets sum to ``sums[P, k]`` (squares ``squares[P, k]``) and whose
    model outputs (shifted) to ``outcome_sums`` / ``outcome_squares``. Centred normal equations
    ``A = X'WX + alpha I``, ``beta = A^-1 X'Wy``; sandwich ``A^-1 (n / (n - 1) sum_s w_s^2 r_s^2 x_s
    x_s') A^-1`` (centred ``x``), where per pattern ``sum r^2 = S2 - 2 c S1 + n c^2``. Returns
    ``coef`` (p, k), ``intercept`` (k, outcome, shifted), ``stderr`` (p, k), ``r2`` (k, of the
    outcome), ``outcome_square`` (k, weighted centred sum of squares of the outcome) and the total weight.
    """
    x_mean, total, samples, inverse, centred = pattern_system(bits, weights, counts, alpha)
    coef, intercept, stderr, r2, outcome_square = pattern_solution(
        weights, counts, sums, squares, outcome_sums, outcome_squares, x_mean, total, samples, inverse, centred)
    return coef, intercept, stderr, r2, outcome_square, total


@numba.njit(cache=True, nogil=True)
def row_pattern_fits(patterns, targets, residuals, bits, weights, deltas, alpha):
    """One row's surrogate from its samples' bit patterns, with the control variate where it lowers the variance.

    :func:`pattern_sums`, :func:`fold_pattern_sums`, then :func:`pattern_fit` on the outputs and on
    the pseudo-outputs from one :func:`pattern_system`; per output the fit with the smaller sum of
    sandwich variances is kept (``use``: the pseudo-outputs'). An output that is constant on the
    samples (weighted spread at most ``total * (1e-12 * max |y|)^2``) gets coefficients and
    standard errors 0, R^2 NaN and its weighted mean as intercept. Outputs are shifted by the first
    sample's for the sums. Returns ``coef`` (p, k), ``intercept`` (k), ``stderr`` (p, k), ``r2``
    (k), ``constant`` (k) and ``use`` (k).
    """
    n_samples, n_outputs = targets.shape
    n_players = bits.shape[1]
    shift = targets[0].copy()
    scale = np.zeros(n_outputs)
    for s in range(n_samples):
        for k in range(n_outputs):
            scale[k] = max(scale[k], abs(targets[s, k]))
    sums = pattern_sums(patterns, targets, residuals, shift, bits.shape[0])
    counts, y_sums, y_squares, t_sums, t_squares = fold_pattern_sums(sums, bits, deltas)
    # patterns no sample has add nothing: the products run over the others only (copies, C order)
    present = np.flatnonzero(counts > 0)
    kept_bits = np.ascontiguousarray(bits[present])
    kept_weights, kept_counts = weights[present], counts[present]
    kept_y_sums, kept_y_squares = np.ascontiguousarray(y_sums[present]), np.ascontiguousarray(y_squares[present])
    kept_t_sums, kept_t_squares = np.ascontiguousarray(t_sums[present]), np.ascontiguousarray(t_squares[present])
    x_mean, total, samples, inverse, centred = pattern_system(kept_bits, kept_weights, kept_counts, alpha)
    plain = pattern_solution(kept_weights, kept_counts, kept_y_sums, kept_y_squares, kept_y_sums, kept_y_squares,
                             x_mean, total, samples, inverse, centred)
    controlled = pattern_solution(kept_weights, kept_counts, kept_t_sums, kept_t_squares, kept_y_sums,
                                  kept_y_squares, x_mean, total, samples, inverse, centred)
    outcome_square = plain[4]
    coef = np.zeros((n_players, n_outputs))
    intercept = np.empty(n_outputs)
    stderr = np.zeros((n_players, n_outputs))
    r2 = np.empty(n_outputs)
    constant = np.zeros(n_outputs, dtype=np.bool_)
    use = np.zeros(n_outputs, dtype=np.bool_)
    for k in range(n_outputs):
        constant[k] = outcome_square[k] <= total * (1e-12 * scale[k]) ** 2
        if constant[k]:
            mean = 0.0
            for q in range(bits.shape[0]):
                mean += weights[q] * y_sums[q, k]
            intercept[k] = mean / total + shift[k]
            r2[k] = np.nan
            continue
        plain_variance = 0.0
        controlled_variance = 0.0
        for a in range(n_players):
            plain_variance += plain[2][a, k] ** 2
            controlled_variance += controlled[2][a, k] ** 2
        use[k] = controlled_variance < plain_variance
        fit = controlled if use[k] else plain
        for a in range(n_players):
            coef[a, k] = fit[0][a, k]
            stderr[a, k] = fit[2][a, k]
        intercept[k] = fit[1][k] + shift[k]
        r2[k] = fit[3][k]
    return coef, intercept, stderr, r2, constant, use


@numba.njit(cache=True, nogil=True)
def pattern_r2(patterns, targets, bits, weights, intercept, coef):
    """Weighted R^2 per output of the surrogate ``intercept + bits[P] . coef`` on samples with bit patterns
    ``patterns`` (kernel weight ``weights[P]``); NaN where the outputs are constant (R^2 undefined).

    The same numbers as ``weighted_r2(targets, intercept + z @ coef, kernel_weights(z))`` for the
    samples' binary features ``z``.
    """
    n_samples, n_outputs = targets.shape
    n_patterns, n_players = bits.shape
    prediction = np.empty((n_patterns, n_outputs))
    for q in range(n_patterns):
        for k in range(n_outputs):
            value = intercept[k]
            for a in range(n_players):
                value += bits[q, a] * coef[a, k]
            prediction[q, k] = value
    total = 0.0
    for s in range(n_samples):
        total += weights[patterns[s]]
    r2 = np.empty(n_outputs)
    for k in range(n_outputs):
        mean = 0.0
        scale = 0.0
        for s in range(n_samples):
            mean += weights[patterns[s]] * targets[s, k]
            scale = max(scale, abs(targets[s, k]))
        mean /= total
        spread = 0.0
        residual = 0.0
        for s in range(n_samples):
            w = weights[patterns[s]]
            y = targets[s, k]
            spread += w * (y - mean) ** 2
            residual += w * (y - prediction[patterns[s], k]) ** 2
        if spread <= total * (1e-12 * scale) ** 2:
            r2[k] = np.nan
        else:
            r2[k] = 1.0 - residual / spread
    return r2

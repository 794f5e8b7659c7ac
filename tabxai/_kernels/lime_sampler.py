"""Kernels of lime's tabular sampler: counter-based uniforms, truncated-normal quantiles, one fused pass.

Nothing here validates input; :mod:`tabxai.lime` converts everything to the dtypes used here
(float64, int64, C order) and derives every stream key from the explained row's own generator.

A sample's uniforms are a hash of (stream key, sample index, column): the same sample comes out
whatever chunk of the stream a call fills, so chunking never changes a value.
"""

import math

import numba
import numpy as np

_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIT = 1.0 / 9007199254740992.0  # 2 ** -53
_BLOCK = 256  # samples per block of a column's hot loop

# Acklam's rational approximation of the normal quantile (relative error 1.2e-9 before refinement)
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


@numba.njit(cache=True, inline="always")
def counter_uniform(key, counter):
    """A uniform on [0, 1) from ``key`` and ``counter`` (uint64): SplitMix64's output function of
    ``key + (counter + 1) * golden``, so consecutive counters give SplitMix64's stream."""
    z = key + (counter + np.uint64(1)) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _UNIT


@numba.njit(cache=True)
def counter_uniforms(key, start, n_samples, n_columns):
    """The uniforms of samples ``start ...`` of a stream, ``(n_samples, n_columns)`` (for tests and references)."""
    out = np.empty((n_samples, n_columns))
    for s in range(n_samples):
        for j in range(n_columns):
            out[s, j] = counter_uniform(key, np.uint64((start + s) * n_columns + j))
    return out


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


@numba.njit(cache=True, error_model="numpy")
def _standard_quantile(a, b, pa, pb, uniform):
    """Standardised quantile of the normal truncated to ``[a, b]`` and its first two derivatives in ``uniform``."""
    if not pb > pa:  # beyond double precision in the tail: the density's exponential limit
        rate = -b
        shrink = math.exp(-rate * (b - a))
        inner = uniform + (1.0 - uniform) * shrink
        slope = (1.0 - shrink) / (rate * inner)
        return b + math.log(inner) / rate, slope, -rate * slope * slope
    z = normal_quantile(pa + uniform * (pb - pa))
    z = min(max(z, a), b)
    slope = (pb - pa) / (math.exp(-0.5 * z * z) * _INV_SQRT2PI)  # dz/dp = 1 / phi(z)
    return z, slope, z * slope * slope


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
    z, _, _ = _standard_quantile(a, b, pa, pb, uniform)
    if flipped:
        z = -z
    value = mean + std * z
    return min(max(value, low), high)


@numba.njit(cache=True)
def truncated_normal(low, high, mean, std, uniform):
    """:func:`truncated_quantile` with the bin's table computed on the spot."""
    a, b, pa, pb, flipped = truncation_table(low, high, mean, std)
    return truncated_quantile(low, high, mean, std, a, b, pa, pb, flipped, uniform)


@numba.njit(cache=True, error_model="numpy")
def _quantile_derivatives(table, flipped, v):
    """The bin's quantile at ``v`` and its first two derivatives (value units)."""
    low, high, mean, std, a, b, pa, pb = table[0], table[1], table[2], table[3], table[4], table[5], table[6], table[7]
    z, slope, curvature = _standard_quantile(a, b, pa, pb, 1.0 - v if flipped else v)
    if flipped:  # value = mean - std * z(1 - v)
        return min(max(mean - std * z, low), high), std * slope, -std * curvature
    return min(max(mean + std * z, low), high), std * slope, std * curvature


@numba.njit(cache=True, error_model="numpy")
def _quintic(y0, d0, s0, y1, d1, s1):
    """Coefficients in ``t`` of the quintic on [0, 1] with values ``y``, first ``d`` and second ``s`` derivatives."""
    c2 = 0.5 * s0
    gap = y1 - (y0 + d0 + c2)
    slope_gap = d1 - (d0 + 2.0 * c2)
    curve_gap = s1 - 2.0 * c2
    return (y0, d0, c2, 10.0 * gap - 4.0 * slope_gap + 0.5 * curve_gap, -15.0 * gap + 7.0 * slope_gap - curve_gap,
            6.0 * gap - 3.0 * slope_gap + 0.5 * curve_gap)


@numba.njit(cache=True, inline="always")
def _horner(c, t):
    return c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * c[5]))))


@numba.njit(cache=True, error_model="numpy")
def _piece(table, flipped, start, stop, tolerance):
    """Quintic coefficients on ``[start, stop]`` of the bin's quantile and whether they miss the tolerance."""
    y0, d0, s0 = _quantile_derivatives(table, flipped, start)
    y1, d1, s1 = _quantile_derivatives(table, flipped, stop)
    h = stop - start
    c = _quintic(y0, d0 * h, s0 * h * h, y1, d1 * h, s1 * h * h)
    bad = False
    for m in range(6):
        if not math.isfinite(c[m]):
            bad = True
    width = table[1] - table[0]
    for t in (0.25, 0.5, 0.75):
        truth, _, _ = _quantile_derivatives(table, flipped, start + t * h)
        if not abs(_horner(c, t) - truth) <= tolerance * width:
            bad = True
    return c, bad


@numba.njit(cache=True, error_model="numpy")
def quantile_table(tables, flipped, n_intervals, tolerance, max_split):
    """Piecewise quintic tables of every bin's quantile function, refined where needed, checked against the exact one.

    Bin ``(slot, key)`` (:func:`truncation_table` row ``tables[slot, key]``) has ``K = n_intervals``
    intervals of ``v``; interval ``i`` is cut into ``splits[slot, key, i]`` equal pieces (1, 4, 16 ...
    up to ``max_split``: the fewest on which the quintic misses :func:`truncated_quantile` at a
    quarter, half and three quarters by at most ``tolerance`` times the bin's width), whose
    coefficients (powers of the position ``t`` in the piece) are rows ``offsets[slot, key, i] ...`` of
    ``coefficients``. Each quintic matches the quantile and its first two derivatives at both ends
    (error ``O(h^6)`` where the quantile is smooth); ``exact`` flags the pieces that still miss (the
    far end of a bin deep in a tail), where the sampler computes the quantile exactly.
    """
    n_slots, n_bins = tables.shape[0], tables.shape[1]
    splits = np.ones((n_slots, n_bins, n_intervals), dtype=np.int64)
    h = 1.0 / n_intervals
    for slot in range(n_slots):
        for key in range(n_bins):
            if not tables[slot, key, 1] > tables[slot, key, 0]:
                continue
            for i in range(n_intervals):
                m = 1
                while m < max_split:
                    good = True
                    for k in range(m):
                        _, bad = _piece(tables[slot, key], flipped[slot, key], (i + k / m) * h,
                                        (i + (k + 1) / m) * h, tolerance)
                        if bad:
                            good = False
                            break
                    if good:
                        break
                    m *= 4
                splits[slot, key, i] = m
    offsets = np.zeros((n_slots, n_bins, n_intervals), dtype=np.int64)
    total = 0
    for slot in range(n_slots):
        for key in range(n_bins):
            for i in range(n_intervals):
                offsets[slot, key, i] = total
                total += splits[slot, key, i]
    coefficients = np.zeros((total, 6))
    exact = np.zeros(total, dtype=np.bool_)
    for slot in range(n_slots):
        for key in range(n_bins):
            constant = not tables[slot, key, 1] > tables[slot, key, 0]
            for i in range(n_intervals):
                m = splits[slot, key, i]
                for k in range(m):
                    row = offsets[slot, key, i] + k
                    if constant:
                        coefficients[row, 0] = tables[slot, key, 0]
                        continue
                    c, bad = _piece(tables[slot, key], flipped[slot, key], (i + k / m) * h, (i + (k + 1) / m) * h,
                                    tolerance)
                    for q in range(6):
                        coefficients[row, q] = c[q]
                    exact[row] = bad
    return splits, offsets, coefficients, exact


@numba.njit(cache=True, inline="always")
def _within_bin(splits, offsets, coefficients, exact, tables, flipped, slot, key, v):
    """The ``v``-quantile of bin ``(slot, key)`` from :func:`quantile_table` (exact where the table is not good).

    Scalar indexing only (an array view would cost reference counting per draw), with unsigned
    indices (no wrap-around of negative indices to compute).
    """
    slot = np.uint64(slot)
    key = np.uint64(key)
    n_intervals = np.uint64(splits.shape[2])
    x = v * n_intervals
    i = min(np.uint64(x), n_intervals - np.uint64(1))
    m = np.uint64(splits[slot, key, i])
    y = (x - i) * m
    k = min(np.uint64(y), m - np.uint64(1))
    row = np.uint64(offsets[slot, key, i]) + k
    if exact[row]:
        return truncated_quantile(tables[slot, key, 0], tables[slot, key, 1], tables[slot, key, 2],
                                  tables[slot, key, 3], tables[slot, key, 4], tables[slot, key, 5],
                                  tables[slot, key, 6], tables[slot, key, 7], flipped[slot, key], v)
    t = y - k
    t2 = t * t
    value = (coefficients[row, 0] + t * coefficients[row, 1]) + t2 * (
        (coefficients[row, 2] + t * coefficients[row, 3]) + t2 * (coefficients[row, 4] + t * coefficients[row, 5]))
    return min(max(value, tables[slot, key, 0]), tables[slot, key, 1])


@numba.njit(cache=True, inline="always")
def _position(u, equal_weights, cumulative, n_background):
    """Position in a player's sorted background of the row whose share of [0, 1) holds ``u``."""
    if equal_weights:
        return min(np.uint64(u * n_background), np.uint64(n_background - 1))
    lo = 0
    hi = n_background - 1
    while lo < hi:  # first position with cumulative > u
        mid = (lo + hi) // 2
        if cumulative[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return np.uint64(lo)


@numba.njit(cache=True, nogil=True)
def _picked_column(key, first_random, skip, n_out, n_columns, column, row_key, bit, sorted_keys, sorted_codes,
                   equal_weights, cumulative, integral, expected, codes_out, binary_out, patterns_out, features,
                   control, levels_out, deviations_out):
    """:func:`draw_samples` for a player that is one column taking the picked row's code (a category, an integer)."""
    n_background = sorted_keys.shape[0]
    j = np.uint64(column)
    stride = np.uint64(n_columns)
    for t in range(np.uint64(skip), np.uint64(n_out)):
        u = counter_uniform(key, (np.uint64(first_random) + t) * stride + j)
        position = _position(u, equal_weights, cumulative, n_background)
        bin_key = sorted_keys[position]
        code = sorted_codes[position]
        codes_out[t, j] = code
        if control:
            levels_out[t] = bin_key + 1
            deviations_out[t] = code - expected[max(bin_key, 0)] if integral and bin_key >= 0 else 0.0
        if features:
            same = np.int64(bin_key == row_key)
            binary_out[t] = same
            patterns_out[t] |= same * bit


@numba.njit(cache=True, error_model="numpy")
def uniform_table(segments, tables, flipped, n_pieces, tolerance):
    """One column's map from a sample's uniform ``u`` straight to its value, as ``n_pieces`` equal pieces of [0, 1).

    For a player that is one continuous column, ``u`` picks the bin (its share ``segments[key] = (start,
    stop, 1 / (stop - start))``) and ``v = (u - start) / (stop - start)`` the quantile within it, so on a
    piece of ``u`` that lies inside one bin's share the value is the bin's quantile of a linear function
    of ``u``. Piece ``i`` (``u`` in ``[i / n_pieces, (i + 1) / n_pieces)``) gets ``keys[i]`` its bin and
    ``coefficients[i]`` the quintic in the position ``t = u * n_pieces - i`` (the :func:`_piece` of the bin
    over the piece's ``v``, checked to ``tolerance`` times the bin's width), or key ``-1`` where the piece
    touches two shares (within ``1e-12``), a missing value's share, or misses the tolerance: there the
    sampler takes the per-bin path (:func:`_within_bin`).
    """
    coefficients = np.zeros((n_pieces, 6))
    keys = np.full(n_pieces, -1, dtype=np.int64)
    margin = 1e-12
    for i in range(n_pieces):
        start = i / n_pieces
        stop = (i + 1) / n_pieces
        for key in range(segments.shape[0]):
            low, high, scale = segments[key, 0], segments[key, 1], segments[key, 2]
            if not (high > low and low + margin <= start and stop <= high - margin):
                continue
            if not tables[key, 1] > tables[key, 0]:  # a point: its value
                coefficients[i, 0] = tables[key, 0]
                keys[i] = key
                break
            c, bad = _piece(tables[key], flipped[key], (start - low) * scale, (stop - low) * scale, tolerance)
            if not bad:
                for q in range(6):
                    coefficients[i, q] = c[q]
                keys[i] = key
            break
    return coefficients, keys


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _continuous_column(key, first_random, skip, n_out, n_columns, column, row_key, bit, sorted_keys, equal_weights,
                       cumulative, segments, splits, offsets, coefficients, exact, tables, flipped, expected,
                       piece_coefficients, piece_keys, codes_out, binary_out, patterns_out, features, control,
                       levels_out,
                       deviations_out, uniforms, keys, values):
    """:func:`draw_samples` for a player that is one continuous numeric column.

    The hot loop of the sampler, in blocks of samples cut into simple loops (uniforms, then values,
    then the writes). A uniform's piece of :func:`uniform_table` (``piece_coefficients``,
    ``piece_keys``) gives its bin and value in one lookup; the few pieces that straddle two bins or
    miss the tolerance take the per-bin path: the bin of the picked background row, the position
    ``v`` in the bin's share, :func:`_within_bin`. ``segments``, ``splits``, ``offsets``, ``tables``,
    ``flipped`` and ``expected`` are the column's.
    """
    n_background = sorted_keys.shape[0]
    n_intervals = np.uint64(splits.shape[1])
    n_pieces = piece_keys.shape[0]
    scale = np.float64(n_pieces)
    j = np.uint64(column)
    stride = np.uint64(n_columns)
    one = np.uint64(1)
    block = uniforms.shape[0]  # scratch of the caller's
    pieces = piece_coefficients.reshape(-1)  # (n_pieces * 6,), C order
    for start in range(skip, n_out, block):
        stop = min(start + block, n_out)
        size = stop - start
        origin = (np.uint64(first_random) + np.uint64(start)) * stride + j
        for b in range(np.uint64(size)):
            uniforms[b] = counter_uniform(key, origin + b * stride)
        for b in range(np.uint64(size)):  # every uniform through its piece, branch-free
            x = uniforms[b] * scale
            i = np.uint64(min(np.int64(x), n_pieces - 1))
            bin_key = piece_keys[i]
            h = x - np.float64(np.int64(i))
            h2 = h * h
            r = i * np.uint64(6)  # unsigned flat offsets: no wrap-around of negative indices
            value = (pieces[r] + h * pieces[r + one]) + h2 * (
                (pieces[r + np.uint64(2)] + h * pieces[r + np.uint64(3)])
                + h2 * (pieces[r + np.uint64(4)] + h * pieces[r + np.uint64(5)]))
            level = np.uint64(max(bin_key, 0))
            keys[b] = bin_key
            values[b] = min(max(value, tables[level, 0]), tables[level, 1])
        for b in range(size):  # the few uniforms of a slow piece (key -1): the per-bin path
            if keys[b] >= 0:
                continue
            u = uniforms[b]
            bin_key = sorted_keys[_position(u, equal_weights, cumulative, n_background)]
            keys[b] = bin_key
            level = np.uint64(max(bin_key, 0))
            v = min(max((u - segments[level, 0]) * segments[level, 2], 0.0), 1.0)
            q = v * n_intervals
            interval = min(np.uint64(q), n_intervals - one)
            m = np.uint64(splits[level, interval])
            y = (q - interval) * m
            k = min(np.uint64(y), m - one)
            row = np.uint64(offsets[level, interval]) + k
            if exact[row]:
                value = truncated_quantile(tables[level, 0], tables[level, 1], tables[level, 2], tables[level, 3],
                                           tables[level, 4], tables[level, 5], tables[level, 6], tables[level, 7],
                                           flipped[level], v)
            else:
                h = y - k
                h2 = h * h
                value = (coefficients[row, 0] + h * coefficients[row, 1]) + h2 * (
                    (coefficients[row, 2] + h * coefficients[row, 3])
                    + h2 * (coefficients[row, 4] + h * coefficients[row, 5]))
                value = min(max(value, tables[level, 0]), tables[level, 1])
            values[b] = value
        for b in range(np.uint64(size)):
            bin_key = keys[b]
            value = values[b]
            t = np.uint64(start) + b
            missing = bin_key < 0
            codes_out[t, j] = np.nan if missing else value
            if control:
                levels_out[t] = bin_key + 1
                deviations_out[t] = 0.0 if missing else value - expected[np.uint64(max(bin_key, 0))]
            if features:
                same = np.int64(bin_key == row_key)
                binary_out[t] = same
                patterns_out[t] |= same * bit


@numba.njit(cache=True, inline="always")
def _draw_player(p, position, u, key, base, row_keys, sorted_keys, sorted_codes, orders, segments, background_keys,
                 background_codes, numeric_slot, integral, tables, flipped, splits, offsets, coefficients, exact,
                 expected, player_columns, player_start, t, control, codes_out, levels_out, deviations_out):
    """Sample ``t``'s columns of a player that is not a single continuous column (see :func:`draw_samples`).

    Returns 1 when every column falls in the explained row's bin (or category), else 0.
    """
    same = 1
    b = orders[p, position]
    for m in range(player_start[p], player_start[p + 1]):
        j = player_columns[m]
        if m == player_start[p]:
            bin_key = sorted_keys[p, position]
            code = sorted_codes[p, position]
        else:
            bin_key = background_keys[b, j]
            code = background_codes[b, j]
        same &= np.int64(bin_key == row_keys[j])
        slot = numeric_slot[j]
        deviation = 0.0
        if slot >= 0 and bin_key >= 0:
            if not integral[slot]:
                if m == player_start[p]:
                    v = min(max((u - segments[p, bin_key, 0]) * segments[p, bin_key, 2], 0.0), 1.0)
                else:
                    v = counter_uniform(key, base + np.uint64(j))
                code = _within_bin(splits, offsets, coefficients, exact, tables, flipped, slot, bin_key, v)
            deviation = code - expected[slot, bin_key]
        codes_out[t, j] = code
        if control:
            levels_out[j, t] = bin_key + 1
            deviations_out[j, t] = deviation
    return same


@numba.njit(cache=True, nogil=True)
def draw_samples(key, random_start, with_row, local_start, row_codes, row_keys, sorted_keys, sorted_codes, orders,
                 cumulative, segments, equal_weights, background_keys, background_codes, numeric_slot, integral,
                 tables, flipped, splits, offsets, coefficients, exact, expected, piece_coefficients, piece_keys,
                 piece_rows, player_columns, player_start, codes_out, binary_out, patterns_out, levels_out,
                 deviations_out):
    """Rows ``local_start ...`` of a request of lime samples around one explained row, in one pass.

    Row ``i`` of the request is the explained row itself when ``with_row`` and ``i == 0``, else
    random sample ``r = random_start + i - with_row`` of the stream ``key``, whose uniform for column
    ``j`` is ``counter_uniform(key, r * n_columns + j)``. For player ``p`` with first column ``j0``
    the uniform ``u`` of ``j0`` picks a background row by its weight: ``sorted_keys[p]`` and
    ``sorted_codes[p]`` hold column ``j0`` of the background rows in ``orders[p]`` (sorted by bin or
    category, then value), ``cumulative[p]`` their cumulative weights. So a bin comes with its
    background frequency. A numeric column that is not ``integral`` takes a value inside that bin:
    the ``v``-quantile of the normal with the bin's background mean and standard deviation truncated
    to the bin (:func:`quantile_table`, exact where that is not good to ``1e-8`` of the bin), where
    ``v`` is ``u``'s position within the bin's share ``segments[p, bin] = (start, stop, 1 / (stop -
    start))`` for ``j0`` (uniform and
    independent of the bin) and, for another column of a group, its own uniform. Other columns take
    the picked row's code; a missing bin gives NaN. For a player that is one continuous column,
    ``piece_coefficients[q]`` and ``piece_keys[q]`` (:func:`uniform_table`, ``q = piece_rows[p]``)
    give the bin and value of most uniforms in one lookup (the same draw, within the tables' tolerance).

    Written per row ``i``: ``codes_out[i]`` (the model's input), when ``binary_out`` has columns
    ``binary_out[p, i]`` 1 when every column of ``p`` falls in the explained row's bin (or
    category), ``patterns_out[i]`` these bits as
    an integer (bit ``p``; 0 beyond 62 players), and when ``levels_out`` has columns, ``levels_out[j,
    i]`` 1 + the key of column ``j`` (0 for missing) and ``deviations_out[j, i]`` its value minus
    ``expected[slot, bin]`` (0 for other columns). Keys are bins or codes, -1 for missing.

    Players are the outer loop and samples the inner one, so a column's branches are taken the same
    way for every sample; the bookkeeping is branch-free.
    """
    n_out = codes_out.shape[0]
    n_columns = row_codes.shape[0]
    n_players = player_start.shape[0] - 1
    n_background = orders.shape[1]
    control = levels_out.shape[1] > 0  # (columns, rows): players and columns outer, contiguous writes
    bits = n_players <= 62
    skip = 1 if with_row and local_start == 0 else 0  # output row 0 is the explained row itself
    shift = (1 if with_row else 0) - local_start
    features = binary_out.shape[1] > 0  # none: the caller derives them from the levels (row_features)
    if features:
        for t in range(n_out):
            patterns_out[t] = 0
    uniforms = np.empty(_BLOCK)  # scratch of the continuous columns' hot loop
    keys = np.empty(_BLOCK, dtype=np.int64)
    values = np.empty(_BLOCK)
    for p in range(n_players):
        first = player_columns[player_start[p]]
        single = player_start[p + 1] - player_start[p] == 1
        slot = numeric_slot[first]
        bit = 1 << p if bits else 0
        if single and slot >= 0 and not integral[slot]:
            _continuous_column(key, random_start - shift, skip, n_out, n_columns, first, row_keys[first], bit,
                               sorted_keys[p], equal_weights, cumulative[p], segments[p], splits[slot], offsets[slot],
                               coefficients, exact, tables[slot], flipped[slot], expected[slot],
                               piece_coefficients[piece_rows[p]], piece_keys[piece_rows[p]], codes_out, binary_out[p],
                               patterns_out, features, control, levels_out[first], deviations_out[first], uniforms,
                               keys, values)
            continue
        if single:
            _picked_column(key, random_start - shift, skip, n_out, n_columns, first, row_keys[first], bit,
                           sorted_keys[p], sorted_codes[p], equal_weights, cumulative[p], slot >= 0,
                           expected[max(slot, 0)], codes_out, binary_out[p], patterns_out, features, control,
                           levels_out[first],
                           deviations_out[first])
            continue
        for t in range(skip, n_out):  # a group of columns, drawn jointly from one background row
            r = random_start + t - shift
            base = np.uint64(r * n_columns)
            u = counter_uniform(key, base + np.uint64(first))
            position = _position(u, equal_weights, cumulative[p], n_background)
            same = _draw_player(p, position, u, key, base, row_keys, sorted_keys, sorted_codes, orders, segments,
                                background_keys, background_codes, numeric_slot, integral, tables, flipped,
                                splits, offsets, coefficients, exact, expected, player_columns, player_start,
                                t, control, codes_out, levels_out, deviations_out)
            if features:
                binary_out[p, t] = same
                patterns_out[t] |= same * bit
    if skip:
        for p in range(n_players):
            if features:
                binary_out[p, 0] = 1
                if bits:
                    patterns_out[0] |= 1 << p
        for j in range(n_columns):
            codes_out[0, j] = row_codes[j]
            if control:
                levels_out[j, 0] = row_keys[j] + 1
                slot = numeric_slot[j]
                deviations_out[j, 0] = row_codes[j] - expected[slot, row_keys[j]] \
                    if slot >= 0 and row_keys[j] >= 0 else 0.0

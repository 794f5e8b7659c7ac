"""Kernels for antithetic permutation sampling of Shapley values, one permutation stream per background row.

A *unit* is one antithetic pair of permutations (an order and its reverse) for one explained row and
one background row. Its order is ``sigma[design[member]]``: a row of the explained row's orthogonal
design (``member = pair % n_members``) with the players relabelled by a random permutation ``sigma``
drawn for the pair's block (``block = pair // n_members``). ``sigma`` comes from a counter-based
generator (SplitMix64, Steele et al. 2014) keyed by the row's key, the background row and the block,
so any unit can be rebuilt anywhere, in any order, with the same result.

A unit's ``2 * (n - 1)`` model rows are, in order, the prefixes of sizes ``1 ... n - 1`` of the
order, then the complements of those prefixes (the prefixes of the reverse order). Row ``r`` of a
request belongs to unit ``r // (2 * (n - 1))``.
"""

import numba
import numpy as np

from .surrogate import fit_boosted_trees, shapley_boosted_trees  # a kernel module: still nothing above the kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True, nogil=True)
def _mix(z):
    """SplitMix64 finaliser: a bijective 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _relabelling(key, background_index, block, sigma):
    """Fill ``sigma`` with the random permutation of block ``block`` of ``background_index`` (Fisher-Yates)."""
    n = sigma.shape[0]
    state = _mix(key + _mix(np.uint64(background_index) + _mix(np.uint64(block) + _GOLDEN)))
    for i in range(n):
        sigma[i] = i
    for i in range(n - 1, 0, -1):
        state += _GOLDEN
        draw = _mix(state) >> np.uint64(11)
        j = int(float(draw) * _UNIT * (i + 1))
        if j > i:
            j = i
        held = sigma[i]
        sigma[i] = sigma[j]
        sigma[j] = held


@numba.njit(cache=True, nogil=True)
def unit_order(design, key, background_index, pair, sigma, order):
    """Fill ``order`` with the players of pair ``pair`` of one background row, first to last."""
    n_members = design.shape[0]
    block = pair // n_members
    member = pair - block * n_members
    _relabelling(key, background_index, block, sigma)
    for t in range(order.shape[0]):
        order[t] = sigma[design[member, t]]


@numba.njit(cache=True, nogil=True)
def fill_permutation_rows(rows, background, player_of_column, designs, keys, unit_row, unit_background,
                          unit_pair, start, stop, out):
    """Write model rows ``start`` to ``stop`` of a request of units (see the module docstring).

    A row holds the explained row's values in the columns of the players that are on, and the
    unit's background row elsewhere.
    """
    n_players = designs.shape[2]
    n_columns = rows.shape[1]
    per_unit = 2 * (n_players - 1)
    sigma = np.empty(n_players, dtype=np.int64)
    order = np.empty(n_players, dtype=np.int64)
    position = np.empty(n_players, dtype=np.int64)
    offsets = np.empty(n_players + 1, dtype=np.int64)
    columns = np.empty(n_columns, dtype=np.int64)  # columns by the position of their player in the order
    r = start
    while r < stop:
        u = r // per_unit
        c = r - u * per_unit
        unit_stop = min(stop, (u + 1) * per_unit)
        i = unit_row[u]
        b = unit_background[u]
        unit_order(designs[i], keys[i], b, unit_pair[u], sigma, order)
        for t in range(n_players):
            position[order[t]] = t
        offsets[:] = 0
        for j in range(n_columns):
            offsets[position[player_of_column[j]] + 1] += 1
        for t in range(n_players):
            offsets[t + 1] += offsets[t]
        for j in range(n_columns):  # stable counting sort
            t = position[player_of_column[j]]
            columns[offsets[t]] = j
            offsets[t] += 1
        for t in range(n_players, 0, -1):
            offsets[t] = offsets[t - 1]
        offsets[0] = 0
        for o in range(r - start, unit_stop - start):
            if c < n_players - 1:  # prefix of size c + 1: the background row, then the prefix's columns from x
                for j in range(n_columns):
                    out[o, j] = background[b, j]
                for t in range(offsets[c + 1]):
                    out[o, columns[t]] = rows[i, columns[t]]
            else:  # complement of the prefix of size c - n + 2: x, then the prefix's columns from the background
                for j in range(n_columns):
                    out[o, j] = rows[i, j]
                for t in range(offsets[c - n_players + 2]):
                    out[o, columns[t]] = background[b, columns[t]]
            c += 1
        r = unit_stop


@numba.njit(cache=True, nogil=True)
def fill_order_coalitions(designs, keys, unit_row, unit_background, unit_pair, start, stop, out):
    """Write the player-level coalitions of model rows ``start`` to ``stop`` of a request of units.

    ``out[o, p]`` is True when player ``p`` takes the explained row's value in row ``start + o``: the
    same rows as :func:`fill_permutation_rows`, for maskers that fill rows from coalitions.
    """
    n_players = designs.shape[2]
    per_unit = 2 * (n_players - 1)
    sigma = np.empty(n_players, dtype=np.int64)
    order = np.empty(n_players, dtype=np.int64)
    r = start
    while r < stop:
        u = r // per_unit
        c = r - u * per_unit
        unit_stop = min(stop, (u + 1) * per_unit)
        unit_order(designs[unit_row[u]], keys[unit_row[u]], unit_background[u], unit_pair[u], sigma, order)
        for o in range(r - start, unit_stop - start):
            if c < n_players - 1:  # prefix of size c + 1 is on
                size = c + 1
                for t in range(n_players):
                    out[o, order[t]] = t < size
            else:  # complement of the prefix of size c - n + 2 is on
                size = c - n_players + 2
                for t in range(n_players):
                    out[o, order[t]] = t >= size
            c += 1
        r = unit_stop


@numba.njit(cache=True, nogil=True)
def accumulate_units(outputs, row_outputs, background_outputs, designs, keys, unit_row, unit_background,
                     unit_pair, shift, sum1, sum2):
    """Add each unit's pair estimate to the running sums of its (explained row, background row).

    The pair estimate of player ``i`` is the mean of its marginal contributions along the order and
    along the reverse order (Castro et al. 2009; antithetic pairs: Mitchell et al. 2022). Along one
    order the contributions telescope to ``f(x) - f(b)``, so every estimate satisfies efficiency.
    Sums are kept shifted by the first pair's estimate (``shift``), so that a spread of zero stays
    exactly zero: ``sum1 += e - shift``, ``sum2 += (e - shift)**2``, arrays (n_rows, n_background,
    n_players, n_outputs). ``outputs`` (n_units * 2 * (n - 1), n_outputs) are the values of the units'
    model rows; ``row_outputs`` ``f(x)`` per explained row, ``background_outputs`` ``f(b)``.
    """
    n_units, n_players, n_outputs = unit_row.shape[0], designs.shape[2], outputs.shape[1]
    estimates = np.empty((n_units, n_players, n_outputs))
    unit_estimates(outputs, row_outputs, background_outputs, designs, keys, unit_row, unit_background, unit_pair,
                   estimates)
    for u in range(n_units):
        i = unit_row[u]
        b = unit_background[u]
        for k in range(n_outputs):
            for p in range(n_players):
                if unit_pair[u] == 0:
                    shift[i, b, p, k] = estimates[u, p, k]
                d = estimates[u, p, k] - shift[i, b, p, k]
                sum1[i, b, p, k] += d
                sum2[i, b, p, k] += d * d


@numba.njit(cache=True, nogil=True)
def _pair_estimate(values, u, k, full, empty, order, estimate):
    """Player estimates of unit ``u`` (output ``k``): mean marginal contribution along its order and the reverse.

    ``values[u * 2 * (n - 1) + c, k]`` are the unit's coalition values (prefixes, then complements),
    ``full`` and ``empty`` the values of the full and empty coalitions.
    """
    n_players = order.shape[0]
    first = u * 2 * (n_players - 1)
    before = empty  # forward: v(prefix of size t + 1) - v(prefix of size t)
    for t in range(n_players - 1):
        after = values[first + t, k]
        estimate[order[t]] = after - before
        before = after
    estimate[order[n_players - 1]] = full - before
    # reverse: order[t] joins the players after it, v(order[t:]) - v(order[t + 1:])
    upper = full
    for t in range(n_players):
        lower = empty if t == n_players - 1 else values[first + n_players - 1 + t, k]
        estimate[order[t]] = 0.5 * (estimate[order[t]] + (upper - lower))
        upper = lower


@numba.njit(cache=True, nogil=True)
def unit_estimates(values, full, empty, designs, keys, unit_row, unit_background, unit_pair, out):
    """Each unit's pair estimate ``out[u]`` (n_players, n_outputs) from its coalition values.

    As :func:`accumulate_units` without the sums: ``values`` (n_units * 2 * (n - 1), n_outputs), ``full``
    (n_rows, n_outputs) and ``empty`` (n_background, n_outputs) the values of the full and empty
    coalitions (the model's, or a surrogate's with one row of each).
    """
    n_players = designs.shape[2]
    sigma = np.empty(n_players, dtype=np.int64)
    order = np.empty(n_players, dtype=np.int64)
    estimate = np.empty(n_players, dtype=np.float64)
    for u in range(unit_row.shape[0]):
        i = unit_row[u]
        b = unit_background[u]
        unit_order(designs[i], keys[i], b, unit_pair[u], sigma, order)
        for k in range(values.shape[1]):
            _pair_estimate(values, u, k, full[min(i, full.shape[0] - 1), k], empty[min(b, empty.shape[0] - 1), k],
                           order, estimate)
            for p in range(n_players):
                out[u, p, k] = estimate[p]


@numba.njit(cache=True, nogil=True)
def stratum_spread(columns, strata, weights, n_strata):
    """``sum_u weights[u] * sum_j (columns[u, j] - mean_j(stratum of u))**2``, the means weighted by ``weights``
    within each stratum (``strata`` below ``n_strata``): what a stratified estimate's variance is made of."""
    n_units, n_columns = columns.shape
    mass = np.zeros(n_strata)
    means = np.zeros((n_strata, n_columns))
    for u in range(n_units):
        s = strata[u]
        mass[s] += weights[u]
        for j in range(n_columns):
            means[s, j] += weights[u] * columns[u, j]
    for s in range(n_strata):
        if mass[s] > 0:
            for j in range(n_columns):
                means[s, j] /= mass[s]
    total = 0.0
    for u in range(n_units):
        s = strata[u]
        square = 0.0
        for j in range(n_columns):
            d = columns[u, j] - means[s, j]
            square += d * d
        total += weights[u] * square
    return total


@numba.njit(cache=True, nogil=True)
def pilot_spreads(values, prediction, full, empty, tree_phi, tree_full, tree_empty, design, key, unit_background,
                  unit_pair, weights, n_strata, output):
    """The pilot of a control variate for units: within-background spreads of ``D_u`` and of ``D_u - (G_u - phi(h))``.

    ``D_u`` is unit ``u``'s estimate from its coalition values ``values[:, output]`` (one row per coalition of the
    units, unit by unit; ``full`` (n_outputs,) and ``empty`` (n_background, n_outputs) the model's full and empty
    values), ``G_u`` the same from a surrogate's ``prediction`` (its full and empty values ``tree_full`` and
    ``tree_empty``) and ``tree_phi`` the surrogate's exact Shapley values. The spreads are
    :func:`stratum_spread` of both with the units' background rows as strata and ``weights`` per unit.
    Returns ``(before, after)``.
    """
    n_units = unit_background.shape[0]
    n_players = design.shape[1]
    sigma = np.empty(n_players, dtype=np.int64)
    order = np.empty(n_players, dtype=np.int64)
    estimate = np.empty(n_players, dtype=np.float64)
    surrogate = np.empty(n_players, dtype=np.float64)
    plain = np.empty((n_units, n_players))
    adjusted = np.empty((n_units, n_players))
    column = np.ascontiguousarray(values[:, output]).reshape(-1, 1)
    guess = prediction.reshape(-1, 1)
    for u in range(n_units):
        b = unit_background[u]
        unit_order(design, key, b, unit_pair[u], sigma, order)
        _pair_estimate(column, u, 0, full[output], empty[b, output], order, estimate)
        _pair_estimate(guess, u, 0, tree_full, tree_empty, order, surrogate)
        for p in range(n_players):
            plain[u, p] = estimate[p]
            adjusted[u, p] = estimate[p] - (surrogate[p] - tree_phi[p])
    return (stratum_spread(plain, unit_background, weights, n_strata),
            stratum_spread(adjusted, unit_background, weights, n_strata))


@numba.njit(cache=True, nogil=True)
def permutation_pilot(values, full, empty, weights, design, key, unit_background, unit_pair, n_near, n_trees, max_depth,
                      learning_rate):
    """The pilot of PermutationShapley's tree control variate, in one call: ``(before, after)`` summed over outputs.

    ``values`` (n_units, 2 * (n - 1), n_outputs) are the coalition values of units ``(unit_background, unit_pair)``
    of one explained row, in any order; ``full`` (n_outputs,) and ``empty`` (n_background, n_outputs) the model's
    full and empty values, ``weights`` the background rows' weights. Boosted trees (:func:`fit_boosted_trees`) are
    fitted to ``v_b(S) - f(b)`` of pairs 0 and 1 of background rows ``0 .. n_near - 1`` (in background row, then
    pair order) and judged on their pairs 2 and 3 by :func:`pilot_spreads` (strata: background rows, unit
    weights ``weights[b] ** 2``).
    """
    n_players = design.shape[1]
    per_unit = 2 * (n_players - 1)
    n_outputs = values.shape[2]
    position = np.full((n_near, 4), -1, dtype=np.int64)
    for u in range(unit_background.shape[0]):
        if unit_background[u] < n_near and unit_pair[u] < 4:
            position[unit_background[u], unit_pair[u]] = u
    chosen = np.empty(4 * n_near, dtype=np.int64)  # pilot units: training ones first, then the held ones
    n_train = 0
    for b in range(n_near):
        for p in range(2):
            if position[b, p] >= 0:
                chosen[n_train] = position[b, p]
                n_train += 1
    n_chosen = n_train
    for b in range(n_near):
        for p in range(2, 4):
            if position[b, p] >= 0:
                chosen[n_chosen] = position[b, p]
                n_chosen += 1
    chosen = chosen[:n_chosen]
    n_held = n_chosen - n_train
    background = unit_background[chosen]
    pair = unit_pair[chosen]
    coalitions = np.empty((n_chosen * per_unit, n_players), dtype=np.bool_)
    fill_order_coalitions(design.reshape((1,) + design.shape), np.array([key]), np.zeros(n_chosen, dtype=np.int64),
                          background, pair, 0, n_chosen * per_unit, coalitions)
    n_fit = n_train * per_unit
    fit_on = np.zeros(n_chosen * per_unit, dtype=np.bool_)
    fit_on[:n_fit] = True
    targets = np.zeros(n_chosen * per_unit)
    held_values = np.empty((n_held * per_unit, n_outputs))
    for a in range(n_held):
        for c in range(per_unit):
            for k in range(n_outputs):
                held_values[a * per_unit + c, k] = values[chosen[n_train + a], c, k]
    unit_weights = np.empty(n_held)
    for a in range(n_held):
        unit_weights[a] = weights[background[n_train + a]] ** 2
    before = 0.0
    after = 0.0
    for k in range(n_outputs):
        for a in range(n_train):
            for c in range(per_unit):
                targets[a * per_unit + c] = values[chosen[a], c, k] - empty[background[a], k]
        base, split, value, prediction = fit_boosted_trees(coalitions, targets, fit_on, n_trees, max_depth,
                                                           learning_rate, 1, 1.0, np.zeros((0, 0)))
        phi, tree_empty, tree_full = shapley_boosted_trees(n_players, base, split, value)
        spreads = pilot_spreads(held_values, prediction[n_fit:], full, empty, phi, tree_full, tree_empty, design, key,
                                background[n_train:], pair[n_train:], unit_weights, n_near, k)
        before += spreads[0]
        after += spreads[1]
    return before, after

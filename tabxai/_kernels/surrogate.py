"""Kernels for a tree surrogate of a cooperative game: boosted regression trees on coalitions.

A coalition is a row of booleans (player present or absent), so a tree node splits on a player: its
left child holds the coalitions without the player, its right child those with it, and finding a split
needs only, per player, the sum and the number of the node's residuals whose coalitions hold it.
Trees are complete binary trees in heap order: node ``k`` has children ``2k + 1`` (absent) and
``2k + 2`` (present); ``split[t, k]`` is the player node ``k`` of tree ``t`` splits on, or -1 for a
leaf, whose value (learning rate included) is ``value[t, k]``.

Inside the fit, coalitions are packed into 64-bit words and the training rows are kept sorted by
node (each split partitions its node's segment of a row order, as CART implementations do). A node's
rows are gathered into contiguous memory for the per-player sums, which LLVM vectorises; of two
children only the smaller is summed, the other is the difference from the parent, and the children
of the last split level take their statistics from the split itself.
"""

import numba
import numpy as np



@numba.njit(cache=True)
def pack_coalitions(coalitions):
    """Boolean coalitions (m, n) as int64 words (ceil(n / 64), m): bit ``j % 64`` of word ``j // 64``."""
    m, n = coalitions.shape
    words = np.zeros(((n + 63) // 64, m), dtype=np.int64)
    for i in range(m):
        for j in range(n):
            if coalitions[i, j]:
                words[j >> 6, i] |= np.int64(1) << (j & 63)
    return words


@numba.njit(cache=True)
def _node_sums(words, residual, order, start, stop, node, sums, counts, total, squares, size, scratch_words,
               scratch_residual):
    """Sums of the residuals of the node's rows ``order[start:stop]``, overall and per player present, and counts.

    The rows' residuals and words are first gathered into contiguous scratch space.
    """
    length = stop - start
    rows = order[start:stop]
    for b in range(length):
        scratch_residual[b] = residual[rows[b]]
    for w in range(words.shape[0]):
        column = words[w]
        for b in range(length):
            scratch_words[w, b] = column[rows[b]]
    size[node] = length
    total[node], squares[node] = _contiguous_sums(scratch_words, scratch_residual[:length], node, sums, counts)


_LANES = 8


@numba.njit(cache=True)
def _contiguous_sums(words, residual, node, sums, counts):
    """Per player, the sum of the residuals of the rows holding it and their number; the total and squares.

    Eight running sums (lanes), combined in a fixed order at the end: the lanes vectorise without letting the
    compiler reorder any addition (``fastmath`` reassociation did, and the same rows summed differently from one
    process to another on a cold compilation cache).
    """
    n = residual.shape[0]
    main = n - n % _LANES
    lanes = np.zeros(_LANES)
    squares = np.zeros(_LANES)
    for b in range(0, main, _LANES):
        for lane in range(_LANES):
            r = residual[b + lane]
            lanes[lane] += r
            squares[lane] += r * r
    t = 0.0
    q = 0.0
    for lane in range(_LANES):
        t += lanes[lane]
        q += squares[lane]
    for b in range(main, n):
        t += residual[b]
        q += residual[b] * residual[b]
    hits = np.zeros(_LANES, dtype=np.uint64)
    for j in range(sums.shape[1]):
        word = words[j >> 6, :n]
        shift = np.uint64(j & 63)
        lanes[:] = 0.0
        c = np.uint64(0)
        for b in range(0, main, _LANES):
            for lane in range(_LANES):
                bit = (word[b + lane] >> shift) & np.uint64(1)
                lanes[lane] += residual[b + lane] * np.float64(bit)
                hits[lane] += bit
        for lane in range(_LANES):
            c += hits[lane]
            hits[lane] = 0
        total = 0.0
        for lane in range(_LANES):
            total += lanes[lane]
        for b in range(main, n):
            bit = (word[b] >> shift) & np.uint64(1)
            total += residual[b] * np.float64(bit)
            c += bit
        sums[node, j] = total
        counts[node, j] = c
    return t, q


@numba.njit(cache=True)
def _best_split(node, sums, counts, total, squares, size, min_leaf):
    """The player whose split most reduces the node's squared error, or -1 (see fit_boosted_trees)."""
    count = size[node]
    if count < 2 * min_leaf:
        return -1
    best = 1e-10 * squares[node]  # above the rounding error of the gains
    best_player = -1
    whole = total[node] * total[node] / count
    for j in range(sums.shape[1]):
        right = counts[node, j]
        left = count - right
        if right < min_leaf or left < min_leaf:
            continue
        right_sum = sums[node, j]
        left_sum = total[node] - right_sum
        gain = right_sum * right_sum / right + left_sum * left_sum / left - whole
        if gain > best and (best_player < 0 or gain > best * (1.0 + 1e-9)):
            best = gain
            best_player = j
    return best_player


@numba.njit(cache=True)
def _partition(order, start, stop, buffer, side, word, shift):
    """Reorder ``order[start:stop]`` stably: first the rows on the left (``side[b] == 0``, or with
    ``word`` given, rows ``a = order[b]`` whose bit ``shift`` of ``word[a]`` is 0); return where the
    others start. Branch-free: every row is written to both destinations and only one counter moves.
    """
    low = start
    high = 0
    for b in range(start, stop):
        a = order[b]
        on = (word[a] >> shift) & 1 if word.shape[0] > 0 else side[b]
        buffer[high] = a
        order[low] = a
        high += on
        low += 1 - on
    for b in range(high):
        order[low + b] = buffer[b]
    return low


@numba.njit(cache=True)
def _leaf(split, t, words, i):
    """The leaf of tree ``t`` that coalition ``i`` (a column of packed ``words``) falls in."""
    k = 0
    while k < split.shape[1]:
        player = split[t, k]
        if player < 0:
            break
        k = 2 * k + 1 + ((words[player >> 6, i] >> (player & 63)) & 1)
    return k


@numba.njit(cache=True)
def fit_boosted_trees(coalitions, targets, train, n_trees, max_depth, learning_rate, min_leaf, subsample, uniforms):
    """Gradient boosting of depth-limited regression trees with squared loss on boolean features.

    Parameters
    ----------
    coalitions : bool (m, n)
        The rows (features).
    targets : float64 (m,)
        Values to fit.
    train : bool (m,)
        Rows fitted on; the ensemble predicts every row.
    n_trees, max_depth : int
    learning_rate : float
    min_leaf : int >= 1
        A node splits on the player that most reduces the squared error of its residuals, when each
        side keeps at least ``min_leaf`` rows and the reduction exceeds 1e-10 of the node's sum of
        squared residuals; of reductions equal to within a relative 1e-9 the lowest player's wins.
        A leaf's value is ``learning_rate`` times the mean residual of its rows.
    subsample : float in (0, 1]
    uniforms : float64 (n_trees, m)
        With ``subsample < 1``, tree ``t`` is grown on the training rows with ``uniforms[t, i] < subsample``
        (stochastic gradient boosting, Friedman 2002) and the residuals of every training row are
        updated; not read otherwise (an empty array will do).

    Returns
    -------
    base : float
        Mean target of the training rows (the ensemble's starting value).
    split : int64 (n_trees, 2 ** max_depth - 1)
    value : float64 (n_trees, 2 ** (max_depth + 1) - 1)
    prediction : float64 (m,)
        The ensemble's prediction for every row.
    """
    m, n = coalitions.shape
    n_inner = 2 ** max_depth - 1
    n_nodes = 2 ** (max_depth + 1) - 1
    split = np.full((n_trees, n_inner), -1, dtype=np.int64)
    value = np.zeros((n_trees, n_nodes), dtype=np.float64)
    packed = pack_coalitions(coalitions)
    n_words = packed.shape[0]
    training = np.flatnonzero(train)
    n_train = training.shape[0]
    base = 0.0
    for a in range(n_train):
        base += targets[training[a]]
    if n_train > 0:
        base /= n_train
    # coalitions and residuals of the training rows (a training row's prediction is target - residual)
    words = np.empty((n_words, n_train), dtype=np.int64)
    residual = np.empty(n_train)
    for a in range(n_train):
        for w in range(n_words):
            words[w, a] = packed[w, training[a]]
        residual[a] = targets[training[a]] - base
    order = np.arange(n_train)  # training rows sorted by node, a tree's grown rows first
    buffer = np.empty(n_train, dtype=np.int64)
    side = np.empty(n_train, dtype=np.int64)
    no_word = np.empty(0, dtype=np.int64)
    scratch_words = np.empty((n_words, n_train), dtype=np.int64)
    scratch_residual = np.empty(n_train)
    start = np.zeros(n_nodes, dtype=np.int64)
    stop = np.zeros(n_nodes, dtype=np.int64)
    sums = np.zeros((n_nodes, n))
    counts = np.zeros((n_nodes, n), dtype=np.int64)
    total = np.zeros(n_nodes)
    squares = np.zeros(n_nodes)
    size = np.zeros(n_nodes, dtype=np.int64)
    for t in range(n_trees):
        count = n_train
        if subsample < 1.0:
            for b in range(n_train):
                side[b] = uniforms[t, training[order[b]]] >= subsample
            count = _partition(order, 0, n_train, buffer, side, no_word, 0)
        start[0] = 0
        stop[0] = count
        if count == n_train:  # every row: the training arrays themselves, no gathering
            size[0] = count
            total[0], squares[0] = _contiguous_sums(words, residual, 0, sums, counts)
        else:
            _node_sums(words, residual, order, 0, count, 0, sums, counts, total, squares, size, scratch_words,
                       scratch_residual)
        if max_depth == 0 and count > 0:
            _settle(t, 0, learning_rate * total[0] / count, start, stop, order, value, residual)
        for level in range(max_depth):
            first = 2 ** level - 1
            for k in range(first, 2 * first + 1, 2):  # left children (odd): the pair's statistics
                parent = (k - 1) // 2
                if level == 0 or split[t, parent] < 0:
                    continue  # not nodes of this tree
                small = k if stop[k] - start[k] <= stop[k + 1] - start[k + 1] else k + 1
                large = 2 * k + 1 - small
                _node_sums(words, residual, order, start[small], stop[small], small, sums, counts, total, squares,
                           size, scratch_words, scratch_residual)
                for j in range(n):  # the larger child's by difference
                    sums[large, j] = sums[parent, j] - sums[small, j]
                    counts[large, j] = counts[parent, j] - counts[small, j]
                total[large] = total[parent] - total[small]
                squares[large] = squares[parent] - squares[small]
                size[large] = size[parent] - size[small]
            for k in range(first, 2 * first + 1):
                if k > 0 and split[t, (k - 1) // 2] < 0:
                    continue
                player = _best_split(k, sums, counts, total, squares, size, min_leaf)
                if player < 0:
                    if size[k] > 0:
                        _settle(t, k, learning_rate * total[k] / size[k], start, stop, order, value, residual)
                    continue
                split[t, k] = player
                word = words[player >> 6]
                shift = player & 63
                if level + 1 < max_depth:
                    middle = _partition(order, start[k], stop[k], buffer, side, word, shift)
                    start[2 * k + 1], stop[2 * k + 1] = start[k], middle
                    start[2 * k + 2], stop[2 * k + 2] = middle, stop[k]
                else:  # children at the depth limit are leaves, with the statistics of this split
                    right = learning_rate * sums[k, player] / counts[k, player]
                    left = learning_rate * (total[k] - sums[k, player]) / (size[k] - counts[k, player])
                    value[t, 2 * k + 1] = left
                    value[t, 2 * k + 2] = right
                    for b in range(start[k], stop[k]):
                        a = order[b]
                        residual[a] -= right if (word[a] >> shift) & 1 else left
        for b in range(count, n_train):  # training rows the tree was not grown on
            a = order[b]
            residual[a] -= value[t, _leaf(split, t, words, a)]
    prediction = np.empty(m)
    for i in range(m):  # the walk written out here: through a call to _leaf it runs four times slower
        if train[i]:
            continue
        level = base
        for t in range(n_trees):
            k = 0
            while k < n_inner:
                player = split[t, k]
                if player < 0:
                    break
                k = 2 * k + 1 + ((packed[player >> 6, i] >> (player & 63)) & 1)
            level += value[t, k]
        prediction[i] = level
    for a in range(n_train):
        prediction[training[a]] = targets[training[a]] - residual[a]
    return base, split, value, prediction


@numba.njit(cache=True)
def _settle(t, k, step, start, stop, order, value, residual):
    """Make node ``k`` of tree ``t`` a leaf of value ``step`` and move its rows' residuals by it."""
    value[t, k] = step
    for b in range(start[k], stop[k]):
        residual[order[b]] -= step


@numba.njit(cache=True)
def shapley_boosted_trees(n_players, base, split, value):
    """Exact Shapley values of the ensemble as a game on coalitions, and its value at the empty and full one.

    A leaf of value ``c`` whose path needs the players ``P`` present and ``Q`` absent is the game
    ``c * 1[P in S, Q disjoint from S]``; its Shapley value is ``c (|P|-1)! |Q|! / (|P|+|Q|)!`` for each
    player of ``P`` and ``-c |P|! (|Q|-1)! / (|P|+|Q|)!`` for each of ``Q`` (0 for the others); the
    ensemble's values are the sums over leaves (linearity).

    Returns
    -------
    phi : float64 (n_players,)
    empty, full : float
        The ensemble's value at the empty and at the full coalition.
    """
    phi = np.zeros(n_players)
    n_trees, n_inner = split.shape
    empty = base
    full = base
    path = np.empty(64, dtype=np.int64)
    present = np.empty(64, dtype=np.bool_)
    for t in range(n_trees):
        for k in range(value.shape[1]):
            if k > 0 and split[t, (k - 1) // 2] < 0:
                continue  # not a node of this tree
            if k < n_inner and split[t, k] >= 0:
                continue  # an inner node
            c = value[t, k]
            depth = 0
            a = k
            while a > 0:
                parent = (a - 1) // 2
                path[depth] = split[t, parent]
                present[depth] = a == 2 * parent + 2
                depth += 1
                a = parent
            p = 0
            for d in range(depth):
                p += present[d]
            q = depth - p
            if p == 0:
                empty += c
            if q == 0:
                full += c
            if depth == 0:
                continue
            # (p-1)! q! / (p+q)! = 1 / (p C(p+q, p)) and p! (q-1)! / (p+q)! = 1 / (q C(p+q, q))
            binomial = 1.0
            for d in range(1, p + 1):
                binomial = binomial * (q + d) / d
            for d in range(depth):
                if present[d]:
                    phi[path[d]] += c / (p * binomial)
                else:
                    phi[path[d]] -= c / (q * binomial)
    return phi, empty, full


@numba.njit(cache=True)
def held_out_reduction(members, first, second, phi, train, held, strata, weights, n_strata, n_trees, max_depth,
                       learning_rate, negligible):
    """The pilot of a tree control variate for KernelSHAP: the held-out variance its residuals leave.

    The residuals of the plain fit ``phi`` are ``r_S = v(S) - z_S . phi`` and
    ``r_(N-S) = v(N-S) - (sum(phi) - z_S . phi)``. Boosted trees fitted to the residuals of the pairs
    ``train`` (both members) predict those of the pairs ``held``; the within-strata weighted sums of
    squares of the held residuals, before and after subtracting the prediction, are summed over outputs.

    Parameters
    ----------
    members : bool (p, n)
        The pairs' first members ``S`` (the second is ``N - S``).
    first, second : float64 (p, n_outputs)
        ``v(S) - v(empty)`` and ``v(N - S) - v(empty)``.
    phi : float64 (n, n_outputs)
    train, held : bool (p,)
        Disjoint: pairs the trees are fitted on, pairs they are judged on.
    strata : int64 (p,)
        Stratum of each pair, below ``n_strata``.
    weights : float64 (p,)
        Weight of each member of a pair.
    n_trees, max_depth, learning_rate
        As for :func:`fit_boosted_trees` (leaves of one row at least).
    negligible : float
        When the held residuals' sum of squares is at most ``negligible`` times that of the held values
        (the plain fit leaves nothing but rounding to reduce), no trees are fitted and ``after = before``.

    Returns
    -------
    before, after : float
    """
    p, n = members.shape
    n_outputs = first.shape[1]
    rows = np.empty(p, dtype=np.int64)  # the pairs fitted on or judged, in pair order
    m = 0
    for i in range(p):
        if train[i] or held[i]:
            rows[m] = i
            m += 1
    coalitions = np.empty((2 * m, n), dtype=np.bool_)
    fit_on = np.empty(2 * m, dtype=np.bool_)
    for a in range(m):
        i = rows[a]
        for j in range(n):
            coalitions[a, j] = members[i, j]
            coalitions[m + a, j] = not members[i, j]
        fit_on[a] = train[i]
        fit_on[m + a] = train[i]
    residual = np.empty(2 * m)
    before = 0.0
    after = 0.0
    for k in range(n_outputs):
        total = 0.0
        for j in range(n):
            total += phi[j, k]
        values_squares = 0.0
        for a in range(m):
            i = rows[a]
            inside = 0.0
            for j in range(n):
                if members[i, j]:
                    inside += phi[j, k]
            residual[a] = first[i, k] - inside
            residual[m + a] = second[i, k] - (total - inside)
            if held[i]:
                values_squares += weights[i] * (first[i, k] * first[i, k] + second[i, k] * second[i, k])
        spread = _held_spread(residual, rows, held, strata, weights, n_strata, m)
        before += spread
        if spread <= negligible * values_squares:
            after += spread
            continue
        prediction = fit_boosted_trees(coalitions, residual, fit_on, n_trees, max_depth, learning_rate, 1, 1.0,
                                       np.zeros((0, 0)))[3]
        for a in range(2 * m):
            if not fit_on[a]:
                residual[a] -= prediction[a]
        after += _held_spread(residual, rows, held, strata, weights, n_strata, m)
    return before, after


@numba.njit(cache=True)
def _held_spread(residual, rows, held, strata, weights, n_strata, m):
    """Weighted sum of squares of the held pairs' residuals (both members) about their stratum's weighted mean."""
    mass = np.zeros(n_strata)
    sums = np.zeros(n_strata)
    for a in range(m):
        i = rows[a]
        if held[i]:
            mass[strata[i]] += 2 * weights[i]
            sums[strata[i]] += weights[i] * (residual[a] + residual[m + a])
    out = 0.0
    for a in range(m):
        i = rows[a]
        if held[i]:
            mean = sums[strata[i]] / mass[strata[i]]
            out += weights[i] * ((residual[a] - mean) ** 2 + (residual[m + a] - mean) ** 2)
    return out

"""Slow, obviously correct reference implementations that the fast paths are tested against.

Each section belongs to one part of the package; keep them free of tabxai imports, so that a bug in
tabxai cannot hide in its own reference.
"""

import itertools
import math

import numpy as np
import pandas as pd

# --- shapley: begin ---


def naive_coalition_value(predict, x, background, on_columns, weights=None):
    """v(S): weighted mean over background rows of the model with the columns in ``on_columns`` from ``x``.

    ``x`` is one row (a pandas Series or 1-D array), ``background`` a DataFrame or 2-D array,
    ``predict`` maps such rows to outputs. Built row by row with plain assignments.
    """
    if isinstance(background, pd.DataFrame):
        masked = background.copy()
        for column in on_columns:
            masked[column] = [x[column]] * len(masked)
            masked[column] = masked[column].astype(background[column].dtype)
    else:
        masked = np.array(background, dtype=float, copy=True)
        for column in on_columns:
            masked[:, column] = x[column]
    outputs = np.asarray(predict(masked), dtype=float)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if weights is None:
        weights = np.ones(len(outputs))
    weights = np.asarray(weights, dtype=float)
    return (weights[:, None] * outputs).sum(axis=0) / weights.sum()


def naive_shapley(predict, x, background, groups, weights=None):
    """Shapley values straight from the definition: a sum over all subsets of the other players.

    ``groups`` is a list of players, each a list of columns (names for a DataFrame background,
    positions for an array). Returns an array (n_players, n_outputs).
    """
    n = len(groups)
    cache = {}

    def value(players):
        key = tuple(sorted(players))
        if key not in cache:
            columns = [c for p in key for c in groups[p]]
            cache[key] = naive_coalition_value(predict, x, background, columns, weights)
        return cache[key]

    phi = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                total = total + weight * (value(subset + (i,)) - value(subset))
        phi.append(total)
    return np.array(phi)


def naive_shapley_by_permutations(predict, x, background, groups, weights=None):
    """Shapley values as the mean marginal contribution over all n! orders of the players."""
    n = len(groups)
    phi = 0.0
    count = 0
    for order in itertools.permutations(range(n)):
        contributions = [None] * n
        before = naive_coalition_value(predict, x, background, [], weights)
        on = []
        for player in order:
            on = on + list(groups[player])
            after = naive_coalition_value(predict, x, background, on, weights)
            contributions[player] = after - before
            before = after
        phi = phi + np.array(contributions)
        count += 1
    return phi / count


# --- shapley: end ---

# --- inspection: begin ---


def naive_partial_dependence(predict, X, columns, points, weights=None):
    """Average and ICE values at grid points by a loop: one copy of ``X`` per point, columns assigned.

    ``columns`` are names (DataFrame) or positions (array); ``points`` is a sequence of tuples, one
    value per column. Returns ``average (n_points, n_outputs)`` and ``individual (n_points, n_rows, n_outputs)``.
    """
    averages, individual = [], []
    for point in points:
        if isinstance(X, pd.DataFrame):
            changed = X.copy()
            for column, value in zip(columns, point):
                changed[column] = [value] * len(changed)
                changed[column] = changed[column].astype(X[column].dtype)
        else:
            changed = np.array(X, dtype=float, copy=True)
            for column, value in zip(columns, point):
                changed[:, column] = value
        outputs = np.asarray(predict(changed), dtype=float)
        if outputs.ndim == 1:
            outputs = outputs[:, None]
        w = np.ones(len(outputs)) if weights is None else np.asarray(weights, dtype=float)
        averages.append((w[:, None] * outputs).sum(axis=0) / w.sum())
        individual.append(outputs)
    return np.array(averages), np.array(individual)


def naive_ale(predict, X, column, edges, weights=None):
    """Accumulated local effects at ``edges`` by loops over bins and rows (Apley and Zhu 2020, eqs. 15-16).

    Bin ``k`` (1-based) holds the rows with ``edges[k-1] < x <= edges[k]``, the first bin also ``edges[0]``.
    Returns ``(n_outputs, len(edges))``, centred so that the weighted mean over rows of the value at
    the upper edge of each row's bin is 0.
    """
    X = np.asarray(X, dtype=float)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    n_bins = len(edges) - 1
    effects, counts = [], []
    for k in range(1, n_bins + 1):
        total, count = 0.0, 0.0
        for i in range(len(X)):
            x = X[i, column]
            inside = (edges[k - 1] < x <= edges[k]) or (k == 1 and x == edges[0])
            if not inside:
                continue
            low, high = X[i].copy(), X[i].copy()
            low[column], high[column] = edges[k - 1], edges[k]
            difference = np.atleast_1d(np.asarray(predict(high[None, :]), dtype=float)[0]) - \
                np.atleast_1d(np.asarray(predict(low[None, :]), dtype=float)[0])
            total = total + w[i] * difference
            count += w[i]
        effects.append(total / count if count > 0 else 0.0 * total)
        counts.append(count)
    n_outputs = np.atleast_1d(effects[0]).shape[0]
    uncentred = np.zeros((n_outputs, len(edges)))
    for k in range(1, len(edges)):
        uncentred[:, k] = uncentred[:, k - 1] + np.atleast_1d(effects[k - 1])
    offset = sum(counts[k - 1] * uncentred[:, k] for k in range(1, len(edges))) / sum(counts)
    return uncentred - offset[:, None]


def naive_weighted_quantiles(values, weights, probabilities):
    """For each p: the smallest value v of positive weight whose share of weight at or below v is >= p."""
    out = []
    total = sum(w for w in weights if w > 0)
    candidates = sorted(v for v, w in zip(values, weights) if w > 0)
    for p in probabilities:
        for v in candidates:
            if sum(w for u, w in zip(values, weights) if w > 0 and u <= v) / total >= p:
                out.append(v)
                break
    return np.array(out)


def naive_constrained_wls(coalitions, weights, targets, delta, pair_stratum, stratum_units, minimum_pairs=8):
    """KernelSHAP's estimate and sandwich standard errors from the textbook formulas, dense numpy.

    phi solves min sum_S w_S (y_S - z_S . phi)^2 subject to sum(phi) = delta, through the KKT system.
    ``coalitions`` are the pairs' first members then their complements (2m rows). Standard errors:
    P = the top-left block of the inverse KKT matrix; the score of pair p is
    g_p = sum_{S in p} w_S z_S r_S / (1 - h_p) with leverage h_p = sum_{S in p} w_S z_S' P z_S (at most 0.99);
    sampled strata (0 < count < units) are grouped in order until each group has ``minimum_pairs`` pairs
    (a short last group joins the one before); var = P' [sum_groups f_g sum_p (g_p - mean_g)(g_p - mean_g)'] P
    with f_g = n_g / (n_g - 1) (1 - sampled share of the group), or the raw second moment for a lone pair.
    """
    Z = coalitions.astype(float)
    n_pairs = len(Z) // 2
    n = Z.shape[1]
    W = np.diag(weights)
    kkt = np.zeros((n + 1, n + 1))
    kkt[:n, :n] = Z.T @ W @ Z
    kkt[:n, n] = kkt[n, :n] = 1.0
    inverse = np.linalg.inv(kkt)
    P = inverse[:n, :n]
    phis, errors = [], []
    for k in range(targets.shape[1]):
        rhs = np.concatenate([Z.T @ W @ targets[:, k], [delta[k]]])
        phi = np.linalg.solve(kkt, rhs)[:n]
        r = targets[:, k] - Z @ phi
        scores = np.zeros((n_pairs, n))
        for p in range(n_pairs):
            h = 0.0
            for S in (p, p + n_pairs):
                scores[p] += weights[S] * Z[S] * r[S]
                h += weights[S] * Z[S] @ P @ Z[S]
            scores[p] /= 1 - min(h, 0.99)
        counts = np.bincount(pair_stratum, minlength=len(stratum_units))
        groups, current, held = [], [], 0
        for stratum in range(len(stratum_units)):
            if 0 < counts[stratum] < stratum_units[stratum]:
                current.append(stratum)
                held += counts[stratum]
                if held >= minimum_pairs:
                    groups.append(current)
                    current, held = [], 0
        if current:
            if groups:
                groups[-1].extend(current)
            else:
                groups.append(current)
        middle = np.zeros((n, n))
        for group in groups:
            members = [p for p in range(n_pairs) if pair_stratum[p] in group]
            g = scores[members]
            if len(members) > 1:
                share = sum(counts[s] for s in group) / sum(stratum_units[s] for s in group)
                centred = g - g.mean(axis=0)
                middle += len(members) / (len(members) - 1) * (1 - share) * centred.T @ centred
            else:
                middle += g.T @ g
        phis.append(phi)
        errors.append(np.sqrt(np.diag(P @ middle @ P)))
    return np.array(phis).T, np.array(errors).T


def naive_permutation_scores(score, X, y, columns, permutations):
    """Scores with ``columns`` permuted: ``score(X_permuted, y)`` for each permutation of the rows."""
    scores = []
    for permutation in permutations:
        if isinstance(X, pd.DataFrame):
            changed = X.copy()
            for column in columns:
                changed[column] = X[column].to_numpy()[permutation]
        else:
            changed = np.array(X, copy=True)
            for column in columns:
                changed[:, column] = np.asarray(X)[permutation, column]
        scores.append(score(changed, y))
    return np.array(scores)


def naive_lemire_shuffle(words, n):
    """A permutation of ``range(n)`` by Fisher-Yates, each swap index drawn as in Lemire (2019).

    ``words`` are unsigned 64-bit integers; their 32-bit halves (low first) are used in turn. The
    index for position ``i`` (from ``n - 1`` down to 1) is ``(x * (i + 1)) >> 32`` for the first half-word
    ``x`` whose ``(x * (i + 1)) mod 2**32`` is at least ``2**32 mod (i + 1)`` (rejection keeps it uniform).
    Python integers, no tricks.
    """
    halves = []
    for word in words:
        halves += [int(word) % 2 ** 32, int(word) // 2 ** 32]
    order = list(range(n))
    used = 0
    for i in range(n - 1, 0, -1):
        bound = i + 1
        while True:
            x = halves[used]
            used += 1
            if (x * bound) % 2 ** 32 >= 2 ** 32 % bound:
                break
        j = (x * bound) // 2 ** 32
        order[i], order[j] = order[j], order[i]
    return np.array(order)


# --- inspection: end ---

# --- rules: begin ---


def _is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _naive_majority(counts, classes):
    """The most frequent class of a {class: count} dict; the first of ``classes`` among ties."""
    best = None
    for label in classes:
        if best is None or counts.get(label, 0) > counts.get(best, 0):
            best = label
    return best


def _naive_add(counts, other):
    total = dict(counts)
    for label, count in other.items():
        total[label] = total.get(label, 0) + count
    return total


def naive_oner_column(values, labels, classes, categorical, min_bucket_size=6):
    """Holte's 1R on one column, by plain loops.

    Returns ``(errors, n_rules, predict)`` where ``predict(value)`` is the class the column's rules
    give a training value, or None when every value is missing.
    """
    missing_counts = {}
    present = []
    for value, label in zip(values, labels):
        if _is_missing(value):
            missing_counts[label] = missing_counts.get(label, 0) + 1
        else:
            present.append((value, label))
    if not present:
        return None
    buckets = []  # (lowest value, highest value, class counts) for numeric, (value, counts) for categorical
    if categorical:
        by_value = {}
        for value, label in present:
            by_value.setdefault(value, {})
            by_value[value][label] = by_value[value].get(label, 0) + 1
        buckets = [(value, value, counts) for value, counts in by_value.items()]
    else:
        present.sort(key=lambda pair: pair[0])
        groups = []
        for value, label in present:
            if groups and groups[-1][0] == value:
                groups[-1][1][label] = groups[-1][1].get(label, 0) + 1
            else:
                groups.append((value, {label: 1}))
        grown = []
        for value, counts in groups:
            if grown:
                low, high, bucket = grown[-1]
                majority = _naive_majority(bucket, classes)
                if bucket.get(majority, 0) < min_bucket_size or _naive_majority(counts, classes) == majority:
                    grown[-1] = (low, value, _naive_add(bucket, counts))
                    continue
            grown.append((value, value, counts))
        for low, high, counts in grown:
            if buckets and _naive_majority(buckets[-1][2], classes) == _naive_majority(counts, classes):
                buckets[-1] = (buckets[-1][0], high, _naive_add(buckets[-1][2], counts))
            else:
                buckets.append((low, high, counts))
    errors = 0
    for _, _, counts in buckets:
        errors += sum(counts.values()) - counts[_naive_majority(counts, classes)]
    if missing_counts:
        errors += sum(missing_counts.values()) - missing_counts[_naive_majority(missing_counts, classes)]
    n_rules = len(buckets) + (1 if missing_counts else 0)

    def predict(value):
        if _is_missing(value):
            return _naive_majority(missing_counts, classes)
        for low, high, counts in buckets:
            if low <= value <= high:
                return _naive_majority(counts, classes)
        raise ValueError(f"{value!r} is not a training value")

    return errors, n_rules, predict


def naive_oner(columns, labels, categorical, min_bucket_size=6):
    """Holte's 1R by plain loops over a dict ``{name: list of values}`` (missing: None or NaN).

    ``categorical`` is the set of names whose values are categories. The column with the fewest
    errors wins, then the one with the fewest rules, then the first. Returns ``(name, errors,
    errors per column, training predictions)``.
    """
    classes = sorted(set(labels))
    best = None
    per_column = {}
    for position, (name, values) in enumerate(columns.items()):
        result = naive_oner_column(values, labels, classes, name in categorical, min_bucket_size)
        if result is None:
            continue
        errors, n_rules, predict = result
        per_column[name] = errors
        if best is None or (errors, n_rules, position) < best[0]:
            best = ((errors, n_rules, position), name, predict)
    (errors, _, _), name, predict = best
    return name, errors, per_column, [predict(value) for value in columns[name]]


# --- rules: end ---

# --- surrogate: begin ---


def naive_boosted_trees(coalitions, targets, train, n_trees, max_depth, learning_rate, min_leaf, subsample, uniforms):
    """Gradient boosting of regression trees (squared loss) on boolean rows, grown node by node with lists.

    Each tree is a nested dict: ``{"player": j, "absent": tree, "present": tree}`` or ``{"value": c}``.
    A node with at least ``2 * min_leaf`` rows splits on the player with the largest drop of the sum of
    squared residuals (each side keeping ``min_leaf`` rows), if the drop exceeds 1e-10 of the node's
    sum of squared residuals; a later player replaces an earlier one only if its drop is larger by a
    relative 1e-9 (so exact ties go to the lowest player whatever the rounding). A leaf's value is
    ``learning_rate`` times the mean residual of its rows. With ``subsample < 1`` tree ``t`` grows on
    the training rows with ``uniforms[t][i] < subsample``. Returns ``(base, trees, predictions)``,
    predictions for every row.
    """
    rows = [i for i in range(len(targets)) if train[i]]
    base = sum(targets[i] for i in rows) / len(rows) if rows else 0.0
    prediction = [base] * len(targets)
    n_players = len(coalitions[0])

    def sum_of_squares(members, residual):
        mean = sum(residual[i] for i in members) / len(members)
        return sum((residual[i] - mean) ** 2 for i in members)

    def grow(members, depth, residual):
        if depth == max_depth or len(members) < 2 * min_leaf:
            return {"value": learning_rate * sum(residual[i] for i in members) / len(members) if members else 0.0}
        floor = 1e-10 * sum(residual[i] ** 2 for i in members)
        best_player, best = None, None
        for player in range(n_players):
            present = [i for i in members if coalitions[i][player]]
            absent = [i for i in members if not coalitions[i][player]]
            if len(present) < min_leaf or len(absent) < min_leaf:
                continue
            drop = (sum_of_squares(members, residual) - sum_of_squares(present, residual)
                    - sum_of_squares(absent, residual))
            if drop > floor and (best is None or drop > best * (1 + 1e-9)):
                best_player, best = player, drop
        if best_player is None:
            return grow(members, max_depth, residual)
        return {"player": best_player,
                "absent": grow([i for i in members if not coalitions[i][best_player]], depth + 1, residual),
                "present": grow([i for i in members if coalitions[i][best_player]], depth + 1, residual)}

    trees = []
    for t in range(n_trees):
        grown = [i for i in rows if subsample >= 1 or uniforms[t][i] < subsample]
        residual = {i: targets[i] - prediction[i] for i in rows}
        tree = grow(grown, 0, residual)
        trees.append(tree)
        for i in range(len(targets)):
            prediction[i] += naive_tree_value(tree, coalitions[i])
    return base, trees, prediction



def naive_within_strata(residuals, strata, weights):
    """Weighted sum of squares of ``residuals`` about their stratum's weighted mean, stratum by stratum."""
    total = 0.0
    for stratum in set(strata):
        r = [residuals[i] for i in range(len(strata)) if strata[i] == stratum]
        w = [weights[i] for i in range(len(strata)) if strata[i] == stratum]
        mean = sum(a * b for a, b in zip(w, r)) / sum(w)
        total += sum(b * (a - mean) ** 2 for a, b in zip(r, w))
    return total


def naive_pilot_reduction(members, first, second, phi, train, held, strata, weights, n_trees, max_depth,
                          learning_rate):
    """KernelSHAP's pilot, from the definition: per output, residuals of the plain fit ``phi`` of both members of
    every pair, boosted trees fitted on the pairs ``train`` predict them; held-out within-strata sums of squares
    of the pairs ``held`` before and after, summed over outputs. Returns ``(before, after)``."""
    members = np.asarray(members, dtype=bool)
    coalitions = np.concatenate([members, ~members]).tolist()
    fit_on = list(train) * 2
    rows = [i for i in range(2 * len(members)) if held[i % len(members)]]
    before = after = 0.0
    for k in range(first.shape[1]):
        inside = members.astype(float) @ phi[:, k]
        residual = np.concatenate([first[:, k] - inside, second[:, k] - (phi[:, k].sum() - inside)])
        prediction = naive_boosted_trees(coalitions, residual.tolist(), fit_on, n_trees, max_depth, learning_rate,
                                         1, 1.0, None)[2]
        stratum = [strata[i % len(members)] for i in rows]
        weight = [weights[i % len(members)] for i in rows]
        before += naive_within_strata([residual[i] for i in rows], stratum, weight)
        after += naive_within_strata([residual[i] - prediction[i] for i in rows], stratum, weight)
    return before, after

def naive_tree_value(tree, coalition):
    """The value of a nested-dict tree (see ``naive_boosted_trees``) at a coalition (a row of booleans)."""
    while "value" not in tree:
        tree = tree["present"] if coalition[tree["player"]] else tree["absent"]
    return tree["value"]


def naive_heap_tree_value(split, value, coalition):
    """The value at a coalition of a tree stored in heap order: node k splits on ``split[k]`` (-1: leaf)
    and has children 2k + 1 (player absent) and 2k + 2 (player present)."""
    node = 0
    while node < len(split) and split[node] >= 0:
        node = 2 * node + (2 if coalition[split[node]] else 1)
    return value[node]


def naive_game_shapley(value, n_players):
    """Shapley values of a game given as ``value(coalition)`` (a tuple of n booleans), from the definition."""
    phi = np.zeros(n_players)
    for i in range(n_players):
        others = [j for j in range(n_players) if j != i]
        for size in range(n_players):
            weight = math.factorial(size) * math.factorial(n_players - size - 1) / math.factorial(n_players)
            for subset in itertools.combinations(others, size):
                without = tuple(j in subset for j in range(n_players))
                with_i = tuple(j in subset or j == i for j in range(n_players))
                phi[i] += weight * (value(with_i) - value(without))
    return phi


# --- surrogate: end ---

# --- lime: begin ---


def naive_lime_kernel(binary, kernel_width):
    """lime's kernel ``sqrt(exp(-d^2 / w^2))`` of the Euclidean distance of each binary row from all ones."""
    out = []
    for row in binary:
        d = math.sqrt(sum((1.0 - z) ** 2 for z in row))
        out.append(math.sqrt(math.exp(-(d ** 2) / kernel_width ** 2)))
    return np.array(out)


def naive_ridge(binary, y, weights, alpha, columns=None):
    """Weighted ridge with an unpenalised intercept by least squares on the augmented system.

    Minimises ``sum_s w_s (y_s - b - z_s . beta)^2 + alpha |beta|^2`` with ``numpy.linalg.lstsq``.
    Returns (beta over ``columns``, intercept, objective at the minimum).
    """
    binary = np.asarray(binary, dtype=float)
    columns = list(range(binary.shape[1])) if columns is None else list(columns)
    n, k = binary.shape[0], len(columns)
    design = np.zeros((n + k, k + 1))
    target = np.zeros(n + k)
    for s in range(n):
        root = math.sqrt(weights[s])
        design[s, 0] = root
        for a, c in enumerate(columns):
            design[s, a + 1] = root * binary[s, c]
        target[s] = root * y[s]
    for a in range(k):
        design[n + a, a + 1] = math.sqrt(alpha)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    objective = float(((design @ solution - target) ** 2).sum())
    return solution[1:], solution[0], objective


def naive_ridge_stderr(binary, y, weights, alpha, clusters):
    """Cluster-robust sandwich standard errors of :func:`naive_ridge`, from the full design with intercept.

    ``A^-1 (R / (R - 1) sum_c g_c g_c') A^-1`` with ``g_c`` the summed scores ``w r x`` of cluster ``c``.
    """
    binary = np.asarray(binary, dtype=float)
    n, p = binary.shape
    full = np.column_stack([np.ones(n), binary])
    penalty = np.diag([0.0] + [alpha] * p)
    bread = np.linalg.inv(full.T @ (full * weights[:, None]) + penalty)
    beta, intercept, _ = naive_ridge(binary, y, weights, alpha)
    sums = {}
    for s in range(n):
        residual = y[s] - intercept - binary[s] @ beta
        sums[clusters[s]] = sums.get(clusters[s], 0.0) + weights[s] * residual * full[s]
    meat = sum(np.outer(g, g) for g in sums.values()) * len(sums) / (len(sums) - 1)
    covariance = bread @ meat @ bread
    return np.sqrt(np.diag(covariance))[1:]


def naive_forward_selection(binary, y, weights, alpha, n_selected):
    """Players added one at a time, each the one that most lowers the ridge objective (ties: lowest index)."""
    chosen = []
    for _ in range(n_selected):
        best, best_objective = None, np.inf
        for candidate in range(binary.shape[1]):
            if candidate in chosen:
                continue
            objective = naive_ridge(binary, y, weights, alpha, chosen + [candidate])[2]
            if best is None or objective < best_objective - 1e-9 * abs(best_objective):
                best, best_objective = candidate, objective
        chosen.append(best)
    return sorted(chosen)


def naive_lime_sample(row, background, edges, numeric, uniforms):
    """One lime sample built cell by cell, one player per column, equal background weights.

    Column ``j`` sorts the background rows by (bin or category, value, position) and takes the row
    whose equal share of ``[0, 1)`` holds ``uniforms[j]``; a numeric column then takes, inside that
    row's bin, the quantile of scipy's truncated normal (the bin's background mean and standard
    deviation + 1e-11, bounded by the bin) at the position of ``uniforms[j]`` within the share of
    the whole bin. ``row`` and ``background`` are float code rows (NaN missing); ``numeric[j]``
    says whether column ``j`` is cut at ``edges[j]``. Returns (values, binary per column).
    """
    from scipy.stats import truncnorm

    n = len(background)
    values, binary = [], []
    for j in range(len(row)):
        def key(value, j=j):
            if np.isnan(value):
                return -1
            return sum(value > e for e in edges[j]) if numeric[j] else value

        def sort_key(b, j=j):
            value = background[b, j]
            return (key(value), -np.inf if np.isnan(value) else value, b)

        order = sorted(range(n), key=sort_key)
        position = min(int(uniforms[j] * n), n - 1)
        source = background[order[position], j]
        same = key(source) == key(row[j])
        binary.append(float(same))
        if not numeric[j] or np.isnan(source):
            values.append(source)
            continue
        b = key(source)
        column = [v for v in background[:, j] if not np.isnan(v)]
        inside = [v for v in column if key(v) == b]
        first = [i for i, r in enumerate(order) if key(background[r, j]) == b]
        start, stop = first[0] / n, (first[-1] + 1) / n
        v = min(max((uniforms[j] - start) / (stop - start), 0.0), 1.0)
        mean, std = np.mean(inside), np.std(inside) + 1e-11
        low = ([min(column)] + list(edges[j]))[b]
        high = (list(edges[j]) + [max(column)])[b]
        if low == high:
            values.append(low)
        else:
            values.append(truncnorm.ppf(v, (low - mean) / std, (high - mean) / std, loc=mean, scale=std))
    return np.array(values), np.array(binary)


def naive_additive_fit(levels, deviations, y, fit_on):
    """Additive model ``mean + sum_j gamma[j][level] + slope[j][level] * deviation``, column by column, with loops.

    Over the ``fit_on`` samples: ``mean`` of ``y``; within each level of column ``j``, the
    least-squares line of ``y`` on the deviations (slope 0 when they hardly vary), ``gamma`` its
    value at deviation 0 minus ``mean``. Returns the function ``g(levels_row, deviations_row)`` and
    the intercepts ``gamma`` (a dict per column).
    """
    n, m = len(levels), len(levels[0])
    mean = sum(y[s] for s in range(n) if fit_on[s]) / sum(1 for s in range(n) if fit_on[s])
    gamma = [{} for _ in range(m)]
    slope = [{} for _ in range(m)]
    for j in range(m):
        groups = {}
        for s in range(n):
            if fit_on[s]:
                groups.setdefault(levels[s][j], []).append((deviations[s][j], y[s]))
        for level, pairs in groups.items():
            d_mean = sum(d for d, _ in pairs) / len(pairs)
            y_mean = sum(v for _, v in pairs) / len(pairs)
            spread = sum((d - d_mean) ** 2 for d, _ in pairs)
            square = sum(d ** 2 for d, _ in pairs)
            b = sum((d - d_mean) * (v - y_mean) for d, v in pairs) / spread if spread > 1e-9 * square else 0.0
            slope[j][level] = b
            gamma[j][level] = y_mean - b * d_mean - mean

    def g(row_levels, row_deviations):
        return mean + sum(gamma[j].get(row_levels[j], 0.0) + slope[j].get(row_levels[j], 0.0) * row_deviations[j]
                          for j in range(m))

    return g, gamma


def naive_lime_pseudo_targets(binary, y, levels, deviations, players, row_levels, frequencies, like_row):
    """``y - g(x) + z . Delta(g)`` with ``g`` fitted on one half of the drawn samples (even or odd
    positions; sample 0, the row itself, takes no part) and applied to the other half; ``Delta_p =
    sum_{j in p} gamma_j(row) - (E gamma_j - q_p gamma_j(row)) / (1 - q_p)`` with ``q_p`` the share of
    background rows like the row on player ``p`` and ``E gamma_j`` over the background frequencies
    of column ``j``'s levels."""
    n = len(binary)
    out = np.array(y, dtype=float, copy=True)
    for parity in (0, 1):
        fit_on = [s % 2 == parity and s > 0 for s in range(n)]
        g, gamma = naive_additive_fit(levels, deviations, y, fit_on)
        delta = []
        for p, members in enumerate(players):
            q = like_row[p]
            total = 0.0
            if q < 1:
                for j in members:
                    own = gamma[j].get(row_levels[j], 0.0)
                    mean = sum(f * gamma[j].get(level, 0.0) for level, f in enumerate(frequencies[j]))
                    total += own - (mean - q * own) / (1 - q)
            delta.append(total)
        for s in range(n):
            if s % 2 != parity:
                out[s] = y[s] - g(levels[s], deviations[s]) + sum(binary[s][p] * delta[p] for p in range(len(players)))
    return out


def naive_lime_neighbourhood(row, background, edges, rng, n_samples):
    """lime's tabular sampler as lime and tabxai's first sampler drew it: numeric columns only, equal weights.

    Sample 0 is ``row``; every other sample gives each column the bin of a background row drawn
    at random, then a value inside that bin from scipy's normal with the bin's background mean and
    standard deviation (+ 1e-11) truncated to the bin's bounds (inverse CDF of NumPy uniforms).
    Returns the samples (n_samples, columns) and their binary features (same bin as ``row``).
    """
    from scipy.stats import truncnorm

    n_columns = len(row)
    samples = np.empty((n_samples, n_columns))
    binary = np.empty((n_samples, n_columns))
    for j in range(n_columns):
        column = background[:, j]
        bins = np.searchsorted(edges[j], column)
        lows = np.concatenate([[column.min()], edges[j]])
        highs = np.concatenate([edges[j], [column.max()]])
        drawn = bins[rng.integers(0, len(column), size=n_samples - 1)]
        values = np.empty(n_samples - 1)
        for b in range(len(edges[j]) + 1):
            inside = drawn == b
            mean, std = column[bins == b].mean(), column[bins == b].std() + 1e-11
            a, z = (lows[b] - mean) / std, (highs[b] - mean) / std
            values[inside] = truncnorm.ppf(rng.random(inside.sum()), a, z, loc=mean, scale=std)
        samples[0, j], samples[1:, j] = row[j], values
        binary[0, j], binary[1:, j] = 1.0, drawn == np.searchsorted(edges[j], row[j])
    return samples, binary


# --- lime: end ---


# --- audit report: reason codes and group rates (tests/report) ---
def naive_reasons(values, k, sign):
    """Per row: positions of the (at most) k largest ``sign * value`` that are > 0, largest first (ties by position)."""
    result = []
    for row in values:
        scored = sorted(((-sign * v, j) for j, v in enumerate(row) if sign * v > 0))
        result.append([j for _, j in scored[:k]])
    return result


def naive_group_rates(predicted_positive, truly_positive, groups):
    """{group: (count, selection rate, TPR, FPR, precision)} by counting rows one by one (NaN when undefined)."""
    result = {}
    for group in sorted(set(groups)):
        n = tp = fp = fn = tn = 0
        for p, t, g in zip(predicted_positive, truly_positive, groups):
            if g != group:
                continue
            n += 1
            tp += p and t
            fp += p and not t
            fn += (not p) and t
            tn += (not p) and not t
        ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
        result[group] = (n, ratio(tp + fp, n), ratio(tp, tp + fn), ratio(fp, fp + tn), ratio(tp, tp + fp))
    return result


# --- counterfactuals: begin ---

def naive_scale(column):
    """Median absolute deviation of a column; the mean absolute deviation, then 1, when it is 0."""
    column = column[~np.isnan(column)]
    mad = np.median(np.abs(column - np.median(column)))
    if mad > 0:
        return mad
    mean_deviation = np.mean(np.abs(column - np.mean(column)))
    return mean_deviation if mean_deviation > 0 else 1.0


def naive_counterfactual_cost(x, candidate, scales, costs):
    """``sum_j cost_j * |candidate_j - x_j| / scale_j`` for numeric rows."""
    return float(sum(c * abs(a - b) / s for a, b, s, c in zip(candidate, x, scales, costs)))


def naive_min_cost_counterfactual(reaches, X, x, *, immutable=(), monotone=None, ranges=None, costs=None):
    """The cheapest counterfactual of numeric row ``x`` by trying every combination of observed values.

    ``reaches(rows)`` says which rows reach the desired outcome. Every column may take its own value or
    any value observed in ``X`` that the constraints allow (immutable positions keep ``x``'s value,
    ``monotone[j]`` is "increase" or "decrease", ``ranges[j] = (low, high)`` bounds a changed value).
    Returns (cost, row), or (inf, None) when no combination reaches the outcome.
    """
    monotone = monotone or {}
    ranges = ranges or {}
    costs = costs or {}
    n_columns = X.shape[1]
    scales = [naive_scale(X[:, j]) for j in range(n_columns)]
    weights = [costs.get(j, 1.0) for j in range(n_columns)]
    options = []
    for j in range(n_columns):
        values = [x[j]]
        if j not in immutable:
            for v in np.unique(X[:, j]):
                if v == x[j]:
                    continue
                if monotone.get(j) == "increase" and v < x[j] or monotone.get(j) == "decrease" and v > x[j]:
                    continue
                low, high = ranges.get(j, (-np.inf, np.inf))
                if low <= v <= high:
                    values.append(v)
        options.append(values)
    candidates = np.array(list(itertools.product(*options)), dtype=float)
    ok = np.asarray(reaches(candidates), dtype=bool)
    best_cost, best_row = np.inf, None
    for row in candidates[ok]:
        cost = naive_counterfactual_cost(x, row, scales, weights)
        if cost < best_cost:
            best_cost, best_row = cost, row
    return best_cost, best_row


def naive_row_distance(a, b, scale, categorical):
    """Sum over columns: both missing 0, one missing 1, categories 0/1, numbers |a - b| / scale."""
    total = 0.0
    for j in range(len(a)):
        if np.isnan(a[j]) or np.isnan(b[j]):
            total += 0.0 if np.isnan(a[j]) and np.isnan(b[j]) else 1.0
        elif categorical[j]:
            total += float(a[j] != b[j])
        else:
            total += abs(a[j] - b[j]) / scale[j]
    return total


# --- counterfactuals: end ---


# --- plots (issue 10): the beeswarm's stacking of dots, by loops ------------------------------
def swarm_offsets(values, width, n_bins=100):
    """Offsets of a beeswarm: dots in the same value bin stack alternately down and up, in row order."""
    values = [float(v) for v in values]
    if not values:
        return np.zeros(0)
    low, high = min(values), max(values)
    bins = []
    for v in values:
        b = 0 if high == low else int((v - low) / (high - low) * n_bins)
        bins.append(min(b, n_bins - 1))
    largest = max(bins.count(b) for b in set(bins))
    step = width / max((largest + 1) // 2, 1)
    seen = {}
    offsets = []
    for b in bins:
        rank = seen.get(b, 0)
        seen[b] = rank + 1
        level = (rank + 1) // 2
        sign = 1.0 if rank % 2 == 1 else -1.0
        offsets.append(min(level * step, width) * sign)
    return np.array(offsets)


# --- image: begin ---


def naive_masked_image(image, segments, coalition, fill):
    """The image (H, W, C) with the pixels of absent segments copied from ``fill``, pixel by pixel."""
    out = np.array(image, dtype=float, copy=True)
    height, width = segments.shape
    for y in range(height):
        for x in range(width):
            if not coalition[segments[y, x]]:
                out[y, x] = fill[y, x]
    return out


def naive_segment_mean_fill(image, segments):
    """Each pixel replaced by the mean colour of its segment, by explicit sums."""
    out = np.zeros_like(np.asarray(image, dtype=float))
    for label in np.unique(segments):
        where = segments == label
        out[where] = np.asarray(image, dtype=float)[where].mean(axis=0)
    return out


def naive_image_shapley(score, image, segments, fill):
    """Shapley values of the segments from the definition: every coalition of the others, for each segment."""
    n = int(segments.max()) + 1
    values = np.zeros(n)
    cache = {}

    def value(members):
        key = frozenset(members)
        if key not in cache:
            coalition = [k in key for k in range(n)]
            cache[key] = float(score(naive_masked_image(image, segments, coalition, fill)[None])[0])
        return cache[key]

    for i in range(n):
        others = [k for k in range(n) if k != i]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                values[i] += weight * (value(subset + (i,)) - value(subset))
    return values


def naive_occlusion(score, image, fill, window, stride):
    """Occlusion map: for each window position, the score drop added to the pixels it covers, then averaged."""
    height, width = image.shape[:2]
    full = float(score(image[None])[0])
    total = np.zeros((height, width))
    covered = np.zeros((height, width))
    tops = sorted(set(list(range(0, height - window + 1, stride)) + [height - window]))
    lefts = sorted(set(list(range(0, width - window + 1, stride)) + [width - window]))
    for top in tops:
        for left in lefts:
            occluded = np.array(image, dtype=float, copy=True)
            occluded[top:top + window, left:left + window] = fill[top:top + window, left:left + window]
            drop = full - float(score(occluded[None])[0])
            for y in range(top, top + window):
                for x in range(left, left + window):
                    total[y, x] += drop
                    covered[y, x] += 1
    return total / covered


def naive_deletion_scores(score, image, heatmap, fill, n_steps):
    """Scores of the deletion curve: remove pixels one at a time in decreasing heat (ties by position)."""
    height, width = heatmap.shape
    order = sorted(range(height * width), key=lambda p: (-heatmap.ravel()[p], p))
    scores = []
    for step in range(n_steps + 1):
        count = int(np.round(step * height * width / n_steps))
        current = np.array(image, dtype=float, copy=True)
        for p in order[:count]:
            current[p // width, p % width] = fill[p // width, p % width]
        scores.append(float(score(current[None])[0]))
    return np.array(scores)


# --- image: end ---


# --- image gradients: begin ---


def naive_integrated_gradients(gradient, image, baseline, alphas, weights):
    """Integrated gradients by a loop over the path's points: (x - b) * sum_k w_k grad f(b + a_k (x - b))."""
    total = np.zeros_like(np.asarray(image, dtype=float))
    for alpha, weight in zip(alphas, weights):
        total += weight * gradient((baseline + alpha * (image - baseline))[None])[0]
    return (image - baseline) * total


def naive_bilinear(small, height, width):
    """Bilinear resize pixel by pixel: half-pixel centres, source coordinates clamped to the map."""
    h, w = small.shape
    out = np.zeros((height, width))
    for y in range(height):
        sy = min(max((y + 0.5) * h / height - 0.5, 0.0), h - 1.0)
        y0 = int(math.floor(sy))
        y1, ty = min(y0 + 1, h - 1), sy - math.floor(sy)
        for x in range(width):
            sx = min(max((x + 0.5) * w / width - 0.5, 0.0), w - 1.0)
            x0 = int(math.floor(sx))
            x1, tx = min(x0 + 1, w - 1), sx - math.floor(sx)
            out[y, x] = ((1 - ty) * ((1 - tx) * small[y0, x0] + tx * small[y0, x1])
                         + ty * ((1 - tx) * small[y1, x0] + tx * small[y1, x1]))
    return out


def naive_grad_cam(activations, gradients, height, width, plus=False):
    """Grad-CAM (or Grad-CAM++) of one image from its (h, w, k) activations and gradients, channel by channel."""
    h, w, k = activations.shape
    cam = np.zeros((h, w))
    for channel in range(k):
        a, g = activations[:, :, channel], gradients[:, :, channel]
        if plus:
            weight = 0.0
            for i in range(h):
                for j in range(w):
                    denominator = 2 * g[i, j] ** 2 + a.sum() * g[i, j] ** 3
                    alpha = g[i, j] ** 2 / denominator if denominator != 0 else 0.0
                    weight += alpha * max(g[i, j], 0.0)
        else:
            weight = g.sum() / (h * w)
        cam += weight * a
    return naive_bilinear(np.maximum(cam, 0.0), height, width)


# --- image gradients: end ---
# --- examples: begin ---


def naive_mixed_points(frame):
    """Rows of a DataFrame as points, cell by cell: numbers standardised (missing at 0), other columns
    one-hot over their sorted observed values plus a missing level, each indicator 1/sqrt(2)."""
    columns = []
    for name in frame.columns:
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        if numeric:
            values = [float(v) for v in series]
            present = [v for v in values if not math.isnan(v)]
            mean = sum(present) / len(present)
            std = math.sqrt(sum((v - mean) ** 2 for v in present) / len(present)) or 1.0
            columns.append([[0.0 if math.isnan(v) else (v - mean) / std] for v in values])
        else:
            if isinstance(series.dtype, pd.CategoricalDtype):
                levels = list(series.dtype.categories)
            elif series.dtype == bool:
                levels = [False, True]
            else:
                levels = sorted({v for v in series if not _is_missing(v)})
            cells = []
            for v in series:
                cell = [0.0] * (len(levels) + 1)
                cell[len(levels) if _is_missing(v) else levels.index(v)] = 1 / math.sqrt(2)
                cells.append(cell)
            columns.append(cells)
    return np.array([sum((column[i] for column in columns), []) for i in range(len(frame))])


def naive_rbf(a, b, gamma):
    """The rbf kernel matrix, entry by entry."""
    return np.array([[math.exp(-gamma * float(np.sum((x - z) ** 2))) for z in b] for x in a])


def naive_median_gamma(points):
    """1 / (2 * median squared distance over pairs of distinct rows i < j)."""
    distances = [float(np.sum((points[i] - points[j]) ** 2)) for i in range(len(points))
                 for j in range(i + 1, len(points))]
    return 1.0 / (2.0 * float(np.median(distances)))


def naive_mmd2(points, prototypes, weights, gamma):
    """MMD^2 between the empirical distribution of ``points`` and the weighted ``prototypes``."""
    n = len(points)
    kxx = naive_rbf(points, points, gamma).sum() / n ** 2
    kxs = naive_rbf(points, prototypes, gamma).sum(axis=0) / n
    kss = naive_rbf(prototypes, prototypes, gamma)
    weights = np.asarray(weights, dtype=float)
    return float(kxx - 2 * weights @ kxs + weights @ kss @ weights)


def naive_best_single_prototype(points, gamma):
    """The row whose point mass is closest to the data in MMD^2, by trying every row."""
    scores = [naive_mmd2(points, points[c:c + 1], [1.0], gamma) for c in range(len(points))]
    return int(np.argmin(scores)), scores


def naive_simplex_weights(points, prototypes, gamma, iterations=20000):
    """Weights on the simplex minimising MMD^2, by projected gradient descent (slow, simple)."""
    n = len(points)
    kxs = naive_rbf(points, prototypes, gamma).sum(axis=0) / n
    kss = naive_rbf(prototypes, prototypes, gamma)
    w = np.full(len(prototypes), 1.0 / len(prototypes))
    step = 0.5 / np.linalg.eigvalsh(kss).max()
    for _ in range(iterations):
        w = _project_simplex(w - step * 2 * (kss @ w - kxs))
    return w


def _project_simplex(v):
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1
    k = np.flatnonzero(u - cumulative / np.arange(1, len(v) + 1) > 0)[-1]
    return np.maximum(v - cumulative[k] / (k + 1), 0.0)


def naive_protodash(points, m, gamma):
    """ProtoDash (Gurumoorthy et al. 2019): add the row of largest gradient ``mu - K w`` of ``w'mu - w'Kw/2``,
    then re-fit non-negative weights on the chosen rows; returns the rows and the weights normalised to 1."""
    from scipy.optimize import nnls

    norms = (points ** 2).sum(axis=1)
    K = np.exp(-gamma * np.maximum(norms[:, None] + norms[None, :] - 2 * points @ points.T, 0))
    mu = K.mean(axis=1)
    chosen, weights = [], np.zeros(0)
    for _ in range(m):
        gradient = mu - (K[:, chosen] @ weights if chosen else 0.0)
        gradient[chosen] = -np.inf
        chosen.append(int(np.argmax(gradient)))
        L = np.linalg.cholesky(K[np.ix_(chosen, chosen)] + 1e-10 * np.eye(len(chosen)))
        weights = nnls(L.T, np.linalg.solve(L, mu[chosen]))[0]
    weights = weights / weights.sum()
    return chosen, weights, float(mu.mean() - 2 * weights @ mu[chosen] + weights @ K[np.ix_(chosen, chosen)] @ weights)


def naive_subset_influence(fit_predict, X, y, X_test, size):
    """Influence of each training row on each test prediction over ALL subsets of ``size`` rows:
    mean prediction of the models whose subset holds the row minus that of the others."""
    n = len(X)
    with_row = np.zeros((n, len(X_test)))
    without = np.zeros((n, len(X_test)))
    count_with = np.zeros(n)
    for subset in itertools.combinations(range(n), size):
        rows = list(subset)
        predictions = np.asarray(fit_predict(X[rows], y[rows], X_test), dtype=float)
        for i in range(n):
            if i in subset:
                with_row[i] += predictions
                count_with[i] += 1
            else:
                without[i] += predictions
    total = math.comb(n, size)
    return with_row / count_with[:, None] - without / (total - count_with)[:, None]


def naive_neighbours(points, queries, k):
    """Positions and squared distances of the ``k`` nearest points of each query (ties by position)."""
    out = []
    for q in queries:
        distances = [float(np.sum((p - q) ** 2)) for p in points]
        order = sorted(range(len(points)), key=lambda i: (distances[i], i))[:k]
        out.append((order, [distances[i] for i in order]))
    return out


# --- examples: end ---
# --- interactions: begin ---


def _discrete_derivative(value, n_players, interaction, coalition):
    """``sum_{L subset S} (-1)^(|S| - |L|) v(T | L)`` for the players ``interaction`` and the set ``coalition``."""
    total = 0.0
    for size in range(len(interaction) + 1):
        for part in itertools.combinations(interaction, size):
            members = set(coalition) | set(part)
            total += (-1) ** (len(interaction) - size) * value(tuple(j in members for j in range(n_players)))
    return total


def naive_sii(value, n_players, interaction):
    """Shapley interaction index (Grabisch & Roubens 1999) of ``interaction`` from its definition."""
    s, n = len(interaction), n_players
    others = [j for j in range(n) if j not in interaction]
    total = 0.0
    for size in range(len(others) + 1):
        weight = math.factorial(n - size - s) * math.factorial(size) / math.factorial(n - s + 1)
        for coalition in itertools.combinations(others, size):
            total += weight * _discrete_derivative(value, n, interaction, coalition)
    return total


def naive_stii(value, n_players, interaction, order=2):
    """Shapley-Taylor index (Sundararajan et al. 2020): lower orders are discrete derivatives at the empty set."""
    if len(interaction) < order:
        return _discrete_derivative(value, n_players, interaction, ())
    others = [j for j in range(n_players) if j not in interaction]
    total = 0.0
    for size in range(len(others) + 1):
        for coalition in itertools.combinations(others, size):
            total += _discrete_derivative(value, n_players, interaction, coalition) / math.comb(n_players - 1, size)
    return order / n_players * total


def naive_fsii(value, n_players):
    """Faith-Shap of order 2 (Tsai et al. 2023): the Shapley-kernel least squares fit by interactions of order
    <= 2 with ``v(empty)`` and ``v(N)`` fitted exactly, solved through its KKT system. Returns an (n, n) matrix."""
    n = n_players
    interactions = [(i,) for i in range(n)] + list(itertools.combinations(range(n), 2))
    rows, targets, weights = [], [], []
    empty = value(tuple(False for _ in range(n)))
    for size in range(1, n):
        weight = (n - 1) / (math.comb(n, size) * size * (n - size))
        for coalition in itertools.combinations(range(n), size):
            rows.append([float(set(S) <= set(coalition)) for S in interactions])
            targets.append(value(tuple(j in coalition for j in range(n))) - empty)
            weights.append(weight)
    Z, y, w = np.array(rows), np.array(targets), np.array(weights)
    full = value(tuple(True for _ in range(n))) - empty
    d = len(interactions)
    kkt = np.zeros((d + 1, d + 1))
    kkt[:d, :d] = Z.T @ (w[:, None] * Z)
    kkt[:d, d] = kkt[d, :d] = 1.0
    solution = np.linalg.solve(kkt, np.concatenate([Z.T @ (w * y), [full]]))
    out = np.zeros((n, n))
    for S, beta in zip(interactions, solution[:d]):
        out[S[0], S[-1]] = out[S[-1], S[0]] = beta
    return out


def naive_interactions(value, n_players, index):
    """The (n, n) matrix of an order-2 index: the diagonal holds order 1, the rest the whole pair value."""
    n = n_players
    if index == "FSII":
        return naive_fsii(value, n)
    out = np.zeros((n, n))
    for i, j in itertools.combinations(range(n), 2):
        pair = naive_stii(value, n, (i, j)) if index == "STII" else naive_sii(value, n, (i, j))
        out[i, j] = out[j, i] = pair
    for i in range(n):
        if index == "STII":
            out[i, i] = naive_stii(value, n, (i,))
        elif index == "SII":
            out[i, i] = naive_sii(value, n, (i,))
        else:  # k-SII: SII aggregated with the Bernoulli number B_1 = -1/2
            out[i, i] = naive_sii(value, n, (i,)) - 0.5 * sum(out[i, j] for j in range(n) if j != i)
    return out


def naive_coalition_game(predict, x, background):
    """The interventional game of row ``x``: ``value(coalition)`` = mean model output with the coalition's columns from x."""

    def value(coalition):
        on = [j for j, inside in enumerate(coalition) if inside]
        return float(naive_coalition_value(predict, x, background, on)[0])

    return value


# --- interactions: end ---

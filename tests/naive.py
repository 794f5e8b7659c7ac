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

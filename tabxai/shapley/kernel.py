"""KernelSHAP: Shapley values from a stratified sample of coalitions, with standard errors.

The Shapley values are the solution of a weighted least squares problem over all coalitions
(Charnes et al. 1988; Lundberg & Lee 2017): minimise ``sum_S w(S) (v(S) - v(empty) - z_S . phi)^2``
under ``sum phi = v(full) - v(empty)``, with the Shapley kernel
``w(S) = (n - 1) / (C(n, |S|) |S| (n - |S|))``. This module estimates the sums in that problem
from a sample designed for low variance:

- coalitions come in complementary pairs ``(S, N - S)``; pairing makes the estimate exact for
  games with interactions of order two at most (Covert & Lee 2021);
- the pairs are stratified by the size ``min(|S|, n - |S|)``; the singletons and their complements
  are enumerated (with them the least-squares matrix has full rank whatever else is sampled), and
  the rest of the budget is shared among the other strata in proportion to their kernel weight
  (the optimal, Neyman, allocation when the strata's spreads are alike); a stratum whose share
  covers it is enumerated whole and its share of the rest goes to the others. Enumerating strata greedily from the smallest size up, as long as the budget covers
  them, starved the large strata: on Adult (14 players, 256 coalitions) it left 23 pairs for the
  sizes 3 to 7 and an error 1.8 times the proportional one. Pairs of a sampled stratum are drawn
  without replacement, each weighted by the inverse of its inclusion probability
  (Horvitz-Thompson), so each sum of the normal equations is estimated without bias.
  The values solve those estimated equations (the Gram matrix, too, comes from the sample), so
  they are a ratio estimator: approximately unbiased (consistent; bias of order 1/n in the
  number of sampled pairs), not unbiased;
- no feature selection: every player gets a value;
- the efficiency constraint is imposed exactly (values sum to ``f(x) - E f(background)``);
- standard errors come from the linearisation (sandwich) of the constrained solution, with the
  stratified without-replacement variance of the estimated normal equations; enumerated strata
  contribute no variance, so the errors vanish when every coalition is evaluated.

With ``tol``, pairs are evaluated in rounds in an order that keeps every prefix stratified like the
whole sample, and a row stops once its largest standard error is at most ``tol`` times the spread of
its values.

With ``adjustment="trees"`` the sample also trains a surrogate of the game (boosted regression trees
on the coalitions, cross-fitted over folds of whole pairs) used as a control variate: the estimate
is the surrogate's exact Shapley values (closed form for trees) plus the estimator above applied to
what the surrogate misses, weighted by how much the surrogate helps, with standard errors that count
the surrogate's own variability (regression-adjusted Monte Carlo, Witter, Liu & Musco 2025; see
``_adjust.py``). Efficiency stays exact and the values stay exact when every coalition is evaluated;
the error shrinks as far as the trees capture the interactions of order three and more that paired
sampling leaves. The adjusted estimate is approximate too: the weight of the control variate is
estimated on the same sample and clipped, so it is approximately unbiased (consistent; bias of order
1/n), like the plain one. The default ``adjustment="auto"`` makes that adjustment on the rows where a
cheap held-out pilot, fitted to the residuals of the plain estimate, predicts that it lowers the
variance enough to pay for its fitting, and keeps the plain estimate elsewhere.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._engine import coalition_values, predict, single_blas_thread
from .._kernels.kernel_shap import pair_scores, random_subsets, weighted_normal_equations
from .._validation import check_choice, check_int, check_random_state, check_real, resolve_seed, row_generator
from .._masking_explainer import MaskingExplainer, RowResults, largest_relative_stderr
from ._adjust import AutoAdjustment, TreeAdjustment

__all__ = ["KernelSHAP"]

_AUTO_EXTRA = 2048
_MIN_PAIRS_PER_GROUP = 8
_DENSE_PLAYERS = 64  # above this many players the normal equations are formed with BLAS
_DENSE_UNITS = 200_000  # strata this small are drawn from the list of all their pairs when half is needed


def smallest_sound_budget(n_players, at_least):
    """The smallest even number of coalitions, at least ``at_least``, whose sampled pairs are none (every
    stratum enumerated) or at least as many as the players: a budget KernelSHAP does not warn about."""
    every = 2 ** n_players - 2 if n_players < 62 else np.inf
    budget = int(min(max(at_least + at_least % 2, 2 * n_players), every))
    while budget < every:
        design = _Design(n_players, budget)
        sampled = int(design.taken[design.taken < design.units].sum())
        if sampled == 0 or sampled >= n_players:
            return budget
        budget += 2 * (n_players - sampled)
    return int(every)


def constrained_solve(gram, moment, delta):
    """Weighted least squares with the efficiency constraint (the coefficients of each output add up to
    ``delta``): the solution and the projection ``G^-1 - G^-1 1 1' G^-1 / (1' G^-1 1)`` of its sandwich."""
    try:
        inverse = np.linalg.inv(gram)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(gram)
    inverse_ones = inverse.sum(axis=1)
    total = inverse_ones.sum()
    unconstrained = inverse @ moment
    solution = unconstrained - np.outer(inverse_ones, unconstrained.sum(axis=0) - delta) / total
    return solution, inverse - np.outer(inverse_ones, inverse_ones) / total


class _Design:
    """Strata of complementary pairs and how a budget of coalitions is spread over them."""

    def __init__(self, n_players, n_coalitions):
        self.n_players = n = n_players
        sizes = np.arange(1, n // 2 + 1)
        # units (complementary pairs) per stratum; in the middle stratum S and N - S have the same size.
        # Floats: C(n, k) overflows int64 from 57 players and float64 past about 1,030 (then inf, which
        # only means "never enumerated"); the strata's kernel mass is computed without it.
        self.units = np.array([_units(n, int(k)) for k in sizes], dtype=np.float64)
        self.sizes = sizes
        # kernel weight of a stratum: units x 2 members x w(S), w(S) = (n - 1) / (C(n, k) k (n - k))
        self.mass = np.array([(n - 1) / (k * (n - k)) * (1.0 if 2 * k == n else 2.0) for k in sizes])
        # the singletons (and their complements) enumerated first: with them the least-squares matrix has full
        # rank whatever is sampled; the other pairs in proportion to the strata's kernel mass (Neyman allocation
        # for equal spreads), a stratum whose share covers it enumerated whole
        budget_units = n_coalitions // 2
        self.taken = taken = np.zeros(len(sizes), dtype=np.int64)
        if len(sizes):
            taken[0] = first = int(min(self.units[0], budget_units))
            taken[1:] = _allocate(budget_units - first, self.units[1:], self.mass[1:])
        self.exact = bool(np.all(taken == self.units))
        self._every = {}  # stratum index -> all its pairs, built once for dense strata

    def pair_weights(self, strata, counts):
        """Weight of each member of a sampled pair: its kernel weight over its inclusion probability."""
        return self.mass[strata] / 2 / counts[strata]

    @property
    def n_units(self):
        return int(self.taken.sum())

    def plan(self, rng):
        """The row's pairs, as coalitions S (the other member is N - S), in evaluation order."""
        members, strata, times = [], [], []
        for index, (size, count, units) in enumerate(zip(self.sizes, self.taken, self.units)):
            if count == 0:
                continue
            if count == units or (count * 2 > units and units <= _DENSE_UNITS):
                if index not in self._every:
                    self._every[index] = _all_subsets(self.n_players, int(size), 2 * size == self.n_players)
                chosen = self._every[index][rng.permutation(int(units))[:count]]
            else:
                chosen = _distinct_subsets(self.n_players, int(size), int(count), units, rng)
            members.append(chosen)
            strata.append(np.full(count, index))
            times.append((np.arange(count) + 0.5) / count)
        members = np.concatenate(members)
        strata = np.concatenate(strata)
        order = np.lexsort((strata, np.concatenate(times)))  # every prefix stratified like the whole
        return members[order], strata[order]


def _units(n_players, size):
    """Complementary pairs of stratum ``size`` as a float: exact below 2**53, inf past float range."""
    count = math.comb(n_players, size) // (2 if 2 * size == n_players else 1)
    return float(count) if count.bit_length() < 1000 else math.inf


def _allocate(total, capacity, weight):
    """Integers summing to ``total`` (at most ``capacity`` each), proportional to ``weight``."""
    taken = np.zeros(len(capacity), dtype=np.int64)
    open_ = np.ones(len(capacity), dtype=bool)
    left = int(total)
    while left > 0 and open_.any():
        share = weight * open_ / (weight * open_).sum() * left
        full = open_ & (taken + share >= capacity)
        if full.any():
            left -= int((capacity[full] - taken[full]).sum())
            taken[full] = capacity[full]
            open_ &= ~full
            continue
        floor = np.floor(share).astype(np.int64)
        remainder = left - int(floor.sum())
        order = np.argsort(-(share - floor), kind="stable")[:remainder]
        floor[order] += 1
        taken += floor
        left = 0
    return taken


def _distinct_subsets(n_players, size, count, units, rng):
    """``count`` distinct pairs of stratum ``size`` drawn without replacement, in random order."""
    middle = 2 * size == n_players
    if count * 2 > units and units <= _DENSE_UNITS:
        return _all_subsets(n_players, size, middle)[rng.permutation(int(units))[:count]]
    chosen = np.zeros((0, n_players), dtype=bool)
    while len(chosen) < count:
        draws = random_subsets(n_players, size, rng.random((2 * (count - len(chosen)) + 8, size)))
        if middle:  # one representative per pair: the member holding player 0
            draws[~draws[:, 0]] = ~draws[~draws[:, 0]]
        chosen = np.concatenate([chosen, draws])
        keys = np.packbits(chosen, axis=1)
        _, first = np.unique(keys.view(np.dtype((np.void, keys.shape[1]))).ravel(), return_index=True)
        chosen = chosen[np.sort(first)]
    return chosen[:count]


def _all_subsets(n_players, size, middle):
    from itertools import combinations

    players = range(1, n_players) if middle else range(n_players)
    rows = [((0,) if middle else ()) + c for c in combinations(players, size - 1 if middle else size)]
    out = np.zeros((len(rows), n_players), dtype=bool)
    out[np.repeat(np.arange(len(rows)), size), np.concatenate(rows).astype(np.int64)] = True
    return out


def _estimate(members, strata, values, design, delta):
    """Constrained WLS estimate and its standard errors from the first ``len(members)`` pairs.

    ``values`` (2 * pairs, n_outputs) are ``v(S) - v(empty)`` for ``S = members`` then ``N - members``.
    The scores of the pairs (``sum over the pair of w z r``, already scaled to estimated stratum totals,
    over one minus the pair's leverage in the fit: residuals of high-leverage pairs understate their
    spread, HC3) are centred within groups of sampled strata: the stratified without-replacement
    variance of the estimated totals, sampled strata with few pairs collapsed with their neighbours (a
    conservative estimator with enough degrees of freedom); a group of one pair keeps its second
    moment; enumerated strata add nothing. The scores come from a kernel (:func:`pair_scores`), the
    products of the sandwich from BLAS.
    """
    counts = np.bincount(strata, minlength=len(design.units))
    pair_weights = design.pair_weights(strata, counts)  # kernel weight / inclusion probability, of each member
    wide = members.shape[1] > _DENSE_PLAYERS  # BLAS beats the kernels' per-member loops (3x at 1,000 players)
    if wide:
        design_matrix = np.concatenate([members, ~members]).astype(np.float64)
        weighted_rows = design_matrix * np.tile(pair_weights, 2)[:, None]
        gram, moment = weighted_rows.T @ design_matrix, weighted_rows.T @ values
    else:
        gram, moment = weighted_normal_equations(np.concatenate([members, ~members]), np.tile(pair_weights, 2),
                                                 values)
    phi, projection = constrained_solve(gram, moment, delta)
    leverages = np.zeros(0)
    if wide:  # each pair's leverage, w (z_S' P z_S + z_(N-S)' P z_(N-S)), by BLAS
        each = ((design_matrix @ projection) * design_matrix).sum(axis=1)
        leverages = pair_weights * (each[:len(members)] + each[len(members):])
    groups = _variance_groups(counts, design.units)
    group_of_stratum = np.full(len(design.units), -1, dtype=np.int64)
    factors = np.empty(len(groups))
    for g, strata_of_group in enumerate(groups):
        group_of_stratum[strata_of_group] = g
        size = int(counts[strata_of_group].sum())
        sampled = size / design.units[strata_of_group].sum()
        factors[g] = size / (size - 1) * (1 - sampled) if size > 1 else -1.0  # -1: a lone pair, its second moment
    centred = pair_scores(np.ascontiguousarray(members), pair_weights, np.ascontiguousarray(values, dtype=np.float64),
                          np.ascontiguousarray(phi), np.ascontiguousarray(projection), group_of_stratum[strata],
                          factors, leverages)
    stderr = np.stack([np.sqrt(((projection @ centred[:, :, k].T) ** 2).sum(axis=1))
                       for k in range(centred.shape[2])], axis=1)
    return phi, stderr


def _variance_groups(counts, units, minimum=_MIN_PAIRS_PER_GROUP):
    """Sampled strata (0 < count < units), in order, collapsed into groups of at least ``minimum`` pairs."""
    groups, current, held = [], [], 0
    for index in np.flatnonzero((counts > 0) & (counts < units)):
        current.append(index)
        held += counts[index]
        if held >= minimum:
            groups.append(current)
            current, held = [], 0
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return groups


class KernelSHAP(MaskingExplainer):
    """Shapley values estimated from a sample of coalitions, with a standard error for each value.

    Coalitions are drawn in complementary pairs, stratified by size, the smallest sizes enumerated
    whole while the budget allows, the rest sampled without replacement; the values solve the
    Shapley-kernel weighted least squares problem with the efficiency constraint imposed exactly.
    No feature selection is made. The estimate is approximately unbiased (consistent; bias of
    order 1/n in the sampled pairs, since the least-squares matrix is itself estimated from the
    sample). See the module documentation for the estimator and its errors.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted scikit-learn estimator or pipeline (classifiers explain ``predict_proba``), or a
        callable from rows to predictions.
    background : DataFrame, ndarray or IndependentMasker
        Reference rows in the model's own input format.
    n_coalitions : int or "auto", default="auto"
        Coalitions evaluated per explained row, besides the empty and the full one; each costs
        ``n_background`` model rows. ``"auto"`` is ``2 * n_players + 2048``, and every coalition
        (exact values, zero standard errors) when there are fewer than that. At least
        ``2 * n_players``. Odd budgets are rounded down to whole pairs.
    tol : float, default=None
        Stop sampling a row once its largest standard error is at most ``tol`` times the spread
        (max - min) of its values, or when ``n_coalitions`` are spent. ``diagnostics["stopped_by"]``
        says which, per row.
    stop : callable, default=None
        Stop sampling a row once ``stop(values, stderr, growth)`` says so: called after each round of
        pairs with the values and standard errors ``(n_rows, n_players, n_outputs)`` of the rows
        still sampled and how many times their sample may still grow within ``n_coalitions``
        (``(n_rows,)``), it returns one bool per row (e.g. :func:`tabxai.report.reasons_settled`: the
        principal reasons' ranks are statistically certain). Rounds start at the fewest pairs that
        sample at least as many pairs as players and grow by half, up to ``n_coalitions``.
        With ``tol`` too, a row stops when either says so. It must be picklable for ``n_jobs > 1``.
    adjustment : {"auto", "trees", None}, default="auto"
        ``"trees"``: regression adjustment. Per row and output, boosted regression trees fitted to the
        evaluated coalitions (cross-fitted over four folds of pairs) serve as a control variate: the
        values are the trees' exact Shapley values plus the estimate of what they miss, weighted by
        how much they help (a weight estimated on the same sample and clipped, so approximately
        unbiased, as the plain estimate); standard errors include the trees' own variability. No extra model rows,
        but fitting time per row and output (about 25 ms of one core for 2,000 coalitions of 12
        players; with ``tol`` it refits every round, up to 6x that): up to several times smaller errors
        at the same number of model rows when the game has interactions of order three and more (tree
        models, smooth classifiers). Budgets under 160 coalitions get the plain estimate. ``"auto"``:
        per row, a pilot (four trees of depth four fitted on half of the pairs to the plain fit's
        residuals, scored on the other half) estimates the variance reduction; from 1.2-fold on the
        row gets ``"trees"``, otherwise the plain estimate at the cost of the pilot alone (see
        ``_adjust.AutoAdjustment``); ``diagnostics["adjusted"]`` says which rows got it. The choice
        depends only on the row's sample.
        ``None``: plain.
    random_state : int, numpy Generator or None, default=None
        Seed. Each explained row draws from its own generator derived from the seed and its
        position, so results do not depend on ``n_jobs`` or ``max_rows``.
    feature_groups, output, background_weights, max_rows, n_jobs, progress
        As for :class:`tabxai.ExactShapley`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, X[:, 0] * X[:, 1])
    >>> expl = KernelSHAP(model, X[:20], n_coalitions=512, random_state=0).explain(X[:2])
    >>> expl.values.shape, expl.stderr.shape
    ((2, 20), (2, 20))
    >>> bool(np.allclose(expl.base_values + expl.values.sum(1), model.predict(X[:2])))
    True
    """

    def __init__(self, model, background, *, n_coalitions="auto", tol=None, stop=None, adjustment="auto",
                 random_state=None, feature_groups=None, output=None, link=None, background_weights=None,
                 max_rows=None, n_jobs=None, progress=None):
        check_int(n_coalitions, "n_coalitions", min_value=1, allowed=("auto",))
        self.n_coalitions = n_coalitions
        self.tol = check_real(tol, "tol", min_value=0, min_inclusive=False, allowed=(None,))
        if stop is not None and not callable(stop):
            raise TypeError(f"`stop` must be a callable (values, stderr) -> bool per row, or None; got {stop!r}")
        self.stop = stop
        self.adjustment = check_choice(adjustment, "adjustment", ("auto", "trees", None))
        check_random_state(random_state)
        self.random_state = random_state
        super().__init__(model, background, feature_groups=feature_groups, output=output, link=link,
                         background_weights=background_weights, max_rows=max_rows, n_jobs=n_jobs,
                         progress=progress)
        self._adjustment = {"auto": AutoAdjustment, "trees": TreeAdjustment, None: lambda: None}[adjustment]()

    def _check_players(self, n_players):
        every = 2 ** n_players - 2 if n_players < 62 else np.inf
        minimum = min(2 * n_players, every)
        budget = check_int(self.n_coalitions, "n_coalitions", min_value=max(minimum, 1), allowed=("auto",))
        if budget == "auto":
            budget = 2 * n_players + _AUTO_EXTRA
        self._design = design = _Design(n_players, int(min(budget, every)))
        sampled = int(design.taken[design.taken < design.units].sum())
        if 0 < sampled < n_players:
            warnings.warn(
                f"n_coalitions={budget} leaves {sampled} sampled pairs for {n_players} players (after the strata it "
                "enumerates): with fewer sampled pairs than players the estimate's bias (of order 1/pairs) can exceed "
                "its standard errors, which then understate the error (measured: 95% intervals covering 42% of the "
                f"truth at 1,000 players and 256 sampled pairs). Use n_coalitions >= {2 * design.n_units - 2 * sampled + 2 * n_players}",
                UserWarning, stacklevel=3)

    def _seed(self):
        return resolve_seed(self.random_state)

    def _parameters(self):
        return {**super()._parameters(), "n_coalitions": self.n_coalitions, "tol": self.tol,
                "stop": None if self.stop is None else repr(self.stop),
                "adjustment": self.adjustment, "coalitions_per_row": 2 * self._design.n_units}

    def _explain_rows(self, model, masker, codes, seed, progress, row_indices):
        design = self._design
        n_rows, n_players = len(row_indices), self._players.n_players
        rows = codes[row_indices]
        base = self._base_values
        delta = predict(model, rows) - base  # f(x) - E f(background): one model row per explained row
        if n_players == 1:  # one player: the closed form, v(N) - v(empty)
            info = {"n_coalitions": np.zeros(n_rows, dtype=np.int64), "adjusted": np.zeros(n_rows, dtype=bool),
                    "stopped_by": np.array(["exact"] * n_rows, dtype=object)}
            if self.tol is not None:
                info["converged"] = np.ones(n_rows, dtype=bool)
            return RowResults(delta[:, None, :], np.zeros((n_rows, 1, base.shape[0])), n_rows, info)
        generators = [row_generator(seed, index) for index in row_indices]
        plans = [design.plan(generator) for generator in generators]
        adjustment = None if design.exact else self._adjustment  # every coalition: nothing left to adjust
        if adjustment is not None:
            folds = [adjustment.folds(strata, generator) for (_, strata), generator in zip(plans, generators)]
        n_units = design.n_units
        rounds = (self.tol is not None or self.stop is not None) and not design.exact
        first = smallest_sound_budget(n_players, 2 * n_players) // 2 if self.stop is not None else None
        schedule = _schedule(n_units, n_players, first) if rounds else [n_units]
        used = np.zeros(n_rows, dtype=np.int64)
        done = np.zeros(n_rows, dtype=bool)
        adjusted = np.zeros(n_rows, dtype=bool)
        values = [np.zeros((0, base.shape[0])) for _ in range(n_rows)]
        phi = np.zeros((n_rows, n_players, base.shape[0]))
        stderr = np.zeros_like(phi)
        model_rows = n_rows
        for target in schedule:
            active = np.flatnonzero(~done)
            batches = [plans[i][0][used[i]:target] for i in active]
            coalitions = np.concatenate([np.concatenate([b, ~b]) for b in batches])
            pair_row = np.repeat(active, [2 * len(b) for b in batches])
            new = coalition_values(model, masker, rows, coalitions, pair_row,
                                   np.arange(len(coalitions)), progress=progress) - base
            model_rows += len(coalitions) * masker.rows_per_pair
            start = 0
            with single_blas_thread():  # estimates independent of n_jobs to the last bit
                for i, batch in zip(active, batches):
                    half = len(batch)
                    block = new[start:start + 2 * half]
                    start += 2 * half
                    old = values[i]
                    first, second = old[: len(old) // 2], old[len(old) // 2:]
                    values[i] = np.concatenate([first, block[:half], second, block[half:]])
                    used[i] = target
                    members, strata = plans[i][0][:target], plans[i][1][:target]
                    if adjustment is None:
                        phi[i], stderr[i] = _estimate(members, strata, values[i], design, delta[i])
                    else:
                        phi[i], stderr[i], adjusted[i], _, _ = adjustment.estimate(
                            members, strata, folds[i][:target], values[i], delta[i], design, _estimate, generators[i])
            if rounds:
                ready = _all_strata_started(plans, used, design)
                if self.tol is not None:
                    done |= ready & (largest_relative_stderr(phi, stderr) <= self.tol)
                if self.stop is not None:
                    waiting = np.flatnonzero(ready & ~done)
                    if waiting.size:
                        growth = n_units / np.maximum(used[waiting], 1)  # how much each sample may still grow
                        stopped = np.asarray(self.stop(phi[waiting], stderr[waiting], growth),
                                             dtype=bool).reshape(-1)
                        done[waiting[stopped]] = True
            if done.all():
                break
        info = {"n_coalitions": 2 * used, "adjusted": adjusted}
        if design.exact:
            info["stopped_by"] = np.array(["exact"] * n_rows, dtype=object)
        else:
            info["stopped_by"] = np.where(done, "tol" if self.stop is None else "stop", "budget").astype(object)
        if self.tol is not None:
            info["converged"] = largest_relative_stderr(phi, stderr) <= self.tol
        return RowResults(phi, stderr, model_rows, info)


def _schedule(n_units, n_players, first=None):
    """Pairs evaluated after each round when ``tol`` or ``stop`` is set: a first round, then growth by a quarter."""
    targets = [min(n_units, max(2 * n_players, 128) if first is None else first)]
    while targets[-1] < n_units:
        if first is None:
            targets.append(min(n_units, targets[-1] + max(64, targets[-1] // 4)))
        else:  # a stop rule starts from fewer pairs and grows by half: rounds cost an estimate per row each
            targets.append(min(n_units, targets[-1] + max(n_players, targets[-1] // 2)))
    return targets


def _all_strata_started(plans, used, design):
    """Rows whose evaluated pairs include at least two pairs (or all) of every planned stratum."""
    needed = np.minimum(design.taken, 2)
    ready = np.empty(len(plans), dtype=bool)
    for i, (_, strata) in enumerate(plans):
        counts = np.bincount(strata[:used[i]], minlength=len(needed))
        ready[i] = bool(np.all(counts >= needed))
    return ready

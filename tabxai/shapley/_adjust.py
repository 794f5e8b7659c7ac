"""Regression adjustment of KernelSHAP: a cross-fitted tree surrogate as a control variate.

Witter, Liu & Musco (2025), "Regression-adjusted Monte Carlo estimators for Shapley values and
probabilistic values". A surrogate ``h`` of the game ``v`` is fitted on the evaluated coalitions; its
exact Shapley values are cheap (closed form for trees, :mod:`tabxai._kernels.surrogate`), and only
what it misses is estimated from the sample. With ``L`` KernelSHAP's constrained weighted least
squares (linear in the coalition values and in ``v(N) - v(empty)``), the estimate is

    phi = L(v) + c * (phi(h) - L(h)),

``c = 1`` being the full adjustment ``phi(h) + L(v - h)`` and ``c = 0`` the plain estimate. Efficiency
stays exact: ``phi(h)`` and ``L(h)`` both sum to ``h(N) - h(empty)``.

The surrogate, cross-fitted. The pairs are split into folds (whole complementary pairs, spread evenly
over every stratum); ``g_k`` is fitted on the pairs outside fold ``k``, and ``phi(h)`` is the Shapley
value of ``g = mean_k g_k``. ``L(h)`` must estimate that without the surrogate's overfitting: on a pair
of fold ``k`` in a stratum sampled at fraction ``f``, ``h = (1 - f) g_k + f g``. The model-assisted
estimate of a stratum's total is then "known part exact, unknown part from the model, corrected by
held-out residuals": unbiased, and exact for a stratum evaluated whole (``f = 1``), so that with
every coalition evaluated ``L(h) = phi(h)`` and the estimate is ``L(v)``, exact.

Standard errors and ``c``. One least squares fit of ``v``, ``v - h``, ``h`` and every ``g_k`` gives the
sandwich variances of ``L(v)``, ``L(h)`` and ``L(v - h)``, hence their covariance, and the corrections
``phi(g_k) - L(g_k)`` the fold models would make; their variance over folds is how much the adjustment
depends on the data the surrogate saw, which the sandwich (surrogate held fixed) misses. ``c``
minimises the resulting variance, summed over players, clipped to [0, 1]: a surrogate that adds more
than it captures (trees approximate additive effects with interactions, which paired sampling would
have handled exactly) is weighted down instead of making the estimate worse. Since ``c`` is estimated
on the same sample and clipped (and ``L`` solves equations whose matrix is itself estimated), the
adjusted estimate is approximately unbiased (consistent; bias of order 1/n), not unbiased. On games with known
values (job B of BENCHMARKS.md and 10-player games with interactions of order three and more) the
95% intervals cover 93-98% of the truth from 200 coalitions up.
"""

from __future__ import annotations

import numpy as np

from .._kernels.kernel_shap import round_robin_folds
from .._kernels.surrogate import fit_boosted_trees, held_out_reduction, shapley_boosted_trees

__all__ = ["AutoAdjustment", "TreeAdjustment"]

_NO_UNIFORMS = np.zeros((0, 0))  # the pilot grows every tree on all its training rows


class TreeAdjustment:
    """Boosted-tree surrogate settings, cross-fitting folds, and the adjusted estimate of one row.

    Defaults chosen on job B of BENCHMARKS.md (16 players, 1,024 to 4,096 coalitions) for accuracy per
    unit of fitting time: depth 5 beat 4 and 6 to 8 at 1,024 coalitions; four folds did as well as
    five to ten for less fitting; subsampling rows and larger leaves made no clear difference.
    """

    def __init__(self, *, n_trees=60, max_depth=5, learning_rate=0.25, subsample=1.0, min_leaf=1, n_folds=4,
                 min_pairs_per_fold=20):
        self.n_trees = n_trees
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.min_leaf = min_leaf
        self.n_folds = n_folds
        self.min_pairs_per_fold = min_pairs_per_fold

    def folds(self, strata, rng):
        """Fold of each planned pair: within every stratum, the pairs in plan order go round the folds from
        a random start, so every stratum, and every stratified prefix of the plan, is spread evenly."""
        strata = np.asarray(strata, dtype=np.int64)
        present = np.bincount(strata)
        starts = np.zeros(len(present), dtype=np.int64)
        starts[present > 0] = rng.integers(self.n_folds, size=int(np.count_nonzero(present)))  # one per stratum
        return round_robin_folds(strata, starts, self.n_folds)

    def estimate(self, members, strata, folds, values, delta, design, estimate, rng):
        """Adjusted Shapley values and standard errors of one row from its pairs ``members``.

        ``values`` (2 * pairs, n_outputs) are ``v(S) - v(empty)`` for ``S = members`` then ``N - members``,
        ``delta`` (n_outputs,) is ``v(N) - v(empty)``; ``estimate`` is KernelSHAP's constrained WLS
        ``(members, strata, values, design, delta) -> (phi, stderr)``. Returns the adjusted values and
        standard errors, whether the adjustment was made (with fewer than ``min_pairs_per_fold`` pairs per
        fold, the plain estimate is returned, and False), and the plain values and standard errors, which
        come out of the same least squares fit.
        """
        n_pairs, n_players = members.shape
        if n_pairs < self.min_pairs_per_fold * self.n_folds:
            phi, stderr = estimate(members, strata, values, design, delta)
            return phi, stderr, False, phi, stderr
        n_outputs, n_folds = values.shape[1], self.n_folds
        coalitions = np.ascontiguousarray(np.concatenate([members, ~members]))
        fold = np.tile(folds, 2)
        counts = np.bincount(strata, minlength=len(design.units))
        sampled = np.tile(counts[strata] / design.units[strata], 2)  # sampling fraction of the pair's stratum
        uniforms = rng.random((n_folds, self.n_trees, 2 * n_pairs) if self.subsample < 1 else (n_folds, 0, 0))
        # per output: the surrogate h, then each fold's model g_k, all as v(S) - v(empty) is
        games = np.empty((n_outputs, 1 + n_folds, 2 * n_pairs))
        deltas = np.empty((n_outputs, 1 + n_folds))
        fold_phi = np.empty((n_outputs, n_folds, n_players))
        for output in range(n_outputs):
            targets = np.ascontiguousarray(values[:, output])
            held_out = np.zeros(2 * n_pairs)
            ends = np.empty((n_folds, 2))
            for k in range(n_folds):
                train = fold != k
                base, split, value, prediction = fit_boosted_trees(
                    coalitions, targets, train, self.n_trees, self.max_depth, self.learning_rate, self.min_leaf,
                    self.subsample, uniforms[k])
                fold_phi[output, k], empty, full = shapley_boosted_trees(n_players, base, split, value)
                games[output, 1 + k] = prediction - empty
                deltas[output, 1 + k] = full - empty
                ends[k] = empty, full
                held_out[~train] = prediction[~train]
            empty, full = ends.mean(axis=0)
            mean = (games[output, 1:] + ends[:, :1]).mean(axis=0)
            games[output, 0] = sampled * mean + (1 - sampled) * held_out - empty
            deltas[output, 0] = full - empty
        # one least squares fit of v, v - h, h and the g_k (it is linear in the values)
        columns = np.concatenate([values, values - games[:, 0].T, games.reshape(-1, 2 * n_pairs).T], axis=1)
        delta_columns = np.concatenate([delta, delta - deltas[:, 0], deltas.ravel()])
        phi, stderr = estimate(members, strata, columns, design, delta_columns)
        phi_game = phi[:, :n_outputs]
        variances = stderr ** 2
        var_game, var_residual = variances[:, :n_outputs], variances[:, n_outputs:2 * n_outputs]
        phi_models = phi[:, 2 * n_outputs:].reshape(n_players, n_outputs, 1 + n_folds)
        var_surrogate = variances[:, 2 * n_outputs:].reshape(n_players, n_outputs, 1 + n_folds)[:, :, 0]
        surrogate_phi = fold_phi.mean(axis=1).T  # phi(mean_k g_k)
        covariance = (var_game + var_surrogate - var_residual) / 2
        corrections = fold_phi.transpose(2, 0, 1) - phi_models[:, :, 1:]  # phi(g_k) - L(g_k)
        var_surrogate = var_surrogate + corrections.var(axis=2, ddof=1)
        total = var_surrogate.sum(axis=0)
        weight = np.divide(covariance.sum(axis=0), total, out=np.ones(n_outputs), where=total > 0)
        weight = np.clip(weight, 0.0, 1.0)
        variance = var_game - 2 * weight * covariance + weight ** 2 * var_surrogate
        return (phi_game + weight * (surrogate_phi - phi_models[:, :, 0]), np.sqrt(np.maximum(variance, 0.0)), True,
                phi_game, np.sqrt(var_game))


class AutoAdjustment:
    """``adjustment="auto"``: the tree adjustment where the row's own sample says it pays, else the plain estimate.

    The pilot: four boosted trees of depth four, fitted to the residuals of the plain fit (``v(S) - z_S .
    phi``, what the estimate's variance is made of) on half of the first ``max_pairs`` pairs of the plan (a
    prefix stratified like the whole), predict the residuals of the other half, in the sampled strata,
    weighted as in the estimate. The share of the residual sum of squares they remove held out is the
    variance reduction a control variate can bring; ``sum w r^2 / sum w (r - prediction)^2`` (within
    strata) of at least ``min_reduction`` gets the full adjustment (:class:`TreeAdjustment`), less the plain
    estimate (that of ``adjustment=None``). A game that paired sampling already handles (interactions of
    order two at most) leaves residuals near zero, and one whose interactions no tree captures leaves them
    unpredictable: both get the plain estimate at the pilot's cost. The choice depends only on the row's
    sample, so it is the same whatever ``n_jobs``, ``max_rows`` or the machine.

    Settings measured against the full adjustment's own variance reduction (12 and 16 players, 512 to
    2,072 coalitions, three seeds): a random table game (full: 1.01-1.06) gets pilot reductions of
    0.74-0.92, the parity of seven players (full: 1.0-1.6, nothing a tree of depth five represents)
    0.75-0.92, job B of BENCHMARKS.md (full: 3.2-6.1) 2.3-4.7, a logistic regression of job A (full:
    about 50) 4.7-8.0. Fewer or shallower trees stopped telling job B at 512 coalitions from the table game.

    Cost. The pilot is one Numba call (:func:`tabxai._kernels.surrogate.held_out_reduction`): residuals,
    the four trees on about 256 coalitions, held-out sums; about 60 us a row (12 players), 2% of the plain
    estimate on the cheapest game measured (a product of signs, 2,072 coalitions, 20 background rows).
    Where the pilot went: a third of its time was NumPy glue around the trees, the trees' prediction walk
    ran four times slower through a helper call than written out, and the folds' per-stratum draws were a
    Python loop (70 us a row); the three are gone. Residuals at rounding level (an additive game, which
    paired sampling makes exact; their held-out sum of squares at most ``negligible`` times the values')
    fit no trees and keep the plain estimate: a ratio of two rounding errors decided before.
    """

    def __init__(self, *, min_reduction=1.2, n_trees=4, max_depth=4, learning_rate=0.6, max_pairs=256,
                 negligible=1e-10, full=None):
        self.min_reduction = min_reduction
        self.negligible = negligible
        self.max_pairs = max_pairs
        self.n_trees = n_trees
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.full = full if full is not None else TreeAdjustment()

    def folds(self, strata, rng):
        """The full adjustment's folds; the pilot trains on the even ones and predicts the odd ones."""
        return self.full.folds(strata, rng)

    def estimate(self, members, strata, folds, values, delta, design, estimate, rng):
        """As :meth:`TreeAdjustment.estimate`; the flag says whether the full adjustment was made."""
        phi, stderr = estimate(members, strata, values, design, delta)
        if len(members) >= self.full.min_pairs_per_fold * self.full.n_folds and \
                self.reduction(members, strata, folds, values, design, phi) >= self.min_reduction:
            return self.full.estimate(members, strata, folds, values, delta, design, estimate, rng)
        return phi, stderr, False, phi, stderr

    def reduction(self, members, strata, folds, values, design, phi):
        """Held-out ``sum w r^2 / sum w (r - prediction)^2`` of the pilot trees (1.0: nothing to gain).

        The pilot looks at the first ``max_pairs`` pairs of the plan (a prefix, stratified like the whole),
        so its cost stays bounded whatever the budget. Residuals at rounding level (their held-out sum of
        squares at most ``negligible`` times the values') fit no trees: 1.0.
        """
        counts = np.bincount(strata, minlength=len(design.units))
        n_pairs = len(members)
        keep = min(n_pairs, self.max_pairs)
        strata = strata[:keep]
        odd = folds[:keep] % 2 == 1
        held = (counts[strata] < design.units[strata]) & odd  # sampled, held out
        if not held.any():
            return 1.0
        before, after = held_out_reduction(
            members[:keep], values[:keep], values[n_pairs:n_pairs + keep], np.ascontiguousarray(phi), ~odd, held,
            strata, design.pair_weights(strata, counts), len(design.units), self.n_trees, self.max_depth,
            self.learning_rate, self.negligible)
        return before / after if after > 0 else (1.0 if before == 0 else np.inf)


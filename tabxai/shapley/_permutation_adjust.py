"""Regression adjustment of permutation sampling: a cross-fitted tree surrogate as a control variate.

The regression-adjusted Monte Carlo of Witter, Liu & Musco (2025), for PermutationShapley's units (an
antithetic pair of orders for one background row ``b``). A unit's estimate ``D_u`` (the mean marginal
contributions along its two orders of the game ``v_b(S) = f(x_S, b_rest)``) is unbiased for the
Shapley values ``phi``. A surrogate ``h`` of the coalition values (boosted trees on the coalitions, fitted
to ``v_b(S) - f(b)``) has exact Shapley values ``phi(h)`` (closed form, :mod:`tabxai._kernels.surrogate`)
and the same kind of unit estimate ``G_u`` along the same orders, so

    A_u = D_u - c (G_u - phi(h))

is unbiased too when ``h`` did not see unit ``u``: cross-fitting, ``h_0`` is fitted on the units of even
pairs and used on the odd ones, ``h_1`` the other way round. ``c`` (one per output, clipped to [0, 1])
minimises the variance of the stratified estimate, estimated from the same units, so the adjusted
estimate is approximately unbiased (bias of order 1/n), like KernelSHAP's. Efficiency stays exact:
along an order ``G_u`` sums to ``h(N) - h(empty)``, as ``phi(h)`` does, so each ``A_u`` sums as ``D_u``.
A player whose contributions are zero in every unit (a dummy) is hidden from the surrogate, so it
keeps exactly zero.
The estimate and its standard error are the plain ones (:class:`PermutationShapley`) applied to ``A_u``.

``adjustment="auto"`` decides per explained row, with KernelSHAP's pilot (:class:`AutoAdjustment`:
its small trees and its threshold on the held-out variance reduction): trees fitted on the units of
pairs 0 and 1 of every background row predict the coalition values of pairs 2 and 3; the pilot's
``G_u`` removes ``sum w_b^2 (D - mean_b D)^2 / sum w_b^2 (D - G - mean_b (D - G))^2`` of the within-
background-row spread that the estimate's variance is made of. A reduction of at least
``min_reduction`` gets the full adjustment. The choice depends only on the row's sample. The pilot
looks at the first background rows only (as many coalitions as KernelSHAP's pilot), decides as soon as
a row has four pairs, and only a row it adjusts keeps its units' values.
"""

from __future__ import annotations

import math

import numpy as np

from .._kernels.permutation import fill_order_coalitions, permutation_pilot, stratum_spread, unit_estimates
from .._kernels.surrogate import fit_boosted_trees, shapley_boosted_trees
from ._adjust import _NO_UNIFORMS, AutoAdjustment, TreeAdjustment

__all__ = ["PermutationAdjustment", "Units"]


class PermutationAdjustment:
    """The tree adjustment of one explained row's units, always (``auto=False``) or where the pilot says it pays.

    ``max_fit`` bounds the coalitions each fold's surrogate is fitted on (the first units of the fold in
    pair order), so fitting costs the same whatever the budget; predicting costs one pass over the
    coalitions of the other fold.
    """

    def __init__(self, *, auto=True, max_fit=4096):
        self.auto = auto
        self.max_fit = max_fit
        self.pilot = AutoAdjustment()
        self.full = TreeAdjustment()

    def pays(self, values, full, empty, weights, design, key, background, pair):
        """Whether to adjust a row (always without ``auto``), from its units so far: units ``(background, pair)``
        (pairs 0 to 3 at least, in any order) whose coalitions have the values ``values`` (n_units,
        2 * (n_players - 1), n_outputs); ``full`` and ``empty`` the model's full and empty values, ``weights`` the
        background rows' weights, ``design`` and ``key`` the row's orders."""
        if not self.auto:
            return True
        if len(pair) == 0 or int(pair.max()) < 3:
            return False
        return self.reduction(values, full, empty, weights, design, key, background, pair) >= self.pilot.min_reduction

    def adjust(self, units):
        """Adjusted values and standard errors ``(n_players, n_outputs)`` of the row of these :class:`Units` (all
        of its pairs), or None with fewer than two pairs (one fold would be empty)."""
        n_pairs = int(units.pair.max()) + 1
        if n_pairs < 2:
            return None
        return self._adjusted(units, n_pairs)

    def reduction(self, values, full, empty, weights, design, key, background, pair):
        """Held-out variance reduction of the pilot's control variate (1.0: nothing to gain), arguments as
        :meth:`pays`. The pilot looks at the first background rows only, so that it trains on about as many
        coalitions as KernelSHAP's pilot (``max_pairs``) in pairs 0 and 1; its cost stays bounded whatever the
        background. One kernel call (:func:`tabxai._kernels.permutation.permutation_pilot`)."""
        pilot, per_unit = self.pilot, values.shape[1]
        n_near = max(2, math.ceil(pilot.max_pairs / (2 * per_unit)))
        before, after = permutation_pilot(values, full, empty, weights, design, np.uint64(key), background, pair,
                                          n_near, pilot.n_trees, pilot.max_depth, pilot.learning_rate)
        return before / after if after > 0 else (1.0 if before == 0 else math.inf)

    def _adjusted(self, units, n_pairs):
        trees = self.full
        everyone = np.arange(len(units.background))
        estimates = units.estimates(everyone)
        # a player with no contribution in any unit (a dummy) stays out of the surrogate: exactly zero again
        units.silent = ~(estimates != 0).any(axis=(0, 2))
        centred = np.zeros_like(estimates)  # G_u - phi(h) of the surrogate that did not see unit u
        for k in range(units.n_outputs):
            for fold in (0, 1):
                fitted_on = units.where(units.pair % 2 == fold)
                fitted_on = fitted_on[np.lexsort((units.background[fitted_on], units.pair[fitted_on]))]
                fitted_on = fitted_on[:max(1, self.max_fit // units.per_unit)]
                used_on = units.where(units.pair % 2 != fold)
                centred[used_on, :, k] = _fit(units, fitted_on, used_on, k, trees.n_trees, trees.max_depth,
                                              trees.learning_rate, trees.min_leaf)
        strata, unit_weights = units.background, units.weights[units.background] ** 2
        adjusted = np.empty_like(estimates)
        for k in range(units.n_outputs):
            d, g = estimates[:, :, k], centred[:, :, k]
            variance = _spread(g, strata, unit_weights)
            covariance = (_spread(d + g, strata, unit_weights) - _spread(d - g, strata, unit_weights)) / 4
            weight = float(np.clip(covariance / variance, 0.0, 1.0)) if variance > 0 else 0.0
            adjusted[:, :, k] = estimates[:, :, k] - weight * centred[:, :, k]
        return _stratified(adjusted, units.background, units.weights, n_pairs)


class Units:
    """One row's units: their coalitions, model values and plain estimates ``D_u``, built for the units asked."""

    def __init__(self, values, full, empty, weights, design, key, unit_background, unit_pair):
        self.n_players = design.shape[1]
        self.per_unit = 2 * (self.n_players - 1)
        self.n_outputs = values.shape[1]
        self.values, self.full, self.empty, self.weights = values, full, empty, weights
        self.design, self.key = design[None], np.array([key], dtype=np.uint64)
        self.background = np.ascontiguousarray(unit_background, dtype=np.int64)
        self.pair = np.ascontiguousarray(unit_pair, dtype=np.int64)
        self.silent = np.zeros(self.n_players, dtype=np.bool_)  # players the surrogate does not see

    def where(self, condition):
        return np.flatnonzero(condition)

    def rows(self, units):
        """Positions of the units' coalitions (their values' rows), unit by unit."""
        return (units[:, None] * self.per_unit + np.arange(self.per_unit)).ravel()

    def coalitions(self, units):
        """The units' coalitions as surrogate features: players in :attr:`silent` always out."""
        out = np.empty((len(units) * self.per_unit, self.n_players), dtype=np.bool_)
        fill_order_coalitions(self.design, self.key, np.zeros(len(units), dtype=np.int64), self.background[units],
                              self.pair[units], 0, len(out), out)
        out[:, self.silent] = False
        return out

    def estimates(self, units, values=None, full=None, empty=None):
        """``D_u`` of the units (n_units, n_players, n_outputs); of other coalition values (one row per coalition of
        the units, unit by unit) with their own full and empty values when given."""
        if values is None:
            values, full, empty = self.values[self.rows(units)], self.full[None], self.empty
        out = np.empty((len(units), self.n_players, values.shape[1]))
        unit_estimates(np.ascontiguousarray(values), full, empty, self.design, self.key,
                       np.zeros(len(units), dtype=np.int64), self.background[units], self.pair[units], out)
        return out

    def targets(self, units, output):
        """``v_b(S) - f(b)`` of the units' coalitions."""
        return self.values[self.rows(units), output] - np.repeat(self.empty[self.background[units], output],
                                                                  self.per_unit)


def _fit(units, fitted_on, used_on, output, n_trees, max_depth, learning_rate, min_leaf):
    """``G_u - phi(h)`` ``(len(used_on), n_players)`` of trees ``h`` fitted on the units ``fitted_on``."""
    fit_coalitions = units.coalitions(fitted_on)
    coalitions = np.ascontiguousarray(np.concatenate([fit_coalitions, units.coalitions(used_on)]))
    targets = np.zeros(len(coalitions))
    targets[:len(fit_coalitions)] = units.targets(fitted_on, output)
    train = np.zeros(len(coalitions), dtype=np.bool_)
    train[:len(fit_coalitions)] = True
    base, split, value, prediction = fit_boosted_trees(coalitions, targets, train, n_trees, max_depth, learning_rate,
                                                       min_leaf, 1.0, _NO_UNIFORMS)
    phi, empty, full = shapley_boosted_trees(units.n_players, base, split, value)
    estimates = units.estimates(used_on, prediction[len(fit_coalitions):, None], np.array([[full]]),
                                np.array([[empty]]))
    return estimates[:, :, 0] - phi


def _spread(columns, strata, weights):
    """The weighted sum of squares of the rows of ``columns`` (n_units, n_columns) about their stratum's weighted
    mean, summed over columns: what a stratified estimate's variance is made of."""
    return stratum_spread(np.ascontiguousarray(columns), strata, weights, int(strata.max()) + 1)


def _stratified(estimates, background, weights, n_pairs):
    """The plain estimator on unit estimates ``(n_units, n_players, n_outputs)``: the weighted mean over background
    rows of their units' mean, and ``stderr^2 = sum_b w_b^2 s_b^2 / n_pairs`` (``s_b^2``: the spread of b's units)."""
    n_background = len(weights)
    flat = estimates.reshape(len(estimates), -1)
    sums = np.zeros((n_background, flat.shape[1]))
    np.add.at(sums, background, flat)
    means = sums / n_pairs
    squares = np.zeros_like(sums)
    np.add.at(squares, background, (flat - means[background]) ** 2)
    values = weights @ means
    stderr = np.sqrt((weights ** 2) @ (squares / (n_pairs - 1)) / n_pairs)
    return values.reshape(estimates.shape[1:]), stderr.reshape(estimates.shape[1:])

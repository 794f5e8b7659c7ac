"""LIME's surrogate fits: weighted ridge with sandwich standard errors, and the additive control variate.

Two ways to the same numbers. With few players (``2 ** n_players`` at most the samples and at most
4,096) every sample's binary features are one of ``2 ** n_players`` bit patterns sharing one kernel
weight, so the normal equations, the sandwich and R^2 come from sums of the outputs per pattern
(:func:`pattern_fit`, one pass over the samples). Otherwise the dense design is used (:func:`dense_fit`).

The control variate (lime sampler) is an additive model ``g`` of the outputs in the samples' bins
(or categories) and within-bin values, fitted in one pass on one half of the drawn samples (the rows
explained on the same samples share it; the row itself, sample 0, takes no part) and taken out of
the other half, with its exact surrogate coefficients ``Delta(g)`` put back:
``y - g(x) + z . Delta(g)``. Because players are drawn independently, ``Delta`` of an additive
``g`` is known in closed form (the mean of ``g`` in the row's bin minus its mean in the other
bins), so the pseudo-outputs have lime's expected coefficients. Per row and output the fit with
the smaller sandwich variance (sum over players) is kept: both fits come from the same pass.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._kernels.lime import (
    cluster_scores,
    control_deltas,
    control_model,
    control_residuals,
    control_sums,
    fold_pattern_sums,
    forward_selection,
    kernel_weights,
    pattern_sums,
    row_pattern_fits,
)
from ._kernels.lime import pattern_fit as _pattern_fit_kernel

__all__ = ["Fit", "Patterns", "SharedControl", "dense_fit", "fit_row", "pattern_space", "pattern_table", "row_deltas",
           "row_residual", "shared_control", "weighted_r2"]

_MAX_PATTERN_PLAYERS = 12


class Fit:
    """A surrogate fitted to one row's samples (all outputs)."""

    def __init__(self, coef, intercept, stderr, r2, constant):
        self.coef, self.intercept, self.stderr, self.r2, self.constant = coef, intercept, stderr, r2, constant

    def predict(self, binary):
        return self.intercept + binary @ self.coef


def pattern_space(n_players, n_samples):
    """Number of bit patterns the pattern fit sums over, or 0 when the dense fit is used."""
    if n_players > _MAX_PATTERN_PLAYERS or 2 ** n_players > n_samples:
        return 0
    return 2 ** n_players


def _solve(gram, moment, y_square, alpha, n_features, k):
    """Chosen players, inverse of their penalised Gram matrix and coefficients, for output ``k``."""
    n_players = gram.shape[0]
    if n_features is None or n_features >= n_players:
        chosen = np.arange(n_players)
    else:
        chosen = np.sort(forward_selection(gram, moment[:, k].copy(), y_square[k], alpha, n_features))
    system = gram[np.ix_(chosen, chosen)] + alpha * np.eye(len(chosen))
    try:
        inverse = np.linalg.inv(system)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(system)
    return chosen, inverse, inverse @ moment[chosen, k]


def _constant(outcome_square, total, scale):
    return outcome_square <= total * (1e-12 * scale) ** 2


def dense_fit(binary, weights, targets, alpha, n_features, clusters=None, outcome=None):
    """Weighted ridge with an unpenalised intercept, sandwich standard errors and weighted R^2.

    ``binary`` (n, p), ``weights`` (n,), ``targets`` (n, k). The standard errors are the sandwich
    ``A^-1 (R / (R - 1) sum_c G_c G_c') A^-1`` with ``A = X'WX + alpha I`` (centred) and ``G_c``
    the summed scores ``w r x`` of the independent units ``c``: the samples, or the ``clusters``
    (n,) they were drawn in. With ``n_features`` the players are chosen by forward selection per
    output and the surrogate refitted on them. When ``targets`` are pseudo-targets with the
    model's ``outcome`` (n, k) behind them, the intercept and R^2 are those of the outcome.
    """
    binary = np.ascontiguousarray(binary, dtype=np.float64)
    targets = np.ascontiguousarray(targets, dtype=np.float64)
    # centred normal equations (means first, so the sums lose nothing to cancellation), products by BLAS
    total = weights.sum()
    x_mean = weights @ binary / total
    if len(binary):  # a feature constant on the samples is centred to exactly 0 (its mean is no rounding away)
        flat = (binary == binary[0]).all(axis=0)
        x_mean[flat] = binary[0, flat]
    y_mean = weights @ targets / total
    centred = binary - x_mean
    weighted = centred * weights[:, None]
    gram = weighted.T @ centred
    gram = 0.5 * (gram + gram.T)
    targets_centred = targets - y_mean
    moment = weighted.T @ targets_centred
    y_square = weights @ targets_centred ** 2
    n_players, n_outputs = moment.shape
    coef = np.zeros((n_players, n_outputs))
    stderr = np.zeros((n_players, n_outputs))
    outcome = targets if outcome is None else np.ascontiguousarray(outcome, dtype=np.float64)
    outcome_mean = weights @ outcome / total
    outcome_square = weights @ (outcome - outcome_mean) ** 2
    intercept = outcome_mean.copy()
    r2 = np.full(n_outputs, np.nan)
    scale = np.abs(outcome).max(axis=0) if len(outcome) else np.zeros(n_outputs)
    constant = _constant(outcome_square, total, scale)
    n_used = len(binary) if clusters is None else len(np.unique(clusters))
    by_sample = clusters is None
    if clusters is None:
        clusters = np.arange(len(binary))
    clusters = np.ascontiguousarray(clusters, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
    factor = n_used / (n_used - 1) if n_used > 1 else 1.0
    for k in np.flatnonzero(~constant):
        chosen, inverse, beta = _solve(gram, moment, y_square, alpha, n_features, k)
        coef[chosen, k] = beta
        intercept[k] = outcome_mean[k] - x_mean[chosen] @ beta
        design = np.ascontiguousarray(binary[:, chosen])
        fitted = design @ beta
        r2[k] = 1.0 - float(weights @ (outcome[:, k] - intercept[k] - fitted) ** 2) / outcome_square[k]
        residuals = targets[:, k] - (y_mean[k] - x_mean[chosen] @ beta) - fitted
        if by_sample:  # each sample its own unit: scores w r (x - mean)
            scores = weighted[:, chosen] * residuals[:, None]
        else:
            scores = cluster_scores(design, weights, x_mean[chosen], residuals[:, None], clusters, n_clusters)[:, :, 0]
        spread = inverse @ scores.T  # (chosen, clusters)
        stderr[chosen, k] = np.sqrt(factor * (spread ** 2).sum(axis=1))
    return Fit(coef, intercept, stderr, r2, constant)


def pattern_fit(bits, weights, counts, sums, squares, outcome_sums, outcome_squares, shift, scale, alpha,
                n_features):
    """:func:`dense_fit` from sums per bit pattern (the same estimates, one pass over the samples).

    ``bits`` (P, p) the binary features of each pattern, ``weights`` (P,) its kernel weight,
    ``counts`` (P,) its samples; ``sums``/``squares`` (P, k) the sums of the regression targets and
    of their squares over them, ``outcome_sums``/``outcome_squares`` those of the model's outputs
    minus ``shift`` (k,); ``scale`` (k,) the largest absolute output (for the constant test).
    """
    coef, intercept, stderr, r2, outcome_square, total = _pattern_fit_kernel(
        bits, weights, counts, sums, squares, outcome_sums, outcome_squares, alpha)
    constant = _constant(outcome_square, total, scale)
    if n_features is not None and n_features < bits.shape[1] and not constant.all():
        return _selected_pattern_fit(bits, weights, counts, sums, squares, outcome_sums, outcome_squares, shift,
                                     constant, alpha, n_features)
    coef[:, constant] = 0.0
    stderr[:, constant] = 0.0
    r2[constant] = np.nan
    intercept = np.where(constant, (weights @ outcome_sums) / total, intercept) + shift
    return Fit(coef, intercept, stderr, r2, constant)


def _selected_pattern_fit(bits, weights, counts, sums, squares, outcome_sums, outcome_squares, shift, constant, alpha,
                          n_features):
    """:func:`pattern_fit` with forward selection of ``n_features`` players per output, then a refit."""
    n_players, n_outputs = bits.shape[1], sums.shape[1]
    mass = weights * counts
    total = mass.sum()
    x_mean = mass @ bits / total
    centred = bits - x_mean
    gram = (centred * mass[:, None]).T @ centred
    y_mean = weights @ sums / total
    moment = centred.T @ (weights[:, None] * (sums - counts[:, None] * y_mean))
    y_square = weights @ (squares - 2 * y_mean * sums + counts[:, None] * y_mean ** 2)
    coef = np.zeros((n_players, n_outputs))
    stderr = np.zeros((n_players, n_outputs))
    intercept = weights @ outcome_sums / total + shift
    r2 = np.full(n_outputs, np.nan)
    for k in np.flatnonzero(~constant):
        chosen = np.sort(forward_selection(gram, moment[:, k].copy(), y_square[k], alpha, n_features))
        sub = np.ascontiguousarray(bits[:, chosen])
        fit = _pattern_fit_kernel(sub, weights, counts, sums[:, k:k + 1].copy(), squares[:, k:k + 1].copy(),
                                  outcome_sums[:, k:k + 1].copy(), outcome_squares[:, k:k + 1].copy(), alpha)
        coef[chosen, k], intercept[k], stderr[chosen, k], r2[k] = fit[0][:, 0], fit[1][0] + shift[k], fit[2][:, 0], \
            fit[3][0]
    return Fit(coef, intercept, stderr, r2, constant)


def weighted_r2(y, prediction, weights):
    """Weighted R^2 per output; NaN where the outputs are constant (R^2 undefined)."""
    total = weights.sum()
    mean = weights @ y / total
    spread = weights @ (y - mean) ** 2
    scale = np.abs(y).max(axis=0) if len(y) else np.zeros(y.shape[1])
    residual = weights @ (y - prediction) ** 2
    undefined = spread <= total * (1e-12 * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(undefined, np.nan, 1.0 - residual / np.where(undefined, 1.0, spread))


class SharedControl(NamedTuple):
    """The control variate's part shared by every row explained on the same samples."""

    mean: np.ndarray  # the half models (control_model of control_sums over the drawn samples)
    gamma: np.ndarray
    slope: np.ndarray
    residuals: np.ndarray  # (samples, outputs): outputs minus the other half's additive model


def shared_control(levels, deviations, targets, control, first=1):
    """Fit the additive model of each half on samples ``first ...`` (the drawn ones) and take it out of every sample.

    ``levels`` and ``deviations`` are (columns, samples), ``targets`` (samples, outputs); ``control``
    holds the explainer's ``width``, ``frequencies`` and ``membership``. The half models do not
    depend on the explained row (only their ``Delta`` does: :func:`row_deltas`), so rows explained
    on the same samples share them.
    """
    sums = control_sums(levels, deviations, targets, control["width"], first)
    mean, gamma, slope = control_model(sums)
    return SharedControl(mean, gamma, slope, control_residuals(levels, deviations, targets, mean, gamma, slope))


def row_residual(shared, levels, deviations, targets):
    """The residual of a row's own first sample (half 0: the odd half's model), ``levels`` and
    ``deviations`` (columns, 1), ``targets`` (1, outputs)."""
    return control_residuals(levels, deviations, targets, shared.mean, shared.gamma, shared.slope)[0]


def row_deltas(shared, control, row_levels, like_row):
    """The exact surrogate coefficients ``Delta`` of each half's additive model for one explained row (2, p, k)."""
    return control_deltas(shared.gamma, row_levels, control["frequencies"], like_row, control["membership"])


def fit_row(binary, patterns, targets, residuals, deltas, kernel_width, alpha, n_features, table):
    """The surrogate of one row from its samples, with the control variate where it lowers the variance.

    ``residuals`` (samples, outputs) are the outputs minus the other half's additive model
    (:func:`shared_control`, the row's own first sample included) and ``deltas`` its ``Delta`` for
    this row (:func:`row_deltas`); None for no control variate (the background sampler). ``table``
    is the :class:`Patterns` (:func:`pattern_table`) when the bit-pattern fit is used, else None.
    Returns the fit and, per output, whether the control variate was kept.
    """
    n_outputs = targets.shape[1]
    if residuals is None:
        binary = np.ascontiguousarray(binary, dtype=np.float64)
        return dense_fit(binary, kernel_weights(binary, kernel_width), targets, alpha, n_features), \
            np.zeros(n_outputs, dtype=bool)
    targets = np.ascontiguousarray(targets)
    bits = None if table is None else table.bits
    if bits is not None and (n_features is None or n_features >= bits.shape[1]):
        coef, intercept, stderr, r2, constant, use = row_pattern_fits(
            patterns, targets, residuals, bits, table.weights, deltas, alpha)
        return Fit(coef, intercept, stderr, r2, constant), use
    shift = np.ascontiguousarray(targets[0])
    scale = np.abs(targets).max(axis=0)
    if bits is not None:
        weights = table.weights
        sums = pattern_sums(patterns, targets, residuals, shift, len(bits))
        counts, y_sums, y_squares, t_sums, t_squares = fold_pattern_sums(sums, bits, deltas)
        plain = pattern_fit(bits, weights, counts, y_sums, y_squares, y_sums, y_squares, shift, scale, alpha,
                            n_features)
        controlled = pattern_fit(bits, weights, counts, t_sums, t_squares, y_sums, y_squares, shift, scale, alpha,
                                 n_features)
    else:
        binary = np.ascontiguousarray(binary, dtype=np.float64)
        weights = kernel_weights(binary, kernel_width)
        odd = (np.arange(len(binary)) % 2 == 1)[:, None]
        pseudo = residuals + np.where(odd, binary @ deltas[0], binary @ deltas[1])
        plain = dense_fit(binary, weights, targets, alpha, n_features)
        controlled = dense_fit(binary, weights, pseudo, alpha, n_features, outcome=targets)
    use = (controlled.stderr ** 2).sum(axis=0) < (plain.stderr ** 2).sum(axis=0)
    coef = np.where(use, controlled.coef, plain.coef)
    stderr = np.where(use, controlled.stderr, plain.stderr)
    fit = Fit(coef, np.where(use, controlled.intercept, plain.intercept), stderr, plain.r2 if not use.any()
              else np.where(use, controlled.r2, plain.r2), plain.constant)
    return fit, use


class Patterns(NamedTuple):
    """Every bit pattern of ``p`` players' binary features, (2 ** p, p) float64, and its kernel weight."""

    bits: np.ndarray
    weights: np.ndarray


def pattern_table(n_players, kernel_width):
    """The :class:`Patterns` of ``n_players`` (built per call: nothing shared a caller could write into)."""
    bits = pattern_bits(n_players)
    return Patterns(bits, kernel_weights(bits, kernel_width))


def pattern_bits(n_players):
    """The binary features of every bit pattern, (2 ** n_players, n_players) float64."""
    return ((np.arange(2 ** n_players)[:, None] >> np.arange(n_players)) & 1).astype(np.float64)

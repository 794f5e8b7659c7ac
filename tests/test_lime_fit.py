"""LIME's fits: the fit from sums per bit pattern equals the dense one; the control variate's choice."""

import numpy as np
import pytest
from naive import naive_ridge, naive_ridge_stderr

from tabxai._kernels.lime import kernel_weights
from tabxai._lime_fit import (
    dense_fit,
    fit_row,
    pattern_bits,
    pattern_fit,
    pattern_space,
    pattern_table,
    row_deltas,
    shared_control,
)


def _samples(seed, n_samples=600, n_players=4, n_outputs=2):
    rng = np.random.default_rng(seed)
    binary = (rng.random((n_samples, n_players)) < 0.4).astype(np.uint8)
    binary[0] = 1
    patterns = binary.astype(np.int64) @ (1 << np.arange(n_players))
    levels = np.where(binary == 1, 1, rng.integers(2, 5, size=binary.shape)).astype(np.int32)
    deviations = rng.normal(size=binary.shape) * 0.3
    y = np.column_stack([binary @ rng.normal(size=n_players) + np.sin(3 * deviations).sum(axis=1)
                         + 0.2 * rng.normal(size=n_samples) + 10.0 * k for k in range(n_outputs)])
    return binary, patterns, y, levels, deviations


@pytest.mark.parametrize("n_features", [None, 2])
def test_the_pattern_fit_equals_the_dense_fit(n_features):
    binary, patterns, y, _, _ = _samples(0)
    bits = pattern_bits(binary.shape[1])
    weights = kernel_weights(bits, 1.5)
    counts = np.bincount(patterns, minlength=len(bits)).astype(float)
    shift = y[0]
    sums = np.stack([np.bincount(patterns, weights=y[:, k] - shift[k], minlength=len(bits)) for k in range(2)], 1)
    squares = np.stack([np.bincount(patterns, weights=(y[:, k] - shift[k]) ** 2, minlength=len(bits))
                        for k in range(2)], 1)
    fast = pattern_fit(bits, weights, counts, sums, squares, sums, squares, shift, np.abs(y).max(axis=0), 1.0,
                       n_features)
    design = binary.astype(float)
    dense = dense_fit(design, kernel_weights(design, 1.5), y, 1.0, n_features)
    for name in ["coef", "intercept", "stderr", "r2"]:
        np.testing.assert_allclose(getattr(fast, name), getattr(dense, name), rtol=1e-9, atol=1e-11, err_msg=name)
    if n_features is None:
        beta, intercept, _ = naive_ridge(design, y[:, 1], kernel_weights(design, 1.5), 1.0)
        np.testing.assert_allclose(fast.coef[:, 1], beta, atol=1e-10)
        np.testing.assert_allclose(fast.stderr[:, 1], naive_ridge_stderr(design, y[:, 1], kernel_weights(design, 1.5),
                                                                         1.0, np.arange(len(y))), rtol=1e-8)


@pytest.mark.parametrize("n_players", [4, 12])
def test_the_row_fit_is_the_same_through_patterns_or_the_dense_design(n_players):
    binary, patterns, y, levels, deviations = _samples(1, n_samples=5000 if n_players > 4 else 600,
                                                       n_players=n_players)
    control = {"width": 5, "row_levels": np.ones(n_players, dtype=np.int64),
               "frequencies": np.tile([0, 0.3, 0.3, 0.2, 0.2], (n_players, 1)), "like_row": np.full(n_players, 0.3),
               "membership": np.eye(n_players)}
    shared = shared_control(np.ascontiguousarray(levels.T), np.ascontiguousarray(deviations.T), y, control)
    deltas = row_deltas(shared, control, control["row_levels"], control["like_row"])
    fast, used_fast = fit_row(binary, patterns, y, shared.residuals, deltas, 1.5, 1.0, None,
                              pattern_table(n_players, 1.5))
    dense, used_dense = fit_row(binary, patterns, y, shared.residuals, deltas, 1.5, 1.0, None, None)
    np.testing.assert_array_equal(used_fast, used_dense)
    assert used_fast.all()  # the within-bin curve is additive: the control variate removes it
    np.testing.assert_allclose(fast.coef, dense.coef, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(fast.stderr, dense.stderr, rtol=1e-9)
    plain, used = fit_row(binary, patterns, y, None, None, 1.5, 1.0, None, None)
    assert not used.any()
    assert np.all((fast.stderr ** 2).sum(axis=0) < (plain.stderr ** 2).sum(axis=0))


def test_patterns_are_used_only_where_they_are_fewer_than_the_samples():
    assert pattern_space(8, 5000) == 256
    assert pattern_space(12, 5000) == 4096
    assert pattern_space(13, 10_000) == 0
    assert pattern_space(8, 200) == 0


@pytest.mark.parametrize("n_outputs, first", [(1, 0), (3, 1)])
def test_control_sums_are_the_sums_per_half_column_and_level(n_outputs, first):
    """The control variate's one-pass sums (a pass for counts and deviations, one per output) against plain sums."""
    from tabxai._kernels.lime import control_sums

    rng = np.random.default_rng(n_outputs)
    n_columns, n_samples, width = 3, 501, 5
    levels = rng.integers(0, width, size=(n_columns, n_samples)).astype(np.int32)
    deviations = rng.normal(size=(n_columns, n_samples))
    targets = rng.normal(size=(n_samples, n_outputs))
    sums = control_sums(levels, deviations, targets, width, first)
    assert sums.shape == (2, n_columns, width, 3 + 2 * n_outputs)
    for h in range(2):
        for j in range(n_columns):
            for level in range(width):
                inside = (np.arange(n_samples) % 2 == h) & (levels[j] == level) & (np.arange(n_samples) >= first)
                d, y = deviations[j, inside], targets[inside]
                expected = np.concatenate([[inside.sum(), d.sum(), (d * d).sum()],
                                           np.stack([y.sum(axis=0), d @ y], axis=1).ravel()])
                np.testing.assert_allclose(sums[h, j, level], expected, rtol=1e-12, atol=1e-12)


def test_pattern_sums_are_the_sums_per_half_and_pattern():
    from tabxai._kernels.lime import pattern_sums

    _, patterns, y, _, _ = _samples(2)
    residuals = np.random.default_rng(2).normal(size=y.shape)
    shift = y[0]
    sums = pattern_sums(patterns, y, residuals, shift, 16)
    half = np.arange(len(y)) % 2
    for h in range(2):
        for q in range(16):
            inside = (half == h) & (patterns == q)
            expected = [inside.sum()]
            for k in range(y.shape[1]):
                v, e = y[inside, k] - shift[k], residuals[inside, k]
                expected += [v.sum(), (v * v).sum(), e.sum(), (e * e).sum()]
            np.testing.assert_allclose(sums[h, q], expected, rtol=1e-12, atol=1e-12)


def test_r2_from_patterns_equals_the_weighted_r2_of_the_dense_design():
    from tabxai._kernels.lime import pattern_r2
    from tabxai._lime_fit import weighted_r2

    binary, patterns, y, _, _ = _samples(3)
    bits = pattern_bits(binary.shape[1])
    rng = np.random.default_rng(3)
    intercept, coef = rng.normal(size=2), rng.normal(size=(4, 2))
    design = binary.astype(float)
    expected = weighted_r2(y, intercept + design @ coef, kernel_weights(design, 1.5))
    np.testing.assert_allclose(pattern_r2(patterns, y, bits, kernel_weights(bits, 1.5), intercept, coef), expected,
                               rtol=1e-10)
    flat = np.full((len(y), 1), 2.5)  # constant outputs: R^2 undefined
    assert np.isnan(pattern_r2(patterns, flat, bits, kernel_weights(bits, 1.5), intercept[:1], coef[:, :1])[0])


@pytest.mark.parametrize("n", [1, 4, 10])
def test_the_symmetric_inverse_equals_lapacks(n):
    from tabxai._kernels.lime import _spd_inverse

    a = np.random.default_rng(n).normal(size=(n + 6, n))
    matrix = a.T @ a + 0.5 * np.eye(n)
    np.testing.assert_allclose(_spd_inverse(matrix), np.linalg.inv(matrix), rtol=1e-10, atol=1e-12)
    singular = np.ones((3, 3))  # a player constant on the samples with alpha = 0: the pseudo-inverse
    np.testing.assert_allclose(_spd_inverse(singular), np.linalg.pinv(singular), atol=1e-12)


def test_a_player_constant_on_the_samples_gets_0_with_alpha_0_on_both_paths():
    binary, patterns, y, _, _ = _samples(5, n_samples=600, n_players=4)
    binary[:, 2] = 1
    patterns = binary.astype(np.int64) @ (1 << np.arange(4))
    fast, _ = fit_row(binary, patterns, y, None, None, 1.5, 0.0, None, None)
    assert np.all(np.isfinite(fast.coef)) and np.all(fast.coef[2] == 0)
    table = pattern_table(4, 1.5)
    residuals, deltas = y.copy(), np.zeros((2, 4, y.shape[1]))  # a control variate of 0: both fits alike
    through_patterns, _ = fit_row(binary, patterns, y, residuals, deltas, 1.5, 0.0, None, table)
    np.testing.assert_allclose(through_patterns.coef, fast.coef, atol=1e-9)
    np.testing.assert_allclose(through_patterns.stderr, fast.stderr, rtol=1e-7, atol=1e-12)

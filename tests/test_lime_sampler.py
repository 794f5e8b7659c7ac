"""The lime sampler's kernels: counter-based uniforms, the quantile table, the distribution of each bin."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import tabxai as tx
from tabxai._kernels.lime_sampler import (
    _within_bin,
    counter_uniforms,
    quantile_table,
    truncated_normal,
    truncation_table,
    uniform_table,
)

BINS = [  # low, high, mean, std: central, skewed, both bounds in a tail, deep tail, nearly constant, a point
    (-1.0, 2.0, 0.5, 1.0), (-122.34, -122.25, -122.271, 0.016), (566.0, 3864.0, 974.8, 477.7), (3.0, 4.0, 0.0, 1.0),
    (-40.0, -39.0, 0.0, 1.0), (0.0, 1.0, 0.5, 1e-11), (1.0, 1.0, 1.0, 1.0)]


def _table(bins, n_intervals=64, tolerance=1e-8):
    tables = np.zeros((1, len(bins), 8))
    flipped = np.zeros((1, len(bins)), dtype=bool)
    for b, (low, high, mean, std) in enumerate(bins):
        a, z, pa, pz, flip = truncation_table(low, high, mean, std)
        tables[0, b], flipped[0, b] = (low, high, mean, std, a, z, pa, pz), flip
    return tables, flipped, quantile_table(tables, flipped, n_intervals, tolerance, 256)


def test_the_quantile_table_is_within_1e_8_of_the_bin_of_the_exact_quantile():
    tables, flipped, (splits, offsets, coefficients, exact) = _table(BINS)
    grid = np.concatenate([np.linspace(0, 1, 4001), [1e-12, 1e-7, 1 - 1e-7, 1 - 1e-12]])
    for b, (low, high, mean, std) in enumerate(BINS):
        table = np.array([_within_bin(splits, offsets, coefficients, exact, tables, flipped, 0, b, v)
                          for v in grid])
        exact_values = np.array([truncated_normal(low, high, mean, std, v) for v in grid])
        assert np.all((table >= low) & (table <= high))
        np.testing.assert_allclose(table, exact_values, rtol=0, atol=1e-8 * (high - low))
        if high > low and std > 1e-6 and high > mean - 37 * std:  # scipy's own quantile, where it is accurate
            reference = stats.truncnorm.ppf(grid[1:-5], (low - mean) / std, (high - mean) / std, loc=mean, scale=std)
            np.testing.assert_allclose(table[1:-5], reference, rtol=0, atol=2e-8 * (high - low))
    assert exact.mean() < 0.02  # pieces computed exactly: only where a bin ends deep in a tail


def test_counter_uniforms_are_uniform_independent_and_keyed():
    u = counter_uniforms(np.uint64(2024), 0, 20_000, 5)
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.03
    np.testing.assert_array_equal(counter_uniforms(np.uint64(2024), 100, 5, 5), u[100:105])
    assert not np.any(counter_uniforms(np.uint64(2025), 0, 20_000, 5) == u)


@pytest.fixture(scope="module")
def explainer_and_rows():
    rng = np.random.default_rng(3)
    background = pd.DataFrame({"a": rng.normal(size=600), "b": rng.lognormal(size=600),
                               "c": rng.gamma(0.7, size=600), "d": rng.integers(0, 5, size=600)})
    explainer = tx.LimeTabular(lambda frame: frame["a"].to_numpy(), background, n_samples=100, random_state=0)
    return explainer, background.to_numpy(dtype=float)


def test_each_bin_draws_its_truncated_normal_with_the_background_frequencies(explainer_and_rows):
    explainer, background = explainer_and_rows
    discretizer = explainer._discretizer
    codes = background
    row_keys = discretizer.keys(codes[:1])[0]
    n = 60_000
    samples, sample = explainer._neighbourhood(codes[0], row_keys, np.uint64(77), 0, n, False)
    keys = discretizer.keys(samples)
    for slot, j in enumerate(discretizer.numeric):
        edges = discretizer.edges[slot]
        frequencies = np.bincount(np.searchsorted(edges, background[:, j]), minlength=len(edges) + 1) / len(background)
        counts = np.bincount(keys[:, j], minlength=len(edges) + 1)
        z = (counts - n * frequencies) / np.sqrt(n * frequencies * (1 - frequencies))
        assert np.all(np.abs(z) < 4), (j, z)  # bin masses
        np.testing.assert_array_equal(sample.binary[:, slot], keys[:, j] == row_keys[j])
        if discretizer.integral[slot]:
            continue
        for b in range(len(edges) + 1):
            low, high, mean, std = discretizer.tables[slot, b, :4]
            inside = samples[keys[:, j] == b, j]
            law = stats.truncnorm((low - mean) / std, (high - mean) / std, loc=mean, scale=std)
            assert stats.kstest(inside, law.cdf).pvalue > 1e-3, (j, b)  # the bin's truncated normal


def test_integer_columns_keep_background_values(explainer_and_rows):
    explainer, background = explainer_and_rows
    codes = background
    keys = explainer._discretizer.keys(codes[:1])[0]
    samples, _ = explainer._neighbourhood(codes[5], keys, np.uint64(3), 0, 2000, True)
    assert set(np.unique(samples[:, 3])) <= set(np.unique(background[:, 3]))


def test_a_request_filled_in_pieces_equals_one_filled_at_once(explainer_and_rows):
    explainer, background = explainer_and_rows
    codes = background
    keys = explainer._discretizer.keys(codes[:1])[0]
    whole, whole_sample = explainer._neighbourhood(codes[0], keys, np.uint64(9), 40, 300, True)
    pieces = np.empty_like(whole)
    sample = explainer._new_samples(301, True)
    for start, stop in [(0, 1), (1, 130), (130, 301)]:
        explainer._draw(codes[0], keys, np.uint64(9), 40, True, start, pieces[start:stop], sample)
    np.testing.assert_array_equal(pieces, whole)
    np.testing.assert_array_equal(sample.binary, whole_sample.binary)
    np.testing.assert_array_equal(sample.deviations, whole_sample.deviations)


@pytest.mark.parametrize("groups", [None, [["a", "b"], ["c"], ["d"]]])
def test_binary_features_from_the_levels_equal_the_samplers_own(groups):
    """Rows share samples: their binary features come from the samples' levels (row_features), which
    must equal what the sampler writes when it draws around the row itself (groups: all columns alike)."""
    from tabxai._kernels.lime import row_features

    rng = np.random.default_rng(4)
    background = pd.DataFrame({"a": rng.normal(size=300), "b": rng.lognormal(size=300),
                               "c": rng.integers(0, 3, size=300), "d": rng.normal(size=300)})
    background.loc[::17, "a"] = np.nan  # a missing level too
    explainer = tx.LimeTabular(lambda frame: frame["d"].to_numpy(), background, n_samples=100, random_state=0,
                               feature_groups=groups)
    codes = explainer._schema.encode(background)
    keys = explainer._discretizer.keys(codes)
    n_players = explainer._players.n_players
    for i in [0, 17, 5]:
        _, sample = explainer._neighbourhood(codes[i], keys[i], np.uint64(21), 3, 2000, True)
        binary = np.empty((n_players, 2001), dtype=np.uint8)
        patterns = np.empty(2001, dtype=np.int64)
        row_features(np.ascontiguousarray(sample.levels.T), keys[i] + 1, explainer._player_columns,
                     explainer._player_start, binary, patterns)
        np.testing.assert_array_equal(binary.T, sample.binary)
        np.testing.assert_array_equal(patterns, sample.patterns)
        # the row's own first sample: its levels and deviations as the sampler writes them
        np.testing.assert_array_equal(sample.levels[0], keys[i] + 1)
        np.testing.assert_allclose(explainer._discretizer.deviations(codes[i:i + 1], keys[i:i + 1])[0],
                                   sample.deviations[0], rtol=0, atol=1e-15)
        naive = np.array([[all(sample.levels[s, j] == keys[i, j] + 1 for j in members)
                           for members in explainer._players.columns] for s in range(2001)])
        np.testing.assert_array_equal(binary.T, naive)


def test_a_weighted_background_gives_its_weighted_bin_masses():
    rng = np.random.default_rng(12)
    background = pd.DataFrame({"a": rng.normal(size=80), "b": rng.integers(0, 4, size=80)})
    repeats = rng.integers(1, 4, size=80)
    weighted = tx.LimeTabular(lambda frame: frame["a"].to_numpy(), tx.IndependentMasker(background, weights=repeats),
                              n_samples=100, random_state=0)
    codes = background.to_numpy(dtype=float)
    keys = weighted._discretizer.keys(codes[:1])[0]
    n = 40_000
    samples, _ = weighted._neighbourhood(codes[0], keys, np.uint64(5), 0, n, False)
    sample_keys = weighted._discretizer.keys(samples)
    share = repeats / repeats.sum()
    for j in range(2):
        expected = np.bincount(weighted._background_keys[:, j], weights=share)
        counts = np.bincount(sample_keys[:, j], minlength=len(expected))
        z = (counts - n * expected) / np.sqrt(n * expected * (1 - expected))
        assert np.all(np.abs(z) < 4), (j, z)
    assert set(np.unique(samples[:, 1])) <= set(range(4))


def test_the_uniform_pieces_give_the_bin_and_quantile_of_each_uniform(explainer_and_rows):
    """:func:`uniform_table` (u straight to a value) against the per-bin path: the bin whose share holds u,
    then the exact truncated-normal quantile at u's position in that share (within 1e-8 of the bin's width)."""
    explainer, _ = explainer_and_rows
    discretizer = explainer._discretizer
    n_pieces = 1024
    u = np.concatenate([np.linspace(0, 1, 20_001)[:-1], np.random.default_rng(0).random(20_000)])
    for p, (j,) in enumerate(explainer._players.columns):
        slot = discretizer.slot[j]
        if slot < 0 or discretizer.integral[slot]:
            continue
        segments = explainer._segments[p]
        coefficients, keys = uniform_table(segments, discretizer.tables[slot], discretizer.flipped[slot], n_pieces,
                                           1e-8)
        assert (keys < 0).mean() < 0.03  # slow pieces: where two bins' shares meet, and deep tails
        np.testing.assert_array_equal(keys, explainer._piece_keys[explainer._piece_rows[p]])
        x = u * n_pieces
        i = np.minimum(x.astype(np.int64), n_pieces - 1)
        fast = keys[i] >= 0
        h = (x - i)[fast, None] ** np.arange(6)
        values = (coefficients[i[fast]] * h).sum(axis=1)
        bins = keys[i[fast]]
        position = np.minimum((u[fast] * len(explainer._sorted_keys[p])).astype(np.int64),
                              len(explainer._sorted_keys[p]) - 1)
        np.testing.assert_array_equal(bins, explainer._sorted_keys[p][position])
        for b in np.unique(bins):
            low, high, mean, std = discretizer.tables[slot, b, :4]
            inside = bins == b
            v = (u[fast][inside] - segments[b, 0]) * segments[b, 2]
            exact = np.array([truncated_normal(low, high, mean, std, w) for w in v])
            np.testing.assert_allclose(values[inside], exact, rtol=0, atol=1.5e-8 * (high - low))

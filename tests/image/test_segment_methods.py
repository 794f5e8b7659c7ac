"""Shapley values of segments through the tabular explainers: exact enumeration, invariance, efficiency."""

import numpy as np
import pytest
from naive import naive_image_shapley, naive_segment_mean_fill

import tabxai as tx


def _image(seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (10, 12, 3))


def _score(batch):
    """Two interacting outputs: products and a maximum make the game non-additive."""
    top = batch[:, :5].mean(axis=(1, 2, 3))
    left = batch[:, :, :6, 0].mean(axis=(1, 2))
    peak = batch[..., 2].max(axis=(1, 2))
    return np.stack([top * left + 0.3 * peak, np.sin(3 * left) - top], axis=1)


SEGMENTS = np.repeat(np.repeat(np.arange(9).reshape(3, 3), [3, 4, 3], axis=0), [4, 4, 4], axis=1)  # 9 patches


@pytest.mark.parametrize("fill", ["mean", 0.2])
@pytest.mark.parametrize("output", [0, 1])
def test_exact_values_equal_enumeration_of_every_coalition(fill, output):
    image = _image()
    expl = tx.image.explain(_score, image, method="exact", segments=SEGMENTS, fill=fill, output=output)
    fill_image = naive_segment_mean_fill(image, SEGMENTS) if fill == "mean" else np.full(image.shape, fill)
    expected = naive_image_shapley(lambda b: _score(b)[:, output], image, SEGMENTS, fill_image)
    np.testing.assert_allclose(expl.values, expected, rtol=1e-10, atol=1e-12)
    assert expl.stderr is None and expl.output == output
    assert expl.base_value + expl.values.sum() == pytest.approx(expl.score, abs=1e-12)
    np.testing.assert_array_equal(expl.heatmap, expl.values[SEGMENTS])


def test_kernel_shap_with_every_coalition_is_exact_and_sampled_values_carry_errors():
    image = _image(1)
    exact = tx.image.explain(_score, image, method="exact", segments=SEGMENTS)
    full = tx.image.explain(_score, image, method="kernel-shap", segments=SEGMENTS, n_samples=2**9 - 2, random_state=0)
    np.testing.assert_allclose(full.values, exact.values, atol=1e-10)
    assert np.all(full.stderr < 1e-8)
    sampled = tx.image.explain(_score, image, method="kernel-shap", segments=SEGMENTS, n_samples=60, random_state=0)
    assert sampled.values.sum() == pytest.approx(exact.values.sum(), abs=1e-10)  # efficiency is exact
    assert np.all(sampled.stderr > 0)
    assert np.all(np.abs(sampled.values - exact.values) < 5 * sampled.stderr + 1e-6)


def test_permutation_values_are_efficient_and_close_to_exact():
    image = _image(2)
    exact = tx.image.explain(_score, image, method="exact", segments=SEGMENTS)
    expl = tx.image.explain(_score, image, method="permutation", segments=SEGMENTS, n_samples=40, random_state=0)
    assert expl.values.sum() == pytest.approx(exact.values.sum(), abs=1e-10)
    assert expl.stderr is not None and np.all(np.abs(expl.values - exact.values) < 5 * expl.stderr + 1e-6)


@pytest.mark.parametrize("method", ["kernel-shap", "permutation"])
def test_same_seed_same_values_whatever_max_rows_and_n_jobs(method):
    image = _image(3)
    kwargs = dict(method=method, segments=SEGMENTS, n_samples=100 if method == "kernel-shap" else 10, random_state=4)
    first = tx.image.explain(_score, image, **kwargs)
    for max_rows, n_jobs in [(3, 1), (50, 2), (None, -1)]:
        other = tx.image.explain(_score, image, max_rows=max_rows, n_jobs=n_jobs, **kwargs)
        np.testing.assert_allclose(other.values, first.values, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(other.stderr, first.stderr, rtol=1e-12, atol=1e-15)
    assert first.params["random_state"] == 4 and first.params["method"] == method


def test_the_masker_plugs_into_the_tabular_explainers_directly():
    image = _image(4)
    masker = tx.image.ImageMasker(image, SEGMENTS, fill=0.5)
    expl = tx.KernelSHAP(_score, masker, n_coalitions=2**9 - 2, output=0, random_state=0).explain(image[None])
    assert expl.values.shape == (1, 9) and expl.feature_names == tuple(range(9))
    reference = tx.image.explain(_score, image, method="exact", segments=SEGMENTS, fill=0.5, output=0)
    np.testing.assert_allclose(expl.values[0], reference.values, atol=1e-10)
    assert expl.base_values[0] == pytest.approx(reference.base_value)
    exact = tx.ExactShapley(_score, masker, output=1).explain(image[None])
    np.testing.assert_allclose(exact.values[0], tx.image.explain(_score, image, method="exact", segments=SEGMENTS,
                                                                 fill=0.5, output=1).values, atol=1e-12)


def test_lime_over_segments_recovers_an_additive_score_or_says_it_is_missing():
    """For a score additive over segments, LIME's regression on present/absent segments is exact."""
    image = _image(5)
    weights = np.random.default_rng(5).normal(size=(10, 12))

    def additive(batch):
        return (batch.mean(axis=3) * weights).sum(axis=(1, 2))

    if not hasattr(tx, "LimeTabular"):
        calls = []
        with pytest.raises(NotImplementedError, match="kernel-shap"):
            tx.image.explain(lambda b: calls.append(1) or additive(b), image, method="lime", segments=SEGMENTS)
        assert not calls
        return
    expl = tx.image.explain(additive, image, method="lime", segments=SEGMENTS, fill=0.3, n_samples=300,
                            random_state=0)
    exact = tx.image.explain(additive, image, method="exact", segments=SEGMENTS, fill=0.3)
    np.testing.assert_allclose(expl.values, exact.values, atol=1e-8)
    assert expl.params["method"] == "lime" and "r2" in expl.diagnostics


def test_logit_link_explains_log_odds_and_checks_probabilities():
    image = _image(6)

    def probabilities(batch):
        p = 1 / (1 + np.exp(-8 * (batch[:, :5].mean(axis=(1, 2, 3)) - 0.5)))
        return np.stack([p, 1 - p], axis=1)

    expl = tx.image.explain(probabilities, image, method="exact", segments=SEGMENTS, output=0, link="logit")
    p = probabilities(image[None])[0, 0]
    assert expl.score == pytest.approx(np.log(p / (1 - p)))
    assert expl.base_value + expl.values.sum() == pytest.approx(expl.score, abs=1e-10)
    assert expl.params["parameters"]["link"] == "logit"
    with pytest.raises(tx.ModelError, match="logit"):
        tx.image.explain(lambda b: 3 + b.mean(axis=(1, 2, 3)), image, method="occlusion", link="logit")
    with pytest.raises(ValueError, match="`link`"):
        tx.image.explain(probabilities, image, link="probit")

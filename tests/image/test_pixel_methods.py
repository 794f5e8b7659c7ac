"""Occlusion, RISE and the deletion/insertion curves: naive references, invariance, closed forms."""

import numpy as np
import pytest
from naive import naive_deletion_scores, naive_occlusion

import tabxai as tx
from tabxai.image.rise import rise_masks


def _image(seed=0, shape=(12, 10, 3)):
    return np.random.default_rng(seed).uniform(0, 1, shape)


def _score(batch):
    """A smooth non-linear score that depends on where the pixels are."""
    weights = np.linspace(-1, 2, batch.shape[1] * batch.shape[2]).reshape(batch.shape[1], batch.shape[2])
    linear = (batch.mean(axis=3) * weights).sum(axis=(1, 2)) / weights.size
    return np.stack([np.tanh(linear), np.tanh(-linear) + batch[..., 1].mean(axis=(1, 2))], axis=1)


@pytest.mark.parametrize("window,stride", [(3, 2), (4, 4), (5, 3)])
def test_occlusion_equals_a_loop_over_windows(window, stride):
    image = _image()
    expl = tx.image.explain(_score, image, method="occlusion", window=window, stride=stride, fill=0.3, output=0)
    expected = naive_occlusion(lambda b: _score(b)[:, 0], image, np.full(image.shape, 0.3), window, stride)
    np.testing.assert_allclose(expl.heatmap, expected, rtol=1e-12, atol=1e-14)
    segments = expl.segments
    for s in range(expl.n_segments):
        assert expl.values[s] == pytest.approx(expected[segments == s].mean(), abs=1e-14)
    assert expl.stderr is None and expl.params["parameters"]["window"] == (window, window)


def test_occlusion_is_the_same_whatever_max_rows():
    image = _image(1)
    maps = [tx.image.explain(_score, image, method="occlusion", max_rows=m).heatmap for m in (1, 5, None)]
    np.testing.assert_array_equal(maps[0], maps[1])
    np.testing.assert_array_equal(maps[0], maps[2])


def test_rise_masks_are_smooth_keep_about_p_and_do_not_depend_on_chunks():
    whole = rise_masks(7, 0, 300, 12, 10, 4, 0.3)
    assert whole.shape == (300, 120) and whole.min() >= 0 and whole.max() <= 1
    assert abs(whole.mean() - 0.3) < 0.05
    pieces = np.concatenate([rise_masks(7, a, b, 12, 10, 4, 0.3) for a, b in [(0, 5), (5, 64), (64, 200), (200, 300)]])
    np.testing.assert_array_equal(whole, pieces)
    assert not np.array_equal(whole, rise_masks(8, 0, 300, 12, 10, 4, 0.3))
    # a grid of ones or zeros upsamples to ones or zeros
    full = rise_masks(7, 0, 64, 12, 10, 4, 1.0)
    assert np.all(full == 1.0)


def test_rise_is_reproducible_whatever_max_rows_and_n_jobs():
    image = _image(2)
    kwargs = dict(method="rise", n_samples=300, random_state=5, output=0)
    first = tx.image.explain(_score, image, **kwargs)
    for max_rows, n_jobs in [(7, 1), (64, 2), (1000, None)]:
        other = tx.image.explain(_score, image, max_rows=max_rows, n_jobs=n_jobs, **kwargs)
        np.testing.assert_array_equal(other.heatmap, first.heatmap)
        np.testing.assert_array_equal(other.values, first.values)
        np.testing.assert_array_equal(other.stderr, first.stderr)
    assert not np.array_equal(tx.image.explain(_score, image, **{**kwargs, "random_state": 6}).heatmap, first.heatmap)


def test_rise_on_a_linear_score_is_the_mask_covariance_times_the_weights():
    """f_i = sum_u a_u M_i(u) (fill 0) gives S(v) = sum_u a_u sum_i (M_i(u) - mean M(u)) M_i(v) / (N p) exactly."""
    image = _image(3, shape=(8, 8))
    weights = np.zeros((8, 8))
    weights[1:4, 2:6] = 1.0
    weights[6, :] = -2.0

    def linear(batch):
        return (batch * weights).sum(axis=(1, 2))

    n, p = 3000, 0.5
    expl = tx.image.explain(linear, image, method="rise", fill=0.0, n_samples=n, grid_size=4, keep_prob=p,
                            random_state=0, max_rows=500)
    masks = rise_masks(0, 0, n, 8, 8, 4, p)
    a = (weights * image).ravel()
    expected = a @ ((masks - masks.mean(axis=0)).T @ masks) / (n * p)
    np.testing.assert_allclose(expl.heatmap.ravel(), expected, rtol=1e-9, atol=1e-12)
    assert np.corrcoef(expl.heatmap.ravel(), a)[0, 1] > 0.5  # the map follows the weights, smoothed by the masks
    # standard errors: the values sit within a few standard errors of a second, independent run
    other = tx.image.explain(linear, image, method="rise", fill=0.0, n_samples=n, grid_size=4, keep_prob=p,
                             random_state=1)
    z = (expl.values - other.values) / np.hypot(expl.stderr, other.stderr)
    assert np.abs(z).max() < 4.5


@pytest.mark.parametrize("kind", ["deletion", "insertion"])
def test_curves_equal_a_loop_over_steps(kind):
    image = _image(4)
    heat = np.random.default_rng(4).normal(size=(12, 10))
    heat[0, :4] = heat[0, 5]  # ties broken by position
    function = tx.image.deletion_auc if kind == "deletion" else tx.image.insertion_auc
    curve = function(_score, image, heat, output=1, fill=0.2, n_steps=7, max_rows=3, return_curve=True)
    score = lambda b: _score(b)[:, 1]
    if kind == "deletion":
        expected = naive_deletion_scores(score, image, heat, np.full(image.shape, 0.2), 7)
    else:  # inserting in map order into the canvas is deleting in map order from the canvas towards the image
        expected = naive_deletion_scores(score, np.full(image.shape, 0.2), heat, image, 7)
    np.testing.assert_allclose(curve.scores, expected, rtol=1e-12)
    np.testing.assert_allclose(curve.fractions, np.round(np.arange(8) * 120 / 7) / 120)
    trapezoid = float(np.sum((expected[1:] + expected[:-1]) * np.diff(curve.fractions)) / 2)
    assert curve.auc == pytest.approx(trapezoid, rel=1e-12)
    assert function(_score, image, heat, output=1, fill=0.2, n_steps=7) == pytest.approx(curve.auc, rel=1e-15)


def test_a_faithful_map_beats_its_reverse():
    image = _image(5)
    expl = tx.image.explain(_score, image, method="occlusion", fill=0.0, output=0, window=2, stride=1)
    good = tx.image.deletion_auc(_score, image, expl, output=0)
    bad = tx.image.deletion_auc(_score, image, -expl.heatmap, output=0)
    assert good < bad
    assert tx.image.insertion_auc(_score, image, expl, output=0, fill=0.0) > tx.image.insertion_auc(
        _score, image, -expl.heatmap, output=0, fill=0.0)

"""Gradient and CAM maps on NumPy models of the gradient protocol: closed forms, naive references, invariance."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_bilinear, naive_grad_cam, naive_integrated_gradients

import tabxai as tx
from tabxai.image.cam import resize_bilinear
from tabxai.image.gradients import INTEGRATIONS, integration_rule

SHAPE = (10, 12, 3)


class Linear:
    """Two outputs linear in the image: f_j = sum(W_j * x) + c_j."""

    layer_names = ("dense",)

    def __init__(self, weights, seed=0):
        self.weights = weights
        self.seed = seed

    def predict(self, images):
        return np.einsum("nhwc,jhwc->nj", images, self.weights) + np.array([0.5, -0.25])

    def gradient(self, images, output):
        return np.broadcast_to(self.weights[output], images.shape).copy()

    def randomized(self, n_layers, random_state=None):
        return Linear(np.random.default_rng(random_state).normal(size=self.weights.shape))


class Tanh(Linear):
    """f_j = tanh(sum(W_j * x)): the gradient varies along a path, completeness is not trivial."""

    def predict(self, images):
        return np.tanh(np.einsum("nhwc,jhwc->nj", images, self.weights) / 20)

    def gradient(self, images, output):
        score = self.predict(images)[:, output]
        return (1 - score ** 2)[:, None, None, None] * self.weights[output] / 20


class FixedCam(Linear):
    """A linear model that also reports given activations and gradients of a (5, 6, 4) layer."""

    def __init__(self, weights, activations, gradients):
        super().__init__(weights)
        self.activations, self.gradients = activations, gradients

    def activations_and_gradients(self, images, output):
        n = len(images)
        return np.repeat(self.activations[None], n, axis=0), np.repeat(self.gradients[None], n, axis=0)


def _weights(seed=0):
    return np.random.default_rng(seed).normal(size=(2,) + SHAPE)


def _image(seed=1):
    return np.random.default_rng(seed).uniform(0, 1, SHAPE)


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_integrated_gradients_of_a_linear_model_is_the_difference_times_the_weights(integration):
    weights, image = _weights(), _image()
    baseline = np.full(SHAPE, 0.2)
    expl = tx.image.explain(Linear(weights), image, method="integrated-gradients", baseline=baseline, output=1,
                            integration=integration, n_steps=8)
    np.testing.assert_allclose(expl.values, (image - baseline) * weights[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(expl.heatmap, expl.values.sum(axis=2), rtol=1e-12)
    assert expl.diagnostics["completeness_gap"] < 1e-10
    assert expl.base_value == pytest.approx(float((baseline * weights[1]).sum()) - 0.25)
    assert expl.values.shape == SHAPE and isinstance(expl, tx.image.ImageExplanation)


def test_gradient_x_input_and_saliency_of_a_linear_model():
    weights, image = _weights(), _image()
    times_input = tx.image.explain(Linear(weights), image, method="gradient-x-input", output=0)
    np.testing.assert_allclose(times_input.values, image * weights[0], rtol=1e-12)
    saliency = tx.image.explain(Linear(weights), image, method="saliency", output=0)
    np.testing.assert_allclose(saliency.values, np.abs(weights[0]), rtol=1e-12)
    np.testing.assert_allclose(saliency.heatmap, np.abs(weights[0]).max(axis=2), rtol=1e-12)
    assert saliency.score == pytest.approx(float((image * weights[0]).sum()) + 0.5)


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_integrated_gradients_equal_a_loop_over_the_path(integration):
    model, image = Tanh(_weights(2)), _image(3)
    baseline = np.linspace(0, 0.5, 3)  # one value per channel
    expl = tx.image.explain(model, image, method="integrated-gradients", baseline=baseline, output=0, n_steps=7,
                            integration=integration, max_rows=3)
    alphas, weights = integration_rule(integration, 7)
    expected = naive_integrated_gradients(lambda b: model.gradient(b, 0), image, np.broadcast_to(baseline, SHAPE),
                                          alphas, weights)
    np.testing.assert_allclose(expl.values, expected, rtol=1e-10, atol=1e-14)


def test_quadrature_rules():
    for integration in INTEGRATIONS:
        alphas, weights = integration_rule(integration, 16)
        assert weights.sum() == pytest.approx(1.0) and alphas.min() >= 0 and alphas.max() <= 1
    alphas, weights = integration_rule("gauss-legendre", 5)  # exact for polynomials of degree 9
    assert float(weights @ alphas ** 9) == pytest.approx(0.1, rel=1e-12)
    assert integration_rule("riemann-right", 4)[0].tolist() == [0.25, 0.5, 0.75, 1.0]
    assert integration_rule("riemann-trapezoid", 3)[1].tolist() == [0.25, 0.5, 0.25]


def test_gauss_legendre_closes_the_completeness_gap_better_than_riemann_sums():
    model, image = Tanh(_weights(4) * 3), _image(5)
    gaps = {integration: tx.image.explain(model, image, method="integrated-gradients", integration=integration,
                                          n_steps=16, output=0).diagnostics["relative_completeness_gap"]
            for integration in INTEGRATIONS}
    assert gaps["gauss-legendre"] < 1e-6
    assert gaps["gauss-legendre"] < gaps["riemann-midpoint"] < gaps["riemann-right"]


def test_results_do_not_depend_on_max_rows_and_smoothgrad_on_its_seed_only():
    model, image = Tanh(_weights(6)), _image(7)
    for kwargs in [dict(method="integrated-gradients", n_steps=9),
                   dict(method="smoothgrad", n_samples=7, random_state=3),
                   dict(method="smoothgrad", n_samples=5, random_state=3, smoothed="integrated-gradients", n_steps=4),
                   dict(method="smoothgrad", n_samples=5, random_state=3, smoothed="gradient-x-input")]:
        maps = [tx.image.explain(model, image, output=1, max_rows=m, **kwargs) for m in (1, 4, None)]
        for other in maps[1:]:
            np.testing.assert_allclose(other.values, maps[0].values, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(other.heatmap, maps[0].heatmap, rtol=1e-12, atol=1e-15)
    first = tx.image.explain(model, image, method="smoothgrad", n_samples=4, random_state=1)
    again = tx.image.explain(model, image, method="smoothgrad", n_samples=4, random_state=1)
    other = tx.image.explain(model, image, method="smoothgrad", n_samples=4, random_state=2)
    np.testing.assert_array_equal(first.values, again.values)
    assert not np.array_equal(first.values, other.values)


def test_smoothgrad_is_the_mean_of_the_map_over_noisy_copies():
    weights, image = _weights(8), _image(9)
    model = Linear(weights)
    saliency = tx.image.explain(model, image, method="smoothgrad", n_samples=6, noise=0.2, random_state=0, output=0)
    np.testing.assert_allclose(saliency.values, np.abs(weights[0]), rtol=1e-12)  # a constant gradient
    # the noise of copy s comes from child s of SeedSequence(seed): rebuild the copies by hand
    children = np.random.SeedSequence(0).spawn(6)
    copies = [image + 0.2 * np.random.default_rng(c).standard_normal(image.size).reshape(SHAPE) for c in children]
    times_input = tx.image.explain(model, image, method="smoothgrad", smoothed="gradient-x-input", n_samples=6,
                                   noise=0.2, random_state=0, output=0)
    np.testing.assert_allclose(times_input.values, np.mean([c * weights[0] for c in copies], axis=0), rtol=1e-10)
    integrated = tx.image.explain(model, image, method="smoothgrad", smoothed="integrated-gradients", n_samples=6,
                                  noise=0.2, random_state=0, output=0, baseline=0.1, n_steps=3)
    np.testing.assert_allclose(integrated.values, np.mean([(c - 0.1) * weights[0] for c in copies], axis=0),
                               rtol=1e-10)
    np.testing.assert_allclose(integrated.heatmap, integrated.values.sum(axis=2), rtol=1e-10)
    assert integrated.params["gradient_rows"] == 18


@pytest.mark.parametrize("plus", [False, True])
def test_grad_cam_equals_a_loop_over_channels(plus):
    rng = np.random.default_rng(10)
    activations, gradients = rng.uniform(0, 2, (5, 6, 4)), rng.normal(size=(5, 6, 4))
    model = FixedCam(_weights(), activations, gradients)
    expl = tx.image.explain(model, _image(), method="grad-cam++" if plus else "grad-cam", output=0)
    expected = naive_grad_cam(activations, gradients, SHAPE[0], SHAPE[1], plus=plus)
    np.testing.assert_allclose(expl.heatmap, expected, rtol=1e-12, atol=1e-14)
    assert expl.values.shape == SHAPE[:2] and expl.diagnostics["cam_resolution"] == (5, 6)
    assert expl.heatmap.min() >= 0


def test_bilinear_resize_equals_the_pixel_loop_up_and_down():
    small = np.random.default_rng(11).normal(size=(5, 7))
    for height, width in [(10, 12), (24, 24), (3, 4), (5, 7)]:
        np.testing.assert_allclose(resize_bilinear(small[None], height, width)[0], naive_bilinear(small, height, width),
                                   rtol=1e-12, atol=1e-14)


def test_channel_first_models_get_channel_first_images_and_the_same_values():
    weights, image = _weights(12), _image(13)

    class ChannelFirst(Linear):
        def predict(self, images):
            assert images.shape[1] == 3
            return super().predict(np.moveaxis(images, 1, -1))

        def gradient(self, images, output):
            return np.moveaxis(super().gradient(np.moveaxis(images, 1, -1), output), -1, 1)

    last = tx.image.explain(Linear(weights), image, method="integrated-gradients", output=0)
    first = tx.image.explain(ChannelFirst(weights), np.moveaxis(image, -1, 0), layout="NCHW",
                             method="integrated-gradients", output=0)
    np.testing.assert_allclose(first.values, last.values, rtol=1e-12)  # values are (H, W, C) in both layouts


def test_a_gradient_model_works_with_every_model_agnostic_method():
    weights, image = _weights(14), _image(15)
    gm = tx.image.GradientImageModel(Linear(weights))
    direct = tx.image.explain(Linear(weights).predict, image, method="occlusion", output=1)
    through = tx.image.explain(gm, image, method="occlusion", output=1)
    np.testing.assert_array_equal(through.heatmap, direct.heatmap)
    shapley = tx.image.explain(gm, image, method="exact", segments=tx.image.segment(image, "grid", grid=(2, 2)),
                               output=1, fill=0.0)
    assert shapley.values.sum() == pytest.approx(shapley.score - shapley.base_value)


def test_pixel_explanations_plot_and_rank_segments():
    weights, image = _weights(16), _image(17)
    expl = tx.image.explain(Linear(weights), image, method="gradient-x-input", output=0,
                            segments=tx.image.segment(image, "grid", grid=(2, 3)))
    assert expl.n_segments == 6
    means = [expl.heatmap[expl.segments == s].mean() for s in range(6)]
    np.testing.assert_allclose(expl.segment_values, means, rtol=1e-12)
    assert expl.top_segments(2).tolist() == list(np.argsort(means)[::-1][:2])
    ax = expl.plot(top_k=1)
    assert len(ax.get_images()) == 2
    plt.close(ax.figure)
    assert "<img" in expl._repr_html_()


def test_bad_input_says_what_was_expected():
    image = _image()
    with pytest.raises(TypeError, match="gradient-capable model"):
        tx.image.explain(lambda b: b.mean(axis=(1, 2, 3)), image, method="saliency")
    with pytest.raises(TypeError, match="activations_and_gradients"):
        tx.image.explain(Linear(_weights()), image, method="grad-cam")
    with pytest.raises(ValueError, match="`noise` is smoothgrad's"):
        tx.image.explain(Linear(_weights()), image, method="saliency", noise=0.1)
    with pytest.raises(ValueError, match="`n_steps` is integrated gradients'"):
        tx.image.explain(Linear(_weights()), image, method="smoothgrad", n_steps=3)
    with pytest.raises(ValueError, match="gradient methods"):
        tx.image.explain(Linear(_weights()).predict, image, method="occlusion", baseline=0.0)
    with pytest.raises(ValueError, match="integration"):
        tx.image.explain(Linear(_weights()), image, method="integrated-gradients", integration="simpson")
    with pytest.raises(ValueError, match="baseline"):
        tx.image.explain(Linear(_weights()), image, method="integrated-gradients", baseline="mean-ish")
    with pytest.raises(ValueError, match="link"):
        tx.image.explain(Linear(_weights()), image, method="saliency", link="logit")

    class WrongShape(Linear):
        def gradient(self, images, output):
            return np.zeros(images.shape[:3])

    with pytest.raises(ValueError, match="images' shape"):
        tx.image.explain(WrongShape(_weights()), image, method="saliency")


class Quadratic(Linear):
    """f = sum(a * x + b * x**2): its gradient is linear on a path, so Gauss-Legendre integrates it exactly."""

    def predict(self, images):
        return np.einsum("nhwc,hwc->n", images, self.weights[0])[:, None] + np.einsum(
            "nhwc,hwc->n", images ** 2, self.weights[1])[:, None]

    def gradient(self, images, output):
        return self.weights[0] + 2 * self.weights[1] * images


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), n_steps=st.integers(1, 6), baseline=st.floats(-1, 1))
def test_integrated_gradients_are_complete_and_exact_on_quadratic_models(seed, n_steps, baseline):
    rng = np.random.default_rng(seed)
    model, image = Quadratic(rng.normal(size=(2, 4, 5, 2))), rng.uniform(-1, 1, (4, 5, 2))
    expl = tx.image.explain(model, image, method="integrated-gradients", baseline=baseline, n_steps=n_steps,
                            value_range=(-1, 1))
    a, b = model.weights
    np.testing.assert_allclose(expl.values, (image - baseline) * (a + b * (image + baseline)), rtol=1e-9, atol=1e-12)
    assert expl.diagnostics["completeness_gap"] <= 1e-9 * (1 + abs(expl.score - expl.base_value))


def test_baselines_a_blur_an_image_and_one_value_per_channel():
    from scipy.ndimage import gaussian_filter

    weights, image = _weights(18), _image(19)
    model = Linear(weights)
    blurred = gaussian_filter(image, sigma=(2.0, 2.0, 0), mode="nearest")
    by_name = tx.image.explain(model, image, method="integrated-gradients", baseline="blur", blur_sigma=2.0, output=0)
    by_image = tx.image.explain(model, image, method="integrated-gradients", baseline=blurred, output=0)
    np.testing.assert_allclose(by_name.values, (image - blurred) * weights[0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(by_image.values, by_name.values, rtol=1e-12, atol=1e-14)
    per_channel = tx.image.explain(model, image, method="integrated-gradients", baseline=[0.1, 0.2, 0.3], output=0)
    np.testing.assert_allclose(per_channel.values, (image - np.array([0.1, 0.2, 0.3])) * weights[0], rtol=1e-12)
    assert by_name.params["parameters"]["baseline"] == "blur"
    assert by_image.params["parameters"]["baseline"] == f"array of shape {SHAPE}"

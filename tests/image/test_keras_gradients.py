"""Keras 3 (JAX backend) gradient models: closed forms, Grad-CAM against JAX's autodiff, a trained CNN."""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage

import tabxai as tx

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "jax":
    pytest.skip("tabxai.image.keras_model takes gradients with JAX", allow_module_level=True)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

PATCH = 6


def test_importing_tabxai_imports_neither_keras_nor_jax():
    code = "import sys, tabxai, tabxai.image; print('keras' in sys.modules or 'jax' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert result.stdout.strip() == "False"


@pytest.fixture(scope="module")
def linear_net():
    """A Keras model linear in its input: scores = flatten(x) @ W + c."""
    net = keras.Sequential([keras.Input((6, 5, 3)), keras.layers.Flatten(), keras.layers.Dense(2)])
    rng = np.random.default_rng(0)
    net.layers[-1].set_weights([rng.normal(size=(90, 2)).astype("float32"), np.array([0.3, -0.1], "float32")])
    return net


def test_integrated_gradients_and_gradient_x_input_of_a_linear_keras_model(linear_net):
    gm = tx.image.keras_model(linear_net)
    assert gm.layer is None and gm.layer_names == (linear_net.layers[-1].name,)
    weights = linear_net.layers[-1].get_weights()[0][:, 1].reshape(6, 5, 3).astype(np.float64)
    image = np.random.default_rng(1).uniform(0, 1, (6, 5, 3))
    baseline = np.random.default_rng(2).uniform(0, 1, (6, 5, 3))
    integrated = tx.image.explain(gm, image, method="integrated-gradients", baseline=baseline, output=1)
    np.testing.assert_allclose(integrated.values, (image - baseline) * weights, rtol=1e-5, atol=1e-6)
    times_input = tx.image.explain(gm, image, method="gradient-x-input", output=1)
    zero_baseline = tx.image.explain(gm, image, method="integrated-gradients", output=1)
    np.testing.assert_allclose(times_input.values, image * weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(zero_baseline.values, times_input.values, rtol=1e-5, atol=1e-6)
    assert integrated.score == pytest.approx(float((image * weights).sum()) - 0.1, rel=1e-5)
    with pytest.raises(TypeError, match="convolution layer"):
        tx.image.explain(gm, image, method="grad-cam")


def test_keras_model_checks_its_arguments(linear_net):
    with pytest.raises(TypeError, match="keras.Model"):
        tx.image.keras_model(lambda x: x)
    with pytest.raises(ValueError, match="must name a layer"):
        tx.image.keras_model(linear_net, layer="nope")
    with pytest.raises(ValueError, match="4-D activations"):
        tx.image.keras_model(linear_net, layer=linear_net.layers[-1].name)
    inputs = keras.Input((8, 8, 1))
    first = keras.layers.Conv2D(2, 3, padding="same", name="inner")(inputs)
    added = keras.layers.Add()([first, keras.layers.Conv2D(2, 1, name="skip")(inputs)])
    residual = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(added)))
    with pytest.raises(ValueError, match="does not separate"):
        tx.image.keras_model(residual, layer="inner")
    assert tx.image.keras_model(residual, layer=residual.layers[-3]).layer == residual.layers[-3].name


def _direct_grad_cam(net, image, output):
    """Grad-CAM of the fixture's Sequential CNN by hand: its layers called on JAX arrays, jax.grad, jax.image.resize."""
    conv1, conv2, pool, dense = net.layers
    activations = conv2(conv1(jnp.asarray(image[None], jnp.float32)))
    gradients = jax.grad(lambda a: dense(pool(a))[0, output])(activations)
    cam = jax.nn.relu(jnp.einsum("nhwk,nk->nhw", activations, gradients.mean(axis=(1, 2))))[0]
    return np.asarray(jax.image.resize(cam, image.shape[:2], method="linear"), dtype=np.float64)


@pytest.mark.slow  # the session's CNN
def test_grad_cam_equals_a_direct_computation_with_jax(cnn, patch_images):
    gm = tx.image.keras_model(cnn.net)
    assert gm.layer == cnn.net.layers[1].name  # the last convolution
    images, labels, _ = patch_images(3, seed=21)
    for image, label in zip(images, labels):
        for output in (0, 1):
            expl = tx.image.explain(gm, image, method="grad-cam", output=output)
            expected = _direct_grad_cam(cnn.net, image, output)
            np.testing.assert_allclose(expl.heatmap, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
        cnn(images)  # predict_on_batch donates the weight buffers: the gradient model reads them afresh
        expl = tx.image.explain(gm, image, method="grad-cam", output=1)
        np.testing.assert_allclose(expl.heatmap, _direct_grad_cam(cnn.net, image, 1), rtol=1e-4,
                                   atol=1e-5 * np.abs(expl.heatmap).max())
        assert expl.output == label and expl.score == pytest.approx(float(cnn(image[None])[0, label]), rel=1e-5)


@pytest.mark.slow
def test_completeness_gap_on_the_cnn_is_below_one_percent_at_64_steps(cnn, patch_images):
    gm = tx.image.keras_model(cnn.net)
    images, _, _ = patch_images(5, seed=22)
    for image in images:
        expl = tx.image.explain(gm, image, method="integrated-gradients", n_steps=64)
        difference = expl.score - expl.base_value
        assert expl.diagnostics["completeness_gap"] < 0.01 * abs(difference)
        assert expl.values.sum() == pytest.approx(difference, rel=0.01)


def _on_patch(heatmap, corner):
    y, x = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return corner[0] <= y < corner[0] + PATCH and corner[1] <= x < corner[1] + PATCH


@pytest.mark.slow
@pytest.mark.parametrize("method", ["grad-cam", "integrated-gradients", "smoothgrad"])
def test_pointing_game_on_images_with_a_known_patch(cnn, patch_images, method):
    gm = tx.image.keras_model(cnn.net)
    images, labels, corners = patch_images(20, seed=11)
    hits = 0
    for image, label, corner in zip(images, labels, corners):
        expl = tx.image.explain(gm, image, method=method, random_state=0)
        assert expl.output == label
        hits += _on_patch(expl.heatmap, corner)
    assert hits >= 19, f"{method}: the largest pixel is on the patch in {hits} of 20 images"


def _edges(model, image, output):
    grey = image.mean(axis=2)
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))


@pytest.mark.slow
def test_sanity_check_passes_for_grad_cam_fails_for_an_edge_detector_and_leaves_the_net_alone(cnn, patch_images):
    gm = tx.image.keras_model(cnn.net)
    weights = [w.copy() for w in cnn.net.get_weights()]
    image = patch_images(1, seed=23)[0][0]
    check = tx.image.sanity_check(gm, image, method="grad-cam", random_state=0)
    assert check.passed and check.layers == tuple(reversed(gm.layer_names))
    assert np.isfinite(check.correlations).all()
    edges = tx.image.sanity_check(gm, image, method=_edges, random_state=0)
    assert not edges.passed and np.allclose(edges.correlations, 1.0)
    for before, after in zip(weights, cnn.net.get_weights()):
        np.testing.assert_array_equal(before, after)
    # cascading: the top layer's random weights are the same at every step
    once, twice = gm.randomized(1, 0), gm.randomized(2, 0)
    batch = patch_images(4, seed=24)[0]
    np.testing.assert_allclose(once(batch), tx.image.keras_model(cnn.net).randomized(1, 0)(batch), rtol=1e-6)
    assert not np.allclose(once(batch), twice(batch))
    np.testing.assert_allclose(gm(batch), cnn(batch), rtol=1e-5, atol=1e-6)

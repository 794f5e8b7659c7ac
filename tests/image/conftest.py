"""Image fixtures: images with a known cause, and a real Keras 3 CNN (JAX backend) trained on them."""

import os

import numpy as np
import pytest

PATCH_SIZE = 6
IMAGE_SIZE = 24
RED, BLUE = (0.95, 0.05, 0.05), (0.05, 0.05, 0.95)


def make_patch_images(n, seed=0, size=IMAGE_SIZE, patch=PATCH_SIZE):
    """Noisy grey images with one coloured patch at a random position: red is class 0, blue class 1.

    Returns images (n, size, size, 3) in [0, 1], labels and the patch's top-left corners.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.25, 0.75, (n, size, size, 3))
    labels = rng.integers(0, 2, n)
    corners = rng.integers(0, size - patch + 1, (n, 2))
    for i, (y, x) in enumerate(corners):
        images[i, y:y + patch, x:x + patch] = RED if labels[i] == 0 else BLUE
    return images, labels, corners


@pytest.fixture(scope="session")
def patch_images():
    """``patch_images(n, seed)``: images, labels and patch corners (patches of ``PATCH_SIZE`` pixels)."""
    return make_patch_images


@pytest.fixture(scope="session")
def cnn():
    """A two-layer Keras CNN trained on patch images (about 2 s on one CPU); a NumPy callable on (n, 24, 24, 3)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("the CNN fixture uses Keras on the JAX backend")
    images, labels, _ = make_patch_images(800, seed=0)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    net.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    net.fit(images.astype(np.float32), labels, epochs=4, batch_size=32, verbose=0)
    test_images, test_labels, _ = make_patch_images(200, seed=1)
    accuracy = float((net.predict_on_batch(test_images).argmax(axis=1) == test_labels).mean())
    assert accuracy > 0.95, accuracy

    def predict(batch):
        return np.asarray(net.predict_on_batch(batch))

    predict.net = net
    return predict

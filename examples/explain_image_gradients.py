"""Gradient and CAM maps of a small CNN beside a model-agnostic one, on one yardstick, with sanity checks.

A Keras 3 CNN (JAX backend; convolution, max pooling, convolution, global average pooling) is trained
here in a few seconds on 32 x 32 noisy grey images that hold one 8 x 8 coloured patch: red for
class 0, blue for class 1. The patch is the evidence, so a faithful map should point at it.
tabxai explains test images with Grad-CAM, Grad-CAM++, saliency, gradient x input, integrated
gradients, SmoothGrad and occlusion, scores every map with deletion and insertion curves and the
pointing game (``tx.image.compare``), and runs the model-randomisation sanity check on each
method and on an edge detector, which ignores the model and fails.

Run:  pip install "tabxai[gradients]" && python examples/explain_image_gradients.py [out.png]
"""

import os
import sys
import time

import numpy as np
from scipy import ndimage

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402

import tabxai as tx  # noqa: E402

SIZE, PATCH = 32, 8
METHODS = ["grad-cam", "grad-cam++", "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad",
           "occlusion"]


def patch_images(n, seed):
    """Images (n, 32, 32, 3) in [0, 1], their classes, and the patch of each as (top, left, bottom, right)."""
    rng = np.random.default_rng(seed)
    grey = rng.uniform(0.25, 0.75, (n, SIZE, SIZE, 1))
    images = np.concatenate([grey, grey, grey], axis=3)
    classes = rng.integers(0, 2, n)
    tops, lefts = rng.integers(0, SIZE - PATCH + 1, (2, n))
    colours = {0: (0.9, 0.1, 0.1), 1: (0.1, 0.1, 0.9)}
    for image, label, top, left in zip(images, classes, tops, lefts):
        image[top:top + PATCH, left:left + PATCH] = colours[label]
    return images, classes, np.stack([tops, lefts, tops + PATCH, lefts + PATCH], axis=1)


def edge_detector(model, image, output):
    """A 'map' that looks only at the image: it should fail the sanity check."""
    grey = image.mean(axis=2)
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))


def main(out="explain_image_gradients.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, train_classes, _ = patch_images(1000, seed=0)
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((SIZE, SIZE, 3)),
                            keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                            keras.layers.Conv2D(16, 3, activation="relu", name="last_conv"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    net.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    net.fit(train.astype(np.float32), train_classes, epochs=6, batch_size=32, verbose=0)
    gm = tx.image.keras_model(net)  # the last convolution is the CAM layer
    images, classes, boxes = patch_images(12, seed=1)
    accuracy = (gm(images).argmax(axis=1) == classes).mean()
    print(f"trained in {time.perf_counter() - start:.1f} s; accuracy on the test images {accuracy:.2f}")

    result = tx.image.compare(gm, images, methods=METHODS, boxes=boxes, deletion_fill=0.0, insertion_fill=0.0,
                              options={"occlusion": {"window": 4, "stride": 2, "fill": 0.0}}, random_state=0)
    print(result.table.round(4).to_string())
    for method in METHODS + [edge_detector]:
        options = {"window": 4, "stride": 2, "fill": 0.0} if method == "occlusion" else {}
        check = tx.image.sanity_check(gm, images[0], method=method, random_state=0, **options)
        print(f"sanity check of {check.method:21s} passed: {str(check.passed):5s} rank correlations, top layer "
              f"down: {np.round(check.correlations, 2)}")
    axes = result.plot(n_images=3)
    for ax, method in zip(axes[-1], METHODS):
        ax.set_xlabel(f"deletion {result.table.loc[method, 'deletion_auc']:.2f}\n"
                      f"insertion {result.table.loc[method, 'insertion_auc']:.2f}", fontsize=8)
    figure = axes[0][0].figure
    figure.tight_layout()
    figure.savefig(out, dpi=80)
    plt.close(figure)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Gradient and CAM maps on a Keras CNN: time against the floor, one faithfulness yardstick, sanity checks.

The CNN (Keras 3 on JAX: convolution, max pooling, convolution, global average pooling, softmax) is
trained here in a few seconds on 32 x 32 noisy grey images holding one 8 x 8 coloured patch, red for
class 0 and blue for class 1, at a random place: the patch is the known evidence of the pointing game.

Floors are hand-written JAX code (no captum, which is PyTorch only): one jitted ``jax.grad`` of the
net's ``stateless_call`` on a batch of the points a method needs (64 path points for integrated
gradients, 50 noisy copies for SmoothGrad, the image for saliency and gradient x input), and a
jitted Grad-CAM (the net's layers called on the image, ``jax.grad`` with respect to the last
convolution's activations) for the CAM methods; occlusion and RISE against the net's prediction of
as many images in one batch. Each method runs right after its floor, 7 times, and the ratio is the
median of the per-run ratios. The hand-written integrated gradients and Grad-CAM are also the
references tabxai's maps are checked against.
"""

from __future__ import annotations

import os
import time

import numpy as np

import tabxai as tx

from ._common import load_note, markdown_table

TITLE = "Gradient and CAM maps: a Keras CNN, time against hand-written JAX, faithfulness, sanity"

_SIZE, _PATCH = 32, 8


def _patch_images(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.25, 0.75, (n, _SIZE, _SIZE, 1)).repeat(3, axis=3)
    labels = rng.integers(0, 2, n)
    corners = rng.integers(0, _SIZE - _PATCH + 1, (n, 2))
    for image, label, (top, left) in zip(images, labels, corners):
        image[top:top + _PATCH, left:left + _PATCH] = (0.9, 0.1, 0.1) if label == 0 else (0.1, 0.1, 0.9)
    return images, labels, np.c_[corners, corners + _PATCH]


def _train():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    images, labels, _ = _patch_images(1000, seed=0)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input((_SIZE, _SIZE, 3)),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax"),
    ])
    net.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    net.fit(images.astype(np.float32), labels, epochs=6, batch_size=32, verbose=0)
    return net


class _Hand:
    """Hand-written JAX: batched input gradients, integrated gradients and Grad-CAM of the net."""

    def __init__(self, net):
        import jax
        import jax.numpy as jnp

        self.net = net
        conv1, pool1, conv2, pool2, dense = net.layers

        def gradients(trainable, non_trainable, batch, output):
            def score(x):
                return net.stateless_call(trainable, non_trainable, x, training=False)[0][:, output].sum()
            return jax.grad(score)(batch)

        def grad_cam(batch, output):
            activations = conv2(pool1(conv1(batch)))
            grads = jax.grad(lambda a: dense(pool2(a))[:, output].sum())(activations)
            cam = jax.nn.relu(jnp.einsum("nhwk,nk->nhw", activations, grads.mean(axis=(1, 2))))
            return jax.image.resize(cam, (cam.shape[0], _SIZE, _SIZE), method="linear")

        self._gradients = jax.jit(gradients, static_argnums=3)
        self._grad_cam = jax.jit(grad_cam, static_argnums=1)

    def gradients(self, batch, output):
        weights = [v.value for v in self.net.trainable_variables], [v.value for v in self.net.non_trainable_variables]
        return np.asarray(self._gradients(*weights, np.asarray(batch, np.float32), output))

    def grad_cam(self, image, output):
        return np.asarray(self._grad_cam(np.asarray(image[None], np.float32), output))[0].astype(np.float64)

    def integrated_gradients(self, image, output, n_steps=64):
        alphas, weights = np.polynomial.legendre.leggauss(n_steps)
        points = (alphas[:, None, None, None] + 1) / 2 * image[None]  # black baseline
        return image * np.tensordot(weights / 2, self.gradients(points, output), axes=1)


def _median_ratio(job, floor, repeats):
    """Median wall time of ``job`` and median ratio to ``floor``; cheap jobs are timed over loops of >= 20 ms."""
    start = time.perf_counter()
    floor()
    loops = max(1, int(0.02 / max(time.perf_counter() - start, 1e-6)))
    ratios, walls = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            floor()
        floor_time = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(loops):
            job()
        walls.append((time.perf_counter() - start) / loops)
        ratios.append(walls[-1] * loops / floor_time)
    return float(np.median(walls)), float(np.median(ratios))


def _timing(gm, hand, predict, image, label, repeats):
    batches = {n: np.repeat(image[None], n, axis=0) for n in (1, 50, 64)}
    jobs = {
        "grad-cam": (dict(method="grad-cam"), lambda: hand.grad_cam(image, label), "hand Grad-CAM, 1 image"),
        "grad-cam++": (dict(method="grad-cam++"), lambda: hand.grad_cam(image, label), "hand Grad-CAM, 1 image"),
        "saliency": (dict(method="saliency"), lambda: hand.gradients(batches[1], label), "1 gradient"),
        "gradient-x-input": (dict(method="gradient-x-input"), lambda: hand.gradients(batches[1], label),
                             "1 gradient"),
        "integrated-gradients (64 steps)": (dict(method="integrated-gradients", n_steps=64),
                                            lambda: hand.gradients(batches[64], label), "64 gradients in one batch"),
        "smoothgrad (50 copies)": (dict(method="smoothgrad", n_samples=50, random_state=0),
                                   lambda: hand.gradients(batches[50], label), "50 gradients in one batch"),
        "occlusion (window 4, stride 2)": (dict(method="occlusion", window=4, stride=2, fill=0.0),
                                          lambda: predict(np.resize(batches[64], (226,) + image.shape)),
                                          "226 images predicted in one batch"),
    }
    rows = []
    for name, (options, floor, floor_name) in jobs.items():
        def job(options=options):
            return tx.image.explain(gm, image, output=label, **options)

        job(), floor()  # compile every shape first
        wall, ratio = _median_ratio(job, floor, repeats)
        rows.append([name, floor_name, wall * 1000, ratio])
    return rows


def edge_detector(model, image, output):
    from scipy import ndimage

    grey = image.mean(axis=2)
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))


def random_map(model, image, output):
    return np.random.default_rng(int(image.sum() * 1e6) % 2**32).normal(size=image.shape[:2])


def run(quick=False):
    start_load = os.getloadavg()[0]
    net = _train()
    import jax
    import keras

    gm = tx.image.keras_model(net)
    hand = _Hand(net)
    images, labels, boxes = _patch_images(6 if quick else 20, seed=1)
    accuracy = float((gm(images).argmax(axis=1) == labels).mean())
    repeats = 2 if quick else 15
    lines = [f"Keras {keras.__version__} on JAX {jax.__version__}; the CNN's accuracy on the {len(images)} test "
             f"images: {accuracy:.2f}. Image {_SIZE} x {_SIZE} x 3, Grad-CAM layer `{gm.layer}` (15 x 15 -> "
             f"13 x 13 after pooling and the second convolution).", ""]

    lines.append("**Time against the floor** (one image, median of the per-run ratios over "
                 f"{repeats} interleaved runs; a run of a cheap method is a loop of at least 20 ms):")
    lines.append("")
    rows = _timing(gm, hand, gm, images[0], int(labels[0]), repeats)
    lines.append(markdown_table(["method", "floor (hand-written JAX)", "tabxai wall time (ms)", "time / floor"], rows))
    lines.append("")

    hand_ig = [hand.integrated_gradients(image, int(label)) for image, label in zip(images, labels)]
    ours_ig = [tx.image.explain(gm, image, method="integrated-gradients", output=int(label)).values
               for image, label in zip(images, labels)]
    hand_cam = [hand.grad_cam(image, int(label)) for image, label in zip(images, labels)]
    ours_cam = [tx.image.explain(gm, image, method="grad-cam", output=int(label)).heatmap
                for image, label in zip(images, labels)]

    def worst(ours, theirs):
        return max(float(np.abs(a - b).max() / (np.abs(b).max() or 1.0)) for a, b in zip(ours, theirs))

    lines.append(f"Agreement with the hand-written references, largest difference over the images relative to "
                 f"the map's largest magnitude: integrated gradients {worst(ours_ig, hand_ig):.1e}, Grad-CAM "
                 f"{worst(ours_cam, hand_cam):.1e} (float32 nets).")
    lines.append("")

    gaps = []
    for integration in ("gauss-legendre", "riemann-midpoint", "riemann-trapezoid", "riemann-right", "riemann-left"):
        relative = [tx.image.explain(gm, image, method="integrated-gradients", integration=integration, n_steps=64,
                                     output=int(label)).diagnostics["relative_completeness_gap"]
                    for image, label in zip(images, labels)]
        gaps.append([integration, float(np.mean(relative)), float(np.max(relative))])
    lines.append("**Completeness of integrated gradients** at 64 steps from a black baseline: "
                 "`|sum(values) - (f(x) - f(0))| / |f(x) - f(0)|` over the images:")
    lines.append("")
    lines.append(markdown_table(["integration", "mean relative gap", "largest"], gaps))
    lines.append("")

    def hand_grad_cam(model, image, output):
        return hand.grad_cam(image, int(np.argmax(gm(image[None])[0])))

    def hand_integrated_gradients(model, image, output):
        return hand.integrated_gradients(image, int(np.argmax(gm(image[None])[0]))).sum(axis=2)

    methods = ["grad-cam", "grad-cam++", "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad",
               "occlusion", "rise", "kernel-shap", hand_grad_cam, hand_integrated_gradients, edge_detector, random_map]
    options = {"occlusion": {"window": 4, "stride": 2, "fill": 0.0}, "rise": {"n_samples": 1000, "fill": 0.0},
               "kernel-shap": {"n_samples": 1000, "fill": 0.0}}
    comparison = tx.image.compare(gm, images, methods=methods, boxes=boxes, options=options, random_state=0,
                                  deletion_fill=0.0, insertion_fill=0.0, max_rows=256)
    lines.append(f"**One yardstick** over {len(images)} images (explained class = the net's top class): deletion "
                 "(pixels turned black, lower is better), insertion (pixels added to a black canvas, higher is "
                 "better), pointing game (largest pixel on the 8 x 8 patch), seconds per image; the hand-written "
                 "references, an edge detector and a random map for scale:")
    lines.append("")
    table = comparison.table
    lines.append(markdown_table(
        ["method", "deletion AUC", "insertion AUC", "pointing game", "ms per image"],
        [[name, float(row.deletion_auc), float(row.insertion_auc), f"{int(row.pointing_hits)} / {len(images)}",
          float(row.seconds_per_image) * 1000] for name, row in table.iterrows()]))
    lines.append("")

    sanity = []
    for method in ("grad-cam", "grad-cam++", "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad",
                   "occlusion", edge_detector):
        options = {"window": 4, "stride": 2, "fill": 0.0} if method == "occlusion" else {}
        check = tx.image.sanity_check(gm, images[0], method=method, random_state=0, **options)
        sanity.append([check.method] + [float(rho) for rho in check.correlations] + ["yes" if check.passed else "no"])
    lines.append("**Sanity check** (cascading randomisation from the top layer down; Spearman rank correlation with "
                 "the trained net's map, passed when the fully random net's is below 0.5):")
    lines.append("")
    lines.append(markdown_table(["method"] + [f"random down to `{name}`" for name in check.layers] + ["passed"],
                                sanity))
    lines.append("")
    lines.append(load_note(start_load))
    return "\n".join(lines)

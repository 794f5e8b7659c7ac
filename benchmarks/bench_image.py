"""Images: tabxai.image against lime_image on the same Keras CNN, image and segments.

The CNN (Keras 3 on the JAX backend, two convolution layers) is trained here on scikit-learn's
digits, upscaled to 32 x 32 and repeated over three channels (lime_image wants RGB). Segments: an
8 x 8 grid of 4 x 4 pixel patches, given to both libraries. lime_image and tabxai's methods spend the
same number of model images (1,000, lime_image's default), except occlusion (a window of 4 pixels
at stride 2: 225 images). Absent segments and occluded or masked pixels are black (``fill=0.0``,
lime_image's ``hide_color=0``): the background of the digits (a segment's mean colour would change
nothing here, as each 4 x 4 patch is one upscaled pixel).

Overhead = wall time / model floor, the floor being the net's own time for the same number of
images at its best batch size (measured here over 32 to 1,024); tabxai runs with ``max_rows`` set to
that batch size, lime_image with its default ``batch_size=10`` and with the best batch size. JAX
compiles the net once per new batch size: timings are medians of interleaved repetitions after a
warm-up, so compilation is not counted for either library. Each run of a method follows a run of the
floor (1,000 images), and the overhead is the median over 7 runs of the ratio of the two, so that the
noise of a shared machine hits both alike. The last column, the time a method spends outside the
model's calls (building masked images, sampling, solving), is what the method itself costs and does
not depend on how loaded the machine's model calls are.
Faithfulness: deletion (pixels turned black) and insertion (pixels added to a black canvas; a blurred
digit is still read as the digit) areas under the probability of the predicted class (Petsiuk et al.
2018), averaged over test digits. Memory: peak resident memory of a fresh process explaining a 128 x 128 x 3 image with RISE
and a NumPy model, against the number of masks, at two values of ``max_rows``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

import tabxai as tx

from ._common import CountingModel, markdown_table

TITLE = "Images: a Keras CNN, tabxai.image against lime_image"

_SAMPLES = 1000
_BATCHES = (32, 64, 128, 256, 512, 1024)


def _train():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.repeat(np.kron(digits.images / 16.0, np.ones((4, 4)))[..., None], 3, axis=3)  # (n, 32, 32, 3)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"),
    ])
    net.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy")
    net.fit(images[:1500].astype(np.float32), digits.target[:1500], epochs=4, batch_size=64, verbose=0)

    def predict(batch):
        return np.asarray(net.predict_on_batch(np.asarray(batch, dtype=np.float32)))

    accuracy = float((predict(images[1500:]).argmax(axis=1) == digits.target[1500:]).mean())
    return predict, images[1500:], accuracy


def _best_batch(predict, images, repeats=3):
    """Seconds per image at each batch size (after one compiling call per size); the best size and its time."""
    block = np.resize(images, (max(_BATCHES),) + images.shape[1:])
    per_image = {}
    for size in _BATCHES:
        predict(block[:size])  # compile this shape
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for offset in range(0, len(block), size):
                predict(block[offset:offset + size])
            times.append(time.perf_counter() - start)
        per_image[size] = float(np.min(times)) / len(block)  # the least disturbed run
    best = min(per_image, key=per_image.get)
    return best, per_image[best], per_image


def _lime_image(predict, image, segments, label, batch_size):
    from lime import lime_image

    explainer = lime_image.LimeImageExplainer(random_state=0)
    result = explainer.explain_instance(image, predict, labels=(label,), top_labels=None, hide_color=0,
                                        num_samples=_SAMPLES, batch_size=batch_size,
                                        segmentation_fn=lambda _: segments, random_seed=0)
    weights = np.zeros(int(segments.max()) + 1)
    for segment, weight in result.local_exp[label]:
        weights[segment] = weight
    return weights[segments]


def _methods(predict, image, segments, label, best):
    common = dict(segments=segments, output=label, random_state=0, max_rows=best, fill=0.0)
    methods = {
        "lime_image (batch_size=10)": lambda: _lime_image(predict, image, segments, label, 10),
        f"lime_image (batch_size={best})": lambda: _lime_image(predict, image, segments, label, best),
    }
    try:
        from tabxai import LimeTabular  # noqa: F401

        methods["tabxai lime"] = lambda: tx.image.explain(predict, image, method="lime", n_samples=_SAMPLES,
                                                          **common).heatmap
    except ImportError:
        pass
    methods["tabxai kernel-shap"] = lambda: tx.image.explain(predict, image, method="kernel-shap",
                                                             n_samples=_SAMPLES, **common).heatmap
    methods["tabxai rise"] = lambda: tx.image.explain(predict, image, method="rise", n_samples=_SAMPLES,
                                                      **common).heatmap
    methods["tabxai occlusion"] = lambda: tx.image.explain(predict, image, method="occlusion", window=4, stride=2,
                                                           **{k: v for k, v in common.items()
                                                              if k != "random_state"}).heatmap
    return methods


_MEMORY_SCRIPT = """
import sys, tracemalloc, numpy as np, tabxai as tx
image = np.random.default_rng(0).uniform(0, 1, (128, 128, 3))
def model(batch):
    half = batch.shape[1] // 2
    return np.stack([batch[:, :half].mean(axis=(1, 2, 3)), batch[:, half:].mean(axis=(1, 2, 3))], axis=1)

tx.image.explain(model, image[:16, :16], method="rise", n_samples=10, random_state=0)  # compile the kernels first
tracemalloc.start()
tx.image.explain(model, image, method="rise", n_samples=int(sys.argv[1]), max_rows=int(sys.argv[2]), random_state=0)
print(tracemalloc.get_traced_memory()[1])
"""


def _peak_memory_mib(n_masks, max_rows):
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(n_masks), str(max_rows)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 2**20


def run(quick=False):
    predict, test_images, accuracy = _train()
    best, _, per_image = _best_batch(predict, test_images)
    n_images = 2 if quick else 8
    repeats = 1 if quick else 7
    lines = [f"Keras {_version('keras')} on JAX {_version('jax')}, test accuracy {accuracy:.3f}; the net's time per "
             "image by batch size: " + ", ".join(f"{size}: {seconds * 1e6:.0f} us" for size, seconds in
                                                 per_image.items()) + f" (best: {best}).", ""]
    image = test_images[10]
    segments = tx.image.segment(image, "grid", grid=(8, 8))
    label = int(predict(image[None]).argmax())
    counted = {}
    timing_functions = {}
    for name, function in _methods(predict, image, segments, label, best).items():
        counter = CountingModel(predict)
        counted[name] = counter
        timing_functions[name] = _methods(counter, image, segments, label, best)[name]
    for function in timing_functions.values():  # warm-up: compile every batch shape, count one run's images
        function()
    rows_per_run = {}
    for name, counter in counted.items():
        rows_per_run[name] = counter.rows
    floor_images = np.resize(test_images, (_SAMPLES,) + test_images.shape[1:])

    def model_floor():
        for offset in range(0, _SAMPLES, best):
            predict(floor_images[offset:offset + best])

    model_floor()
    in_model = [0.0]

    def timed_predict(batch):
        start = time.perf_counter()
        out = predict(batch)
        in_model[0] += time.perf_counter() - start
        return out

    jobs = {name: _methods(timed_predict, image, segments, label, best)[name] for name in counted}
    ratios = {name: [] for name in jobs}
    walls = {name: [] for name in jobs}
    floors = {name: [] for name in jobs}
    outside = {name: [] for name in jobs}
    for _ in range(repeats):  # each job right after a floor run: noise from the shared machine hits both alike
        for name, job in jobs.items():
            start = time.perf_counter()
            model_floor()
            floor = (time.perf_counter() - start) * rows_per_run[name] / _SAMPLES
            in_model[0] = 0.0
            start = time.perf_counter()
            job()
            wall = time.perf_counter() - start
            outside[name].append(wall - in_model[0])
            ratios[name].append(wall / floor)
            walls[name].append(wall)
            floors[name].append(floor)
    table = []
    for name in jobs:
        table.append([name, rows_per_run[name], float(np.median(walls[name])) * 1000,
                      float(np.median(floors[name])) * 1000, float(np.median(ratios[name])),
                      float(np.median(outside[name])) * 1000])
    lines.append(markdown_table(["method", "model images", "wall time (ms)", "model floor (ms)",
                                 "overhead vs floor (median of per-run ratios)", "time outside model calls (ms)"],
                                table))
    lines.append("")
    # faithfulness over several test digits
    scores = {}
    for index in range(n_images):
        image = test_images[20 + 7 * index]
        label = int(predict(image[None]).argmax())
        for name, function in _methods(predict, image, segments, label, best).items():
            if name.startswith("lime_image (batch_size=") and name != "lime_image (batch_size=10)":
                continue
            heatmap = function()
            deletion = tx.image.deletion_auc(predict, image, heatmap, output=label, fill=0.0, max_rows=best)
            insertion = tx.image.insertion_auc(predict, image, heatmap, output=label, fill=0.0, max_rows=best)
            scores.setdefault(name.replace(" (batch_size=10)", ""), []).append((deletion, insertion))
    random_maps = [np.random.default_rng(i).normal(size=(32, 32)) for i in range(n_images)]
    for index, heatmap in enumerate(random_maps):
        image = test_images[20 + 7 * index]
        label = int(predict(image[None]).argmax())
        scores.setdefault("random map (reference)", []).append(
            (tx.image.deletion_auc(predict, image, heatmap, output=label, fill=0.0, max_rows=best),
             tx.image.insertion_auc(predict, image, heatmap, output=label, fill=0.0, max_rows=best)))
    lines.append(f"Faithfulness, mean over {n_images} test digits (explained class = predicted class; "
                 "deletion: lower is better, insertion: higher is better):")
    lines.append("")
    lines.append(markdown_table(["method", "deletion AUC", "insertion AUC"],
                                [[name, float(np.mean([d for d, _ in v])), float(np.mean([i for _, i in v]))]
                                 for name, v in scores.items()]))
    lines.append("")
    memory = []
    for max_rows in (16, 256):
        memory.append([f"max_rows={max_rows}"] + [_peak_memory_mib(n, max_rows) for n in (500, 4000)])
    lines.append("Peak memory (MiB, NumPy and Python allocations traced by tracemalloc) of RISE on a 128 x 128 x 3 "
                 "image with a NumPy model: 384 KiB a float64 image, so 4,000 masked images would take 1.5 GiB at "
                 "once; the model's own batch copies are counted too:")
    lines.append("")
    lines.append(markdown_table(["", "500 masks", "4,000 masks"], memory))
    return "\n".join(lines) + "\n"


def _version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"

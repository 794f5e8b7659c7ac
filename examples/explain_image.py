"""Explain a small CNN's reading of a hand-written digit, and measure how faithful each map is.

A two-layer convolutional network (Keras 3 on the JAX backend, trained here in a few seconds on
scikit-learn's 8 x 8 digits upscaled to 32 x 32; a scikit-learn MLP stands in when Keras is not
installed) classifies a test digit. tabxai explains the predicted class three ways: KernelSHAP over
an 8 x 8 grid of patches (Shapley values with standard errors), occlusion and RISE. For each map the
deletion and insertion areas (Petsiuk et al. 2018) say how faithful it is: removing the pixels a
faithful map ranks first makes the score fall fast (low deletion area), adding them to a black
canvas makes it rise fast (high insertion area).

Run:  pip install "tabxai[image]" keras jax && python examples/explain_image.py [out.png]
"""

import os
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import tabxai as tx


def train_model(images, labels):
    """A callable on (n, 32, 32, 1) batches returning class probabilities."""
    try:
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras
    except ImportError:
        from sklearn.neural_network import MLPClassifier

        mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=0)
        mlp.fit(images.reshape(len(images), -1), labels)
        return lambda batch: mlp.predict_proba(batch.reshape(len(batch), -1)), "scikit-learn MLP"
    keras.utils.set_random_seed(0)
    net = keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"),
    ])
    net.compile(optimizer=keras.optimizers.Adam(0.003), loss="sparse_categorical_crossentropy")
    net.fit(images.astype(np.float32), labels, epochs=4, batch_size=64, verbose=0)
    return lambda batch: np.asarray(net.predict_on_batch(batch)), f"Keras CNN ({keras.backend.backend()})"


def main(out="explain_image.png"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digits = load_digits()
    images = np.kron(digits.images / 16.0, np.ones((4, 4)))[..., None]  # (1797, 32, 32, 1) in [0, 1]
    start = time.perf_counter()
    model, name = train_model(images[:1500], digits.target[:1500])
    accuracy = (model(images[1500:]).argmax(axis=1) == digits.target[1500:]).mean()
    print(f"{name}: trained in {time.perf_counter() - start:.1f} s, test accuracy {accuracy:.3f}")

    image = images[1510]
    segments = tx.image.segment(image, "grid", grid=(8, 8))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, method in zip(axes, ["kernel-shap", "occlusion", "rise"]):
        start = time.perf_counter()
        expl = tx.image.explain(model, image, method=method, segments=segments, fill=0.0, random_state=0)
        seconds = time.perf_counter() - start
        deletion = tx.image.deletion_auc(model, image, expl)
        insertion = tx.image.insertion_auc(model, image, expl, fill=0.0)  # a blurred digit is still read as one
        expl.plot(ax=ax, top_k=3, title=f"{method}: digit {expl.output}\n"
                                         f"deletion {deletion:.2f}, insertion {insertion:.2f}")
        print(f"{method:12s} score {expl.score:.3f}  {expl.params['model_rows']:6d} model images in {seconds:5.2f} s"
              f"  deletion AUC {deletion:.3f}  insertion AUC {insertion:.3f}")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])

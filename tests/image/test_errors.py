"""Bad input gets a clear error before the model is called (or, for the model's own faults, naming it)."""

import numpy as np
import pytest

import tabxai as tx
from tabxai import ModelError


class Counting:
    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, batch):
        self.calls += 1
        return self.function(batch)


def _colour_model(batch):
    if batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(f"expected (n, 8, 8, 3) images, got {batch.shape}")
    return np.stack([batch[..., 0].mean(axis=(1, 2)), batch[..., 2].mean(axis=(1, 2))], axis=1)


IMAGE = np.random.default_rng(0).uniform(0, 1, (8, 8, 3))


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(image=IMAGE[..., 0]), ModelError, "grey-scale against colour"),
    (dict(image=np.moveaxis(IMAGE, -1, 0)), ValueError, "pass layout='NCHW'"),
    (dict(image=IMAGE, layout="NCHW"), ValueError, "pass layout='NHWC'"),
    (dict(image=IMAGE[None, ..., 0]), ValueError, "channel-first"),
    (dict(image=IMAGE[..., :2]), ModelError, "2 channels"),
    (dict(image=np.zeros((2, 8, 8, 3))), ValueError, "explain one image at a time"),
    (dict(segments=np.zeros((8, 7), dtype=int)), ValueError, r"image's shape \(8, 8\)"),
    (dict(segments=np.zeros((8, 8), dtype=int)), ValueError, "needs at least 2"),
    (dict(segments=np.full((8, 8), 0.5)), TypeError, "integer labels"),
    (dict(image=np.where(np.eye(8)[..., None], np.nan, IMAGE)), ValueError, "NaN"),
    (dict(image=IMAGE * 300), ValueError, r"outside its value range \[0, 255\]"),
    (dict(image=IMAGE - 0.5), ValueError, "value_range="),
    (dict(image=IMAGE - 0.5, value_range=(0.5, -0.5)), ValueError, "low < high"),
    (dict(image=IMAGE.astype(str)), TypeError, "numbers"),
    (dict(method="gradcam"), ValueError, "`method` must be one of"),
    (dict(method="exact", segments=np.arange(64).reshape(8, 8)), ValueError, "more than 16"),
    (dict(method="occlusion", n_samples=100), ValueError, "no `n_samples`"),
    (dict(method="rise", window=3), ValueError, "occlusion's"),
    (dict(method="occlusion", window=9), ValueError, "window"),
    (dict(method="rise", keep_prob=0.0), ValueError, "keep_prob"),
    (dict(method="rise", grid_size=0), ValueError, "grid_size"),
    (dict(method="rise", n_samples=1), ValueError, "n_samples"),
    (dict(method="kernel-shap", n_samples=10), ValueError, "n_samples"),
    (dict(method="permutation", n_samples=0), ValueError, "n_samples"),
    (dict(fill="noise"), ValueError, "'mean', 'blur'"),
    (dict(fill=IMAGE[..., 0]), ValueError, "grey-scale and colour"),
    (dict(fill=[0.1, 0.2]), ValueError, "3 finite values"),
    (dict(max_rows=0), ValueError, "max_rows"),
    (dict(output=5), ValueError, "output"),
    (dict(random_state=-1), ValueError, "random_state"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, error, match):
    model = Counting(_colour_model)
    arguments = {"image": IMAGE, "method": "rise", "n_samples": 20, **kwargs}
    if arguments["method"] in ("occlusion", "exact") and "n_samples" not in kwargs:
        del arguments["n_samples"]
    image = arguments.pop("image")
    with pytest.raises(error, match=match):
        tx.image.explain(model, image, **arguments)
    if error is not ModelError and match != "output":
        assert model.calls == 0


@pytest.mark.parametrize("returned,match", [
    (lambda b: np.zeros((b.shape[0], 8, 8)), "shape"),
    (lambda b: np.zeros(b.shape[0] + 1), "shape"),
    (lambda b: np.where(b[:, 0, 0, 0] < 2, np.nan, 0.0), "NaN"),
])
def test_a_model_returning_the_wrong_shape_or_nan_is_named(returned, match):
    with pytest.raises(ModelError, match=match):
        tx.image.explain(returned, IMAGE, method="occlusion")


def test_a_model_failing_on_masked_images_only_is_named():
    def fragile(batch):
        out = batch.mean(axis=(1, 2, 3))
        out[batch[:, 0, 0, 0] == 0] = np.nan
        return out

    with pytest.raises(ModelError, match="NaN or inf"):
        tx.image.explain(fragile, IMAGE, method="occlusion", fill=0.0)


def test_bad_heatmaps_for_the_curves():
    with pytest.raises(ValueError, match=r"height and width \(8, 8\)"):
        tx.image.deletion_auc(_colour_model, IMAGE, np.zeros((8, 9)))
    with pytest.raises(ValueError, match="NaN"):
        tx.image.insertion_auc(_colour_model, IMAGE, np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="n_steps"):
        tx.image.deletion_auc(_colour_model, IMAGE, np.zeros((8, 8)), n_steps=0)

"""The image model asks about the explained image and the fill image once each, whatever the method."""

import numpy as np
import pytest

import tabxai as tx
from tabxai.image._model import _Remembered
from tabxai.image.masker import ImageMasker

SEGMENTS = np.repeat(np.repeat(np.arange(9).reshape(3, 3), [3, 4, 3], axis=0), [4, 4, 4], axis=1)  # 9 patches


class _Logged:
    """A small float32 network stand-in that keeps every batch it is given."""

    def __init__(self, as_list=False):
        self.batches, self.as_list = [], as_list

    def __call__(self, batch):
        self.batches.append(np.array(batch, copy=True))
        x = np.asarray(batch, dtype=np.float32)
        out = np.stack([x[:, :5].mean(axis=(1, 2, 3)) * x[:, :, :6, 0].mean(axis=(1, 2)), x[..., 2].max(axis=(1, 2))],
                       axis=1).astype(np.float64)
        return out.tolist() if self.as_list else out

    def single_calls_with(self, image):
        return sum(len(b) == 1 and np.array_equal(b[0], image) for b in self.batches)


@pytest.mark.parametrize("method", ["lime", "kernel-shap", "occlusion", "rise"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_image_and_the_fill_image_are_asked_once(method, dtype):
    image = np.random.default_rng(0).uniform(0, 1, (10, 12, 3)).astype(dtype)
    model = _Logged()
    options = {} if method == "occlusion" else {"random_state": 0, "n_samples": 40 if method == "kernel-shap" else 60}
    expl = tx.image.explain(model, image, method=method, segments=SEGMENTS, output=1, **options)
    fill = ImageMasker(image, SEGMENTS).masked_images(np.zeros((1, 9), dtype=bool))[0]
    assert model.single_calls_with(image) == 1
    assert model.single_calls_with(fill) == 1
    assert expl.params["model_rows"] == sum(len(batch) for batch in model.batches)  # what the model was given
    assert expl.score == pytest.approx(float(np.asarray(model(image[None]))[0, 1]), rel=0, abs=0)
    if method != "occlusion":  # every image the explainer asked for reached the model, but repeats of the two
        again = tx.image.explain(_Logged(), image, method=method, segments=SEGMENTS, output=1, max_rows=7, **options)
        np.testing.assert_array_equal(expl.values, again.values)


def test_a_model_returning_lists_is_asked_as_often_as_the_method_asks():
    image = np.random.default_rng(1).uniform(0, 1, (10, 12, 3))
    listed, arrays = _Logged(as_list=True), _Logged()
    expl = tx.image.explain(listed, image, method="lime", segments=SEGMENTS, output=0, n_samples=60, random_state=0)
    reference = tx.image.explain(arrays, image, method="lime", segments=SEGMENTS, output=0, n_samples=60,
                                 random_state=0)
    np.testing.assert_array_equal(expl.values, reference.values)
    assert listed.single_calls_with(image) > arrays.single_calls_with(image) == 1


def test_remembered_outputs_are_copies_and_other_batches_pass_through():
    calls = []

    def model(batch):
        calls.append(len(batch))
        return np.asarray(batch, dtype=float).sum(axis=(1, 2))[:, None] * np.ones((1, 2))

    image = np.arange(6.0).reshape(1, 2, 3)
    remembered = _Remembered(model, [image])
    first = remembered(image.astype(np.float32))  # equal values in another dtype are the same image
    first[0, 0] = -1.0
    second = remembered(image)
    assert second[0, 0] == 15.0 and calls == [1]
    remembered(np.concatenate([image, image]))  # a batch of two is asked
    remembered(image + 1)  # another image is asked
    assert calls == [1, 2, 1]

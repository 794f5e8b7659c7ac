"""Masked images in the image's dtype (float32 for float32 and small integer images), in default batches of
8 MiB: the model gets its own dtype, values equal the float64 path's wherever the model computes in float32."""

import numpy as np
import pytest
from naive import naive_image_shapley, naive_segment_mean_fill

import tabxai as tx
from tabxai.image.masker import ImageMasker, fill_dtype

SEGMENTS = np.repeat(np.repeat(np.arange(9).reshape(3, 3), [3, 4, 3], axis=0), [4, 4, 4], axis=1)  # 9 patches


class _Recording:
    """A float32 network stand-in: records the dtypes and sizes of the batches it gets."""

    def __init__(self):
        self.dtypes, self.sizes = set(), []

    def __call__(self, batch):
        if len(batch) > 1:  # the explained image itself is asked once as the row it is
            self.dtypes.add(batch.dtype)
        self.sizes.append(len(batch))
        x = np.asarray(batch, dtype=np.float32)
        return np.stack([x[:, :5].mean(axis=(1, 2, 3)) * x[:, :, :6, 0].mean(axis=(1, 2)), x[..., 2].max(axis=(1, 2))],
                        axis=1).astype(np.float64)


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.uint8, np.float32), (np.uint16, np.float32),
                                             (np.float64, np.float64), (np.int32, np.float64)])
def test_fill_dtype(dtype, expected):
    assert fill_dtype(np.zeros((2, 2), dtype=dtype)) == np.dtype(expected)


def test_float32_images_are_filled_in_float32_with_the_float64_values():
    image = np.random.default_rng(0).uniform(0, 1, (10, 12, 3)).astype(np.float32)
    masker = ImageMasker(image, SEGMENTS, fill="mean")
    coalitions = np.random.default_rng(1).random((20, 9)) < 0.5
    batch = masker.masked_images(coalitions)
    assert batch.dtype == np.float32 and masker.dtype == np.float32
    wide = ImageMasker(image.astype(np.float64), SEGMENTS, fill="mean").masked_images(coalitions)
    np.testing.assert_array_equal(batch, wide.astype(np.float32))


def test_the_model_gets_float32_batches_and_the_same_values():
    image = np.random.default_rng(2).uniform(0, 1, (10, 12, 3))
    narrow = _Recording()
    expl = tx.image.explain(narrow, image.astype(np.float32), method="exact", segments=SEGMENTS, output=0)
    assert narrow.dtypes == {np.dtype(np.float32)}
    wide = _Recording()
    reference = tx.image.explain(wide, image.astype(np.float32).astype(np.float64), method="exact",
                                 segments=SEGMENTS, output=0)
    assert wide.dtypes == {np.dtype(np.float64)}
    # the model computes in float32: the same inputs to the last bit, hence the same values
    np.testing.assert_array_equal(expl.values, reference.values)
    fill = naive_segment_mean_fill(image.astype(np.float32).astype(np.float64), SEGMENTS)
    expected = naive_image_shapley(lambda b: wide(b)[:, 0], image.astype(np.float32).astype(np.float64), SEGMENTS,
                                   fill.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(expl.values, expected, rtol=0, atol=1e-6)


def test_default_batches_start_at_8_mib_grow_at_most_to_32_and_never_change_results():
    image = np.random.default_rng(3).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    segments = tx.image.segment(image, "grid", grid=(4, 4))
    model = _Recording()
    expl = tx.image.explain(model, image, method="lime", segments=segments, n_samples=400, random_state=0, output=1)
    per_batch = 8 * 2 ** 20 // (4 * 64 * 64 * 3)
    assert expl.params["parameters"]["max_rows"] == per_batch == 170
    batches = [size for size in model.sizes if size > 1]
    assert batches[0] == per_batch and max(batches) <= 4 * per_batch  # doubling while the model gains
    assert all(size in (per_batch, 2 * per_batch) for size in batches[:-1])  # 440 images: no room for more
    small = tx.image.explain(_Recording(), image, method="lime", segments=segments, n_samples=400, random_state=0,
                             output=1, max_rows=33)
    np.testing.assert_allclose(small.values, expl.values, rtol=0, atol=1e-12)

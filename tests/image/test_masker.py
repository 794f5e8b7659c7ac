"""ImageSchema and ImageMasker: masked images against a pixel-by-pixel loop, layouts, fills."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from naive import naive_masked_image, naive_segment_mean_fill

import tabxai as tx
from tabxai._engine import coalition_values, expected_value
from tabxai.image import ImageMasker, ImageSchema


def _image(height=9, width=11, channels=3, seed=0):
    shape = (height, width) if channels == 0 else (height, width, channels)
    return np.random.default_rng(seed).uniform(0, 1, shape)


def _segments(height=9, width=11, n=6, seed=1):
    return np.random.default_rng(seed).integers(0, n, (height, width)) * 7 + 3  # labels need not start at 0


@given(st.integers(0, 2**32 - 1), st.sampled_from(["mean", "blur", 0.25, "channels", "baseline"]),
       st.sampled_from([0, 1, 3]))
def test_masked_images_equal_a_pixel_loop(seed, fill, channels):
    image, segments = _image(channels=channels, seed=seed % 7), _segments(seed=seed % 5)
    shape3 = image.reshape(9, 11, -1)
    if fill == "channels":
        fill = np.linspace(0.1, 0.9, max(channels, 1)) if channels != 0 else 0.5
    elif isinstance(fill, str) and fill == "baseline":
        fill = _image(channels=channels, seed=99)
    masker = ImageMasker(image, segments, fill=fill)
    if isinstance(fill, str) and fill == "mean":
        fill_image = naive_segment_mean_fill(shape3, segments)
    elif isinstance(fill, str) and fill == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = 11 / 16
        fill_image = np.stack([gaussian_filter(shape3[..., c], sigma, mode="nearest")
                               for c in range(shape3.shape[2])], axis=-1)
    elif np.ndim(fill) == 0:
        fill_image = np.full(shape3.shape, fill)
    elif np.ndim(fill) == 1:
        fill_image = np.broadcast_to(fill, shape3.shape)
    else:
        fill_image = fill.reshape(shape3.shape)
    coalitions = np.random.default_rng(seed).random((5, masker.n_segments)) < 0.5
    batch = masker.masked_images(coalitions)
    assert batch.shape == (5,) + image.shape
    relabelled = np.unique(segments, return_inverse=True)[1].reshape(segments.shape)
    for k in range(5):
        expected = naive_masked_image(shape3, relabelled, coalitions[k], fill_image)
        np.testing.assert_allclose(batch[k].reshape(shape3.shape), expected, rtol=0, atol=1e-12)


def test_engine_streams_masked_images_in_any_chunk_size():
    image, segments = _image(), _segments()
    masker = ImageMasker(image, segments, fill="mean")
    seen = []

    def model(batch):
        seen.append(batch.shape)
        return np.stack([batch[:, :3].sum(axis=(1, 2, 3)), batch[..., 2].std(axis=(1, 2))], axis=1)

    coalitions = np.random.default_rng(0).random((40, masker.n_segments)) < 0.5
    pair_mask = np.arange(40, dtype=np.int64)
    pair_row = np.zeros(40, dtype=np.int64)
    results = []
    for max_rows in (40, 7, 1):
        bound = tx.as_model(model, max_rows=max_rows).bind(masker.schema)
        results.append(coalition_values(bound, masker, masker.pixels[None], coalitions, pair_row, pair_mask))
    assert all(shape[1:] == (9, 11, 3) and shape[0] <= 40 for shape in seen)
    assert max(shape[0] for shape in seen[-40:]) == 1
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    direct = model(masker.masked_images(coalitions))
    np.testing.assert_allclose(results[0], direct, rtol=1e-12)


def test_schema_layouts_round_trip_and_channel_first_batches():
    image = _image(channels=3)
    channel_first = np.ascontiguousarray(np.moveaxis(image, -1, 0))
    last, first = ImageSchema(image.shape), ImageSchema(channel_first.shape, layout="NCHW")
    assert last.n_columns == first.n_columns == 9 * 11 * 3
    np.testing.assert_array_equal(last.encode(image), first.encode(channel_first))
    rows = last.encode(np.stack([image, image * 0.5]))
    np.testing.assert_array_equal(first.decode(rows)[1], channel_first * 0.5)
    assert first.decode(rows).flags.c_contiguous
    assert last.decode(rows).shape == (2, 9, 11, 3)
    grey = ImageSchema((9, 11))
    assert grey.decode(grey.encode(image[..., 0])).shape == (1, 9, 11)
    assert len(last.names) == last.n_columns and last.extended(image) is last


def test_masker_base_value_is_the_model_on_the_fill_image():
    image = _image()
    masker = ImageMasker(image, _segments(), fill=0.5)
    model = tx.as_model(lambda b: b.mean(axis=(1, 2, 3))).bind(masker.schema)
    assert expected_value(model, masker)[0] == pytest.approx(0.5)
    coalition = np.ones((1, masker.n_segments), dtype=bool)
    np.testing.assert_array_equal(masker.masked_images(coalition)[0], image)


def test_masker_records_value_range_and_user_labels():
    image = (_image() * 255).astype(np.uint8)
    masker = ImageMasker(image, _segments())
    assert masker.value_range == (0.0, 255.0)
    assert masker.segment_names == tuple(sorted(set(_segments().ravel().tolist())))

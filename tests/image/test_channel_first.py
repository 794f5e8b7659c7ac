"""Channel-first (NCHW) images: the segment masker writes rows in the model's layout, so a batch is its rows
reshaped (never transposed), with the same images and values as channel-last."""

import numpy as np
import pytest
from naive import naive_masked_image, naive_segment_mean_fill

import tabxai as tx
from tabxai._engine import coalition_values, expected_value
from tabxai.image import ImageMasker, ImageSchema

SEGMENTS = np.repeat(np.repeat(np.arange(9).reshape(3, 3), [3, 4, 3], axis=0), [4, 4, 4], axis=1)  # 9 patches


def _image(seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(0, 1, (10, 12, 3)).astype(dtype)


def _first(image):
    return np.ascontiguousarray(np.moveaxis(image, -1, 0))


def _channel_last_model(batch):
    x = np.asarray(batch, dtype=np.float64)
    return np.stack([x[:, :5].mean(axis=(1, 2, 3)) * x[:, :, :6, 0].mean(axis=(1, 2)), x[..., 2].max(axis=(1, 2))],
                    axis=1)


class _ChannelFirstModel:
    """The same network on channel-first batches; records whether each batch was a view of a buffer (no copy)."""

    def __init__(self):
        self.views = []

    def __call__(self, batch):
        self.views.append(batch.base is not None and batch.flags.c_contiguous)
        return _channel_last_model(np.ascontiguousarray(np.moveaxis(batch, 1, -1)))  # the same sums, in order


def test_flat_rows_in_the_layout_round_trip_and_decode_without_a_copy():
    image = _image()
    hwc, layout = ImageSchema(_first(image).shape, "NCHW"), ImageSchema(_first(image).shape, "NCHW", flat="layout")
    rows = layout.encode(_first(image))
    np.testing.assert_array_equal(rows[0], _first(image).ravel())
    np.testing.assert_array_equal(rows[0], layout.in_flat_order(hwc.encode(_first(image))[0]))
    batch = layout.decode(rows)
    np.testing.assert_array_equal(batch[0], _first(image))
    assert np.shares_memory(batch, rows)
    np.testing.assert_array_equal(layout.to_display(rows[0]), hwc.to_display(hwc.encode(_first(image))[0]))
    assert len(set(layout.names)) == layout.n_columns and set(layout.names) == set(hwc.names)
    with pytest.raises(ValueError, match="flat"):
        ImageSchema((3, 4, 5), "NCHW", flat="chw")


@pytest.mark.parametrize("fill", ["mean", 0.25, "baseline"])
def test_channel_first_masked_images_equal_a_pixel_loop_in_any_chunk_size(fill):
    image = _image(1)
    baseline = _image(2)
    masker = ImageMasker(_first(image), SEGMENTS, fill=_first(baseline) if fill == "baseline" else fill, layout="NCHW")
    fill_image = {"mean": naive_segment_mean_fill(image, SEGMENTS), "baseline": baseline}.get(
        fill, np.full(image.shape, 0.25))
    coalitions = np.random.default_rng(3).random((30, 9)) < 0.5
    expected = np.stack([_first(naive_masked_image(image, SEGMENTS, c, fill_image)) for c in coalitions])
    np.testing.assert_allclose(masker.masked_images(coalitions), expected, rtol=0, atol=1e-12)
    schema, _ = masker.setup()
    rows = schema.encode(masker.image)
    pairs = np.arange(30, dtype=np.int64)
    for max_rows in (30, 7, 1):
        seen = []

        def model(batch):
            seen.append(np.array(batch))
            return batch.reshape(len(batch), -1)[:, :4]

        bound = tx.as_model(model, max_rows=max_rows).bind(schema)
        values = coalition_values(bound, masker, rows, coalitions, np.zeros(30, dtype=np.int64), pairs)
        np.testing.assert_allclose(np.concatenate(seen), expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(values, expected.reshape(30, -1)[:, :4], rtol=0, atol=1e-12)
    bound = tx.as_model(lambda b: b.mean(axis=(1, 2, 3))).bind(schema)
    assert expected_value(bound, masker)[0] == pytest.approx(fill_image.mean(), abs=1e-12)


@pytest.mark.parametrize("method", ["lime", "kernel-shap", "exact", "permutation", "occlusion", "rise"])
def test_channel_first_explanations_equal_channel_last_ones(method):
    image = _image(4, np.float32)
    options = {} if method in ("exact", "occlusion") else {"random_state": 0}
    if method in ("lime", "kernel-shap", "rise"):
        options["n_samples"] = 60
    last = tx.image.explain(_channel_last_model, image, method=method, segments=SEGMENTS, output=1, **options)
    model = _ChannelFirstModel()
    first = tx.image.explain(model, _first(image), method=method, segments=SEGMENTS, output=1, layout="NCHW",
                             **options)
    np.testing.assert_array_equal(first.values, last.values)
    np.testing.assert_array_equal(first.heatmap, last.heatmap)
    assert first.base_value == last.base_value and first.score == last.score
    if method not in ("occlusion", "rise"):  # masked batches are the engine's buffer reshaped
        assert all(model.views[2:])


def test_tabular_explainers_take_a_channel_first_masker():
    image = _image(5)
    last = tx.KernelSHAP(_channel_last_model, ImageMasker(image, SEGMENTS), output=0, random_state=0)
    first = tx.KernelSHAP(_ChannelFirstModel(), ImageMasker(_first(image), SEGMENTS, layout="NCHW"), output=0,
                          random_state=0)
    np.testing.assert_array_equal(first.explain(_first(image)[None]).values, last.explain(image[None]).values)


def test_the_masker_binds_to_rows_in_the_model_layout_only():
    image = _image(6)
    masker = ImageMasker(_first(image), SEGMENTS, layout="NCHW")
    assert masker.bind(masker.model_schema) is masker
    with pytest.raises(ValueError, match="model's layout"):
        masker.bind(masker.schema)  # height-width-channel rows of a channel-first image
    last = ImageMasker(image, SEGMENTS)
    assert last.bind(last.schema) is last and last.bind(last.model_schema) is last

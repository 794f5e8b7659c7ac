"""A real CNN (Keras 3, JAX backend, trained in the session) explained by every method."""

import numpy as np
import pytest

import tabxai as tx

pytestmark = pytest.mark.slow  # the session's Keras CNN takes 5 to 25 s to import and train

PATCH_SIZE = 6
GRID = (4, 4)  # 6 x 6 pixel patches of the 24 x 24 images


def _on_patch(expl, corner):
    """Whether the top segment of an explanation overlaps the coloured patch."""
    patch = np.zeros(expl.segments.shape, dtype=bool)
    patch[corner[0]:corner[0] + PATCH_SIZE, corner[1]:corner[1] + PATCH_SIZE] = True
    return bool(patch[expl.segments == expl.top_segments(1)[0]].any())


@pytest.mark.parametrize("method,n_samples", [("kernel-shap", 300), ("rise", 500), ("lime", 500)])
def test_pointing_game_on_images_with_a_known_cause(cnn, patch_images, method, n_samples):
    images, labels, corners = patch_images(20, seed=11)
    hits = 0
    for image, label, corner in zip(images, labels, corners):
        segments = tx.image.segment(image, "grid", grid=GRID)
        try:
            expl = tx.image.explain(cnn, image, method=method, segments=segments, n_samples=n_samples, random_state=0)
        except NotImplementedError:
            pytest.skip("tabxai.LimeTabular is not available in this version")
        assert expl.output == label  # the net's top class is the patch's class
        hits += _on_patch(expl, corner)
    assert hits >= 19, f"{method}: the top segment is on the patch in {hits} of 20 images"


def test_every_method_explains_the_cnn_and_faithful_maps_beat_their_reverse(cnn, patch_images):
    images, labels, _ = patch_images(3, seed=5)
    image = images[0]
    segments = tx.image.segment(image, "grid", grid=GRID)
    for method in ("occlusion", "rise", "kernel-shap"):
        expl = tx.image.explain(cnn, image, method=method, segments=segments, random_state=0, n_samples=None
                                if method == "occlusion" else 400)
        assert expl.heatmap.shape == (24, 24) and expl.values.shape == (16,)
        assert expl.score == pytest.approx(float(cnn(image[None])[0, labels[0]]), rel=1e-6)
        good = tx.image.deletion_auc(cnn, image, expl, fill="mean")
        bad = tx.image.deletion_auc(cnn, image, -expl.heatmap, fill="mean")
        assert good < bad, method


def test_channel_first_models_get_channel_first_batches(cnn, patch_images):
    """A torch-style callable on (n, C, H, W) gives the same map as the Keras net on (n, H, W, C)."""
    image = patch_images(1, seed=3)[0][0]
    seen = []

    def channel_first(batch):
        seen.append(batch.shape)
        return cnn(np.ascontiguousarray(np.moveaxis(batch, 1, -1)))

    kwargs = dict(method="rise", n_samples=200, random_state=1, max_rows=64)
    last = tx.image.explain(cnn, image, **kwargs)
    first = tx.image.explain(channel_first, np.moveaxis(image, -1, 0), layout="NCHW", **kwargs)
    assert all(shape[1:] == (3, 24, 24) for shape in seen)
    np.testing.assert_allclose(first.heatmap, last.heatmap, rtol=1e-6, atol=1e-9)
    segments = tx.image.segment(image, "grid", grid=GRID)
    occluded_last = tx.image.explain(cnn, image, method="occlusion", segments=segments)
    occluded_first = tx.image.explain(channel_first, np.moveaxis(image, -1, 0), layout="NCHW", method="occlusion",
                                      segments=segments)
    np.testing.assert_allclose(occluded_first.values, occluded_last.values, rtol=1e-6, atol=1e-9)

"""The sanity check and the comparison table, on NumPy models of the gradient protocol."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import ndimage
from scipy.stats import spearmanr

import tabxai as tx
from tabxai.image.sanity import rank_correlation

SIZE = 12


class Patch:
    """Scores the mean of a (3, 3) patch at a given place, through two 'layers' that can be randomised."""

    layer_names = ("position", "dense")

    def __init__(self, top, left, randomised=0, seed=0):
        self.top, self.left, self.randomised, self.seed = top, left, randomised, seed
        self.weights = np.zeros((SIZE, SIZE))
        self.weights[top:top + 3, left:left + 3] = 1 / 9
        if randomised:
            self.weights = np.random.default_rng(seed).normal(size=(SIZE, SIZE))

    def predict(self, images):
        return np.einsum("nhw,hw->n", images, self.weights)[:, None]

    def gradient(self, images, output):
        return np.broadcast_to(self.weights, images.shape).copy()

    def randomized(self, n_layers, random_state=None):
        return Patch(self.top, self.left, n_layers, random_state)


def _image(seed=0):
    return np.random.default_rng(seed).uniform(0.2, 0.8, (SIZE, SIZE))


def edges(model, image, output):
    """A map that ignores the model."""
    return np.hypot(ndimage.sobel(image, 0), ndimage.sobel(image, 1))


def test_rank_correlation_is_spearman_and_zero_for_a_constant_map():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b[:10] = b[0]  # ties
    assert rank_correlation(a, b) == pytest.approx(spearmanr(a, b).statistic, rel=1e-12)
    assert rank_correlation(a, np.zeros(50)) == 0.0 and rank_correlation(np.ones(4), np.ones(4)) == 0.0


def test_sanity_check_passes_for_gradients_and_fails_for_an_edge_detector():
    model, image = Patch(4, 5), _image()
    for method in ("gradient-x-input", "occlusion"):
        check = tx.image.sanity_check(model, image, method=method, random_state=0)
        assert check.passed, (method, check.correlations)
        assert check.layers == ("dense", "position")  # from the top layer down
        assert check.maps.shape == (3, SIZE, SIZE) and len(check.correlations) == 2
    check = tx.image.sanity_check(model, image, method=edges, random_state=0)
    assert not check.passed and np.allclose(check.correlations, 1.0)
    frame = check.to_frame()
    assert list(frame["randomised_down_to"]) == ["dense", "position"]
    axes = check.plot()
    assert len(axes) == 3
    plt.close(axes[0].figure)


def test_sanity_check_keeps_the_output_and_the_method_seed_and_leaves_the_model_alone():
    model, image = Patch(0, 0), _image(2)
    weights = model.weights.copy()
    check = tx.image.sanity_check(model, image, method="smoothgrad", n_samples=4, random_state=5, absolute=True)
    np.testing.assert_array_equal(model.weights, weights)
    again = tx.image.explain(model, image, method="smoothgrad", n_samples=4, random_state=5)
    np.testing.assert_array_equal(check.maps[0], again.heatmap)
    randomised = tx.image.explain(model.randomized(2, 5), image, method="smoothgrad", n_samples=4, random_state=5)
    np.testing.assert_array_equal(check.maps[-1], randomised.heatmap)
    assert check.correlations[-1] == pytest.approx(rank_correlation(np.abs(check.maps[0]), np.abs(check.maps[-1])))


def test_sanity_check_needs_a_model_that_can_be_randomised():
    with pytest.raises(TypeError, match="gradient-capable"):
        tx.image.sanity_check(lambda b: b.mean(axis=(1, 2)), _image(), method="occlusion")

    class Fixed(Patch):
        randomized = None

    with pytest.raises(TypeError, match="randomized"):
        tx.image.sanity_check(Fixed(0, 0), _image(), method="saliency")
    with pytest.raises(ValueError, match="threshold"):
        tx.image.sanity_check(Patch(0, 0), _image(), method="saliency", threshold=2)


def test_compare_scores_every_map_with_the_same_curves_and_the_pointing_game():
    corners = [(0, 0), (6, 7), (8, 2)]
    images = np.stack([_image(k) for k in range(3)])
    model = Patch(6, 7)
    boxes = np.array([[6, 7, 9, 10]] * 3)
    result = tx.image.compare(model, images, methods=["gradient-x-input", "occlusion", edges], boxes=boxes,
                              options={"occlusion": {"window": 3, "stride": 1, "fill": 0.0}}, n_steps=12)
    table = result.table
    assert list(table.index) == ["gradient-x-input", "occlusion", "edges"]
    assert list(table.columns) == ["deletion_auc", "insertion_auc", "pointing_hits", "pointing_rate",
                                   "seconds_per_image"]
    assert table.loc["gradient-x-input", "pointing_hits"] == 3 and table.loc["occlusion", "pointing_hits"] == 3
    wrapped = tx.image.GradientImageModel(model)  # deletion_auc takes callables
    for k, image in enumerate(images):
        expl = result.explanations["occlusion"][k]
        np.testing.assert_array_equal(
            expl.heatmap, tx.image.explain(model, image, method="occlusion", window=3, stride=1, fill=0.0).heatmap)
        assert result.deletion["occlusion"][k] == tx.image.deletion_auc(wrapped, image, expl, n_steps=12)
        assert result.insertion["edges"][k] == tx.image.insertion_auc(wrapped, image, edges(model, image, None),
                                                                       n_steps=12)
    assert table.loc["occlusion", "deletion_auc"] == pytest.approx(result.deletion["occlusion"].mean())
    assert table.loc["gradient-x-input", "deletion_auc"] < table.loc["edges", "deletion_auc"]
    masks = np.zeros((3, SIZE, SIZE), dtype=bool)
    for k, (top, left) in enumerate(corners):
        masks[k, top:top + 3, left:left + 3] = True
    hits = tx.image.compare(model, images, methods=["gradient-x-input"], masks=masks, tolerance=1).table
    assert hits.loc["gradient-x-input", "pointing_hits"] == 1  # the model looks at (6, 7) only
    axes = result.plot(2)
    assert axes.shape == (2, 3)
    plt.close(axes[0][0].figure)


def test_compare_checks_its_arguments():
    images = np.stack([_image(k) for k in range(2)])
    with pytest.raises(ValueError, match="boxes"):
        tx.image.compare(Patch(0, 0), images, methods=["saliency"], boxes=[[0, 0, 3]])
    with pytest.raises(ValueError, match="each once"):
        tx.image.compare(Patch(0, 0), images, methods=["saliency", "saliency"])
    with pytest.raises(ValueError, match="options"):
        tx.image.compare(Patch(0, 0), images, methods=["saliency"], options={"rise": {}})
    with pytest.raises(ValueError, match="one image"):
        tx.image.compare(Patch(0, 0), np.zeros((8, 8, 3)), methods=["saliency"])

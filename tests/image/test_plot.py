"""ImageExplanation.plot: image, heat map, outlined top segments, colour bar; ax honoured, never shown."""

import matplotlib.pyplot as plt
import numpy as np

import tabxai as tx
from tabxai.image.explanation import _boundaries


def _explanation():
    image = np.random.default_rng(0).uniform(0, 255, (12, 12, 3)).astype(np.uint8)
    model = lambda batch: batch[:, :6, :6].mean(axis=(1, 2, 3))  # noqa: E731
    segments = tx.image.segment(image, "grid", grid=(2, 2))
    return tx.image.explain(model, image, method="occlusion", segments=segments, fill=0.0, window=3)


def test_plot_draws_into_a_new_figure_with_overlays_and_a_colour_bar():
    expl = _explanation()
    ax = expl.plot(top_k=1)
    images = ax.get_images()
    assert len(images) == 3  # image, heat map, outline
    np.testing.assert_allclose(images[0].get_array(), expl.image / 255.0)
    np.testing.assert_array_equal(images[1].get_array(), expl.heatmap)
    outline = images[2].get_array()[..., 3] > 0
    np.testing.assert_array_equal(outline, _boundaries(expl.segments, [0]))
    assert outline[0, 0] and outline[5, 5] and not outline[2, 2] and not outline[8, 8]
    assert len(ax.figure.axes) == 2 and "occlusion" in ax.get_title()  # colour bar
    plt.close(ax.figure)


def test_plot_honours_ax_and_options():
    expl = _explanation()
    fig, axes = plt.subplots(1, 2)
    returned = expl.plot(ax=axes[1], top_k=0, colorbar=False, title="mine")
    assert returned is axes[1] and len(returned.get_images()) == 2 and returned.get_title() == "mine"
    assert len(fig.axes) == 2
    plt.close(fig)


def test_explanation_carries_its_provenance():
    expl = _explanation()
    assert expl.method == "occlusion" and expl.params["random_state"] is None
    assert expl.params["parameters"]["window"] == (3, 3) and expl.params["parameters"]["value_range"] == (0.0, 255.0)
    assert expl.params["model_rows"] == 10 * 10 + 2  # windows of 3 at stride 1, probe and base and "numpy" in expl.params["versions"]
    assert expl.top_segments(2)[0] == 0 and "occlusion" in repr(expl)

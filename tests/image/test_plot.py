"""ImageExplanation.plot: image, heat map, outlined top segments, colour bar; ax honoured, never shown."""

import matplotlib.pyplot as plt
import numpy as np

import tabxai as tx


def _explanation():
    image = np.random.default_rng(0).uniform(0, 255, (12, 12, 3)).astype(np.uint8)
    model = lambda batch: batch[:, :6, :6].mean(axis=(1, 2, 3))
    segments = tx.image.segment(image, "grid", grid=(2, 2))
    return tx.image.explain(model, image, method="occlusion", segments=segments, fill=0.0, window=3)


def test_plot_draws_into_a_new_figure_with_overlays_and_a_colour_bar():
    expl = _explanation()
    ax = expl.plot(top_k=1)
    images = ax.get_images()
    assert len(images) == 2  # image, heat map
    np.testing.assert_allclose(images[0].get_array(), expl.image / 255.0)
    overlay = images[1].get_array()
    largest = np.unravel_index(np.argmax(np.abs(expl.heatmap)), expl.heatmap.shape)
    assert overlay[largest][3] == 0.75 and np.all(overlay[..., 3] <= 0.75)
    np.testing.assert_allclose(overlay[..., 3], 0.75 * np.abs(expl.heatmap) / np.abs(expl.heatmap).max())
    edges = np.array(ax.collections[0].get_segments())
    # the top segment is the top-left 6 x 6 patch: 4 sides of 6 pixel edges, on the pixel borders
    assert len(edges) == 24 and edges.min() == -0.5 and edges.max() == 5.5
    assert len(ax.figure.axes) == 2 and "occlusion" in ax.get_title()  # colour bar
    plt.close(ax.figure)


def test_plot_honours_ax_and_options():
    expl = _explanation()
    fig, axes = plt.subplots(1, 2)
    returned = expl.plot(ax=axes[1], top_k=0, colorbar=False, title="mine")
    assert returned is axes[1] and len(returned.get_images()) == 2 and returned.get_title() == "mine"
    assert len(returned.collections) == 0 and len(fig.axes) == 2
    plt.close(fig)


def test_grey_and_channel_first_images_are_shown_as_images():
    image = np.random.default_rng(1).uniform(0, 1, (3, 8, 10))
    expl = tx.image.explain(lambda b: b[:, 0].mean(axis=(1, 2)), image, layout="NCHW", method="occlusion")
    ax = expl.plot()
    assert ax.get_images()[0].get_array().shape == (8, 10, 3)
    plt.close(ax.figure)
    grey = tx.image.explain(lambda b: b.mean(axis=(1, 2)), image[0], method="occlusion")
    ax = grey.plot()
    assert ax.get_images()[0].get_array().shape == (8, 10)
    plt.close(ax.figure)


def test_explanation_carries_its_provenance():
    expl = _explanation()
    assert expl.method == "occlusion" and expl.params["random_state"] is None
    assert expl.params["parameters"]["window"] == (3, 3) and expl.params["parameters"]["value_range"] == (0.0, 255.0)
    assert expl.params["model_rows"] == 10 * 10 + 2  # windows of 3 at stride 1, the probe and the base value
    assert "numpy" in expl.params["versions"]
    assert expl.top_segments(2)[0] == 0 and "occlusion" in repr(expl)


def test_notebook_display_shows_the_map_and_the_top_segments():
    expl = _explanation()
    plt.close("all")  # figures other tests left open are not this one's
    html = expl._repr_html_(max_segments=2)
    assert html.count("<img") == 1 and "data:image/png;base64," in html
    assert html.count("<tr>") == 1 + 2 and "2 more segments" in html  # header and two segments
    assert "occlusion explanation of output" in html and "window=(3, 3)" in html
    assert plt.get_fignums() == []  # the figure it drew is closed

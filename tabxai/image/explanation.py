"""ImageExplanation: per-segment values, a pixel heat map, a plot, and how they were computed."""

from __future__ import annotations

import numpy as np

__all__ = ["ImageExplanation"]


class ImageExplanation:
    """An explanation of one image: a value per segment and a heat map over pixels.

    Attributes
    ----------
    values : ndarray (n_segments,)
        Attribution of each segment (Shapley value, LIME coefficient, or for the pixel methods
        occlusion and RISE the mean of the heat map over the segment's pixels).
    stderr : ndarray (n_segments,) or None
        Standard errors of ``values`` (sampled methods), None where the method gives none.
    heatmap : ndarray (H, W)
        Importance of each pixel: a segment's value spread over its pixels, or the pixel map of
        occlusion and RISE.
    segments : ndarray (H, W)
        Segment of each pixel, ``0 .. n_segments - 1``.
    segment_names : tuple
        The user's label of each segment.
    image : ndarray
        The explained image as given.
    score : float
        The model's score of the explained output on the image.
    base_value : float
        The score of the image with every segment filled (Shapley and LIME methods: the values
        add up to ``score - base_value`` for the Shapley methods).
    output, output_name : int, label
        Index and name of the explained output.
    params : dict
        Method, parameters, seed (``random_state``), model images used, versions.
    diagnostics : dict
        Method-specific facts (e.g. LIME's fit ``r2``).
    """

    def __init__(self, values, heatmap, segments, image, *, stderr=None, segment_names=None, score=np.nan,
                 base_value=np.nan, output=0, output_name=None, value_range=(0.0, 1.0), layout="NHWC",
                 params=None, diagnostics=None):
        self.values = np.asarray(values, dtype=np.float64)
        self.stderr = None if stderr is None else np.asarray(stderr, dtype=np.float64)
        self.heatmap = np.asarray(heatmap, dtype=np.float64)
        self.segments = segments
        self.segment_names = tuple(range(len(self.values))) if segment_names is None else tuple(segment_names)
        self.image = image
        self.score = float(score)
        self.base_value = float(base_value)
        self.output = output
        self.output_name = output_name
        self.value_range = value_range
        self.layout = layout
        self.params = dict(params or {})
        self.diagnostics = dict(diagnostics or {})

    @property
    def method(self):
        return self.params.get("method")

    @property
    def n_segments(self):
        return len(self.values)

    def top_segments(self, k=5):
        """Indices of the ``k`` segments with the largest values, largest first."""
        return np.argsort(-self.values, kind="stable")[:k]

    def __repr__(self):
        return (f"ImageExplanation(method={self.method!r}, output={self.output_name!r}, "
                f"n_segments={self.n_segments}, image={self.heatmap.shape})")

    def _repr_html_(self, max_segments=10):
        """Notebook display: the plot as an inline PNG and the top segments with their values."""
        import base64
        import io

        import matplotlib.pyplot as plt

        from .. import _html

        height, width = self.heatmap.shape
        title = (f"{_html.escape(self.method)} explanation of {_html.escape(self.output_name)} on a {height} x {width} "
                 f"image: score {self.score:.4g}, every segment filled {self.base_value:.4g}")
        fig, ax = plt.subplots(figsize=(3.6, 3.2))
        try:
            self.plot(ax=ax, top_k=min(5, self.n_segments), title="")
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=72, bbox_inches="tight")
        finally:
            plt.close(fig)
        picture = (f'<img alt="heat map" src="data:image/png;base64,'
                   f'{base64.b64encode(buffer.getvalue()).decode("ascii")}"/>')
        top = self.top_segments(max_segments)
        scale = float(np.max(np.abs(self.values))) or 1.0
        rows = []
        for k in top:
            error = "" if self.stderr is None else f" ± {self.stderr[k]:.2g}"
            rows.append([_html.escape(self.segment_names[k]), f"{self.values[k]:+.4g}{error}",
                         _html.bar(self.values[k], scale)])
        table = _html.table(["segment", "value", ""], rows, numeric=(1,))
        hidden = [self.segment_names[k] for k in np.setdiff1d(np.arange(self.n_segments), top)]
        return _html.render(title, picture, table, _html.hidden_note(hidden, "more segments"),
                            _html.parameters_block(self.params))

    def plot(self, ax=None, *, top_k=5, alpha=0.75, cmap="RdBu_r", colorbar=True, title=None):
        """The image, the heat map over it, the ``top_k`` segments outlined, a colour bar.

        The heat map's opacity grows with the magnitude of the value (``alpha`` at the largest), so
        the image shows through where the map is near zero.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None. ``show()`` is never called.
        top_k : int, default=5
            Outline this many segments with the largest values (0 for none).
        alpha : float, default=0.75
            Opacity of the heat map at its largest magnitude.
        cmap : str, default="RdBu_r"
            Diverging colour map, centred on zero.
        colorbar : bool, default=True
        title : str, default=None
            Default: method and explained output.

        Returns
        -------
        matplotlib Axes

        Examples
        --------
        >>> import numpy as np
        >>> import tabxai as tx
        >>> image = np.zeros((8, 8)); image[:4, :4] = 1.0
        >>> expl = tx.image.explain(lambda b: b[:, :4, :4].mean(axis=(1, 2)), image, method="occlusion", fill=0.0)
        >>> ax = expl.plot(top_k=2)
        >>> len(ax.get_images()), len(ax.collections[0].get_segments())  # image and map; two 1-pixel segments
        (2, 8)
        """
        import matplotlib.pyplot as plt
        from matplotlib.cm import ScalarMappable
        from matplotlib.collections import LineCollection
        from matplotlib.colors import Normalize

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4))
        shown = self._display_image()
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
        limit = float(np.max(np.abs(self.heatmap))) or 1.0
        norm = Normalize(vmin=-limit, vmax=limit)
        mappable = ScalarMappable(norm=norm, cmap=cmap)
        overlay = mappable.to_rgba(self.heatmap)
        overlay[..., 3] = alpha * np.abs(self.heatmap) / limit
        ax.imshow(overlay, interpolation="nearest")
        if top_k:
            edges = _outline(self.segments, self.top_segments(top_k))
            ax.add_collection(LineCollection(edges, colors="gold", linewidths=1.5))
        if colorbar:
            ax.figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.04, label="attribution")
        ax.set_title(title if title is not None else f"{self.method}: {self.output_name}")
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    def _display_image(self):
        image = np.asarray(self.image, dtype=np.float64)
        if self.layout == "NCHW":
            image = np.moveaxis(image, 0, -1)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        low, high = self.value_range
        image = np.clip((image - low) / (high - low), 0.0, 1.0)
        if image.ndim == 3 and image.shape[2] not in (3, 4):
            image = image.mean(axis=2)
        return image


def _outline(segments, chosen):
    """Line segments (pixel-edge coordinates) around each of the ``chosen`` segments."""
    lines = []
    for label in chosen:
        inside = np.pad(segments == label, 1, constant_values=False)
        vertical = inside[1:-1, 1:] != inside[1:-1, :-1]  # (H, W + 1): edge left of column x
        for y, x in zip(*np.nonzero(vertical)):
            lines.append([(x - 0.5, y - 0.5), (x - 0.5, y + 0.5)])
        horizontal = inside[1:, 1:-1] != inside[:-1, 1:-1]  # (H + 1, W): edge above row y
        for y, x in zip(*np.nonzero(horizontal)):
            lines.append([(x - 0.5, y - 0.5), (x + 0.5, y - 0.5)])
    return lines

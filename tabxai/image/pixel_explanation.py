"""PixelExplanation: an :class:`ImageExplanation` whose values are per pixel (gradient and CAM maps)."""

from __future__ import annotations

import numpy as np

from .explanation import ImageExplanation

__all__ = ["PixelExplanation"]


class PixelExplanation(ImageExplanation):
    """An image explanation by a gradient or CAM method: values per pixel and channel.

    Everything of :class:`ImageExplanation` (heat map, plot, deletion and insertion curves) with
    ``values`` of shape ``(H, W, C)`` (saliency, gradient x input, integrated gradients, SmoothGrad;
    ``(H, W)`` for CAM methods, which have no channel axis) instead of one value per segment.
    ``segment_values`` holds the mean of the heat map over each segment of ``segments`` (an 8 x 8
    grid by default): the top segments of plots and tables.
    """

    def __init__(self, values, heatmap, segments, image, **kwargs):
        super().__init__(values, heatmap, segments, image, **kwargs)
        flat = np.asarray(segments).ravel()
        counts = np.bincount(flat)
        self.segment_values = np.bincount(flat, weights=self.heatmap.ravel(), minlength=len(counts)) / np.maximum(
            counts, 1)
        if len(self.segment_names) != len(self.segment_values):
            self.segment_names = tuple(range(len(self.segment_values)))

    @property
    def n_segments(self):
        return len(self.segment_values)

    def top_segments(self, k=5):
        """Indices of the ``k`` segments with the largest mean heat, largest first."""
        return np.argsort(-self.segment_values, kind="stable")[:k]

    def __repr__(self):
        return f"PixelExplanation(method={self.method!r}, output={self.output_name!r}, image={self.heatmap.shape})"

    def _repr_html_(self, max_segments=10):
        by_segment = ImageExplanation(self.segment_values, self.heatmap, self.segments, self.image,
                                      segment_names=self.segment_names, score=self.score, base_value=self.base_value,
                                      output=self.output, output_name=self.output_name, value_range=self.value_range,
                                      layout=self.layout, params=self.params, diagnostics=self.diagnostics)
        return by_segment._repr_html_(max_segments)

"""Deletion and insertion curves (Petsiuk, Das & Saenko 2018): how faithful is a heat map?

Pixels are removed from the image (deletion) or added to an uninformative canvas (insertion) in the
order of the heat map, most important first; the model's score of the explained class is recorded
after each step. A faithful map makes the deletion score fall fast (small area under the curve) and
the insertion score rise fast (large area). All steps are one request streamed through the model in
chunks of ``max_rows`` images.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._engine import stream_rows
from .._kernels.image import fill_ranked
from .._validation import check_bool, check_int
from ._model import bind_image_model
from ._schema import ImageSchema, check_image, check_value_range
from .masker import fill_image

__all__ = ["FaithfulnessCurve", "deletion_auc", "insertion_auc"]


class FaithfulnessCurve(NamedTuple):
    """A deletion or insertion curve: the score after each step and the area under it."""

    auc: float  # area under scores against fractions (trapezoid), in score units
    fractions: np.ndarray  # share of pixels removed (deletion) or inserted (insertion), from 0 to 1
    scores: np.ndarray  # model score of the explained output at each step


def _heatmap(heatmap, schema):
    if hasattr(heatmap, "heatmap"):  # an ImageExplanation
        heatmap = heatmap.heatmap
    array = np.asarray(heatmap, dtype=np.float64)
    if array.shape != (schema.height, schema.width):
        raise ValueError(f"`heatmap` must have the image's height and width ({schema.height}, {schema.width}); "
                         f"got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("`heatmap` has NaN or infinite values")
    return array


def _curve(kind, model, image, heatmap, output, fill, n_steps, layout, value_range, blur_sigma, max_rows,
           return_curve):
    if output is None and getattr(heatmap, "output_name", None) is not None:
        output = heatmap.output_name  # an explanation is scored on the output it explains
    image = check_image(image, layout)
    check_value_range(image, value_range)
    schema = ImageSchema(image.shape, layout)
    pixels = schema.pixels(image)
    heat = _heatmap(heatmap, schema)
    n_steps = min(100, schema.n_pixels) if n_steps is None else check_int(n_steps, "n_steps", min_value=1,
                                                                        max_value=schema.n_pixels)
    check_bool(return_curve, "return_curve")
    whole = np.zeros((schema.height, schema.width), dtype=np.int64)
    canvas = fill_image(schema, pixels, whole, fill, blur_sigma=blur_sigma)
    bound, _, _, _ = bind_image_model(model, schema, pixels, output, max_rows)
    order = np.argsort(-heat.ravel(), kind="stable")
    rank = np.empty(schema.n_pixels, dtype=np.int64)
    rank[order] = np.arange(schema.n_pixels)
    counts = np.round(np.arange(n_steps + 1) * schema.n_pixels / n_steps).astype(np.int64)
    first, second = (pixels, canvas) if kind == "deletion" else (canvas, pixels)
    scores = np.empty(n_steps + 1)

    def fill_rows(start, stop, out):
        fill_ranked(first, second, rank, counts, schema.n_channels, start, stop, out)

    def consume(outputs, start):
        scores[start:start + outputs.shape[0]] = outputs[:, 0]

    stream_rows(bound, n_steps + 1, schema.n_columns, fill_rows, consume)
    fractions = counts / schema.n_pixels
    auc = float(np.sum((scores[1:] + scores[:-1]) * np.diff(fractions)) / 2)
    return FaithfulnessCurve(auc, fractions, scores) if return_curve else auc


def deletion_auc(model, image, heatmap, *, output=None, fill=0.0, n_steps=None, layout="NHWC", value_range=None,
                 blur_sigma=None, max_rows=None, return_curve=False):
    """Area under the deletion curve: the score as pixels are removed in the order of the heat map.

    Lower is better: removing the pixels a faithful map ranks first destroys the score quickly.

    Parameters
    ----------
    model : callable
        Takes a batch of images (``(n, H, W, C)``, ``(n, H, W)`` or ``(n, C, H, W)`` with
        ``layout="NCHW"``) and returns scores ``(n, n_classes)`` or ``(n,)``.
    image : ndarray
        The explained image in the model's layout.
    heatmap : ndarray (H, W) or ImageExplanation
        Importance of each pixel (higher first).
    output : int or label, default=None
        Output scored; default the output an :class:`ImageExplanation` given as ``heatmap`` explains,
        else the class the model scores highest on the image.
    fill : "mean", "blur", float, sequence or ndarray, default=0.0
        What a removed pixel shows (a constant, black by default as in the paper; see
        :class:`tabxai.image.ImageMasker`; ``"mean"`` is the image's mean colour here).
    n_steps : int, default=None
        Steps of the curve; step ``k`` removes ``round(k * H * W / n_steps)`` pixels. Default 100,
        or one pixel a step for images of fewer pixels.
    layout : {"NHWC", "NCHW"}, default="NHWC"
    value_range : (float, float), default=None
        Range of the image's values (see :func:`tabxai.image.explain`).
    blur_sigma : float, default=None
        Standard deviation of ``fill="blur"`` in pixels.
    max_rows : int, default=None
        Most images per model call (default: 64 MiB of images, at most 1,024).
    return_curve : bool, default=False
        Return a :class:`FaithfulnessCurve` (area, fractions, scores) instead of the area.

    Returns
    -------
    float or FaithfulnessCurve

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((8, 8)); image[:4] = 1.0
    >>> model = lambda batch: batch[:, :4].mean(axis=(1, 2))  # looks at the top half only
    >>> heat = np.zeros((8, 8)); heat[:4] = 1.0
    >>> round(deletion_auc(model, image, heat, n_steps=2), 3), round(deletion_auc(model, image, -heat, n_steps=2), 3)
    (0.25, 0.75)
    """
    return _curve("deletion", model, image, heatmap, output, fill, n_steps, layout, value_range, blur_sigma,
                  max_rows, return_curve)


def insertion_auc(model, image, heatmap, *, output=None, fill="blur", n_steps=None, layout="NHWC", value_range=None,
                  blur_sigma=None, max_rows=None, return_curve=False):
    """Area under the insertion curve: the score as pixels are added in the order of the heat map.

    Higher is better. The canvas is a blurred copy of the image by default, as in the paper.
    Parameters are those of :func:`deletion_auc`; ``fill`` is the canvas.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((8, 8)); image[:4] = 1.0
    >>> model = lambda batch: batch[:, :4].mean(axis=(1, 2))
    >>> heat = np.zeros((8, 8)); heat[:4] = 1.0
    >>> round(insertion_auc(model, image, heat, fill=0.0, n_steps=2), 3)
    0.75
    """
    return _curve("insertion", model, image, heatmap, output, fill, n_steps, layout, value_range, blur_sigma,
                  max_rows, return_curve)

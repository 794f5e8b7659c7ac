"""RISE (Petsiuk, Das & Saenko 2018): saliency from randomly masked images.

Mask ``i`` is a random ``s x s`` binary grid (each cell kept with probability ``p``), upsampled
bilinearly to ``(s + 1) * cell`` pixels and cropped at a random shift below one cell. The model sees
``fill + mask * (image - fill)``; the saliency of pixel ``u`` is the score-weighted mean of the masks,

    S(u) = 1 / (N p) * sum_i (f_i - mean(f)) M_i(u),

centred on the mean score: the same map as the paper's ``sum_i f_i M_i(u) / (N p)`` up to a constant
in expectation (``E[M_i(u)] = p``) but with less noise. Masks come in blocks of 64 drawn from a
generator keyed by the seed and the block, so they are the same whatever the chunk size.
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import stream_rows
from .._kernels.image import accumulate_mask_scores, fill_blended, segment_mask_means, upsample_masks
from .._validation import row_generator

__all__ = ["rise_map", "rise_masks"]

_BLOCK = 64


def rise_masks(seed, start, stop, height, width, grid_size, keep_prob):
    """Masks ``start`` to ``stop`` of the sequence of seed ``seed``: ``(stop - start, H * W)`` in [0, 1]."""
    cell_height = math.ceil(height / grid_size)
    cell_width = math.ceil(width / grid_size)
    first, last = start // _BLOCK, (stop - 1) // _BLOCK
    parts = []
    for block in range(first, last + 1):
        rng = row_generator(seed, block)
        grids = (rng.random((_BLOCK, grid_size, grid_size)) < keep_prob).astype(np.float64)
        shifts = np.stack([rng.integers(0, cell_height, _BLOCK), rng.integers(0, cell_width, _BLOCK)], axis=1)
        low = max(start - block * _BLOCK, 0)
        high = min(stop - block * _BLOCK, _BLOCK)
        masks = np.empty((high - low, height * width))
        upsample_masks(grids[low:high], np.ascontiguousarray(shifts[low:high]), cell_height, cell_width,
                       height, width, masks)
        parts.append(masks)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def rise_map(model, schema, pixels, fill_row, segments, n_masks, grid_size, keep_prob, seed, *, progress=None):
    """RISE heat map ``(H, W)``, per-segment values and their standard errors.

    A segment's value is the mean of the map over its pixels; its standard error is the Monte
    Carlo error of that mean over the masks.
    """
    height, width = schema.height, schema.width
    n_pixels = height * width
    flat_segments = np.ascontiguousarray(segments.ravel())
    counts = np.bincount(flat_segments).astype(np.float64)
    weighted = np.zeros((1, n_pixels))
    mask_sum = np.zeros(n_pixels)
    score_sum = np.zeros(1)
    scores = np.empty(n_masks)
    segment_masks = np.empty((n_masks, counts.shape[0]))
    current = {}

    def fill(start, stop, out):
        masks = rise_masks(seed, start, stop, height, width, grid_size, keep_prob)
        current["masks"] = masks
        fill_blended(pixels, fill_row, masks, schema.n_channels, out)

    def consume(outputs, start):
        masks = current["masks"]
        accumulate_mask_scores(outputs, masks, weighted, mask_sum, score_sum)
        scores[start:start + outputs.shape[0]] = outputs[:, 0]
        segment_mask_means(masks, flat_segments, counts, segment_masks[start:start + outputs.shape[0]])

    stream_rows(model, n_masks, schema.n_columns, fill, consume, progress=progress)
    mean_score = score_sum[0] / n_masks
    heatmap = ((weighted[0] - mean_score * mask_sum) / (n_masks * keep_prob)).reshape(height, width)
    terms = (scores - mean_score)[:, None] * segment_masks / keep_prob
    values = terms.mean(axis=0)
    stderr = terms.std(axis=0, ddof=1) / np.sqrt(n_masks) if n_masks > 1 else np.full(values.shape, np.inf)
    return heatmap, values, stderr

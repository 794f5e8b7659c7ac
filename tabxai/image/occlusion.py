"""Occlusion (Zeiler & Fergus 2014): slide a filled window over the image, record the score drop."""

from __future__ import annotations

import numpy as np

from .._engine import stream_rows
from .._kernels.image import fill_windows
from .._validation import check_int

__all__ = ["occlusion_map", "window_positions"]


def _size_pair(value, name, limits):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise TypeError(f"`{name}` must be an int or a pair (height, width); got {value!r}")
        return tuple(check_int(v, name, min_value=1, max_value=limit) for v, limit in zip(value, limits))
    value = check_int(value, name, min_value=1, max_value=min(limits))
    return value, value


def window_positions(height, width, window, stride):
    """Top-left corners of the windows: every ``stride`` pixels, plus the last position so every pixel is covered."""
    window = _size_pair(window, "window", (height, width))
    stride = _size_pair(stride, "stride", (height, width))
    axes = []
    for size, win, step in zip((height, width), window, stride):
        starts = list(range(0, size - win + 1, step))
        if starts[-1] != size - win:
            starts.append(size - win)
        axes.append(np.array(starts, dtype=np.int64))
    tops, lefts = np.meshgrid(axes[0], axes[1], indexing="ij")
    return window, stride, tops.ravel(), lefts.ravel()


def occlusion_map(model, schema, pixels, fill_row, score, window, stride, *, progress=None):
    """Heat map ``(H, W)``: mean score drop ``f(x) - f(x with the window filled)`` over the windows covering each pixel.

    Returns the map and the number of model images.
    """
    height, width = schema.height, schema.width
    (window_height, window_width), _, tops, lefts = window_positions(height, width, window, stride)
    drops = np.empty(len(tops))

    def fill(start, stop, out):
        fill_windows(pixels, fill_row, width, schema.n_channels, tops, lefts, window_height, window_width,
                     start, stop, out)

    def consume(outputs, start):
        drops[start:start + outputs.shape[0]] = score - outputs[:, 0]

    stream_rows(model, len(tops), schema.n_columns, fill, consume, progress=progress)
    total = np.zeros((height, width))
    covered = np.zeros((height, width))
    for top, left, drop in zip(tops, lefts, drops):
        total[top:top + window_height, left:left + window_width] += drop
        covered[top:top + window_height, left:left + window_width] += 1.0
    return total / covered, len(tops)

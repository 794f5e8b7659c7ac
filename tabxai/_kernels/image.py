"""Kernels that build masked images and reduce model outputs for the image methods.

Images are flat float64 rows in height-width-channel order: pixel ``p = y * width + x`` holds the
values ``row[p * n_channels + c]``. Every fill kernel writes any contiguous slice ``start .. stop``
of a request's rows, so the engine can stream the request in chunks of any size with identical rows.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def segment_means(image, segments, n_segments, n_channels):
    """Mean colour of each segment, as a flat image: every pixel holds its segment's mean."""
    n_pixels = segments.shape[0]
    sums = np.zeros((n_segments, n_channels))
    counts = np.zeros(n_segments)
    for p in range(n_pixels):
        s = segments[p]
        counts[s] += 1.0
        for c in range(n_channels):
            sums[s, c] += image[p * n_channels + c]
    out = np.empty(n_pixels * n_channels)
    for p in range(n_pixels):
        s = segments[p]
        for c in range(n_channels):
            out[p * n_channels + c] = sums[s, c] / counts[s]
    return out


@numba.njit(cache=True, nogil=True)
def fill_segment_masks(rows, fill, run_starts, run_segments, coalitions, pair_row, pair_mask, start, stop, out):
    """Write masked images ``start`` to ``stop``: one image per (explained image, coalition) pair.

    A flat image is cut into runs of consecutive values of one segment: run ``k`` covers values
    ``run_starts[k]`` to ``run_starts[k + 1]`` (the last entry is the row length) of segment
    ``run_segments[k]``. Its values come from ``rows[pair_row[q]]`` when the segment is in coalition
    ``coalitions[pair_mask[q]]``, from ``fill`` otherwise: whole runs are copied.

    ``run_starts`` is unsigned (uint64): indices that cannot be negative need no wrap-around test per
    value, so each run's copy vectorises (four times faster on runs of 24 values).
    """
    n_runs = run_segments.shape[0]
    for q in range(start, stop):
        image = out[q - start]
        row = rows[pair_row[q]]
        mask = coalitions[pair_mask[q]]
        for k in range(n_runs):
            first = run_starts[k]
            last = run_starts[k + 1]
            if mask[run_segments[k]]:
                for j in range(first, last):
                    image[j] = row[j]
            else:
                for j in range(first, last):
                    image[j] = fill[j]


@numba.njit(cache=True, nogil=True)
def fill_windows(image, fill, width, n_channels, tops, lefts, window_height, window_width, start, stop, out):
    """Write occluded images ``start`` to ``stop``: image ``q`` has the window at (tops[q], lefts[q]) filled."""
    n_values = image.shape[0]
    for q in range(start, stop):
        o = q - start
        for j in range(n_values):
            out[o, j] = image[j]
        for y in range(tops[q], tops[q] + window_height):
            for x in range(lefts[q], lefts[q] + window_width):
                base = (y * width + x) * n_channels
                for c in range(n_channels):
                    out[o, base + c] = fill[base + c]


@numba.njit(cache=True, nogil=True)
def upsample_masks(grids, shifts, cell_height, cell_width, height, width, out):
    """Bilinear upsampling of binary grids ``(n, s, s)`` to ``(s + 1) * cell`` pixels, cropped at a shift.

    RISE (Petsiuk et al. 2018): mask ``i`` is the grid stretched over ``(s + 1) * cell_height`` by
    ``(s + 1) * cell_width`` pixels (half-pixel centres, edges clamped), of which the window of
    ``height x width`` pixels starting at ``shifts[i]`` is kept. ``out`` has shape ``(n, height * width)``.
    """
    n, s, _ = grids.shape
    scale_y = s / ((s + 1.0) * cell_height)
    scale_x = s / ((s + 1.0) * cell_width)
    for i in range(n):
        for y in range(height):
            gy = (y + shifts[i, 0] + 0.5) * scale_y - 0.5
            gy = min(max(gy, 0.0), s - 1.0)
            y0 = min(int(gy), s - 2) if s > 1 else 0
            fy = gy - y0
            y1 = y0 + 1 if s > 1 else 0
            for x in range(width):
                gx = (x + shifts[i, 1] + 0.5) * scale_x - 0.5
                gx = min(max(gx, 0.0), s - 1.0)
                x0 = min(int(gx), s - 2) if s > 1 else 0
                fx = gx - x0
                x1 = x0 + 1 if s > 1 else 0
                top = grids[i, y0, x0] * (1.0 - fx) + grids[i, y0, x1] * fx
                bottom = grids[i, y1, x0] * (1.0 - fx) + grids[i, y1, x1] * fx
                out[i, y * width + x] = top * (1.0 - fy) + bottom * fy


@numba.njit(cache=True, nogil=True)
def fill_blended(image, fill, masks, n_channels, out):
    """``out[i] = fill + masks[i] * (image - fill)``, the mask repeated over the channels."""
    n, n_pixels = masks.shape
    for i in range(n):
        for p in range(n_pixels):
            m = masks[i, p]
            base = p * n_channels
            for c in range(n_channels):
                out[i, base + c] = fill[base + c] + m * (image[base + c] - fill[base + c])


@numba.njit(cache=True, nogil=True)
def accumulate_mask_scores(outputs, masks, weighted, mask_sum, score_sum):
    """Add ``outputs[i, k] * masks[i]`` to ``weighted[k]``, ``masks[i]`` to ``mask_sum``, in order of ``i``."""
    n, n_pixels = masks.shape
    n_outputs = outputs.shape[1]
    for i in range(n):
        for k in range(n_outputs):
            f = outputs[i, k]
            score_sum[k] += f
            for p in range(n_pixels):
                weighted[k, p] += f * masks[i, p]
        for p in range(n_pixels):
            mask_sum[p] += masks[i, p]


@numba.njit(cache=True, nogil=True)
def fill_ranked(first, second, rank, counts, n_channels, start, stop, out):
    """Write images ``start`` to ``stop`` of a deletion or insertion curve.

    In image ``q`` the ``counts[q]`` pixels of lowest ``rank`` come from ``second``, the others
    from ``first``.
    """
    n_pixels = rank.shape[0]
    for q in range(start, stop):
        o = q - start
        count = counts[q]
        for p in range(n_pixels):
            base = p * n_channels
            if rank[p] < count:
                for c in range(n_channels):
                    out[o, base + c] = second[base + c]
            else:
                for c in range(n_channels):
                    out[o, base + c] = first[base + c]


@numba.njit(cache=True, nogil=True)
def segment_mask_means(masks, segments, counts, out):
    """``out[i, s]``: mean of ``masks[i]`` over the pixels of segment ``s`` (pixels summed in order)."""
    n, n_pixels = masks.shape
    n_segments = counts.shape[0]
    for i in range(n):
        for s in range(n_segments):
            out[i, s] = 0.0
        for p in range(n_pixels):
            out[i, segments[p]] += masks[i, p]
        for s in range(n_segments):
            out[i, s] /= counts[s]

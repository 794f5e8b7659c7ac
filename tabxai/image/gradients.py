"""Gradient maps: saliency, gradient x input, integrated gradients and SmoothGrad.

Every method asks the model for gradients at points it builds (the image, noisy copies, points on
a path from a baseline); the points are written into the engine's buffer and streamed through the
model's ``gradient`` in chunks of ``max_rows`` images by :func:`tabxai._engine.stream_rows`, the same
chunking as every model call, so memory is bounded and results never depend on ``max_rows``.

- Saliency (Simonyan et al. 2014): ``|d f / d x|``, heat map the largest over channels.
- Gradient x input (Shrikumar et al. 2016): ``x * d f / d x``, heat map the sum over channels.
- Integrated gradients (Sundararajan et al. 2017):
  ``IG_i = (x_i - b_i) * integral_0^1 d f / d x_i (b + a (x - b)) da``, by Gauss-Legendre
  quadrature by default; its values add up to ``f(x) - f(b)`` (completeness) up to the
  quadrature's error, reported as ``diagnostics["completeness_gap"]``.
- SmoothGrad (Smilkov et al. 2017): the mean of one of the above over ``n_samples`` copies of the
  image with Gaussian noise of standard deviation ``noise * (high - low)`` of the value range.
"""

from __future__ import annotations

import numpy as np

from .._engine import stream_rows

__all__ = ["INTEGRATIONS", "GradientCall", "gradient_map", "integrated_gradients_map", "integration_rule",
           "smoothgrad_map"]

INTEGRATIONS = ("gauss-legendre", "riemann-left", "riemann-right", "riemann-midpoint", "riemann-trapezoid")


def integration_rule(integration, n_steps):
    """Points ``alphas`` in [0, 1] and weights (summing to 1) of a quadrature rule with ``n_steps`` points.

    Examples
    --------
    >>> alphas, weights = integration_rule("riemann-midpoint", 4)
    >>> alphas.tolist(), weights.tolist()
    ([0.125, 0.375, 0.625, 0.875], [0.25, 0.25, 0.25, 0.25])
    """
    steps = np.arange(n_steps, dtype=np.float64)
    if integration == "gauss-legendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        return (nodes + 1) / 2, weights / 2
    if integration == "riemann-trapezoid":
        if n_steps < 2:
            raise ValueError(f"integration='riemann-trapezoid' needs n_steps >= 2; got {n_steps}")
        weights = np.full(n_steps, 1.0 / (n_steps - 1))
        weights[[0, -1]] /= 2
        return steps / (n_steps - 1), weights
    offset = {"riemann-left": 0.0, "riemann-right": 1.0, "riemann-midpoint": 0.5}[integration]
    return (steps + offset) / n_steps, np.full(n_steps, 1.0 / n_steps)


class GradientCall:
    """The model's gradient as the engine sees a model: flat rows in, flat gradient rows out."""

    def __init__(self, model, schema, output, max_rows):
        self.model, self.schema, self.output, self.max_rows = model, schema, output, max_rows
        self.calls = 0

    def __call__(self, rows, first_row=0):
        batch = self.schema.decode(rows)
        gradient = np.asarray(self.model.gradient(batch, self.output))
        if gradient.shape != batch.shape:
            raise ValueError(f"the model's gradient(images, output) must return an array of the images' shape "
                             f"{batch.shape}; got {gradient.shape}")
        if not np.isfinite(gradient).all():
            raise ValueError(f"the model's gradient has NaN or infinite values on a batch of {len(batch)} images")
        self.calls += 1
        return self.schema.encode(gradient, what="the gradient")


def _per_pixel(values, schema, kind):
    """Heat map ``(H, W)`` of flat pixel-channel values: their sum, or largest magnitude, over channels."""
    cube = values.reshape(schema.height, schema.width, schema.n_channels)
    return cube.max(axis=2) if kind == "max" else cube.sum(axis=2)


def _stream_weighted_sum(call, n_rows, n_columns, fill, weight_of, progress):
    """``sum_r weight_of(r) * gradient(point r)`` over ``n_rows`` points written by ``fill``."""
    total = np.zeros(n_columns)

    def consume(gradients, start):
        total[:] += weight_of(start, start + gradients.shape[0]) @ gradients

    stream_rows(call, n_rows, n_columns, fill, consume, progress=progress)
    return total


def gradient_map(call, pixels, method, *, progress=None):
    """Saliency or gradient x input of one image: values (flat, pixel-channel) and the heat map."""
    def fill(start, stop, out):
        out[:] = pixels

    gradient = _stream_weighted_sum(call, 1, pixels.size, fill, lambda a, b: np.ones(b - a), progress)
    if method == "saliency":
        values = np.abs(gradient)
        return values, _per_pixel(values, call.schema, "max")
    values = gradient * pixels
    return values, _per_pixel(values, call.schema, "sum")


def integrated_gradients_map(call, pixels, baseline, alphas, weights, *, progress=None):
    """Integrated gradients of one image from ``baseline``: values (flat) and the heat map."""
    difference = pixels - baseline

    def fill(start, stop, out):
        np.multiply(alphas[start:stop, None], difference, out=out)
        out += baseline

    path_mean = _stream_weighted_sum(call, len(alphas), pixels.size, fill, lambda a, b: weights[a:b], progress)
    values = difference * path_mean
    return values, _per_pixel(values, call.schema, "sum")


def smoothgrad_map(call, pixels, smoothed, n_samples, sigma, seed, *, baseline=None, alphas=None, weights=None,
                   progress=None):
    """SmoothGrad: the mean of ``smoothed`` (saliency, gradient-x-input, integrated-gradients) over noisy copies.

    Copy ``s`` adds ``sigma * N(0, 1)`` noise drawn from its own child of ``SeedSequence(seed)``,
    so the map does not depend on ``max_rows``. Integrated gradients of a copy go from the same
    ``baseline`` to the noisy image.
    """
    schema = call.schema
    children = np.random.SeedSequence(seed).spawn(n_samples)
    n_points = 1 if smoothed != "integrated-gradients" else len(alphas)
    cache = {}

    def noisy(sample):
        if sample not in cache:
            cache[sample] = pixels + sigma * np.random.default_rng(children[sample]).standard_normal(pixels.size)
        return cache[sample]

    def fill(start, stop, out):
        for sample in list(cache):
            if sample < start // n_points:
                del cache[sample]
        for row in range(start, stop):
            sample, step = divmod(row, n_points)
            out[row - start] = noisy(sample) if n_points == 1 else baseline + alphas[step] * (noisy(sample) - baseline)

    heat = np.zeros((schema.height, schema.width))
    values = np.zeros(pixels.size)
    sample_total = np.zeros(pixels.size)

    def consume(gradients, start):
        if n_points == 1:  # one gradient per copy: whole chunks at once
            if smoothed == "saliency":
                copy_values = np.abs(gradients)
                heat[:] += copy_values.reshape(-1, schema.height, schema.width, schema.n_channels).max(axis=3).sum(0)
            else:
                copy_values = gradients * np.stack([noisy(s) for s in range(start, start + len(gradients))])
                heat[:] += copy_values.reshape(-1, schema.height, schema.width, schema.n_channels).sum(axis=(0, 3))
            values[:] += copy_values.sum(axis=0)
            return
        for offset, gradient in enumerate(gradients):
            sample, step = divmod(start + offset, n_points)
            sample_total[:] += weights[step] * gradient
            if step == n_points - 1:  # the copy's last point: its integrated gradients are complete
                copy_values = sample_total * (noisy(sample) - baseline)
                heat[:] += _per_pixel(copy_values, schema, "sum")
                values[:] += copy_values
                sample_total[:] = 0.0

    stream_rows(call, n_samples * n_points, pixels.size, fill, consume, progress=progress)
    return values / n_samples, heat / n_samples

"""Class activation maps from gradients: Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhyay et al. 2018).

With ``A`` the activations ``(h, w, k)`` of a convolution layer and ``G`` the gradient of the
explained output with respect to them:

- Grad-CAM: channel weights ``a_k = mean_{ij} G_ijk``, map ``ReLU(sum_k a_k A_k)``;
- Grad-CAM++: ``alpha_ijk = G_ijk^2 / (2 G_ijk^2 + sum_ab A_abk G_ijk^3)`` (0 where the
  denominator is), weights ``a_k = sum_ij alpha_ijk ReLU(G_ijk)``, map ``ReLU(sum_k a_k A_k)``.

The ``(h, w)`` map is stretched to the image's height and width by bilinear interpolation with
half-pixel centres (as OpenCV's ``resize`` and ``jax.image.resize``), edges clamped.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cam_map", "resize_bilinear"]


def resize_bilinear(maps, height, width):
    """Resize maps ``(n, h, w)`` to ``(n, height, width)``: bilinear, half-pixel centres, edges clamped.

    Examples
    --------
    >>> resize_bilinear(np.array([[[0.0, 1.0]]]), 1, 4).round(3).tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    """
    maps = np.asarray(maps, dtype=np.float64)

    def axis(n_out, n_in):
        position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, position - low

    low, high, t = axis(height, maps.shape[1])
    rows = maps[:, low] * (1 - t)[None, :, None] + maps[:, high] * t[None, :, None]
    low, high, t = axis(width, maps.shape[2])
    return rows[:, :, low] * (1 - t) + rows[:, :, high] * t


def _check_pair(activations, gradients):
    if activations.ndim != 4 or activations.shape != gradients.shape:
        raise ValueError(f"activations_and_gradients(images, output) must return two arrays (n, h, w, k) of one "
                         f"shape; got {activations.shape} and {gradients.shape}")
    if not (np.isfinite(activations).all() and np.isfinite(gradients).all()):
        raise ValueError("activations_and_gradients returned NaN or infinite values")


def cam_map(model, batch, output, height, width, plus=False):
    """Grad-CAM (or Grad-CAM++) maps of a batch of images: ``(n, height, width)`` and the layer's ``(h, w)``."""
    activations, gradients = model.activations_and_gradients(batch, output)
    _check_pair(activations, gradients)
    if plus:
        squared = gradients ** 2
        denominator = 2 * squared + activations.sum(axis=(1, 2), keepdims=True) * gradients ** 3
        alpha = np.divide(squared, denominator, out=np.zeros_like(squared), where=denominator != 0)
        weights = (alpha * np.maximum(gradients, 0)).sum(axis=(1, 2))
    else:
        weights = gradients.mean(axis=(1, 2))
    maps = np.maximum(np.einsum("nhwk,nk->nhw", activations, weights), 0.0)
    return resize_bilinear(maps, height, width), activations.shape[1:3]

"""The model-randomisation sanity check (Adebayo et al. 2018): does a map depend on what the net learned?

The layers with weights are re-initialised at random from the top down (cascading randomisation),
one more layer at each step, on copies of the model; the map of each randomised net is compared
with the trained net's map by Spearman's rank correlation. A map that stays the same when the
weights are random (an edge detector does) explains the image, not the model: it fails the check.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_bool, check_real, resolve_seed
from .gradient_model import as_gradient_model

__all__ = ["SanityCheck", "rank_correlation", "sanity_check"]


def rank_correlation(a, b):
    """Spearman's rank correlation of two maps (average ranks for ties); 0 when either map is constant.

    Examples
    --------
    >>> rank_correlation(np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 9.0]))
    1.0
    >>> rank_correlation(np.array([1.0, 2.0, 3.0]), np.zeros(3))
    0.0
    """
    from scipy.stats import rankdata

    ranks_a = rankdata(np.ravel(a)) - (np.size(a) + 1) / 2
    ranks_b = rankdata(np.ravel(b)) - (np.size(b) + 1) / 2
    scale = np.sqrt(np.dot(ranks_a, ranks_a) * np.dot(ranks_b, ranks_b))
    return 0.0 if scale == 0 else float(np.dot(ranks_a, ranks_b) / scale)


class SanityCheck:
    """The result of :func:`sanity_check`.

    Attributes
    ----------
    method : str
        The checked method.
    layers : tuple of str
        The layer re-initialised at each step, from the top layer down; step ``k`` has the top
        ``k + 1`` layers random, the last step the whole net.
    correlations : ndarray (n_steps,)
        Spearman's rank correlation between the trained net's map and each step's map.
    passed : bool
        Whether the fully randomised net's map differs from the trained net's:
        ``correlations[-1] < threshold`` (an anti-correlated map differs too).
    threshold : float
    maps : ndarray (n_steps + 1, H, W)
        The trained net's map, then each step's.
    """

    def __init__(self, method, layers, correlations, maps, threshold, absolute):
        self.method = method
        self.layers = tuple(layers)
        self.correlations = np.asarray(correlations, dtype=np.float64)
        self.maps = np.asarray(maps, dtype=np.float64)
        self.threshold = float(threshold)
        self.absolute = absolute
        self.passed = bool(self.correlations[-1] < self.threshold)

    def __repr__(self):
        steps = ", ".join(f"{layer}: {rho:+.2f}" for layer, rho in zip(self.layers, self.correlations))
        return f"SanityCheck(method={self.method!r}, passed={self.passed}, correlations=[{steps}])"

    def to_frame(self):
        """One line per step: the layer randomised (top down) and the rank correlation."""
        import pandas as pd

        return pd.DataFrame({"randomised_down_to": self.layers, "rank_correlation": self.correlations})

    def plot(self, axes=None, *, cmap="RdBu_r"):
        """The trained net's map, then each step's, in one row, titled with the rank correlation.

        Returns the matplotlib Axes (an array), never calls ``show()``.
        """
        import matplotlib.pyplot as plt

        n = len(self.maps)
        if axes is None:
            _, axes = plt.subplots(1, n, figsize=(1.9 * n, 2.2), squeeze=False)
            axes = axes[0]
        for k, (ax, heat) in enumerate(zip(axes, self.maps)):
            limit = float(np.max(np.abs(heat))) or 1.0
            ax.imshow(heat, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title("trained" if k == 0 else f"{self.layers[k - 1]}\nrho {self.correlations[k - 1]:+.2f}",
                         fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        return axes


def _map(method, model, image, output, options):
    if callable(method):
        heat = method(model, image, output)
        return np.asarray(getattr(heat, "heatmap", heat), dtype=np.float64), None
    from .explain import explain

    expl = explain(model, image, method=method, output=output, **options)
    return expl.heatmap, expl.output_name


def sanity_check(model, image, *, method="grad-cam", output=None, threshold=0.5, absolute=False, random_state=None,
                 **options):
    """Cascading model randomisation: the rank correlation of a map with the maps of randomised nets.

    Parameters
    ----------
    model : gradient-capable model
        :func:`tabxai.image.keras_model` or any object of the protocol of
        :mod:`tabxai.image.gradient_model` with ``layer_names`` and ``randomized(n_layers, random_state)``.
        The model is never modified: randomised nets are copies.
    image : ndarray
        The explained image.
    method : str or callable, default="grad-cam"
        Any method of :func:`tabxai.image.explain` (the model-agnostic ones included), or a
        callable ``method(model, image, output) -> heat map (H, W)`` (e.g. a method of another library).
    output : int or label, default=None
        Explained output, the same for every net; default the trained net's top class.
    threshold : float, default=0.5
        The check passes when the fully randomised net's map has a rank correlation below
        ``threshold`` with the trained net's map.
    absolute : bool, default=False
        Compare the magnitudes ``|map|`` (Adebayo et al. show both; signs of gradient maps flip easily).
    random_state : int, numpy Generator or None, default=None
        Seed of the random weights, and of the method when it samples (the same seed at every step,
        so the maps differ through the weights only).
    **options
        More keyword arguments of :func:`tabxai.image.explain` (e.g. ``n_samples``).

    Returns
    -------
    SanityCheck

    Examples
    --------
    >>> import numpy as np
    >>> class Linear:  # a one-layer model whose weights can be randomised
    ...     layer_names = ("dense",)
    ...     def __init__(self, w): self.w = w
    ...     def predict(self, images): return (images * self.w).sum(axis=(1, 2, 3))[:, None]
    ...     def gradient(self, images, output): return np.broadcast_to(self.w, images.shape)
    ...     def randomized(self, n_layers, random_state=None):
    ...         return Linear(np.random.default_rng(random_state).normal(size=self.w.shape))
    >>> w = np.linspace(0, 1, 48).reshape(4, 4, 3)
    >>> check = sanity_check(Linear(w), np.ones((4, 4, 3)), method="saliency", random_state=0)
    >>> check.layers, check.passed
    (('dense',), True)
    """
    gm = as_gradient_model(model)
    threshold = check_real(threshold, "threshold", min_value=0, min_inclusive=False, max_value=1)
    check_bool(absolute, "absolute")
    layers = gm.layer_names
    if not layers:
        raise ValueError("the model names no layers with weights (layer_names); the sanity check randomises them")
    seed = resolve_seed(random_state)
    if not callable(method) and options.get("random_state") is None:
        options["random_state"] = seed
    trained, explained = _map(method, gm, image, output, options)
    output = explained if explained is not None else output
    maps = [trained]
    for n_layers in range(1, len(layers) + 1):
        maps.append(_map(method, gm.randomized(n_layers, seed), image, output, options)[0])
    measure = np.abs if absolute else np.asarray
    correlations = [rank_correlation(measure(trained), measure(heat)) for heat in maps[1:]]
    name = method if isinstance(method, str) else getattr(method, "__name__", type(method).__name__)
    return SanityCheck(name, layers[::-1], correlations, maps, threshold, absolute)

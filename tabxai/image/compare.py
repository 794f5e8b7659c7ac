"""One yardstick for image maps: deletion and insertion areas, the pointing game and time, per method.

Every method (gradient, CAM, perturbation, or a callable from another library) explains the same
images; each map is scored by the model itself (deletion and insertion curves, Petsiuk et al.
2018) and, when the true location of the evidence is known, by the pointing game (Zhang et al.
2016: is the map's largest pixel on the object?).
"""

from __future__ import annotations

import time

import numpy as np

from .._validation import check_int, resolve_seed
from ._schema import check_image, check_value_range
from .faithfulness import deletion_auc, insertion_auc
from .gradient_model import as_gradient_model, is_gradient_model
from .pixel_explanation import PixelExplanation
from .segmentation import segment

__all__ = ["Comparison", "compare", "pointing_hit"]

_SAMPLED = ("kernel-shap", "lime", "permutation", "rise", "smoothgrad")  # methods that take random_state


class Comparison:
    """The result of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One line per method: ``deletion_auc`` (mean, lower is better), ``insertion_auc`` (mean,
        higher is better), ``pointing_hits`` and ``pointing_rate`` (when boxes or masks were
        given), ``seconds_per_image`` (the map only, median over images).
    explanations : dict
        Method name -> list of explanations, one per image (a :class:`PixelExplanation` wraps the
        heat maps of callable methods).
    deletion, insertion : dict
        Method name -> ndarray of the areas per image.
    images : list of ndarray
    """

    def __init__(self, table, explanations, deletion, insertion, images):
        self.table = table
        self.explanations = explanations
        self.deletion = deletion
        self.insertion = insertion
        self.images = images

    def __repr__(self):
        return f"Comparison of {len(self.explanations)} methods on {len(self.images)} images\n{self.table}"

    def to_frame(self):
        return self.table.copy()

    def plot(self, n_images=4, *, axes=None):
        """The maps side by side: one row per image (at most ``n_images``), one column per method.

        Returns the matplotlib Axes (a 2-D array), never calls ``show()``.
        """
        import matplotlib.pyplot as plt

        n_images = check_int(n_images, "n_images", min_value=1)
        rows = min(n_images, len(self.images))
        names = list(self.explanations)
        if axes is None:
            _, axes = plt.subplots(rows, len(names), figsize=(2.3 * len(names), 2.3 * rows), squeeze=False)
        for i in range(rows):
            for j, name in enumerate(names):
                title = name if i == 0 else ""
                self.explanations[name][i].plot(ax=axes[i][j], top_k=0, colorbar=False, title=title)
        return axes


def _images(images, layout):
    if isinstance(images, np.ndarray):
        if not (images.ndim == 4 or (images.ndim == 3 and layout == "NHWC" and images.shape[-1] > 4)):
            raise ValueError(f"`images` must be a batch (n, H, W, C), (n, H, W) or (n, C, H, W), or a list of "
                             f"images; got an array of shape {images.shape} (one image? pass images[None])")
        images = list(images)
    if not isinstance(images, (list, tuple)):
        raise TypeError(f"`images` must be a batch array or a list of images; got {type(images).__name__}")
    return [check_image(image, layout, what=f"images[{k}]") for k, image in enumerate(images)]


def _targets(boxes, masks, images, layout):
    if boxes is not None and masks is not None:
        raise ValueError("give `boxes` or `masks`, not both")
    shapes = [image.shape[:2] if layout == "NHWC" else image.shape[1:] for image in images]
    if boxes is not None:
        boxes = np.asarray(boxes)
        if boxes.shape != (len(images), 4) or boxes.dtype.kind not in "iu":
            raise ValueError(f"`boxes` must be ints (top, left, bottom, right) per image, bottom and right "
                             f"excluded: shape ({len(images)}, 4); got shape {boxes.shape}, dtype {boxes.dtype}")
        targets = []
        for (top, left, bottom, right), shape in zip(boxes, shapes):
            mask = np.zeros(shape, dtype=bool)
            mask[top:bottom, left:right] = True
            targets.append(mask)
        return targets
    if masks is not None:
        targets = [np.asarray(mask, dtype=bool) for mask in masks]
        if len(targets) != len(images) or any(m.shape != s for m, s in zip(targets, shapes)):
            raise ValueError(f"`masks` must hold one (H, W) boolean mask per image ({len(images)} images of "
                             f"shapes {sorted(set(shapes))})")
        return targets
    return None


def pointing_hit(heatmap, target, tolerance=0):
    """Whether the largest pixel of ``heatmap`` lies on ``target`` (a boolean mask), within ``tolerance`` pixels."""
    if tolerance:
        from scipy.ndimage import binary_dilation

        target = binary_dilation(target, iterations=tolerance)
    return bool(target.flat[int(np.argmax(heatmap))])


def _method_name(method):
    return method if isinstance(method, str) else getattr(method, "__name__", type(method).__name__)


def compare(model, images, methods=("grad-cam", "integrated-gradients", "smoothgrad", "occlusion"), *, output=None,
            boxes=None, masks=None, tolerance=0, deletion_fill=0.0, insertion_fill="blur", n_steps=None,
            options=None, layout="NHWC", value_range=None, max_rows=None, random_state=None):
    """Explain the same images with several methods and score every map the same way.

    Parameters
    ----------
    model : callable or gradient-capable model
        As in :func:`tabxai.image.explain`; gradient and CAM methods need a gradient-capable model
        (:func:`tabxai.image.keras_model`).
    images : ndarray (n, ...) or list of images
        Images in the model's layout.
    methods : sequence, default=("grad-cam", "integrated-gradients", "smoothgrad", "occlusion")
        Methods of :func:`tabxai.image.explain`, or callables ``method(model, image, output) -> (H, W)
        heat map`` (named by their ``__name__``), e.g. another library's map.
    output : int or label, default=None
        Explained output of every image; default each image's top class.
    boxes : array (n, 4) of int, default=None
        True location of each image's evidence, ``(top, left, bottom, right)`` with bottom and right
        excluded, for the pointing game.
    masks : sequence of (H, W) bool arrays, default=None
        The same as masks (give boxes or masks).
    tolerance : int, default=0
        The pointing game counts a hit within this many pixels of the target (15 in Zhang et al. 2016
        on 224-pixel images).
    deletion_fill, insertion_fill : default=0.0 and "blur"
        What removed pixels show, and the canvas of insertion (see :func:`tabxai.image.deletion_auc`).
    n_steps : int, default=None
        Steps of the deletion and insertion curves (default 100).
    options : dict, default=None
        Method name -> keyword arguments of :func:`tabxai.image.explain` for that method, e.g.
        ``{"kernel-shap": {"n_samples": 500}}``.
    layout, value_range, max_rows :
        As in :func:`tabxai.image.explain`.
    random_state : int, numpy Generator or None, default=None
        Seed of every sampled method (the same seed for each).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((2, 8, 8)); images[0, :4, :4] = 1.0; images[1, 4:, 4:] = 1.0
    >>> model = lambda batch: batch.mean(axis=(1, 2))[:, None]
    >>> result = compare(model, images, methods=["occlusion"], boxes=[[0, 0, 4, 4], [4, 4, 8, 8]],
    ...                  options={"occlusion": {"fill": 0.0}})
    >>> int(result.table.loc["occlusion", "pointing_hits"])
    2
    """
    import pandas as pd

    from .explain import explain

    if is_gradient_model(model):
        model = as_gradient_model(model)
    images = _images(images, layout)
    if not images:
        raise ValueError("`images` is empty")
    targets = _targets(boxes, masks, images, layout)
    tolerance = check_int(tolerance, "tolerance", min_value=0)
    options = {} if options is None else dict(options)
    names = [_method_name(method) for method in methods]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"`methods` must name at least one method, each once; got {names}")
    unknown = [name for name in options if name not in names]
    if unknown:
        raise ValueError(f"`options` names methods not compared: {unknown}; methods are {names}")
    seed = resolve_seed(random_state)
    curve = dict(layout=layout, value_range=value_range, max_rows=max_rows, n_steps=n_steps)
    explanations, deletion, insertion, lines = {}, {}, {}, []
    for method, name in zip(methods, names):
        explained, seconds, hits = [], [], 0
        for k, image in enumerate(images):
            start = time.perf_counter()
            if callable(method):
                heat = np.asarray(method(model, image, output), dtype=np.float64)
                elapsed = time.perf_counter() - start
                expl = PixelExplanation(heat, heat, segment(image, "grid", layout=layout), image,
                                        output_name=output, layout=layout, params={"method": name},
                                        value_range=check_value_range(image, value_range))
            else:
                settings = dict(layout=layout, value_range=value_range, max_rows=max_rows, output=output)
                if method in _SAMPLED:
                    settings["random_state"] = seed
                expl = explain(model, image, method=method, **{**settings, **options.get(name, {})})
                elapsed = time.perf_counter() - start
            explained.append(expl)
            seconds.append(elapsed)
            scored = output if callable(method) else expl.output_name
            deletion.setdefault(name, []).append(deletion_auc(model, image, expl.heatmap, output=scored,
                                                              fill=deletion_fill, **curve))
            insertion.setdefault(name, []).append(insertion_auc(model, image, expl.heatmap, output=scored,
                                                                fill=insertion_fill, **curve))
            if targets is not None:
                hits += pointing_hit(expl.heatmap, targets[k], tolerance)
        explanations[name] = explained
        line = {"method": name, "deletion_auc": float(np.mean(deletion[name])),
                "insertion_auc": float(np.mean(insertion[name]))}
        if targets is not None:
            line.update(pointing_hits=hits, pointing_rate=hits / len(images))
        line["seconds_per_image"] = float(np.median(seconds))
        lines.append(line)
    table = pd.DataFrame(lines).set_index("method")
    return Comparison(table, explanations, {k: np.array(v) for k, v in deletion.items()},
                      {k: np.array(v) for k, v in insertion.items()}, images)


"""``tx.image.explain``: one entry point for every image method.

Segment-level methods (KernelSHAP, exact and permutation Shapley values, LIME) run the tabular
explainers on an :class:`~tabxai.image.ImageMasker` (players are segments); pixel-level methods
(occlusion, RISE) stream their own masked images through the same engine. Every method's model
images are written into one reused buffer and passed to the model in batches of ``max_rows``.
"""

from __future__ import annotations

import numpy as np

from .._engine import expected_value
from .._provenance import package_versions
from .._validation import check_bool, check_choice, check_int, check_n_jobs, check_real, resolve_seed
from ..model import LINKS
from ._model import bind_image_model, images_given
from ._schema import check_image
from .explanation import ImageExplanation
from .gradient_explain import GRADIENT_METHODS, explain_with_gradients
from .gradient_model import as_gradient_model, is_gradient_model
from .masker import ImageMasker
from .occlusion import occlusion_map, window_positions
from .rise import rise_map
from .segmentation import segment

__all__ = ["explain"]

METHODS = ("kernel-shap", "lime", "exact", "permutation", "occlusion", "rise") + GRADIENT_METHODS
_DEFAULT_SAMPLES = {"kernel-shap": "auto", "permutation": "auto", "lime": 1000, "rise": 2000}
_EXACT_MAX_SEGMENTS = 16


def explain(model, image, *, method="kernel-shap", segments=None, fill="mean", output=None, random_state=None,
            n_samples=None, link=None, layout="NHWC", value_range=None, blur_sigma=None, window=None, stride=None,
            grid_size=7, keep_prob=0.5, max_rows=None, n_jobs=None, progress=None, baseline=None, n_steps=None,
            integration=None, noise=None, smoothed=None):
    """Explain a model's score of one image: a value per segment and a heat map over pixels.

    Parameters
    ----------
    model : callable or gradient-capable model
        Takes a batch of images, ``(n, H, W, C)`` (or ``(n, H, W)`` for a grey image given as
        ``(H, W)``) or, with ``layout="NCHW"``, ``(n, C, H, W)``, as float64, and returns scores
        or probabilities ``(n, n_classes)`` or ``(n,)``. Wrap a framework's model in a function, e.g.
        ``lambda x: net.predict(x, batch_size=256, verbose=0)`` for Keras, or
        ``lambda x: net(torch.from_numpy(x).float()).softmax(1).detach().numpy()`` for torch.
        tabxai imports no deep-learning framework. The gradient and CAM methods need a model that
        gives gradients: :func:`tabxai.image.keras_model` for Keras 3, or an object of the protocol
        of :mod:`tabxai.image.gradient_model`.
    image : ndarray
        The image, ``(H, W, C)`` or ``(H, W)`` (``layout="NHWC"``), or ``(C, H, W)`` (``"NCHW"``).
    method : str, default="kernel-shap"
        - ``"kernel-shap"``: :class:`tabxai.KernelSHAP` over segments (standard errors);
        - ``"exact"``: :class:`tabxai.ExactShapley`, all ``2**n_segments`` coalitions (at most 16 segments);
        - ``"permutation"``: :class:`tabxai.PermutationShapley` (standard errors);
        - ``"lime"``: :class:`tabxai.LimeTabular` with ``sampling="background"`` over segments;
        - ``"occlusion"``: a ``window`` slid with ``stride`` (Zeiler & Fergus 2014); a pixel's value
          is the mean score drop of the windows that cover it;
        - ``"rise"``: ``n_samples`` random masks (Petsiuk et al. 2018), see ``grid_size`` and ``keep_prob``;
        - gradient-capable models only (a :class:`PixelExplanation`, ``values`` per pixel and channel):
          ``"grad-cam"``, ``"grad-cam++"`` (the model's CAM layer), ``"saliency"``,
          ``"gradient-x-input"``, ``"integrated-gradients"``, ``"smoothgrad"``. ``fill``, ``n_jobs``
          and the masking settings do not apply; see the guide.
    segments : ndarray (H, W) of int, default=None
        Superpixels, e.g. from :func:`tabxai.image.segment`. Default: an 8 x 8 grid of patches
        (``segment(image, "grid")``); pass ``segment(image, "slic")`` for superpixels that follow edges.
    fill : "mean", "blur", float, sequence or ndarray, default="mean"
        What an absent segment (or an occluded or masked pixel) shows: its segment's mean colour
        (lime_image's default), a blurred copy, a constant, one constant per channel, or a baseline image.
    output : int or label, default=None
        Explained output; default the class the model scores highest on the image.
    random_state : int, numpy Generator or None, default=None
        Seed of the sampled methods; results do not depend on ``n_jobs`` or ``max_rows``.
    n_samples : int or "auto", default=None
        Budget: coalitions (kernel-shap, default ``"auto"`` = ``2 * n_segments + 2048``), permutations
        (permutation, ``"auto"``), perturbed images (lime, 1,000 like lime_image) or masks (rise, 2,000).
        Not used by exact and occlusion.
    link : {None, "identity", "logit"}, default=None
        ``"logit"``: explain the log-odds of the explained probability, which keeps moving where a
        saturated softmax barely does (the model must return probabilities).
    layout : {"NHWC", "NCHW"}, default="NHWC"
        Channel-last (Keras, JAX) or channel-first (torch) images and batches.
    value_range : (float, float), default=None
        Range of the image's values; default ``(0, 255)`` for integer images and floats above 1,
        ``(0, 1)`` otherwise. Values outside it are an error (pass it for normalised images).
    blur_sigma : float, default=None
        Standard deviation in pixels of ``fill="blur"`` (default ``max(H, W) / 16``).
    window, stride : int or (int, int), default=None
        Occlusion window (default an eighth of the smaller side) and stride (default half the window).
    grid_size : int, default=7
        RISE: cells per side of the random low-resolution masks.
    keep_prob : float, default=0.5
        RISE: probability that a cell is kept.
    max_rows : int, default=None
        Most images per model call; bounds memory, never changes results. Default: calls of 8 MiB of
        masked images (at most 1,024: one buffer reused call after call) which, for the Shapley and
        LIME methods, double while the model's time per image drops (up to 32 MiB). Masked images are
        float32 for a float32 or 8- and 16-bit integer image (a network's own dtype), float64 otherwise.
    n_jobs : int, default=None
        Parallel jobs of the Shapley and LIME explainers (one image: no effect on results).
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.
    baseline : float, sequence, ndarray or "blur", default=None
        Integrated gradients: the path's start (default ``0.0``, black): a value, one value per
        channel, an image, or a blurred copy of the image (``blur_sigma``).
    n_steps : int, default=None
        Integrated gradients: gradient evaluations on the path (default 64).
    integration : {"gauss-legendre", "riemann-left", "riemann-right", "riemann-midpoint", "riemann-trapezoid"}, default=None
        Integrated gradients: quadrature rule of the path integral (default ``"gauss-legendre"``).
    noise : float, default=None
        SmoothGrad: standard deviation of the noise as a fraction of the value range (default 0.15).
        SmoothGrad's number of noisy copies is ``n_samples`` (default 50).
    smoothed : {"saliency", "gradient-x-input", "integrated-gradients"}, default=None
        SmoothGrad: the map averaged over noisy copies (default ``"saliency"``).

    Returns
    -------
    ImageExplanation
        A :class:`PixelExplanation` for the gradient and CAM methods.

    Examples
    --------
    >>> import numpy as np
    >>> import tabxai as tx
    >>> image = np.zeros((16, 16)); image[:8, :8] = 1.0  # a bright top-left quarter
    >>> model = lambda batch: batch[:, :8, :8].mean(axis=(1, 2))  # scores the top-left quarter
    >>> expl = tx.image.explain(model, image, method="exact", fill=0.0,
    ...                         segments=tx.image.segment(image, "grid", grid=(2, 2)))
    >>> expl.values
    array([1., 0., 0., 0.])
    """
    method = check_choice(method, "method", METHODS)
    link = check_choice(link, "link", LINKS)
    if method in GRADIENT_METHODS:
        if window is not None or stride is not None:
            raise ValueError(f"`window` and `stride` are occlusion's; method={method!r} takes neither")
        return explain_with_gradients(model, image, method=method, segments=segments, output=output,
                                      random_state=random_state, n_samples=n_samples, link=link, layout=layout,
                                      value_range=value_range, blur_sigma=blur_sigma, max_rows=max_rows,
                                      baseline=baseline, n_steps=n_steps, integration=integration, noise=noise,
                                      smoothed=smoothed, progress=progress)
    for name, value in (("baseline", baseline), ("n_steps", n_steps), ("integration", integration),
                        ("noise", noise), ("smoothed", smoothed)):
        if value is not None:
            raise ValueError(f"`{name}` is a setting of the gradient methods; method={method!r} takes none")
    if is_gradient_model(model):  # an object of the gradient protocol predicts through its `predict`
        model = as_gradient_model(model)
    image = check_image(image, layout)
    masker_settings = dict(fill=fill, layout=layout, value_range=value_range, blur_sigma=blur_sigma)
    segments_given = segments is not None
    if not segments_given:
        segments = segment(image, "grid", layout=layout)
    masker = ImageMasker(image, segments, **masker_settings)
    schema = masker.schema
    n_segments = masker.n_segments
    budget = _budget(method, n_samples, n_segments)
    n_jobs = check_n_jobs(n_jobs)
    check_bool(progress, "progress", allow_none=True)
    if max_rows is None:  # start at 8 MiB of images, and let calls grow to the batch size the model likes
        max_rows, masker.grow_rows = masker.batch_rows, masker.largest_batch_rows
    else:
        max_rows = check_int(max_rows, "max_rows", min_value=1)
    parameters = {"segments": "given" if segments_given else "grid", "fill": _describe_fill(fill),
                  "n_samples": n_samples, "layout": layout, "value_range": masker.value_range,
                  "max_rows": max_rows, "n_jobs": n_jobs, "n_segments": n_segments}
    if method == "occlusion":
        default = max(1, round(min(schema.height, schema.width) / 8))
        window = default if window is None else window
        stride = max(1, (window if isinstance(window, int) else min(window)) // 2) if stride is None else stride
        window, stride, _, _ = window_positions(schema.height, schema.width, window, stride)
        parameters.update(window=window, stride=stride)
    elif window is not None or stride is not None:
        raise ValueError(f"`window` and `stride` are occlusion's; method={method!r} takes neither")
    if method == "rise":
        grid_size = check_int(grid_size, "grid_size", min_value=1, max_value=min(schema.height, schema.width))
        keep_prob = check_real(keep_prob, "keep_prob", min_value=0, min_inclusive=False, max_value=1)
        parameters.update(grid_size=grid_size, keep_prob=keep_prob)
    seed = None if method in ("exact", "occlusion") else resolve_seed(random_state)
    if method == "lime":
        _lime_class()  # fails before any model call when LIME is unavailable

    rows = masker.model_schema  # rows in the model's layout: the masker's, and the image and fill image asked once
    bound, index, name, score = bind_image_model(
        model, rows, rows.in_flat_order(masker.pixels).astype(masker.dtype), output, max_rows, link,
        remember=(rows.in_flat_order(masker.fill_row).astype(masker.dtype),))
    parameters["output"] = output
    parameters["link"] = link
    stderr, diagnostics = None, {}
    if method in ("occlusion", "rise"):
        base_value = float(expected_value(bound, masker)[0])
        bound = bound.bind(schema)  # their kernels write height-width-channel rows
    if method == "occlusion":
        heatmap, _ = occlusion_map(bound, schema, masker.pixels, masker.fill_row, score, window, stride,
                                   progress=progress)
        values = _segment_means(heatmap, masker.segments, n_segments)
    elif method == "rise":
        heatmap, values, stderr = rise_map(bound, schema, masker.pixels, masker.fill_row, masker.segments, budget,
                                           grid_size, keep_prob, seed, progress=progress)
    else:
        values, stderr, base_value, diagnostics = _segment_method(method, bound, masker, budget, seed, n_jobs,
                                                                  progress)
        heatmap = values[masker.segments]
    params = {"method": method, "parameters": parameters, "random_state": seed,
              "model_rows": images_given(bound),  # what the model was given: repeats of the image are answered once
              "versions": package_versions()}
    return ImageExplanation(values, heatmap, masker.segments, image, stderr=stderr,
                            segment_names=masker.segment_names, score=score, base_value=base_value, output=index,
                            output_name=name, value_range=masker.value_range, layout=layout, params=params,
                            diagnostics=diagnostics)


def _budget(method, n_samples, n_segments):
    if method in ("exact", "occlusion"):
        if n_samples is not None:
            raise ValueError(f"method={method!r} is deterministic and takes no `n_samples`; got {n_samples!r}")
        if method == "exact" and n_segments > _EXACT_MAX_SEGMENTS:
            raise ValueError(f"method='exact' enumerates 2**n_segments coalitions; {n_segments} segments are more "
                             f"than {_EXACT_MAX_SEGMENTS}. Use fewer segments or method='kernel-shap'")
        return None
    if n_samples is None:
        n_samples = _DEFAULT_SAMPLES[method]
    if method == "kernel-shap":  # KernelSHAP's own minimum, checked here before the model is asked
        return check_int(n_samples, "n_samples", min_value=min(2 * n_segments, 2**min(n_segments, 62) - 2),
                         allowed=("auto",))
    if method == "permutation":
        return check_int(n_samples, "n_samples", min_value=1, allowed=("auto",))
    return check_int(n_samples, "n_samples", min_value=2)


def _describe_fill(fill):
    if isinstance(fill, (str, int, float)):
        return fill
    return f"array of shape {np.shape(fill)}"


def _segment_means(heatmap, segments, n_segments):
    flat = segments.ravel()
    return np.bincount(flat, weights=heatmap.ravel(), minlength=n_segments) / np.bincount(flat, minlength=n_segments)


def _lime_class():
    try:
        from .. import LimeTabular
    except ImportError:
        raise NotImplementedError(
            "method='lime' runs tabxai.LimeTabular(sampling='background') over segments, which this version of "
            "tabxai does not have yet; use method='kernel-shap' (the same regression with Shapley weights and "
            "standard errors), or lime's own lime_image"
        ) from None
    return LimeTabular


def _segment_method(method, model, masker, budget, seed, n_jobs, progress):
    """Run a tabular explainer with the image masker: values, stderr, base value, diagnostics."""
    from .. import ExactShapley, KernelSHAP, PermutationShapley

    common = dict(n_jobs=n_jobs, progress=progress)  # the bound model carries max_rows, output and link
    if method == "exact":
        explainer = ExactShapley(model, masker, max_players=_EXACT_MAX_SEGMENTS, **common)
    elif method == "kernel-shap":
        explainer = KernelSHAP(model, masker, n_coalitions=budget, random_state=seed, **common)
    elif method == "permutation":
        explainer = PermutationShapley(model, masker, n_permutations=budget, random_state=seed, **common)
    else:
        explainer = _lime_class()(model, masker, n_samples=budget, sampling="background", random_state=seed,
                                  **common)
    expl = explainer.explain(masker.image[None])
    stderr = None if expl.stderr is None else np.asarray(expl.stderr).reshape(-1)
    diagnostics = {name: np.asarray(value)[0] for name, value in getattr(expl, "diagnostics", {}).items()}
    return (np.asarray(expl.values).reshape(-1), stderr, float(np.asarray(expl.base_values).reshape(-1)[0]),
            diagnostics)

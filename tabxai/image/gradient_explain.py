"""The gradient and CAM methods of ``tx.image.explain``: checks, binding, and one map of one image."""

from __future__ import annotations

import numbers

import numpy as np

from .._provenance import package_versions
from .._validation import check_choice, check_int, check_real, resolve_seed
from ._model import bind_image_model, default_max_rows
from ._schema import ImageSchema, check_image, check_value_range
from .cam import cam_map
from .gradient_model import as_gradient_model
from .gradients import (INTEGRATIONS, GradientCall, gradient_map, integrated_gradients_map, integration_rule,
                        smoothgrad_map)
from .masker import fill_image
from .pixel_explanation import PixelExplanation
from .segmentation import check_segments, segment

__all__ = ["GRADIENT_METHODS", "explain_with_gradients"]

CAM_METHODS = ("grad-cam", "grad-cam++")
GRADIENT_METHODS = CAM_METHODS + ("saliency", "gradient-x-input", "integrated-gradients", "smoothgrad")
SMOOTHED = ("saliency", "gradient-x-input", "integrated-gradients")
_DEFAULT_STEPS = 64
_DEFAULT_SAMPLES = 50
_DEFAULT_NOISE = 0.15


def _settings(method, n_samples, baseline, n_steps, integration, noise, smoothed):
    """The method's own settings, checked; settings of other methods are an error, not ignored."""
    if smoothed is not None and method != "smoothgrad":
        raise ValueError(f"`smoothed` is smoothgrad's; method={method!r} takes none")
    smoothed = "saliency" if smoothed is None else check_choice(smoothed, "smoothed", SMOOTHED)
    uses_path = method == "integrated-gradients" or (method == "smoothgrad" and smoothed == "integrated-gradients")
    for name, value in (("baseline", baseline), ("n_steps", n_steps), ("integration", integration)):
        if value is not None and not uses_path:
            raise ValueError(f"`{name}` is integrated gradients'; method={method!r}"
                             f"{'' if method != 'smoothgrad' else ' with smoothed=' + repr(smoothed)} takes none")
    for name, value in (("n_samples", n_samples), ("noise", noise)):
        if value is not None and method != "smoothgrad":
            raise ValueError(f"`{name}` is smoothgrad's; method={method!r} takes none")
    settings = {}
    if uses_path:
        settings["n_steps"] = _DEFAULT_STEPS if n_steps is None else check_int(n_steps, "n_steps", min_value=1)
        settings["integration"] = ("gauss-legendre" if integration is None
                                   else check_choice(integration, "integration", INTEGRATIONS))
        settings["baseline"] = 0.0 if baseline is None else baseline
    if method == "smoothgrad":
        settings["smoothed"] = smoothed
        settings["n_samples"] = _DEFAULT_SAMPLES if n_samples is None else check_int(n_samples, "n_samples",
                                                                                     min_value=1)
        settings["noise"] = _DEFAULT_NOISE if noise is None else check_real(noise, "noise", min_value=0)
    return settings


def _baseline_row(schema, pixels, baseline, blur_sigma):
    if isinstance(baseline, str) and baseline != "blur":
        raise ValueError(f"`baseline` must be a number, one number per channel, an image or 'blur'; got {baseline!r}")
    whole = np.zeros((schema.height, schema.width), dtype=np.int64)
    return fill_image(schema, pixels, whole, baseline, blur_sigma=blur_sigma, what="baseline")


def _describe(value):
    return value if isinstance(value, (str, numbers.Real)) else f"array of shape {np.shape(value)}"


def explain_with_gradients(model, image, *, method, segments=None, output=None, random_state=None, n_samples=None,
                           link=None, layout="NHWC", value_range=None, blur_sigma=None, max_rows=None, baseline=None,
                           n_steps=None, integration=None, noise=None, smoothed=None, progress=None):
    """One gradient or CAM map of one image (see :func:`tabxai.image.explain`): a :class:`PixelExplanation`."""
    method = check_choice(method, "method", GRADIENT_METHODS)
    if link not in (None, "identity"):
        raise ValueError(f"gradient methods explain the model's output as it is; link must be None, got {link!r}")
    settings = _settings(method, n_samples, baseline, n_steps, integration, noise, smoothed)
    gm = as_gradient_model(model)
    if method in CAM_METHODS and not gm.has_cam:
        raise TypeError(f"method={method!r} needs a convolution layer: tabxai.image.keras_model(net, layer=...) or a "
                        "model with activations_and_gradients(images, output)")
    image = check_image(image, layout)
    value_range = check_value_range(image, value_range)
    schema = ImageSchema(image.shape, layout)
    pixels = schema.pixels(image)
    segments_given = segments is not None
    segments, labels = check_segments(segments if segments_given else segment(image, "grid", layout=layout),
                                      schema.height, schema.width)
    max_rows = default_max_rows(schema) if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    seed = resolve_seed(random_state) if method == "smoothgrad" else None
    baseline_row = None
    if "baseline" in settings:
        baseline_row = _baseline_row(schema, pixels, settings["baseline"], blur_sigma)
        settings["baseline"] = _describe(settings["baseline"])

    bound, index, name, score = bind_image_model(gm, schema, pixels, output, max_rows)
    call = GradientCall(gm, schema, index, max_rows)
    base_value, diagnostics, predictions = np.nan, {}, 1
    if method in CAM_METHODS:
        maps, resolution = cam_map(gm, schema.decode(pixels[None]), index, schema.height, schema.width,
                                   plus=method == "grad-cam++")
        heatmap = maps[0]
        values = heatmap
        diagnostics["cam_resolution"] = tuple(int(n) for n in resolution)
        gradient_rows = 1
    elif method in ("saliency", "gradient-x-input"):
        values, heatmap = gradient_map(call, pixels, method, progress=progress)
        gradient_rows = 1
    elif method == "integrated-gradients":
        alphas, weights = integration_rule(settings["integration"], settings["n_steps"])
        values, heatmap = integrated_gradients_map(call, pixels, baseline_row, alphas, weights, progress=progress)
        base_value = float(bound(baseline_row[None])[0, 0])
        predictions += 1
        difference = score - base_value
        gap = abs(float(values.sum()) - difference)
        diagnostics.update(completeness_gap=gap, relative_completeness_gap=gap / abs(difference) if difference
                           else np.inf if gap else 0.0)
        gradient_rows = len(alphas)
    else:
        alphas = weights = None
        if settings["smoothed"] == "integrated-gradients":
            alphas, weights = integration_rule(settings["integration"], settings["n_steps"])
        sigma = settings["noise"] * (value_range[1] - value_range[0])
        values, heatmap = smoothgrad_map(call, pixels, settings["smoothed"], settings["n_samples"], sigma, seed,
                                         baseline=baseline_row, alphas=alphas, weights=weights, progress=progress)
        gradient_rows = settings["n_samples"] * (1 if alphas is None else len(alphas))
    if values.ndim == 1:
        values = values.reshape(schema.height, schema.width, schema.n_channels)
    parameters = {"segments": "given" if segments_given else "grid", "layout": layout, "value_range": value_range,
                  "max_rows": max_rows, "output": output, "link": link, **settings}
    if hasattr(gm, "layer") and method in CAM_METHODS:
        parameters["layer"] = gm.layer
    params = {"method": method, "parameters": parameters, "random_state": seed, "model_rows": predictions,
              "gradient_rows": gradient_rows, "versions": package_versions()}
    return PixelExplanation(values, heatmap, segments, image, segment_names=labels.tolist(), score=score,
                            base_value=base_value, output=index, output_name=name, value_range=value_range,
                            layout=layout, params=params, diagnostics=diagnostics)

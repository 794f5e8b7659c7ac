"""The image model: a user's callable on image batches, bound to an image schema, one output."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..model import ModelError, as_model

__all__ = ["bind_image_model", "default_max_rows", "images_given"]

_CHUNK_BYTES = 64 * 2**20  # default model batches hold at most this much float64 image data
_MAX_DEFAULT_ROWS = 1024


def default_max_rows(schema):
    """Images per model call by default: ``64 MiB`` of float64 images, at most 1,024."""
    return int(min(_MAX_DEFAULT_ROWS, max(1, _CHUNK_BYTES // (8 * schema.n_columns))))


class _Remembered:
    """A model's predict function that asks the model about each of a few known images once.

    The explained image is asked for several times (to name the outputs, for its score, as LIME's
    own sample), the fill image as the base value; a call of one image costs a network about as
    much as a batch of a dozen (its weights are read once per call), so repeats of a one-image batch
    equal to a known image (by value, in any dtype) get the outputs of the first call.
    """

    def __init__(self, function, images):
        self.function = function
        self.images = [np.asarray(image) for image in images]  # batches of one image, as the model gets them
        self.outputs = [None] * len(self.images)
        self.given = 0  # images the model was given

    def __call__(self, batch):
        known = self._known(batch)
        if known is not None and self.outputs[known] is not None:
            return self.outputs[known].copy()
        raw = self.function(batch)
        self.given += len(batch)
        if known is not None and isinstance(raw, np.ndarray):  # arrays only, copied: the caller may keep a view
            self.outputs[known] = raw.copy()
            return raw.copy()
        return raw

    def _known(self, batch):
        shape = getattr(batch, "shape", None)
        if shape is None or len(shape) == 0 or shape[0] != 1:
            return None
        for k, image in enumerate(self.images):
            if image.shape == shape and np.array_equal(image, batch):
                return k
        return None


def images_given(model):
    """Images a model from :func:`bind_image_model` was given so far (repeats it answered from memory not counted)."""
    return model.predict_function.given


def bind_image_model(model, schema, pixels, output, max_rows, link=None, remember=()):
    """A :class:`tabxai.Model` of one output on images of ``schema``, and its score on ``pixels``.

    ``output=None`` picks the class the model scores highest on the image (the only output of a
    single-output model). ``link="logit"`` returns the selected probability as log-odds. Returns ``(model, output index, output name, score)``; the model keeps
    only that output. The model is asked about the image (and each flat image in ``remember``, e.g.
    the fill image) at most once as a batch of one: repeats get the first call's outputs.
    """
    max_rows = default_max_rows(schema) if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    unbound = as_model(model, max_rows=max_rows)
    known = [schema.decode(np.asarray(row)[None]) for row in (pixels, *remember)]
    unbound = unbound._replace(predict_function=_Remembered(unbound.predict_function, known))
    try:  # the image in the dtype it is filled in; binding names the outputs from the same (remembered) call
        scores = unbound.bind(schema)(pixels[None])[0]
        probe = unbound.bind(schema, sample=pixels[None])
    except ModelError as exc:
        if "NaN" in str(exc):
            raise
        shape = (1,) + schema.decode(pixels[None]).shape[1:]
        raise ModelError(f"{exc}. The model was given a batch of shape {shape} (layout={schema.layout!r}, "
                         f"{'grey-scale' if schema.n_channels == 1 else f'{schema.n_channels} channels'}); check "
                         "grey-scale against colour images and the layout the model takes") from exc
    names = probe.output_names
    index = int(np.argmax(scores)) if output is None else probe.output_index(output)
    bound = as_model(probe, output=names[index], link=link)  # a name, never a position: labels may be ints
    score = float(scores[index]) if link in (None, "identity") else float(bound(pixels[None])[0, 0])
    return bound, index, names[index], score

"""The image model: a user's callable on image batches, bound to an image schema, one output."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..model import ModelError, as_model

__all__ = ["bind_image_model", "default_max_rows"]

_CHUNK_BYTES = 64 * 2**20  # default model batches hold at most this much float64 image data
_MAX_DEFAULT_ROWS = 1024


def default_max_rows(schema):
    """Images per model call by default: ``64 MiB`` of float64 images, at most 1,024."""
    return int(min(_MAX_DEFAULT_ROWS, max(1, _CHUNK_BYTES // (8 * schema.n_columns))))


def bind_image_model(model, schema, pixels, output, max_rows, link=None):
    """A :class:`tabxai.Model` of one output on images of ``schema``, and its score on ``pixels``.

    ``output=None`` picks the class the model scores highest on the image (the only output of a
    single-output model). ``link="logit"`` returns the selected probability as log-odds. Returns ``(model, output index, output name, score)``; the model keeps
    only that output.
    """
    max_rows = default_max_rows(schema) if max_rows is None else check_int(max_rows, "max_rows", min_value=1)
    try:  # binding asks the model about the image once and names its outputs
        probe = as_model(model, max_rows=max_rows).bind(schema, sample=pixels[None])
        scores = probe(pixels[None])[0]
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

"""The superpixel masker: players are segments of one image; absent segments are filled.

An absent segment takes its pixels from a *fill image* made once from the explained image: each
segment's own mean colour (lime_image's default), a blurred copy, a constant, or a baseline image
the user gives. A coalition is one model image, written by a Numba kernel into the engine's reused
buffer in the model's own layout (channel-first images too: a batch is never transposed), so a
request of any size streams through the model in chunks of ``max_rows`` images.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._kernels.image import fill_segment_masks, segment_means
from .._validation import check_real
from ..data import Players
from ..maskers import Masker
from ._schema import ImageSchema, check_image, check_value_range
from .segmentation import check_segments

__all__ = ["ImageMasker", "fill_dtype", "fill_image"]

_BATCH_BYTES = 8 * 2**20  # default model batches: this much image data, reused chunk after chunk
_MAX_BATCH = 1024
_GROW_BYTES = 32 * 2**20  # batches may grow to this much image data where the model computes faster per image


def fill_dtype(image):
    """The dtype masked images are written in: float32 for float32 images and integer images of at most
    16 bits (exact in float32: what image models compute in), float64 otherwise."""
    dtype = np.asarray(image).dtype
    if dtype == np.float32 or (dtype.kind in "ui" and dtype.itemsize <= 2):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def fill_image(schema, pixels, segments, fill, *, blur_sigma=None, what="fill"):
    """The fill image (flat row) of the explained image ``pixels`` for a ``fill`` setting.

    ``fill`` is ``"mean"`` (each segment's mean colour), ``"blur"`` (Gaussian blur with standard
    deviation ``blur_sigma`` pixels, default ``max(H, W) / 16``), a number (every value), a sequence
    of one number per channel, or a baseline image of the explained image's shape.
    """
    if isinstance(fill, str):
        if fill == "mean":
            return segment_means(pixels, segments.ravel(), int(segments.max()) + 1, schema.n_channels)
        if fill == "blur":
            from scipy.ndimage import gaussian_filter

            sigma = max(schema.height, schema.width) / 16 if blur_sigma is None else check_real(
                blur_sigma, "blur_sigma", min_value=0, min_inclusive=False)
            image = pixels.reshape(schema.height, schema.width, schema.n_channels)
            return np.ascontiguousarray(gaussian_filter(image, sigma=(sigma, sigma, 0), mode="nearest")).ravel()
        raise ValueError(f"`{what}` must be 'mean', 'blur', a number, one number per channel or a baseline image; "
                         f"got {fill!r}")
    if isinstance(fill, numbers.Real) and not isinstance(fill, bool):
        return np.full(schema.n_columns, check_real(fill, what))
    array = np.asarray(fill)
    if array.dtype.kind not in "uif":
        raise TypeError(f"`{what}` must be 'mean', 'blur', a number, one number per channel or a baseline image; "
                        f"got {type(fill).__name__}")
    if array.ndim == 1:
        if array.shape[0] != schema.n_channels or not np.isfinite(array).all():
            raise ValueError(f"`{what}` as one value per channel must have {schema.n_channels} finite values; "
                             f"got {array.shape[0]}")
        return np.tile(array.astype(np.float64), schema.n_pixels)
    check_image(array, schema.layout, what=f"the baseline image `{what}`")
    if array.shape != schema.shape:
        raise ValueError(f"the baseline image `{what}` must have the explained image's shape {schema.shape}; "
                         f"got {array.shape} (grey-scale and colour images differ in their channel axis)")
    return schema.pixels(array)


class ImageMasker(Masker):
    """Masker of one image's segments: present segments show the image, absent ones the fill.

    The value of a coalition of segments is the model's output on the image whose absent segments
    are replaced by the fill image; one model image per coalition (``rows_per_pair = 1``, one
    reference: the fill image). It implements the :class:`tabxai.maskers.Masker` protocol. Use it with the Shapley
    explainers (``tx.KernelSHAP(model, masker)``) or through :func:`tabxai.image.explain`.

    Parameters
    ----------
    image : ndarray
        The explained image, ``(H, W, C)`` or ``(H, W)`` for ``layout="NHWC"``, ``(C, H, W)`` for ``"NCHW"``.
    segments : ndarray of int, shape (H, W)
        Segment labels (see :func:`tabxai.image.segment`); at least two segments.
    fill : "mean", "blur", float, sequence or ndarray, default="mean"
        What absent segments show: each segment's mean colour (lime_image's default), a Gaussian
        blur of the image, a constant, one constant per channel, or a baseline image of the image's shape.
    layout : {"NHWC", "NCHW"}, default="NHWC"
        Layout of the model's batches: channel-last (Keras, JAX) or channel-first (torch).
    value_range : (float, float), default=None
        Range of the image's values; default ``(0, 255)`` for integer images and floats above 1,
        ``(0, 1)`` otherwise. Values outside it are an error.
    blur_sigma : float, default=None
        Standard deviation in pixels of ``fill="blur"`` (default ``max(H, W) / 16``).

    Attributes
    ----------
    schema : ImageSchema
        Flat rows in height-width-channel order (``pixels``, ``fill_row``).
    model_schema : ImageSchema
        Flat rows in the model's layout (``flat="layout"``): the rows the masker writes and the
        explainers encode, so a batch is the model's batch reshaped, never transposed (the same as
        ``schema`` for channel-last images).
    pixels : ndarray (H * W * C,)
        The explained image as a flat row (height, width, channel order).
    segments : ndarray (H, W)
        Labels ``0 .. n_segments - 1``.
    segment_labels : ndarray
        The user's label of each segment.
    fill_with : str, float or ndarray
        The ``fill`` argument.
    fill_row : ndarray (H * W * C,)
        The fill image as a flat row.
    dtype : numpy dtype
        Dtype of the masked images the model gets (:func:`fill_dtype`): float32 for a float32 or 8- and
        16-bit integer image, so a float32 network gets its own dtype without a conversion, float64 otherwise.
    batch_rows : int
        Images per model call by default: 8 MiB of masked images (at most 1,024): one buffer, reused
        chunk after chunk, small enough to stay in memory the process already holds.
    largest_batch_rows : int
        32 MiB of masked images (at most 1,024): the most images per call when calls may grow.
    grow_rows : int or None
        Most images per call when the engine's calls may grow to the batch size the model likes (see
        :func:`tabxai._engine.stream_rows`); None (the default) keeps the model's ``max_rows``.
        :func:`tabxai.image.explain` sets it to ``largest_batch_rows`` unless the user gives ``max_rows``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(16.0).reshape(4, 4) / 16
    >>> masker = ImageMasker(image, np.repeat([[0, 0, 1, 1]], 4, axis=0), fill=0.0)
    >>> masker.n_segments
    2
    >>> masker.masked_images(np.array([[True, False]]))[0][0]
    array([0.    , 0.0625, 0.    , 0.    ])
    """

    rows_per_pair = 1

    def __init__(self, image, segments, *, fill="mean", layout="NHWC", value_range=None, blur_sigma=None):
        image = check_image(image, layout)
        self.value_range = check_value_range(image, value_range)
        self.schema = ImageSchema(image.shape, layout)
        self.image = image
        self.pixels = self.schema.pixels(image)
        self.segments, self.segment_labels = check_segments(segments, self.schema.height, self.schema.width)
        self.fill_with = fill
        self.fill_row = fill_image(self.schema, self.pixels, self.segments, fill, blur_sigma=blur_sigma)
        self.dtype = fill_dtype(image)
        self.model_schema = ImageSchema(image.shape, layout, flat="layout")
        self._model_fill = self.model_schema.in_flat_order(self.fill_row)
        self._cast_fill = {}
        image_bytes = self.dtype.itemsize * self.schema.n_columns
        self.batch_rows = int(min(_MAX_BATCH, max(1, _BATCH_BYTES // image_bytes)))
        self.largest_batch_rows = int(min(_MAX_BATCH, max(self.batch_rows, _GROW_BYTES // image_bytes)))
        self.grow_rows = None
        self._value_segments = value_segments = self.model_schema.in_flat_order(
            np.repeat(self.segments.ravel(), self.schema.n_channels))
        starts = np.flatnonzero(np.diff(value_segments)) + 1
        self._run_starts = np.concatenate([[0], starts, [value_segments.size]]).astype(np.uint64)  # see the kernel
        self._run_segments = np.ascontiguousarray(value_segments[self._run_starts[:-1]])

    @property
    def n_segments(self):
        return len(self.segment_labels)

    @property
    def segment_names(self):
        """Player names: the user's segment labels."""
        return tuple(self.segment_labels.tolist())

    # the masker protocol --------------------------------------------------------------------
    n_background = 1  # one reference: the fill image

    def setup(self, model=None, feature_groups=None):
        """The schema of the rows this masker writes (:attr:`model_schema`) and the players (one per segment)."""
        if feature_groups is not None:
            raise ValueError("the players of an image are its segments; pass `segments` to the ImageMasker, "
                             "not `feature_groups`")
        return self.model_schema, Players.from_assignment(self.segment_names, self._value_segments)

    def bind(self, schema, players=None):
        """This masker, for the image schema it was made with."""
        if not isinstance(schema, ImageSchema) or schema.shape != self.schema.shape or \
                schema.layout != self.schema.layout or schema._transposed:
            raise ValueError(f"an ImageMasker explains images of shape {self.schema.shape} (layout="
                             f"{self.schema.layout!r}), as rows in the model's layout (its model_schema)")
        return self

    def fill(self, rows, coalitions, pair_row, pair_mask, start, stop, out):
        """Write masked images ``start`` to ``stop`` (one per pair) into ``out``; ``rows`` and ``out`` hold rows
        in the order of :attr:`model_schema` (the model's layout)."""
        fill = self._model_fill
        if out.dtype != np.float64:  # copy values of the buffer's own type: no conversion per value
            rows = rows.astype(out.dtype)
            fill = self._cast_fill.get(out.dtype)
            if fill is None:
                fill = self._cast_fill[out.dtype] = self._model_fill.astype(out.dtype)
        fill_segment_masks(rows, fill, self._run_starts, self._run_segments,
                           np.ascontiguousarray(coalitions, dtype=np.bool_), pair_row, pair_mask, start, stop, out)

    @property
    def n_players(self):
        return self.n_segments

    @property
    def n_columns(self):
        return self.schema.n_columns

    # direct use ---------------------------------------------------------------------------------
    def masked_images(self, coalitions):
        """The model's batch for boolean coalitions ``(k, n_segments)`` (for checks and plots)."""
        coalitions = np.atleast_2d(np.asarray(coalitions, dtype=np.bool_))
        if coalitions.shape[1] != self.n_segments:
            raise ValueError(f"coalitions must have {self.n_segments} columns, one per segment; "
                             f"got shape {coalitions.shape}")
        n = coalitions.shape[0]
        out = np.empty((n, self.schema.n_columns), dtype=self.dtype)
        index = np.arange(n, dtype=np.int64)
        pixels = self.model_schema.in_flat_order(self.pixels)
        self.fill(pixels[None], coalitions, np.zeros(n, dtype=np.int64), index, 0, n, out)
        return self.model_schema.decode(out)

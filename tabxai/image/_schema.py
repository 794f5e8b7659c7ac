"""Images as flat code rows: checks of user images and the schema that turns rows back into model batches.

Every image method works on flat float64 rows in height-width-channel order (``H * W * C``
values), whatever layout the model takes; :class:`ImageSchema` encodes the user's images into such
rows and decodes rows into the batch the model expects, ``(n, H, W, C)``, ``(n, H, W)`` for a
grey image given without a channel axis, or ``(n, C, H, W)`` for channel-first (torch-style) models.
It is duck-typed like :class:`tabxai.TabularSchema`, so :class:`tabxai.Model` and the engine use it
as they use a table's schema.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_choice
from ..data import NUMERIC, Column

__all__ = ["ImageSchema", "check_image", "check_value_range"]

LAYOUTS = ("NHWC", "NCHW")
_MAX_CHANNELS_GUESS = 4  # more than this on the channel axis looks like a layout mistake


def check_value_range(image, value_range):
    """The value range ``(low, high)`` of an image, checked against its values.

    ``None`` infers it: ``(0, 255)`` for integer images, ``(0, 1)`` for floats within it, and
    ``(0, 255)`` for floats within that; other floats (e.g. normalised images) need an explicit range.
    """
    low, high = float(np.min(image)), float(np.max(image))
    if value_range is None:
        if image.dtype.kind in "ui" or (low >= 0 and high > 1):
            value_range = (0.0, 255.0)
        else:
            value_range = (0.0, 1.0)
        inferred = True
    else:
        inferred = False
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(isinstance(v, numbers.Real) and np.isfinite(v) for v in value_range)
                or not value_range[0] < value_range[1]):
            raise ValueError(f"`value_range` must be a pair (low, high) of finite numbers with low < high; "
                             f"got {value_range!r}")
        value_range = (float(value_range[0]), float(value_range[1]))
    if low < value_range[0] or high > value_range[1]:
        hint = (" Images are taken to be in [0, 1] or [0, 255]; for normalised images pass "
                "value_range=(low, high)" if inferred else "")
        raise ValueError(f"the image has values in [{low:g}, {high:g}], outside its value range "
                         f"[{value_range[0]:g}, {value_range[1]:g}].{hint}")
    return value_range


def check_image(image, layout, what="image"):
    """A single image as a float64 array, checked: 2-D grey or 3-D with channels, finite numbers.

    Returns the array in the user's layout (not copied when already float64).
    """
    layout = check_choice(layout, "layout", LAYOUTS)
    if hasattr(image, "numpy") and not isinstance(image, np.ndarray):  # tensors of deep-learning frameworks
        image = image.numpy()
    array = np.asarray(image)
    if array.dtype.kind not in "uif":
        raise TypeError(f"{what} must be an array of numbers; got dtype {array.dtype}")
    expected = "(H, W, C) or (H, W)" if layout == "NHWC" else "(C, H, W)"
    if array.ndim not in (2, 3) or (layout == "NCHW" and array.ndim != 3):
        extra = " (a batch? explain one image at a time)" if array.ndim == 4 else ""
        raise ValueError(f"{what} must have shape {expected} for layout={layout!r}; got shape {array.shape}{extra}")
    if array.ndim == 3:
        channels = array.shape[2] if layout == "NHWC" else array.shape[0]
        other = array.shape[0] if layout == "NHWC" else array.shape[2]
        if channels > _MAX_CHANNELS_GUESS and other <= _MAX_CHANNELS_GUESS:
            right = "NCHW" if layout == "NHWC" else "NHWC"
            raise ValueError(
                f"{what} of shape {array.shape} has {channels} channels for layout={layout!r}; it looks like "
                f"a {'channel-first (C, H, W)' if right == 'NCHW' else 'channel-last (H, W, C)'} image: "
                f"pass layout={right!r}, or transpose the image"
            )
    if min(array.shape) == 0:
        raise ValueError(f"{what} is empty: shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{what} has {bad} NaN or infinite values; tabxai explains finite images only")
    return array


class ImageSchema:
    """The shape of the images a model takes, and the map between them and flat float64 rows.

    Parameters
    ----------
    shape : tuple
        Shape of one image as the model takes it: ``(H, W)`` or ``(H, W, C)`` for ``layout="NHWC"``,
        ``(C, H, W)`` for ``layout="NCHW"``.
    layout : {"NHWC", "NCHW"}, default="NHWC"
        Channel-last (Keras, JAX) or channel-first (torch) batches.
    flat : {"hwc", "layout"}, default="hwc"
        Order of the values in a flat row: height-width-channel whatever the layout (what the pixel
        kernels of occlusion, RISE and the curves write), or the model's own layout, so that a
        batch of flat rows is the model's batch reshaped, without a transpose (what the segment
        masker writes for channel-first models).

    Examples
    --------
    >>> import numpy as np
    >>> schema = ImageSchema((3, 4, 5), layout="NCHW")
    >>> schema.height, schema.width, schema.n_channels, schema.n_columns
    (4, 5, 3, 60)
    >>> image = np.arange(60.0).reshape(3, 4, 5)
    >>> rows = schema.encode(image)
    >>> rows.shape, bool((schema.decode(rows)[0] == image).all())
    ((1, 60), True)
    """

    input_kind = "image"

    def __init__(self, shape, layout="NHWC", flat="hwc"):
        self.layout = check_choice(layout, "layout", LAYOUTS)
        self.flat = check_choice(flat, "flat", ("hwc", "layout"))
        self.shape = tuple(int(n) for n in shape)
        if layout == "NCHW":
            self.n_channels, self.height, self.width = self.shape
        elif len(self.shape) == 2:
            (self.height, self.width), self.n_channels = self.shape, 1
        else:
            self.height, self.width, self.n_channels = self.shape
        self._names = None
        self._columns = None

    @property
    def n_pixels(self):
        return self.height * self.width

    @property
    def n_columns(self):
        return self.height * self.width * self.n_channels

    @property
    def _transposed(self):
        """Whether flat rows and the model's batches differ in order (channel-first batches of "hwc" rows)."""
        return self.layout == "NCHW" and self.flat == "hwc"

    def in_flat_order(self, row):
        """A flat row ``(H * W * C,)`` in height-width-channel order, in this schema's flat order."""
        row = np.asarray(row)
        if self.layout == "NCHW" and self.flat == "layout":
            return np.ascontiguousarray(row.reshape(self.n_pixels, self.n_channels).T).reshape(-1)
        return row

    @property
    def names(self):
        """One name per value of a flat row (``"y,x,c"``), built on first use."""
        if self._names is None:
            if self._transposed:
                self._names = tuple(f"{y},{x},{c}" for c in range(self.n_channels) for y in range(self.height)
                                    for x in range(self.width))
            else:
                self._names = tuple(f"{y},{x},{c}" for y in range(self.height) for x in range(self.width)
                                    for c in range(self.n_channels))
        return self._names

    @property
    def columns(self):
        """One numeric :class:`tabxai.data.Column` per value of a flat row (for code that walks a schema's columns)."""
        if self._columns is None:
            self._columns = tuple(Column(name, NUMERIC, np.dtype(np.float64)) for name in self.names)
        return self._columns

    def _check_shape(self, array, what):
        if array.shape == self.shape:
            return array[None]
        if array.ndim == len(self.shape) + 1 and array.shape[1:] == self.shape:
            return array
        raise ValueError(f"{what} must have the shape {self.shape} of the explained image (layout={self.layout!r}), "
                         f"or be a batch of such images; got shape {array.shape}")

    def encode(self, data, *, what="X"):
        """Flat rows ``(n, H * W * C)`` of one image or a batch of images in the model's layout."""
        array = np.asarray(data)
        if array.dtype.kind not in "uifb":
            raise TypeError(f"{what} must be an array of numbers; got dtype {array.dtype}")
        batch = self._check_shape(array, what)
        if self._transposed:
            batch = batch.transpose(0, 2, 3, 1)
        rows = np.ascontiguousarray(batch, dtype=np.float64).reshape(batch.shape[0], self.n_columns)
        if not np.isfinite(rows).all():
            raise ValueError(f"{what} has NaN or infinite values; tabxai explains finite images only")
        return rows

    def decode(self, codes, *, columns=None, as_array=None):
        """The model's batch for flat rows: ``(n, H, W, C)``, ``(n, H, W)`` or ``(n, C, H, W)``."""
        if columns is not None:
            raise ValueError("an image schema decodes whole images; `columns` must be None")
        codes = np.asarray(codes)
        if codes.dtype != np.float32:  # float32 batches (see ImageMasker.dtype) stay float32
            codes = codes.astype(np.float64, copy=False)
        if codes.ndim != 2 or codes.shape[1] != self.n_columns:
            raise ValueError(f"codes must have shape (n_rows, {self.n_columns}); got {codes.shape}")
        n = codes.shape[0]
        if self._transposed:
            batch = codes.reshape(n, self.height, self.width, self.n_channels).transpose(0, 3, 1, 2)
            return np.ascontiguousarray(batch)
        return codes.reshape((n,) + self.shape)

    def extended(self, data, *, what="X"):
        """This schema, after checking that ``data`` holds images of its shape."""
        self._check_shape(np.asarray(data), what)
        return self

    def explained_data(self, data):
        """A copy of the explained images as the user gave them, as a batch (for results)."""
        return self._check_shape(np.array(data, copy=True), "X")

    def pixels(self, image):
        """A single image in the user's layout as one flat row (H * W * C,), in this schema's flat order."""
        return self.encode(image, what="image")[0]

    def to_display(self, row):
        """A flat row as an ``(H, W)`` or ``(H, W, C)`` array for matplotlib."""
        if self.layout == "NCHW" and self.flat == "layout":
            image = row.reshape(self.n_channels, self.height, self.width).transpose(1, 2, 0)
        else:
            image = row.reshape(self.height, self.width, self.n_channels)
        return image[:, :, 0] if self.n_channels == 1 else image

"""Superpixels: the players of an image explanation.

``grid`` (regular rectangular patches) needs nothing; ``slic``, ``quickshift`` and ``felzenszwalb``
are scikit-image's (the ``image`` extra), called with the defaults below and never re-implemented.
"""

from __future__ import annotations

import inspect

import numpy as np

from .._validation import check_choice, check_int, resolve_seed
from ._schema import ImageSchema, check_image, check_value_range

__all__ = ["check_segments", "segment"]

METHODS = ("slic", "quickshift", "felzenszwalb", "grid")

# scikit-image's arguments that tabxai sets unless the caller does; quickshift's are lime_image's
DEFAULTS = {
    "slic": {"n_segments": 50, "compactness": 10.0, "start_label": 0},
    "quickshift": {"kernel_size": 4, "max_dist": 200, "ratio": 0.2},
    "felzenszwalb": {"scale": 100.0, "sigma": 0.8, "min_size": 20},
    "grid": {"grid": (8, 8)},
}


def _skimage_segmentation():
    try:
        from skimage import segmentation
    except ImportError:
        raise ImportError(
            "superpixels by slic, quickshift or felzenszwalb need scikit-image: pip install \"tabxai[image]\". "
            "method=\"grid\" (regular patches) needs nothing extra"
        ) from None
    return segmentation


def segment(image, method="slic", *, layout="NHWC", value_range=None, random_state=None, **params):
    """Split an image into segments (superpixels): an integer label map ``(H, W)``.

    Parameters
    ----------
    image : ndarray
        One image, ``(H, W, C)`` or ``(H, W)`` for ``layout="NHWC"``, ``(C, H, W)`` for ``"NCHW"``,
        with values in ``value_range``.
    method : {"slic", "quickshift", "felzenszwalb", "grid"}, default="slic"
        ``"grid"``: regular patches, ``grid=(rows, columns)`` of them (default ``(8, 8)``, fewer
        for images under 8 pixels). The others
        call scikit-image (``pip install "tabxai[image]"``) on the image scaled to [0, 1], with these
        defaults, which ``params`` override:

        - ``slic``: ``n_segments=50, compactness=10.0`` (scikit-image: 100 segments);
        - ``quickshift``: ``kernel_size=4, max_dist=200, ratio=0.2``, lime_image's defaults
          (scikit-image: 5, 10, 1.0); colour images only;
        - ``felzenszwalb``: ``scale=100.0, sigma=0.8, min_size=20`` (scikit-image: scale 1).
    layout : {"NHWC", "NCHW"}, default="NHWC"
        Channel-last or channel-first image.
    value_range : (float, float), default=None
        Range of the image's values; default ``(0, 255)`` for integer images and floats above 1,
        ``(0, 1)`` otherwise.
    random_state : int, numpy Generator or None, default=None
        Seed of quickshift's tie-breaking noise; the other methods are deterministic.
    **params
        Further arguments of the scikit-image function (or ``grid`` for ``"grid"``).

    Returns
    -------
    ndarray of int64, shape (H, W)
        Labels ``0 .. n_segments - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> labels = segment(np.zeros((32, 48, 3)), method="grid", grid=(2, 3))
    >>> labels.shape, int(labels.max()) + 1, int(labels[0, 47])
    ((32, 48), 6, 2)
    """
    method = check_choice(method, "method", METHODS)
    image = check_image(image, layout)
    schema = ImageSchema(image.shape, layout)
    allowed = set(DEFAULTS[method])
    if method == "grid":
        unknown = set(params) - allowed
        if unknown:
            raise TypeError(f"segment(method='grid') takes the keyword `grid`; got {sorted(unknown)}")
        default = tuple(min(n, limit) for n, limit in zip(DEFAULTS["grid"]["grid"], (schema.height, schema.width)))
        return _grid(schema.height, schema.width, params.get("grid", default))
    low, high = check_value_range(image, value_range)
    pixels = schema.to_display(schema.pixels(image))
    scaled = (pixels - low) / (high - low)
    segmentation = _skimage_segmentation()
    arguments = {**DEFAULTS[method], **params}
    grey = scaled.ndim == 2
    if method == "slic":
        labels = segmentation.slic(scaled, channel_axis=None if grey else -1, **arguments)
    elif method == "quickshift":
        if grey or scaled.shape[2] != 3:
            raise ValueError(f"quickshift segments colour (RGB) images; this image has "
                             f"{schema.n_channels} channel(s). Use method='slic', 'felzenszwalb' or 'grid'")
        if "rng" not in arguments and "random_seed" not in arguments:
            seed_name = "rng" if "rng" in inspect.signature(segmentation.quickshift).parameters else "random_seed"
            arguments[seed_name] = resolve_seed(random_state) % (2**32)
        labels = segmentation.quickshift(scaled, **arguments)
    else:
        labels = segmentation.felzenszwalb(scaled, channel_axis=None if grey else -1, **arguments)
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype(np.int64)


def _grid(height, width, grid):
    if not isinstance(grid, (tuple, list)) or len(grid) != 2:
        raise TypeError(f"`grid` must be a pair (rows, columns) of patches; got {grid!r}")
    rows = check_int(grid[0], "grid[0]", min_value=1, max_value=height)
    columns = check_int(grid[1], "grid[1]", min_value=1, max_value=width)
    y = np.arange(height) * rows // height
    x = np.arange(width) * columns // width
    return (y[:, None] * columns + x[None, :]).astype(np.int64)


def check_segments(segments, height, width):
    """A label map ``(H, W)`` relabelled ``0 .. k - 1`` (in order of the labels), with ``k >= 2``.

    Returns the relabelled map and the original labels (for names).
    """
    array = np.asarray(segments)
    if array.shape != (height, width):
        raise ValueError(f"`segments` must be a label map of the image's shape ({height}, {width}); "
                         f"got shape {array.shape}")
    if array.dtype.kind not in "iub":
        if array.dtype.kind == "f" and np.isfinite(array).all() and np.array_equal(array, np.round(array)):
            array = array.astype(np.int64)
        else:
            raise TypeError(f"`segments` must hold integer labels; got dtype {array.dtype}")
    labels, inverse = np.unique(array, return_inverse=True)
    if labels.size < 2:
        raise ValueError(f"`segments` has {labels.size} segment; an explanation needs at least 2 "
                         "(e.g. tx.image.segment(image, 'grid'))")
    return inverse.reshape(height, width).astype(np.int64), labels

"""The engine: the one place every method asks the model.

A method describes what it wants as (explained row, coalition) pairs; the engine has the masker
build the model rows for them with Numba kernels, streams them through the model in chunks of at
most ``max_rows`` rows, and has the masker reduce the outputs to one value per pair. Results do not
depend on the chunk size. :func:`map_row_blocks` runs a method's per-row work over blocks of
explained rows, in parallel through joblib, with results in row order whatever ``n_jobs``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

import numpy as np
from joblib import Parallel, delayed

__all__ = ["coalition_outputs", "coalition_values", "expected_value", "finite_values", "map_row_blocks", "predict",
           "progress_bar", "progress_enabled", "reference_outputs", "single_blas_thread", "stream_rows"]

_AUTO_PROGRESS_ROWS = 2_000_000
_CONTROLLER = []  # one threadpoolctl controller per process: finding the libraries costs milliseconds


def single_blas_thread():
    """Context in which BLAS uses one thread, for a method's own linear algebra.

    Threaded BLAS reductions can change the last bits of a result with the number of threads, which
    differs between the main process and joblib workers; estimates computed inside this context are
    the same whatever ``n_jobs``. The model's own calls are never limited.
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def progress_enabled(progress, total_rows):
    """Whether to show a progress bar: ``progress`` if given, else for long jobs in a terminal or notebook."""
    if progress is not None:
        return bool(progress)
    if total_rows < _AUTO_PROGRESS_ROWS:
        return False
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress_bar(enabled, total, unit="rows"):
    """A tqdm progress bar (``tqdm.auto``: a widget in notebooks), or None when not ``enabled``."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, unit_scale=True, desc="tabxai", leave=False)


def coalition_values(model, masker, rows, coalitions, pair_row, pair_mask, *, progress=None):
    """Values of (explained row, coalition) pairs.

    Parameters
    ----------
    model : Model
        Bound to the schema of ``rows``.
    masker : masker bound to the same schema (see :mod:`tabxai.maskers`)
    rows : ndarray (n_rows, n_columns)
        Codes of the explained rows.
    coalitions : bool ndarray (n_masks, n_players)
        Which players take the explained row's values, per coalition.
    pair_row, pair_mask : int64 ndarrays (n_pairs,)
        For each pair, the index of its explained row and of its column mask.

    Returns
    -------
    ndarray (n_pairs, n_outputs)
    """
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    coalitions = np.ascontiguousarray(coalitions, dtype=np.bool_)
    pair_row = np.ascontiguousarray(pair_row, dtype=np.int64)
    pair_mask = np.ascontiguousarray(pair_mask, dtype=np.int64)
    n_pairs = pair_row.shape[0]
    totals = []

    def fill(start, stop, out):
        masker.fill(rows, coalitions, pair_row, pair_mask, start, stop, out)

    def consume(outputs, start):
        if not totals:
            totals.append(np.zeros((n_pairs, outputs.shape[1]), dtype=np.float64))
        masker.reduce(outputs, start, totals[0])

    stream_rows(model, n_pairs * masker.rows_per_pair, rows.shape[1], fill, consume, progress=progress,
                dtype=getattr(masker, "dtype", np.float64), finite=finite_values(masker, rows),
                grow_to=getattr(masker, "grow_rows", None))
    if not totals:
        return np.zeros((0, model.n_outputs or 1), dtype=np.float64)
    return totals[0]


def predict(model, codes, *, progress=None):
    """The model's outputs ``(n_rows, n_outputs)`` on code rows, in calls of at most ``model.max_rows`` rows."""
    codes = np.ascontiguousarray(codes, dtype=np.float64)
    if codes.shape[0] <= model.max_rows:
        return model(codes)
    parts = []

    def fill(start, stop, out):
        out[:] = codes[start:stop]

    stream_rows(model, codes.shape[0], codes.shape[1], fill, lambda outputs, start: parts.append(outputs.copy()),
                progress=progress)
    return np.concatenate(parts, axis=0)


def bind_model(model, schema, masker):
    """``model`` bound to ``schema``, its outputs named from one model row that ``masker`` builds.

    The row is the empty coalition on the first reference: data the model is about to be asked
    about anyway, so a model that cannot take it fails here, at bind time.
    """
    probe = np.empty((1, masker.n_columns))
    masker.fill(np.zeros((1, masker.n_columns)), np.zeros((1, masker.n_players), dtype=np.bool_),
                np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), 0, 1, probe)
    return model.bind(schema, sample=probe)


def reference_outputs(model, masker):
    """The model on every reference of a bound masker: the empty coalition, ``(rows_per_pair, n_outputs)``."""
    rows = np.zeros((1, masker.n_columns))
    empty = np.zeros((1, masker.n_players), dtype=np.bool_)
    zero = np.zeros(1, dtype=np.int64)
    return coalition_outputs(model, masker, rows, empty, zero, zero)[0]


def expected_value(model, masker):
    """The value of the empty coalition, shape ``(n_outputs,)``: the weighted mean over the references."""
    rows = np.zeros((1, masker.n_columns))
    empty = np.zeros((1, masker.n_players), dtype=np.bool_)
    zero = np.zeros(1, dtype=np.int64)
    return coalition_values(model, masker, rows, empty, zero, zero)[0]


def map_row_blocks(function, n_rows, n_jobs, *, progress=False, block_size=None):
    """Run ``function(row_indices)`` over blocks of explained rows; results in row order.

    With ``n_jobs == 1`` a single block holds every row (or blocks of at most ``block_size`` rows,
    for methods whose memory grows with the rows of a block), so the model sees the largest
    batches. Otherwise rows are split into contiguous blocks run by joblib (the backend set with
    ``joblib.parallel_config``, e.g. loky or dask). ``function`` must not depend on how rows are
    split: per-row randomness is keyed by the row index.
    """
    if n_rows == 0:
        return []
    n_blocks = 1 if n_jobs == 1 else min(n_rows, n_jobs)
    if block_size is not None:
        n_blocks = max(n_blocks, -(-n_rows // max(1, int(block_size))))
    if n_blocks == 1:
        return [function(np.arange(n_rows))]
    blocks = np.array_split(np.arange(n_rows), n_blocks)
    if n_jobs == 1:
        bar = progress_bar(progress, n_rows, "rows")
        out = []
        for block in blocks:
            out.append(function(block))
            if bar is not None:
                bar.update(len(block))
        if bar is not None:
            bar.close()
        return out
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = parallel(delayed(function)(block) for block in blocks)
    bar = progress_bar(progress, n_rows, "rows")
    out = []
    for block, result in zip(blocks, results):
        out.append(result)
        if bar is not None:
            bar.update(len(block))
    if bar is not None:
        bar.close()
    return out


# --- rows built by a method's own kernel -----------------------------------------------------------

def stream_rows(model, n_rows, n_columns, fill, consume, *, progress=None, dtype=np.float64, read_only=False, order="C",
                finite=False, grow_to=None):
    """Ask the model about ``n_rows`` rows that a method builds, in chunks of at most ``model.max_rows``.

    For methods whose rows are not (explained row, coalition) pairs over a background (permutation
    importance, accumulated local effects). Chunking never changes the rows nor the results.

    Parameters
    ----------
    model : Model
        Bound to the schema of the rows.
    n_rows, n_columns : int
        Size of the flat row space.
    fill : callable
        ``fill(start, stop, out)`` writes rows ``start`` to ``stop`` into ``out`` (a Numba kernel call).
    consume : callable
        ``consume(outputs, start)`` receives the C-contiguous model outputs ``(stop - start, n_outputs)``.
    progress : bool, default=None
        Show a progress bar; default only for long jobs in a terminal or notebook.
    dtype : float64 or float32, default=float64
        Dtype of the rows (a masker's ``dtype``: images are filled in the model's float32, which
        halves the bytes written and spares the model a conversion).
    read_only : bool, default=False
        Hand the model each chunk as a read-only view, for a ``fill`` that keeps what the buffer
        held from one chunk to the next and writes only what changes (a model that writes into its
        input then fails loudly instead of changing the rows of later chunks).
    order : {"C", "F"}, default="C"
        Memory layout of the buffer: "F" (column-major) for fills that write a few columns.
    finite : bool, default=False
        Every value the rows are made of is known to be finite: scikit-learn estimators are called
        with ``assume_finite`` and skip their finiteness scan of every chunk (a scan that would pass;
        on a cheap model it costs a sizeable share of the call). The outputs are checked as always.
    grow_to : int, default=None
        Pick the batch size the model likes, up to this many rows: calls start at ``model.max_rows``
        rows and double while a call's time per row (filling included) drops by at least 5%; the
        first size that does not gain is kept. Only speed depends on it (rows and results never do).
    """
    if n_rows == 0:
        return
    chunk = min(model.max_rows, n_rows)
    sizes = _ChunkSizes(chunk, min(max(chunk, grow_to or chunk), n_rows))
    bar = progress_bar(progress_enabled(progress, n_rows), n_rows, "rows")
    with _buffer((sizes.largest, n_columns), dtype, order) as buffer, _finiteness_known(finite):
        _stream(model, n_rows, sizes, buffer, fill, consume, bar, read_only)


_SPARE = threading.local()  # per thread: memory of the last request's buffer, lent to the next
_SPARE_BYTES = 64 * 2 ** 20


@contextlib.contextmanager
def _buffer(shape, dtype, order):
    """A buffer of ``shape``, lent from the memory the previous request of this thread used when it is large
    enough: fresh memory costs a page fault and the kernel's zeroing per 4 KiB page (tens of milliseconds
    for a few hundred images). A request made while another streams (nested) gets its own memory."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    spare, busy = getattr(_SPARE, "memory", None), getattr(_SPARE, "busy", False)
    lend = spare is not None and spare.nbytes >= size and not busy
    memory = spare if lend else np.empty(size, dtype=np.uint8)
    _SPARE.busy = True
    try:
        yield np.ndarray(shape, dtype=dtype, buffer=memory, order=order)
    finally:
        _SPARE.busy = busy  # a nested request leaves the outer one's memory lent
        if not busy and not lend and size <= _SPARE_BYTES:
            _SPARE.memory = memory


def _finiteness_known(finite):
    """scikit-learn's ``assume_finite`` when ``finite``, else a context that changes nothing."""
    if not finite:
        return contextlib.nullcontext()
    from sklearn import config_context

    return config_context(assume_finite=True)


def finite_values(masker, rows):
    """Whether every value a masker builds rows from (its references and ``rows``) is finite."""
    return bool(getattr(masker, "finite", False)) and bool(np.isfinite(rows).all())


class _ChunkSizes:
    """Rows per call: ``first``, doubled up to ``largest`` while the time per row drops by 5% or more."""

    def __init__(self, first, largest):
        self.size, self.largest = first, largest
        self.previous = None  # (rows, seconds per row) of the last full call at the size before
        self.settled = first >= largest

    def record(self, rows, seconds):
        if self.settled or rows < self.size:
            return
        rate = seconds / rows
        if self.previous is not None and rate > 0.95 * self.previous[1]:  # no gain: back to the smaller size
            self.size, self.settled = self.previous[0], True
            return
        self.previous = (rows, rate)
        self.size = min(2 * self.size, self.largest)
        self.settled = self.size == rows


def _stream(model, n_rows, sizes, buffer, fill, consume, bar, read_only):
    try:
        start = 0
        while start < n_rows:
            stop = min(start + sizes.size, n_rows)
            began = time.perf_counter()
            rows = buffer[: stop - start]
            fill(start, stop, rows)
            if read_only:
                rows.flags.writeable = False
            consume(np.ascontiguousarray(model(rows, start)), start)
            sizes.record(stop - start, time.perf_counter() - began)
            if bar is not None:
                bar.update(stop - start)
            start = stop
    finally:
        if bar is not None:
            bar.close()


def coalition_outputs(model, masker, rows, coalitions, pair_row, pair_mask, *, progress=None):
    """Unreduced model outputs of (explained row, coalition) pairs: one value per background row.

    Same arguments and rows as :func:`coalition_values`, which is the masker's reduction of this
    over the background rows (e.g. individual conditional expectation curves, whose mean is the
    partial dependence).

    Returns
    -------
    ndarray (n_pairs, masker.rows_per_pair, n_outputs)
    """
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    coalitions = np.ascontiguousarray(coalitions, dtype=np.bool_)
    pair_row = np.ascontiguousarray(pair_row, dtype=np.int64)
    pair_mask = np.ascontiguousarray(pair_mask, dtype=np.int64)
    n_pairs = pair_row.shape[0]
    per_pair = masker.rows_per_pair
    n_total = n_pairs * per_pair
    result = []

    def fill(start, stop, out):
        masker.fill(rows, coalitions, pair_row, pair_mask, start, stop, out)

    def consume(outputs, start):
        if not result:
            result.append(np.empty((n_total, outputs.shape[1]), dtype=np.float64))
        result[0][start:start + outputs.shape[0]] = outputs

    stream_rows(model, n_total, rows.shape[1], fill, consume, progress=progress,
                dtype=getattr(masker, "dtype", np.float64), finite=finite_values(masker, rows),
                grow_to=getattr(masker, "grow_rows", None))
    if not result:
        return np.zeros((n_pairs, per_pair, model.n_outputs or 1), dtype=np.float64)
    return result[0].reshape(n_pairs, per_pair, result[0].shape[1])

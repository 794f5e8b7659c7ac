import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tabxai._engine import coalition_values, map_row_blocks
from tabxai._kernels.masking import accumulate_weighted, fill_masked_rows, refill_masked_columns
from tabxai.data import TabularSchema
from tabxai.maskers import IndependentMasker
from tabxai.model import as_model


@st.composite
def requests(draw):
    n_background = draw(st.integers(1, 5))
    n_columns = draw(st.integers(1, 4))
    n_rows = draw(st.integers(1, 3))
    n_masks = draw(st.integers(1, 4))
    n_pairs = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    background = rng.normal(size=(n_background, n_columns))
    background[rng.random(background.shape) < 0.1] = np.nan
    return (rng.normal(size=(n_rows, n_columns)), background, rng.random((n_masks, n_columns)) < 0.5,
            rng.integers(0, n_rows, n_pairs), rng.integers(0, n_masks, n_pairs))


def _naive_rows(rows, background, masks, pair_row, pair_mask):
    out = []
    for q in range(len(pair_row)):
        for b in range(len(background)):
            out.append([rows[pair_row[q], j] if masks[pair_mask[q], j] else background[b, j]
                        for j in range(background.shape[1])])
    return np.array(out, dtype=float).reshape(-1, background.shape[1])


@given(requests(), st.integers(1, 7))
def test_fill_equals_naive_for_any_slice(request, chunk):
    rows, background, masks, pair_row, pair_mask = request
    expected = _naive_rows(rows, background, masks, pair_row, pair_mask)
    got = np.full_like(expected, -99.0)
    for start in range(0, len(expected), chunk):
        stop = min(start + chunk, len(expected))
        players = np.arange(background.shape[1], dtype=np.int64)  # one player per column
        fill_masked_rows(rows, background, masks, players, pair_row, pair_mask, start, stop, got[start:stop])
    np.testing.assert_array_equal(got, expected)


@given(requests(), st.integers(1, 4), st.sampled_from(["C", "F"]))
def test_a_reused_buffer_refilled_by_columns_equals_naive_rows(request, pairs_per_call, order):
    """Calls of whole pairs into one buffer: only changed columns are written, the rows are the naive ones
    (NaN in the background included); a shorter last call leaves its blocks unknown."""
    rows, background, masks, pair_row, pair_mask = request
    expected = _naive_rows(rows, background, masks, pair_row, pair_mask)
    n_background = len(background)
    chunk = pairs_per_call * n_background
    buffer = np.full((chunk, background.shape[1]), -99.0, order=order)
    slot_row, slot_mask = np.full(pairs_per_call, -1), np.full(pairs_per_call, -1)
    players = np.arange(background.shape[1], dtype=np.int64)
    for start in range(0, len(expected), chunk):
        stop = min(start + chunk, len(expected))
        out = buffer[:stop - start]
        refill_masked_columns(rows, np.ascontiguousarray(background.T), masks, players, pair_row, pair_mask,
                              start, stop, out, slot_row, slot_mask)
        np.testing.assert_array_equal(out, expected[start:stop])


@given(requests(), st.integers(1, 7))
def test_accumulate_equals_naive_weighted_mean(request, chunk):
    rows, background, masks, pair_row, pair_mask = request
    n_background = len(background)
    outputs = np.random.default_rng(0).normal(size=(len(pair_row) * n_background, 2))
    weights = np.random.default_rng(1).random(n_background)
    weights /= weights.sum()
    totals = np.zeros((len(pair_row), 2))
    for start in range(0, len(outputs), chunk):
        accumulate_weighted(np.ascontiguousarray(outputs[start:start + chunk]), weights, start, totals)
    expected = [sum(weights[b] * outputs[q * n_background + b] for b in range(n_background))
                for q in range(len(pair_row))]
    np.testing.assert_allclose(totals, expected, rtol=0, atol=1e-14)


@given(requests(), st.integers(1, 9))
def test_coalition_values_do_not_depend_on_chunks(request, max_rows):
    rows, background, masks, pair_row, pair_mask = request
    background = np.nan_to_num(background)
    schema = TabularSchema.from_data(background)
    masker = IndependentMasker(background).bind(schema)

    def predict(d):
        return np.column_stack([d.sum(axis=1), np.cos(d[:, 0])])

    reference = coalition_values(as_model(predict).bind(schema), masker, rows, masks, pair_row, pair_mask)
    chunked = coalition_values(as_model(predict, max_rows=max_rows).bind(schema), masker, rows, masks, pair_row,
                               pair_mask)
    np.testing.assert_array_equal(chunked, reference)
    naive = predict(_naive_rows(rows, background, masks, pair_row, pair_mask)).reshape(len(pair_row), -1, 2).mean(1)
    np.testing.assert_allclose(reference, naive, atol=1e-12)


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_map_row_blocks_keeps_row_order(n_jobs):
    blocks = map_row_blocks(lambda idx: idx * 10, 7, n_jobs)
    np.testing.assert_array_equal(np.concatenate(blocks), np.arange(7) * 10)
    assert map_row_blocks(lambda idx: idx, 0, n_jobs) == []


def test_progress_bar_on_request_and_off_by_default(capsys):
    import tabxai as tx

    rng = np.random.default_rng(0)
    background, X = rng.normal(size=(5, 4)), rng.normal(size=(2, 4))
    tx.ExactShapley(lambda d: d[:, 0], background, progress=True).explain(X)
    shown = capsys.readouterr().err
    assert "rows/s" in shown and "/160" in shown  # 2 rows x 16 coalitions x 5 background rows
    tx.ExactShapley(lambda d: d[:, 0], background).explain(X)
    assert capsys.readouterr().err == ""


def test_stream_rows_can_hand_the_model_read_only_column_major_rows():
    from tabxai._engine import stream_rows
    from tabxai.model import ModelError

    codes = np.arange(30.0).reshape(10, 3)
    schema = TabularSchema.from_data(codes)
    seen = []

    def fill(start, stop, out):
        out[:] = codes[start:stop]

    def looks(rows):
        seen.append((rows.flags.writeable, rows.flags.f_contiguous, rows.copy()))
        return rows.sum(axis=1)

    model = as_model(looks, max_rows=4).bind(schema)
    sums = []
    stream_rows(model, 10, 3, fill, lambda outputs, start: sums.append(outputs[:, 0].copy()), read_only=True,
                order="F")
    np.testing.assert_array_equal(np.concatenate(sums), codes.sum(axis=1))
    assert [w for w, _, _ in seen] == [False] * 3 and seen[0][1]
    np.testing.assert_array_equal(np.concatenate([rows for _, _, rows in seen]), codes)

    def writes(rows):
        rows[:, 0] = 0.0
        return rows.sum(axis=1)

    with pytest.raises(ModelError, match="read-only"):
        stream_rows(as_model(writes, max_rows=4).bind(schema), 10, 3, fill, lambda outputs, start: None,
                    read_only=True)


def test_stream_rows_grows_calls_while_the_time_per_row_drops_and_never_changes_results():
    from tabxai._engine import _ChunkSizes, stream_rows

    sizes = _ChunkSizes(10, 80)
    for rows, seconds in [(10, 1.0), (20, 1.0), (40, 1.96)]:  # halves, then 0.98 of the rate: no longer a gain
        assert sizes.size == rows
        sizes.record(rows, seconds)
    assert sizes.size == 20 and sizes.settled
    sizes = _ChunkSizes(10, 25)
    sizes.record(10, 1.0)
    assert sizes.size == 20
    sizes.record(20, 1.0)
    assert sizes.size == 25
    sizes.record(25, 0.5)
    assert sizes.settled and sizes.size == 25

    codes = np.arange(300.0).reshape(100, 3)
    seen = []

    def model_rows(rows):
        seen.append(len(rows))
        return rows.sum(axis=1)

    model = as_model(model_rows, max_rows=7).bind(TabularSchema.from_data(codes))
    parts = []
    stream_rows(model, 100, 3, lambda start, stop, out: out.__setitem__(slice(None), codes[start:stop]),
                lambda outputs, start: parts.append((start, outputs[:, 0].copy())), grow_to=56)
    assert sum(seen) == 100 and seen[0] == 7 and max(seen) <= 56
    np.testing.assert_array_equal(np.concatenate([p for _, p in sorted(parts, key=lambda x: x[0])]), codes.sum(axis=1))


def test_requests_reuse_the_memory_of_the_previous_one_unless_nested():
    from tabxai import _engine

    _engine._SPARE.memory = None  # what earlier requests of this thread left
    with _engine._buffer((100, 3), np.float64, "F") as first:
        first[:] = 1.0
        with _engine._buffer((10, 3), np.float64, "C") as nested:  # while another request streams: its own memory
            assert not np.shares_memory(first, nested)
    with _engine._buffer((50, 2), np.float32, "C") as second:  # smaller: lent the memory of the first
        assert np.shares_memory(second, first) and second.flags.c_contiguous and second.flags.writeable
    with _engine._buffer((1000, 3), np.float64, "C") as larger:  # larger: fresh memory, kept for the next
        assert not np.shares_memory(larger, first)
    with _engine._buffer((1000, 3), np.float64, "C") as again:
        assert np.shares_memory(again, larger)

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tabxai.data import Players, TabularSchema


def _column_strategy(n):
    floats = st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(np.nan)), min_size=n, max_size=n)
    ints = st.lists(st.integers(-1000, 1000), min_size=n, max_size=n)
    labels = st.lists(st.one_of(st.sampled_from(["a", "b", "c d", "é"]), st.none()), min_size=n, max_size=n)
    bools = st.lists(st.booleans(), min_size=n, max_size=n)
    return st.one_of(
        floats.map(lambda v: pd.Series(v, dtype="float64")),
        ints.map(lambda v: pd.Series(v, dtype="int64")),
        ints.map(lambda v: pd.Series(v, dtype="int32")),
        labels.map(lambda v: pd.Series(v, dtype="category")),
        labels.map(lambda v: pd.Series(v, dtype=object)),
        labels.map(lambda v: pd.Series(v, dtype="str")),
        bools.map(lambda v: pd.Series(v, dtype=bool)),
        st.lists(st.one_of(st.integers(0, 5), st.none()), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="Int64")),
    )


@st.composite
def frames(draw):
    n_rows = draw(st.integers(1, 12))
    n_columns = draw(st.integers(1, 6))
    return pd.DataFrame({f"c{j}": draw(_column_strategy(n_rows)) for j in range(n_columns)})


@given(frames())
def test_round_trip_is_exact(frame):
    original = frame.copy(deep=True)
    schema = TabularSchema.from_data(frame)
    codes = schema.encode(frame)
    assert codes.dtype == np.float64 and codes.flags.c_contiguous
    decoded = schema.decode(codes)
    pd.testing.assert_frame_equal(decoded, frame)
    pd.testing.assert_frame_equal(frame, original)  # the user's frame is untouched


@given(frames(), st.randoms(use_true_random=False))
def test_round_trip_of_shuffled_rows(frame, random):
    schema = TabularSchema.from_data(frame)
    order = list(range(len(frame)))
    random.shuffle(order)
    shuffled = frame.iloc[order]
    np.testing.assert_array_equal(schema.encode(shuffled), schema.encode(frame)[order])


def test_codes_and_missing_values():
    frame = pd.DataFrame({
        "size": pd.Categorical(["small", None, "big"], categories=["small", "medium", "big"]),
        "city": pd.Series(["b", "a", None], dtype=object),
        "age": [30.0, np.nan, 41.0],
        "flag": [True, False, True],
    })
    schema = TabularSchema.from_data(frame)
    codes = schema.encode(frame)
    expected = np.array([[0, 1, 30, 1], [np.nan, 0, np.nan, 0], [2, np.nan, 41, 1]], dtype=float)
    np.testing.assert_array_equal(codes, expected)
    assert schema.columns[0].categories == ("small", "medium", "big")  # the dtype's own order
    assert schema.columns[1].categories == ("a", "b")
    assert schema.columns[1].na_value is None
    assert schema.decode(codes)["city"].iloc[2] is None


def test_columns_are_aligned_by_name():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": pd.Categorical(["x", "y"])})
    schema = TabularSchema.from_data(frame)
    np.testing.assert_array_equal(schema.encode(frame[["b", "a"]]), schema.encode(frame))


def test_missing_and_unknown_columns_are_named():
    schema = TabularSchema.from_data(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    with pytest.raises(ValueError, match=r"missing columns \['b'\]; unknown columns \['c'\]"):
        schema.encode(pd.DataFrame({"a": [1.0], "c": [2.0]}))


def test_unseen_categories_need_extension():
    schema = TabularSchema.from_data(pd.DataFrame({"city": ["a", "b"]}))
    new = pd.DataFrame({"city": ["c", "a"]})
    with pytest.raises(ValueError, match=r"categories not seen in the background: \['c'\]"):
        schema.encode(new)
    extended = schema.extended(new)
    assert extended.columns[0].categories == ("a", "b", "c")
    np.testing.assert_array_equal(extended.encode(new)[:, 0], [2, 0])
    assert list(extended.decode(extended.encode(new))["city"]) == ["c", "a"]


def test_arrays_decode_to_arrays_and_name_columns():
    array = np.arange(6.0).reshape(3, 2)
    schema = TabularSchema.from_data(array, feature_names=["u", "v"])
    assert schema.names == ("u", "v")
    assert schema.decode(schema.encode(array)) is not None
    np.testing.assert_array_equal(schema.decode(schema.encode(array)), array)
    assert TabularSchema.from_data(array).names == ("x0", "x1")


def test_non_integral_values_in_an_integer_column_stay_float():
    frame = pd.DataFrame({"n": np.array([1, 2], dtype=np.int64)})
    schema = TabularSchema.from_data(frame)
    decoded = schema.decode(np.array([[1.5], [2.0]]))
    assert decoded["n"].dtype == np.float64 and decoded["n"].iloc[0] == 1.5
    assert schema.decode(np.array([[1.0], [3.0]]))["n"].dtype == np.int64


@pytest.mark.parametrize("data, message", [
    (np.zeros(3), r"must be 2-D .* shape \(3,\)"),
    (pd.Series([1.0, 2.0]), "got a pandas Series"),
    (pd.DataFrame({"t": pd.to_datetime(["2020-01-01"])}), "cannot perturb"),
    (pd.DataFrame(index=range(3)), "no columns"),
])
def test_bad_data(data, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TabularSchema.from_data(data)


def test_non_numeric_values_in_a_numeric_column():
    schema = TabularSchema.from_data(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="column 'a' of X must be numeric"):
        schema.encode(pd.DataFrame({"a": ["x", "y"]}))


def test_players_from_groups():
    players = Players(["a", "b", "c", "d"], {"cd": ["d", "c"], "a_only": ["a"]})
    assert players.names == ("a_only", "b", "cd")
    np.testing.assert_array_equal(players.player_of_column, [0, 1, 2, 2])
    masks = np.array([[True, False, True]])[:, players.player_of_column]  # how maskers read coalitions
    np.testing.assert_array_equal(masks, [[True, False, True, True]])
    assert players.groups() == {"a_only": ("a",), "cd": ("d", "c")}  # members in the order given
    assert Players(["a", "b", "c"], [["a", "c"]]).names == ("a+c", "b")


@pytest.mark.parametrize("groups, message", [
    ({"g": ["a", "zz"]}, "unknown column 'zz'"),
    ({"g": ["a"], "h": ["a", "b"]}, "more than one feature group"),
    ({"g": []}, "is empty"),
    ({"g": "ab"}, "must be a list of column names"),
    ("a", "must be a dict"),
])
def test_bad_groups(groups, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Players(["a", "b"], groups)

import numpy as np
import pandas as pd
import pytest

import tabxai as tx


@pytest.fixture()
def multi():
    values = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    data = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [0.5, 0.25]}, index=[10, 11])
    return tx.Explanation(values, [[0.1, 0.9], [0.1, 0.9]], data, ["a", "b", "c"], ["bad", "good"],
                          stderr=values / 10, params={"method": "Test"})


@pytest.fixture()
def single():
    values = np.arange(6, dtype=float).reshape(2, 3)
    return tx.Explanation(values, [0.5, 0.5], np.zeros((2, 3)), ["a", "b", "c"], ["output"])


def test_shapes(multi, single):
    assert multi.values.shape == (2, 3, 2) and multi.base_values.shape == (2, 2)
    assert multi.stderr.shape == (2, 3, 2) and multi.output_names == ("bad", "good")
    assert single.values.shape == (2, 3) and single.base_values.shape == (2,) and single.stderr is None
    np.testing.assert_array_equal(single.output_values, [0.5 + 3, 0.5 + 12])
    np.testing.assert_array_equal(multi.output_values[:, 1], 0.9 + multi.values[:, :, 1].sum(axis=1))


def test_indexing_like_numpy(multi):
    row = multi[0]
    assert row.values.shape == (3, 2) and row.base_values.shape == (2,)
    assert row.data["b"] == "x"
    np.testing.assert_array_equal(multi[:, "b"].values, multi.values[:, 1])
    assert multi[:, "b"].feature_names == "b"
    np.testing.assert_array_equal(multi[:, ["c", "a"]].values, multi.values[:, [2, 0]])
    np.testing.assert_array_equal(multi[..., "good"].values, multi.values[:, :, 1])
    np.testing.assert_array_equal(multi[1, "c", "good"].values, multi.values[1, 2, 1])
    np.testing.assert_array_equal(multi[1]["c"].values, multi.values[1, 2])
    np.testing.assert_array_equal(multi[[True, False]].values, multi.values[:1])
    np.testing.assert_array_equal(multi[:, -1].values, multi.values[:, 2])
    np.testing.assert_array_equal(multi[1:, :, 0].stderr, multi.stderr[1:, :, 0])
    assert list(multi[[1]].data.index) == [11]


def test_bad_indexing(multi, single):
    with pytest.raises(KeyError, match=r"unknown feature 'zz'; the features are \['a', 'b', 'c'\]"):
        multi[:, "zz"]
    with pytest.raises(IndexError, match="out of range"):
        multi[5]
    with pytest.raises(IndexError, match="too many indices"):
        single[0, 0, 0]


def test_to_frame(multi, single):
    wide = single.to_frame()
    assert list(wide.columns) == ["a", "b", "c"] and wide.loc[1, "c"] == 5
    multi_wide = multi.to_frame()
    assert multi_wide.loc[11, ("good", "a")] == multi.values[1, 0, 1]
    long = multi.to_frame(long=True)
    assert list(long.columns) == ["row", "output", "feature", "value", "stderr"]
    assert len(long) == 12
    picked = long[(long.row == 11) & (long.output == "good") & (long.feature == "c")]
    assert picked.value.item() == multi.values[1, 2, 1] and picked.stderr.item() == multi.stderr[1, 2, 1]


def test_repr_is_readable(multi):
    text = repr(multi)
    assert text.splitlines()[0] == (
        "<tabxai.Explanation: Test, 2 rows x 3 features, output ('bad', 'good'), with standard errors>")
    assert "row 0, output 'good': base value 0.9 + attributions +9 = 9.9" in text
    assert "c = 0.5  +5 ± 0.5" in text
    assert text.index("c = 0.5") < text.index("b = 'x'") < text.index("a = 1")


def test_inconsistent_shapes_are_refused():
    with pytest.raises(ValueError, match="2 feature names and 1 output names"):
        tx.Explanation(np.zeros((1, 3)), [0.0], None, ["a", "b"], ["o"])

"""tx.reason_codes: the largest adverse contributions, readable conditions, rank certainty."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from naive import naive_reasons

import tabxai as tx
from tabxai.report import format_condition


def _explanation(values, stderr=None, data=None, names=None, params=None):
    values = np.asarray(values, dtype=float)
    names = names or [f"x{j}" for j in range(values.shape[1])]
    if data is None:
        data = pd.DataFrame(np.arange(values.size, dtype=float).reshape(values.shape), columns=names)
    return tx.Explanation(values, np.zeros(len(values)), data, names, ["bad"], stderr=stderr, params=params)


@given(arrays(np.float64, (4, 6), elements=st.floats(-1, 1, allow_subnormal=False)),
       st.integers(1, 7), st.sampled_from(["positive", "negative"]))
def test_reasons_are_the_largest_contributions_in_the_direction(values, k, direction):
    expl = _explanation(values)
    codes = tx.reason_codes(expl, k=k, direction=direction)
    sign = 1 if direction == "positive" else -1
    expected = naive_reasons(values, k, sign)
    for i, positions in enumerate(expected):
        lines = codes[codes["row"] == i]
        assert lines["feature"].tolist() == [f"x{j}" for j in positions]
        assert lines["rank"].tolist() == list(range(1, len(positions) + 1))
        np.testing.assert_array_equal(lines["contribution"], values[i, positions])  # the Shapley values themselves
        assert (sign * lines["contribution"] > 0).all()


def test_reasons_from_real_shapley_values_are_consistent(german_small, german_pipeline):
    X, _ = german_small
    expl = tx.KernelSHAP(german_pipeline, X.iloc[:20], n_coalitions=40, random_state=0, output="bad").explain(X.iloc[:6])
    codes = tx.reason_codes(expl, k=3)
    frame = expl.to_frame()
    for label, lines in codes.groupby("row", sort=False):
        row = frame.loc[label]
        top = row[row > 0].sort_values(ascending=False, kind="stable").head(3)
        assert lines["feature"].tolist() == list(top.index)
        np.testing.assert_allclose(lines["contribution"], top.to_numpy())
        # what the reasons leave out sums with them to the model's output
        position = list(frame.index).index(label)
        assert expl.base_values[position] + row.sum() == pytest.approx(expl.output_values[position], abs=1e-9)
    np.testing.assert_allclose(codes["stderr"], [expl.stderr[list(frame.index).index(r), expl.feature_names.index(f)]
                                                 for r, f in zip(codes["row"], codes["feature"])])


def test_readable_conditions_numeric_categorical_missing_and_groups():
    data = pd.DataFrame({"duration": [48], "amount": [1234.5], "purpose": pd.Categorical(["car (new)"]),
                         "savings": pd.Categorical([None], categories=["< 100 DM"]), "big": [25000],
                         "flag": pd.array([pd.NA], dtype="boolean")})
    names = list(data.columns)
    expl = _explanation([[0.6, 0.5, 0.4, 0.3, 0.2, 0.1]], data=data, names=names)
    codes = tx.reason_codes(expl, k=6, units={"duration": "months", "amount": "DM"})
    assert codes["condition"].tolist() == ["duration = 48 months", "amount = 1234.5 DM", "purpose = car (new)",
                                           "savings is missing", "big = 25,000", "flag is missing"]
    assert format_condition("telephone", True) == "telephone = yes"
    # a feature group lists its columns
    grouped = tx.Explanation([[0.3, -0.1]], [0.0], data[["duration", "amount", "purpose"]], ["loan", "purpose"],
                             ["bad"], params={"parameters": {"feature_groups": {"loan": ["duration", "amount"]}}})
    assert tx.reason_codes(grouped)["condition"].tolist() == ["loan: duration = 48, amount = 1234.5"]


def test_rank_certainty_from_standard_errors():
    values = [[0.50, 0.48, 0.20, 0.01]]
    precise = tx.reason_codes(_explanation(values, stderr=[[0.001] * 4]), k=3)
    assert precise["certain"].tolist() == [True, True, True]
    # 0.50 and 0.48 cannot be told apart with standard errors 0.02: both ranks are uncertain, the third is settled
    noisy = tx.reason_codes(_explanation(values, stderr=[[0.02, 0.02, 0.02, 0.02]]), k=3)
    assert noisy["certain"].tolist() == [False, False, True]
    # ranks are among the cited reasons: a close first one left out does not unsettle the last rank, it
    # makes the cited set uncertain
    close_below = tx.reason_codes(_explanation([[0.5, 0.3, 0.29]], stderr=[[0.01, 0.01, 0.01]]), k=2)
    assert close_below["certain"].tolist() == [True, True] and close_below["cited_certain"].tolist() == [False] * 2
    assert precise["cited_certain"].all() and noisy["cited_certain"].all()
    # exact values: ties are uncertain, the rest certain
    exact = tx.reason_codes(_explanation([[0.4, 0.4, 0.1]]), k=3)
    assert exact["certain"].tolist() == [False, False, True] and exact["stderr"].isna().all()
    stricter = tx.reason_codes(_explanation(values, stderr=[[0.009] * 4]), k=3, level=0.999)
    assert stricter["certain"].tolist() == [False, False, True]


def test_rows_with_nothing_adverse_and_several_outputs():
    codes = tx.reason_codes(_explanation([[-0.1, -0.2], [0.1, -0.3]]), k=4)
    assert codes["row"].tolist() == [1] and codes["feature"].tolist() == ["x0"]
    both = tx.Explanation(np.array([[[0.2, -0.2], [-0.1, 0.1]]]), np.zeros((1, 2)),
                          pd.DataFrame({"a": [1], "b": [2]}), ["a", "b"], ["bad", "good"])
    with pytest.raises(ValueError, match="choose one with `output`"):
        tx.reason_codes(both)
    assert tx.reason_codes(both, output="good")["feature"].tolist() == ["b"]
    assert tx.reason_codes(both, output="bad")["feature"].tolist() == ["a"]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(k=0), ValueError, "`k` must be an int >= 1"),
    (dict(direction="up"), ValueError, "`direction` must be one of"),
    (dict(units=["months"]), TypeError, "`units` must be a dict"),
    (dict(level=1.0), ValueError, "`level`"),
    (dict(output="good"), ValueError, "unknown output"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        tx.reason_codes(_explanation([[0.1, 0.2]]), **kwargs)


def test_one_row_of_a_two_output_explanation_is_features_by_outputs_not_rows():
    # (1 row, 3 features, 2 outputs): expl[0] has values of shape (3, 2), features by outputs
    values = np.array([[[0.30, -0.30], [-0.05, 0.05], [0.12, -0.12]]])
    data = pd.DataFrame({"duration": [48], "amount": [1365.5], "age": [23]}, index=["applicant-7"])
    both = tx.Explanation(values, [[0.3, 0.7]], data, list(data.columns), ["bad", "good"],
                          stderr=np.full(values.shape, 0.01))
    row = both[0]
    assert row.values.shape == (3, 2)
    with pytest.raises(ValueError, match=r"has 2 outputs \['bad', 'good'\]; choose one with `output`"):
        tx.reason_codes(row)
    for output, sign in (("bad", 1), ("good", -1), (1, -1)):
        codes = tx.reason_codes(row, output=output, k=2)
        whole = tx.reason_codes(both, output=output, k=2)
        pd.testing.assert_frame_equal(codes, whole)
        assert set(codes["row"]) == {"applicant-7"}  # one row, with its own label
    bad = tx.reason_codes(row, output="bad", k=2)
    assert bad["feature"].tolist() == ["duration", "age"] and bad["contribution"].tolist() == [0.30, 0.12]
    assert bad["condition"].tolist() == ["duration = 48", "age = 23"]
    good = tx.reason_codes(row, output="good", k=2)
    assert good["feature"].tolist() == ["amount"] and good["contribution"].tolist() == [0.05]
    assert good["condition"].tolist() == ["amount = 1365.5"]
    # one output chosen first, then the row: the same reasons
    pd.testing.assert_frame_equal(tx.reason_codes(both[..., "bad"][0], k=2), bad)
    # one feature is not a table of reasons
    with pytest.raises(TypeError, match="rows by features"):
        tx.reason_codes(both[:, "age"], output="bad")

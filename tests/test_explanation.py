import numpy as np
import pandas as pd
import pytest

import tabxai as tx
from test_display import parse_html as _parsed


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
        "<tabxai.Explanation: Test, 2 rows x 3 features, outputs bad, good, with standard errors>")
    assert "row 0, probability of good: base value 0.90 + attributions +9.00 = 9.90" in text
    assert "c = 0.5  +5.00 ± 0.500" in text
    assert text.index("c = 0.5") < text.index("b = x") < text.index("a = 1")
    assert str(multi) == text


def test_text_names_outputs_plainly_with_one_number_format_and_units():
    data = pd.DataFrame({"rooms": [3.0], "income": [8.3252], "ocean": ["NEAR BAY"]})
    prices = tx.Explanation([[209812.4, -1523.4, 40.0]], [180000.0], data, ["rooms", "income", "ocean"],
                            ["output"], params={"method": "KernelSHAP"})
    text = repr(prices)
    assert "e+05" not in text
    assert "row 0, prediction: base value 180,000 + attributions +208,329 = 388,329" in text
    rows = [" ".join(line.split()) for line in text.splitlines()[2:]]
    assert rows == ["rooms = 3 +209,812", "income = 8.3252 -1,523", "ocean = NEAR BAY +40"]
    iris = tx.Explanation(np.zeros((1, 1, 3)), np.zeros((1, 3)), None, ["petal"],
                          [np.str_("setosa"), np.str_("versicolor"), np.str_("virginica")])
    assert "outputs setosa, versicolor, virginica" in repr(iris) and "np.str_" not in repr(iris)
    logit = tx.Explanation([[1.5]], [0.2], None, ["a"], ["bad"], params={"link": "logit"})
    assert "row 0, log-odds of bad: base value 0.20 + attributions +1.50 = 1.70" in repr(logit)


def test_text_shows_grouped_values_and_counts_hidden_players_by_name():
    data = pd.DataFrame({f"f{j}": [float(j)] for j in range(14)} | {"city": ["Paris"], "zip": ["75001"]})
    names = [f"f{j}" for j in range(14)] + ["place"]
    values = np.concatenate([-np.arange(14.0) / 10, [5.0]])
    expl = tx.Explanation(values[None, :], [0.0], data, names, ["output"],
                          params={"parameters": {"feature_groups": {"place": ["city", "zip"]}}})
    lines = repr(expl).splitlines()
    assert lines[2].strip().startswith("place: city = Paris, zip = 75001")
    assert len(lines) == 2 + 10 + 1
    assert lines[-1].strip() == "5 more features (sum -1.00): f4, f3, f2, f1, f0"


def test_output_label_names_outputs_readably():
    from tabxai._display import output_label

    assert output_label({"response": "predict_proba"}, "bad") == "P(bad)"
    assert output_label({"response": "predict_proba"}, np.str_("bad"), long=True) == "probability of bad"
    assert output_label({"parameters": {"link": "logit"}}, "bad") == "log-odds of bad"
    assert output_label({"response": "predict"}, "output") == "prediction"
    assert output_label({}, "output_1") == "output_1"
    assert output_label({}, "decision_function('good')") == "decision(good)"
    assert output_label({}, 1) == "P(1)"


def test_repr_html_is_valid_and_sorted(multi):
    parsed = _parsed(multi._repr_html_())
    assert "script" not in parsed.tags
    text = " ".join(parsed.texts)
    assert "Test explanation of probability of good: 2 rows x 3 features" in text
    assert "showing output good; other outputs: bad" in text
    cells = [t for t in parsed.texts if t in ("a", "b", "c")]
    assert cells == ["c", "b", "a"]  # by mean |value|, largest first
    one = _parsed(multi[1]._repr_html_())
    assert [t for t in one.texts if t[:4] in ("a = ", "b = ", "c = ")] == ["c = 0.25", "b = y", "a = 2"]


def test_repr_html_escapes_user_strings():
    evil = "<script>alert(1)</script>"
    data = pd.DataFrame({evil: ["<b>bold</b>"], "x": [1.0]})
    expl = tx.Explanation([[1.0, 0.5]], [0.0], data, [evil, "x"], ['"><img src=x onerror=alert(2)>'],
                          params={"method": "<i>m</i>", "parameters": {"note": "<style>"}})
    for markup in (expl._repr_html_(), expl[0]._repr_html_()):
        parsed = _parsed(markup)
        assert set(parsed.tags) <= {"div", "table", "thead", "tbody", "tr", "th", "td", "span"}
        assert "<script>alert(1)</script>" not in markup and "&lt;script&gt;" in markup
        assert any(evil in t for t in parsed.texts)


def test_repr_html_size_is_bounded_for_many_rows():
    rng = np.random.default_rng(0)
    n, p = 10_000, 60
    data = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"feature_{j}" for j in range(p)])
    expl = tx.Explanation(rng.normal(size=(n, p)), np.zeros(n), data, list(data.columns), ["output"],
                          stderr=np.full((n, p), 0.1), params={"method": "KernelSHAP"})
    markup = expl._repr_html_()
    small = expl[:10]._repr_html_()
    assert len(markup) < 20_000 and abs(len(markup) - len(small)) < 200
    parsed = _parsed(markup)
    assert sum(t == "tr" for t in parsed.tags) == 21  # header and 20 players
    assert "40 more features" in " ".join(parsed.texts)
    assert len(repr(expl).splitlines()) == 13  # header, row 0, 10 players, the other 50 named


def test_inconsistent_shapes_are_refused():
    with pytest.raises(ValueError, match="2 feature names and 1 output names"):
        tx.Explanation(np.zeros((1, 3)), [0.0], None, ["a", "b"], ["o"])


def test_group_members_come_from_the_explanations_groups():
    data = pd.DataFrame({"duration": [24.0], "amount": [1169.0], "job": ["clerk"]})
    expl = tx.Explanation([[0.4, -0.1]], [0.3], data, ["loan", "job"], ["bad"], groups={"loan": ("duration", "amount")},
                          params={"response": "predict_proba"})
    lines = [" ".join(line.split()) for line in repr(expl[0]).splitlines()]
    assert lines[1] == "row 0, probability of bad: base value 0.300 + attributions +0.300 = 0.600"
    assert lines[2:] == ["loan: duration = 24, amount = 1169 +0.400", "job = clerk -0.100"]


@pytest.fixture(scope="module")
def lime_two_outputs():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"duration": rng.integers(6, 60, 200), "amount": rng.normal(3000, 800, 200).round(1)})
    y = np.where(X["duration"] + rng.normal(0, 10, 200) > 30, "bad", "good")
    model = LogisticRegression().fit(X, y)
    expl = tx.LimeTabular(model, X.iloc[:50], n_samples=300, random_state=0).explain(X.iloc[50:53])
    return model, X.iloc[50:53], expl


def test_slicing_by_output_slices_per_output_diagnostics(lime_two_outputs):
    model, rows, expl = lime_two_outputs
    assert expl.output_names == ("bad", "good")
    proba = model.predict_proba(rows)
    np.testing.assert_allclose(expl.diagnostics["model_prediction"], proba)
    for name in ("model_prediction", "r2", "r2_holdout", "surrogate_prediction"):
        whole = expl.diagnostics[name]
        assert whole.shape == (3, 2)
        np.testing.assert_array_equal(expl[..., "bad"].diagnostics[name], whole[:, 0])
        np.testing.assert_array_equal(expl[..., "good"].diagnostics[name], whole[:, 1])
        np.testing.assert_array_equal(expl[..., ["good", "bad"]].diagnostics[name], whole[:, [1, 0]])
        np.testing.assert_array_equal(expl[1:, :, ["good"]].diagnostics[name], whole[1:, [1]])
        np.testing.assert_array_equal(expl[2].diagnostics[name], whole[[2]])
    np.testing.assert_array_equal(expl[..., "bad"].diagnostics["n_samples"], expl.diagnostics["n_samples"])
    # the model's own output, whatever the slicing
    swapped = expl[..., ["good", "bad"]]
    assert swapped.model_output(0, 0) == expl.model_output(0, 1) == pytest.approx(proba[0, 1], abs=1e-12)
    assert swapped.model_output(2, 1) == pytest.approx(proba[2, 0], abs=1e-12)
    assert expl[..., "bad"][0].model_output(0, 0) == pytest.approx(proba[0, 0], abs=1e-12)
    assert expl[..., "good"][[1, 2]].model_output(1, 0) == pytest.approx(proba[2, 1], abs=1e-12)
    assert expl[1][..., "bad"].model_output(0, 0) == pytest.approx(proba[1, 0], abs=1e-12)


def test_waterfall_of_one_output_names_the_models_value(lime_two_outputs):
    from tabxai._display import NumberFormat

    _, rows, expl = lime_two_outputs
    one = expl[..., "bad"][0]
    title = tx.plots.waterfall(one).get_title()
    base, values = float(one.base_values), one.values
    fmt = NumberFormat(np.concatenate([[base, base + values.sum()], values]))
    model = expl.diagnostics["model_prediction"][0, 0]
    surrogate = expl.diagnostics["surrogate_prediction"][0, 0]
    assert f"surrogate {fmt(surrogate)}" in title and f"(model f(x) = {fmt(model)})" in title
    assert f"the model gives {NumberFormat([base, base + values.sum(), *values])(model)}" in repr(expl[..., "bad"])

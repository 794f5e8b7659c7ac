"""accumulated_local_effects: a naive loop reference, additive models, centring and bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

import tabxai as tx
from naive import naive_ale


@pytest.fixture(scope="module")
def correlated():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-2, 2, 300)
    x1 = x0 + rng.normal(0, 0.3, 300)  # strongly correlated with x0
    x2 = rng.normal(size=300)
    return np.column_stack([x0, x1, x2])


def _additive(rows):
    rows = np.asarray(rows, dtype=float)
    return np.column_stack([np.sin(rows[:, 0]) + rows[:, 1] ** 2 - rows[:, 2], rows[:, 0] * rows[:, 2]])


@pytest.mark.parametrize("weighted", [False, True])
def test_equals_a_naive_loop(correlated, weighted):
    weights = np.random.default_rng(1).uniform(0.2, 2.0, len(correlated)) if weighted else None
    result = tx.accumulated_local_effects(_additive, correlated, 1, grid_resolution=12, sample_weight=weights)
    truth = naive_ale(_additive, correlated, 1, result.grid_values, weights)
    np.testing.assert_allclose(result.values, truth, atol=1e-12)
    assert result.values.shape == (2, len(result.grid_values))
    assert result.params["model_rows"] == 2 * len(correlated)


def test_edges_are_data_quantiles_and_bins_count_rows(correlated):
    result = tx.accumulated_local_effects(_additive, correlated, 0, grid_resolution=11)
    edges = np.quantile(correlated[:, 0], np.linspace(0, 1, 11), method="inverted_cdf")
    np.testing.assert_array_equal(result.grid_values, edges)
    assert np.isin(result.grid_values, correlated[:, 0]).all()
    assert result.bin_counts.sum() == len(correlated) and (result.bin_counts > 0).all()


def test_additive_model_recovers_each_component_up_to_a_constant(correlated):
    components = {0: np.sin, 1: np.square, 2: np.negative}
    for column, component in components.items():
        result = tx.accumulated_local_effects(_additive, correlated, column, grid_resolution=20, output=0)
        shift = result.values[0] - component(result.grid_values)
        np.testing.assert_allclose(shift, shift[0], atol=1e-12)


def test_centred_to_mean_zero_over_the_rows(correlated):
    weights = np.random.default_rng(2).uniform(0, 1, len(correlated))
    result = tx.accumulated_local_effects(_additive, correlated, 2, grid_resolution=15, sample_weight=weights)
    edges = result.grid_values
    bins = np.clip(np.searchsorted(edges, correlated[:, 2], side="left"), 1, len(edges) - 1)
    at_rows = result.values[:, bins]
    np.testing.assert_allclose(at_rows @ weights / weights.sum(), 0.0, atol=1e-12)


def test_pipeline_frame_with_missing_values_and_max_rows():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.choice(["u", "v"], 200)})
    X.loc[::10, "a"] = np.nan
    y = (X["b"] + (X["c"] == "u") > 0.5).astype(int)
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    model = make_pipeline(make_column_transformer((OrdinalEncoder(), ["c"]), remainder="passthrough"),
                          DecisionTreeClassifier(max_depth=4, random_state=0)).fit(X, y)
    full = tx.accumulated_local_effects(model, X, "b", output=1)
    small = tx.accumulated_local_effects(model, X, "b", output=1, max_rows=37)
    np.testing.assert_array_equal(full.values, small.values)
    left_out = tx.accumulated_local_effects(model, X, "a", output=1)
    assert left_out.bin_counts.sum() == 180
    assert full.output_names == (1,) and full.feature == "b"


def test_bad_input_gets_clear_errors(correlated):
    with pytest.raises(ValueError, match="1-D"):
        tx.accumulated_local_effects(_additive, correlated, (0, 1))
    with pytest.raises(ValueError, match="1-D"):
        tx.accumulated_local_effects(_additive, correlated, [0])
    with pytest.raises(ValueError, match="grid_resolution"):
        tx.accumulated_local_effects(_additive, correlated, 0, grid_resolution=1)
    with pytest.raises(ValueError, match="unknown column 'z'"):
        tx.accumulated_local_effects(_additive, correlated, "z")
    constant = correlated.copy()
    constant[:, 0] = 1.0
    with pytest.raises(ValueError, match="single value"):
        tx.accumulated_local_effects(_additive, constant, 0)
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["u", "v", "u"]})
    with pytest.raises(ValueError, match="numeric feature"):
        tx.accumulated_local_effects(lambda rows: np.zeros(len(rows)), frame, "c")


def test_weighted_quantiles_equal_the_definition():
    from naive import naive_weighted_quantiles

    from tabxai.inspection.ale import weighted_quantiles

    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 30))
        values = rng.integers(0, 8, n).astype(float)
        weights = rng.random(n) * (rng.random(n) < 0.8)
        if weights.sum() == 0:
            continue
        probabilities = np.linspace(0, 1, int(rng.integers(2, 12)))
        np.testing.assert_array_equal(weighted_quantiles(values, weights, probabilities),
                                      naive_weighted_quantiles(values, weights, probabilities))

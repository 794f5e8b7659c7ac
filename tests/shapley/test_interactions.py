import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tabxai as tx
from naive import naive_coalition_game, naive_interactions

INDICES = ["SII", "k-SII", "STII", "FSII"]


def _model(rows):
    rows = np.asarray(rows, dtype=float)
    return (rows[:, 0] * rows[:, 1] * rows[:, 2] + np.sin(rows[:, 3]) * rows[:, 1] + rows[:, 2] ** 2
            + rows[:, 0] * rows[:, 1] * rows[:, 3] - rows[:, 3])


def _data(n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, n_features)), rng.normal(size=(3, n_features))


class _TableGame:
    """A model on 0/1 rows that returns ``table[coalition bits]``: with x = ones and a background of
    one row of zeros, the game of the explained row is ``table`` itself."""

    def __init__(self, table, n_players):
        self.table = np.asarray(table, dtype=float)
        self.powers = 1 << np.arange(n_players)

    def __call__(self, rows):
        keys = (np.asarray(rows) > 0.5).astype(np.int64) @ self.powers
        return self.table[keys]


def _table_interactions(table, n_players, index, n_coalitions="exact", random_state=0):
    model = _TableGame(table, n_players)
    explainer = tx.ShapleyInteractions(model, np.zeros((1, n_players)), index=index, n_coalitions=n_coalitions,
                                       random_state=random_state)
    return explainer.explain(np.ones((1, n_players)))


@pytest.mark.parametrize("index", INDICES)
def test_exact_equals_definition(index):
    background, X = _data()
    expl = tx.ShapleyInteractions(_model, background, index=index, n_coalitions="exact").explain(X)
    assert expl.values.shape == (3, 4, 4) and expl.stderr is None
    for r in range(len(X)):
        truth = naive_interactions(naive_coalition_game(_model, X[r], background), 4, index)
        np.testing.assert_allclose(expl.values[r], truth, rtol=0, atol=1e-10)


@pytest.mark.parametrize("index", INDICES)
def test_exact_equals_shapiq(index):
    shapiq = pytest.importorskip("shapiq")
    background, X = _data(5, seed=1)

    def model(rows):
        return _model(rows) + rows[:, 4] * rows[:, 0] * rows[:, 2]

    expl = tx.ShapleyInteractions(model, background, index=index, n_coalitions="exact").explain(X[:2])
    for r in range(2):
        def game(coalitions, x=X[r]):
            rows = np.where(coalitions[:, None, :], x[None, None, :], background[None, :, :])
            return model(rows.reshape(-1, 5)).reshape(len(coalitions), -1).mean(axis=1)

        values = shapiq.ExactComputer(game, n_players=5)(index, order=2)
        reference = np.zeros((5, 5))
        for members, position in values.interaction_lookup.items():
            if len(members) in (1, 2):
                reference[members[0], members[-1]] = reference[members[-1], members[0]] = values.values[position]
        # shapiq's FSII imposes v(empty) and v(N) with a weight of 1e8 instead of exactly
        np.testing.assert_allclose(expl.values[r], reference, rtol=0, atol=1e-8 if index == "FSII" else 1e-10)


@pytest.mark.parametrize("index", ["k-SII", "STII", "FSII"])
def test_efficiency_sampled_and_exact(index):
    rng = np.random.default_rng(3)
    background, X = rng.normal(size=(6, 9)), rng.normal(size=(2, 9))

    def model(rows):
        return rows[:, 0] * rows[:, 1] * rows[:, 2] + np.tanh(rows[:, 3:].sum(axis=1)) * rows[:, 4]

    for budget in ("exact", 120):
        expl = tx.ShapleyInteractions(model, background, index=index, n_coalitions=budget).explain(X)
        np.testing.assert_allclose(expl.output_values, model(X), rtol=0, atol=1e-10)


@pytest.mark.parametrize("index", INDICES)
def test_sampled_with_every_coalition_is_exact(index):
    background, X = _data()
    exact = tx.ShapleyInteractions(_model, background, index=index, n_coalitions="exact").explain(X)
    sampled = tx.ShapleyInteractions(_model, background, index=index, n_coalitions=14).explain(X)
    np.testing.assert_allclose(sampled.values, exact.values, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(sampled.stderr, 0.0)
    assert list(sampled.diagnostics["stopped_by"]) == ["exact"] * 3


def test_sampled_errors_are_calibrated():
    """On a game with interactions of order 3 and 4, the 95% intervals cover the truth about 95% of the time."""
    rng = np.random.default_rng(5)
    n = 10
    moebius = {S: rng.normal() * 0.6 ** len(S) for size in (1, 2, 3, 4)
               for S in itertools.combinations(range(n), size) if size < 3 or rng.random() < 0.3}
    table = np.zeros(2 ** n)
    for key in range(2 ** n):
        members = {j for j in range(n) if key >> j & 1}
        table[key] = sum(value for S, value in moebius.items() if set(S) <= members)
    truth = _table_interactions(table, n, "k-SII").values[0]
    upper = np.triu_indices(n)
    covered, errors = [], []
    for seed in range(12):
        expl = _table_interactions(table, n, "k-SII", n_coalitions=300, random_state=seed)
        error = np.abs(expl.values[0] - truth)[upper]
        covered.append(error <= 1.96 * expl.stderr[0][upper])
        errors.append(np.linalg.norm(error) / np.linalg.norm(truth[upper]))
    assert 0.88 <= np.mean(covered) <= 1.0
    assert np.mean(errors) < 0.2


@given(st.integers(0, 10_000), st.sampled_from(INDICES))
def test_axioms(seed, index):
    """Symmetry, dummy, and the order-two values of linear and product games."""
    n = 5
    rng = np.random.default_rng(seed)
    keys = np.arange(2 ** n)
    bits = (keys[:, None] >> np.arange(n)) & 1
    # symmetric in players 0 and 1, player 4 a dummy: the value depends on |S & {0, 1}| and the set of 2, 3
    by_count = rng.normal(size=(3, 4))
    table = by_count[bits[:, 0] + bits[:, 1], bits[:, 2] + 2 * bits[:, 3]]
    values = _table_interactions(table, n, index).values[0]
    np.testing.assert_allclose(values[0, 0], values[1, 1], atol=1e-10)
    np.testing.assert_allclose(values[0, 2:4], values[1, 2:4], atol=1e-10)
    np.testing.assert_allclose(values[4], 0.0, atol=1e-10)
    # a linear game: no interactions, main effects its weights
    weights = rng.normal(size=n)
    values = _table_interactions(bits @ weights, n, index).values[0]
    np.testing.assert_allclose(values, np.diag(weights), atol=1e-10)
    # the product game of players 1 and 3 (1 when both are in): the whole interaction on the pair
    values = _table_interactions(bits[:, 1] * bits[:, 3], n, index).values[0]
    main = 0.5 if index == "SII" else 0.0
    expected = np.zeros((n, n))
    expected[1, 3] = expected[3, 1] = 1.0
    expected[1, 1] = expected[3, 3] = main
    np.testing.assert_allclose(values, expected, atol=1e-10)


def test_same_results_whatever_n_jobs_and_max_rows():
    rng = np.random.default_rng(2)
    background, X = rng.normal(size=(10, 7)), rng.normal(size=(5, 7))

    def predict(d):  # local, so that joblib's workers get it by value
        return d[:, 0] * d[:, 1] * d[:, 2] + np.sin(d[:, 3]) * d[:, 1] + d[:, 4] * d[:, 5] * d[:, 6]

    results = [tx.ShapleyInteractions(predict, background, n_coalitions=80, random_state=4, n_jobs=n_jobs,
                                      max_rows=max_rows).explain(X) for n_jobs, max_rows in [(1, None), (2, 97)]]
    np.testing.assert_array_equal(results[0].values, results[1].values)
    np.testing.assert_array_equal(results[0].stderr, results[1].stderr)
    assert results[0].params["random_state"] == 4


def test_tol_stops_early():
    rng = np.random.default_rng(2)
    background, X = rng.normal(size=(10, 9)), rng.normal(size=(3, 9))
    full = tx.ShapleyInteractions(_model, background, n_coalitions=400, random_state=0).explain(X)
    early = tx.ShapleyInteractions(_model, background, n_coalitions=400, random_state=0, tol=0.2).explain(X)
    assert set(early.diagnostics["stopped_by"]) <= {"tol", "budget"}
    assert (early.diagnostics["n_coalitions"] <= full.diagnostics["n_coalitions"]).all()
    assert "tol" in set(early.diagnostics["stopped_by"])
    assert (early.diagnostics["n_coalitions"] < 400).any()


def test_dataframe_with_categories_and_several_outputs(german_small):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = german_small
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype", random_state=0).fit(X, y)
    expl = tx.ShapleyInteractions(model, X.iloc[:10], n_coalitions="exact").explain(X.iloc[20:22])
    assert expl.values.shape == (2, 6, 6, 2)
    assert expl.feature_names == tuple(X.columns)
    np.testing.assert_allclose(expl.output_values, model.predict_proba(X.iloc[20:22]), atol=1e-10)
    positive = expl[..., model.classes_[1]]
    assert positive.values.shape == (2, 6, 6)


def test_slicing_frame_and_display():
    background, X = _data()
    expl = tx.ShapleyInteractions(_model, background, n_coalitions=14, random_state=0).explain(X)
    one = expl[1]
    np.testing.assert_array_equal(one.values, expl.values[1])
    assert one.base_values == expl.base_values[1]
    sub = expl[:2, ["x2", "x0"]] if "x2" in expl.feature_names else expl[:2, [2, 0]]
    np.testing.assert_array_equal(sub.values, expl.values[:2][:, [2, 0]][:, :, [2, 0]])
    np.testing.assert_array_equal(sub.stderr, expl.stderr[:2][:, [2, 0]][:, :, [2, 0]])
    frame = expl.to_frame()
    assert len(frame) == 3 * 10 and {"feature_1", "feature_2", "value", "stderr"} <= set(frame.columns)
    pair = frame[(frame.row == 0) & (frame.feature_1 == expl.feature_names[0]) & (frame.feature_2 == expl.feature_names[1])]
    assert pair.value.iloc[0] == expl.values[0, 0, 1]
    np.testing.assert_array_equal(expl.main_effects, np.diagonal(expl.values, axis1=1, axis2=2))
    html = expl._repr_html_()
    assert "k-SII" in html and "ShapleyInteractions" in html
    assert "strongest pairs" in repr(expl)
    with pytest.raises(IndexError, match="single player"):
        expl[:, 0]


def test_plots():
    background, X = _data()
    frame = pd.DataFrame(np.vstack([X, X + 1]), columns=["a", "b", "c", "d"])
    expl = tx.ShapleyInteractions(_model, pd.DataFrame(background, columns=list("abcd")),
                                  n_coalitions="exact").explain(frame)
    ax = expl.plot.heatmap()
    shown = ax.images[0].get_array()
    order = np.argsort(-expl.mean_abs().sum(axis=1), kind="stable")
    np.testing.assert_allclose(shown, expl.mean_abs()[np.ix_(order, order)])
    ax = expl.plot.dependence("a")
    strength = expl.mean_abs()[0].copy()
    strength[0] = -1
    partner = int(np.argmax(strength))
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 1], expl.values[:, 0, partner])
    assert "interaction with" in ax.get_ylabel()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_order": 3}, ValueError, "max_order"),
    ({"index": "Moebius"}, ValueError, "index"),
    ({"n_coalitions": 5}, ValueError, "n_coalitions"),
    ({"tol": -1}, ValueError, "tol"),
])
def test_bad_arguments(kwargs, error, match):
    background, _ = _data()
    with pytest.raises(error, match=match):
        tx.ShapleyInteractions(_model, background, **kwargs)


def test_one_player_and_too_many_to_enumerate():
    with pytest.raises(ValueError, match="at least 2 players"):
        tx.ShapleyInteractions(lambda rows: rows[:, 0], np.zeros((3, 1)))
    with pytest.raises(ValueError, match="at most 20 players"):
        tx.ShapleyInteractions(lambda rows: rows[:, 0], np.zeros((3, 21)), n_coalitions="exact")

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import tabxai as tx
from naive import naive_coalition_value, naive_game_shapley


def _naive_sage(predict, X, y, background, loss):
    """SAGE from its definition: Shapley values of the mean loss decrease over the rows, by enumeration."""
    n = X.shape[1]
    empty = np.array([naive_coalition_value(predict, X[i], background, []) for i in range(len(X))])

    def value(coalition):
        on = [j for j in range(n) if coalition[j]]
        predictions = np.array([naive_coalition_value(predict, X[i], background, on) for i in range(len(X))])
        return float(np.mean(loss(y, empty) - loss(y, predictions)))

    return naive_game_shapley(value, n)


def _squared(y, predictions):
    return (predictions[:, 0] - y) ** 2


def _problem(n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, n_features))
    y = X[:, 0] * X[:, 1] + X[:, 1] + 0.3 * rng.normal(size=40)

    def predict(rows):
        return rows[:, 0] * rows[:, 1] + rows[:, 1] + 0.1 * rows[:, -1]

    return X, y, predict


def test_two_players_one_row_is_exact():
    """With two players an order and its reverse are every order: one row gives the exact values."""
    X, y, predict = _problem(2)
    background = X[10:30]
    result = tx.sage(predict, X[:1], y[:1], loss="mse", background=background, n_permutations=4, tol=None)
    truth = _naive_sage(predict, X[:1], y[:1], background, _squared)
    np.testing.assert_allclose(result.values, truth, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.stderr, 0.0, atol=1e-12)


def test_agrees_with_definition_within_standard_errors():
    X, y, predict = _problem(3)
    background = X[:15]
    result = tx.sage(predict, X, y, loss="mse", background=background, n_permutations=3000, tol=None, random_state=1)
    truth = _naive_sage(predict, X, y, background, _squared)
    assert result.n_permutations == 3000
    assert np.all(np.abs(result.values - truth) <= 4 * result.stderr + 1e-12)
    np.testing.assert_allclose(result.values.sum(), result.total, rtol=1e-10)


def test_log_loss_of_a_classifier_and_n_jobs():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(150, 4)), columns=["a", "b", "c", "d"])
    y = np.where(X.a + 0.5 * X.b + rng.normal(size=150) > 0, "yes", "no")
    model = LogisticRegression().fit(X, y)
    results = [tx.sage(model, X, y, background=X.iloc[:30], n_permutations=100, tol=None, random_state=3,
                       n_jobs=n_jobs) for n_jobs in (1, 2)]
    np.testing.assert_array_equal(results[0].values, results[1].values)
    np.testing.assert_array_equal(results[0].stderr, results[1].stderr)
    result = tx.sage(model, X, y, background=X.iloc[:30], tol=0.05, random_state=3)
    assert result.feature_names == ("a", "b", "c", "d") and result.converged
    assert result.stderr.max() <= 0.05 * (result.values.max() - result.values.min())
    assert np.argmax(result.values) == 0
    # what the values add up to: the log loss of the mean prediction minus the model's
    np.testing.assert_allclose(result.values.sum(), result.total, rtol=1e-10)
    frame = result.to_frame()
    assert list(frame.index[:2]) == ["a", "b"]
    assert "SAGE" in result._repr_html_() and "log_loss" in repr(result)
    ax = result.plot()
    widths = sorted(p.get_width() for p in ax.patches)
    np.testing.assert_allclose(widths, np.sort(result.values))


def test_callable_loss_equals_mse():
    X, y, predict = _problem(3)
    a = tx.sage(predict, X, y, loss="mse", background=X[:10], n_permutations=40, tol=None)
    b = tx.sage(predict, X, y, loss=_squared, background=X[:10], n_permutations=40, tol=None)
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)
    assert b.loss == "_squared"


def test_default_background_is_a_seeded_sample():
    X, y, predict = _problem(3)
    a = tx.sage(predict, X, y, loss="mse", n_permutations=20, tol=None, random_state=5)
    b = tx.sage(predict, X, y, loss="mse", n_permutations=20, tol=None, random_state=5)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.params["parameters"]["n_background"] == 40


@pytest.mark.parametrize("case, match", [
    ("log_loss_regressor", "log_loss"),
    ("mse_probabilities", "mse"),
    ("unknown_labels", "not among the model's classes"),
    ("y_length", "`y` has"),
    ("one_player", "at least 2 players"),
    ("auto_without_tol", "tol"),
    ("bad_loss", "`loss`"),
])
def test_bad_input(case, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X[:, 0]
    labels = np.where(y > 0, "yes", "no")
    regressor = LinearRegression().fit(X, y)
    classifier = LogisticRegression().fit(X, labels)
    calls = {
        "log_loss_regressor": lambda: tx.sage(regressor, X, y),
        "mse_probabilities": lambda: tx.sage(classifier, X, labels, loss="mse"),
        "unknown_labels": lambda: tx.sage(classifier, X, np.where(y > 0, "up", "down")),
        "y_length": lambda: tx.sage(regressor, X, y[:5], loss="mse"),
        "one_player": lambda: tx.sage(regressor, X, y, loss="mse", feature_groups={"all": ["x0", "x1", "x2"]}),
        "auto_without_tol": lambda: tx.sage(regressor, X, y, loss="mse", tol=None),
        "bad_loss": lambda: tx.sage(regressor, X, y, loss="mae"),
    }
    with pytest.raises(ValueError, match=match):
        calls[case]()

"""RuleListClassifier: printed rules equal predict, recovery of a known list, rules as data, bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from tabxai.rules import Condition, Rule, RuleListClassifier


def read_rules(text, frame):
    """Parse the printed list back into (conditions, label) pairs, each condition a row predicate."""
    rules = []
    for line in text.splitlines():
        if line.startswith("ELSE IF "):
            line = line[len("ELSE "):]
        if line.startswith("IF "):
            body, then = line[len("IF "):].rsplit(" THEN ", 1)
            tests = [_read_condition(part, frame) for part in body.split(" AND ")]
        else:
            then = line[len("ELSE "):]
            tests = []
        rules.append((tests, then.split(" = ", 1)[1]))
    return rules


def _read_condition(text, frame):
    for name in sorted(frame.columns, key=len, reverse=True):
        if not text.startswith(f"{name} "):
            continue
        rest = text[len(name) + 1:]
        if rest == "is missing":
            return lambda row, name=name: _missing(row[name])
        operator, value = rest.split(" ", 1)
        if operator == "<=":
            return lambda row, name=name, t=float(value): not _missing(row[name]) and float(row[name]) <= t
        if operator == ">":
            return lambda row, name=name, t=float(value): not _missing(row[name]) and float(row[name]) > t
        assert operator == "="
        return lambda row, name=name, label=value: not _missing(row[name]) and str(row[name]) == label
    raise AssertionError(f"cannot read condition {text!r}")


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def classify_by_reading(text, frame):
    rules = read_rules(text, frame)
    labels = []
    for _, row in frame.iterrows():
        for tests, label in rules:
            if all(test(row) for test in tests):
                labels.append(label)
                break
    return labels


def generated(n_rows, seed, noise=0.0):
    """Rows labelled by: IF a = p AND b > 5 THEN yes ELSE IF c <= 2 THEN maybe ELSE no."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": pd.Categorical(rng.choice(["p", "q", "r"], n_rows)), "b": rng.integers(0, 11, n_rows),
                      "c": rng.integers(0, 11, n_rows).astype(float), "d": rng.choice(["u", "v"], n_rows)})
    y = np.where((X["a"] == "p") & (X["b"] > 5), "yes", np.where(X["c"] <= 2, "maybe", "no"))
    flip = rng.random(n_rows) < noise
    y[flip] = rng.choice(["yes", "no", "maybe"], flip.sum())
    return X, y


def test_printed_rules_classify_exactly_as_predict(german_small):
    X, y = german_small
    model = RuleListClassifier(max_rules=8, complexity_penalty=0.002, min_support=5).fit(X, y)
    assert len(model.rules_) > 2
    new = X.copy()
    new.loc[new.index[:5], "purpose"] = None
    new["status"] = new["status"].astype(object)
    new.loc[new.index[5:10], "status"] = "a status never seen"
    for frame in (X, new):
        assert classify_by_reading(str(model), frame) == model.predict(frame).tolist()


def test_recovers_a_known_rule_list():
    X, y = generated(3000, seed=0)
    model = RuleListClassifier().fit(X, y)
    fresh, truth = generated(5000, seed=1)
    assert (model.predict(fresh) == truth).all()
    assert sum(rule.n_conditions for rule in model.rules_) <= 6
    assert {c.feature for rule in model.rules_ for c in rule.conditions} <= {"a", "b", "c"}


def test_recovers_a_known_rule_list_under_label_noise():
    X, y = generated(3000, seed=2, noise=0.05)
    model = RuleListClassifier().fit(X, y)
    fresh, truth = generated(5000, seed=3)
    assert (model.predict(fresh) == truth).mean() > 0.97


def test_rules_are_data():
    X, y = generated(600, seed=4)
    model = RuleListClassifier().fit(X, y)
    assert all(isinstance(rule, Rule) for rule in model.rules_)
    assert model.rules_[-1].conditions == ()
    assert all(rule.conditions for rule in model.rules_[:-1])
    counts = np.array([rule.class_counts for rule in model.rules_])
    assert counts.sum() == len(X)
    positions = model.apply(X)
    for position, rule in enumerate(model.rules_):
        covered = y[positions == position]
        assert rule.class_counts == tuple(int((covered == c).sum()) for c in model.classes_)
        assert rule.prediction == model.classes_[np.argmax(rule.class_counts)]
        np.testing.assert_allclose(rule.probabilities, (np.array(rule.class_counts) + 1) / (len(covered) + 3))
    np.testing.assert_allclose(model.predict_proba(X), np.array([r.probabilities for r in model.rules_])[positions])
    assert (model.predict(X) == model.classes_[model.predict_proba(X).argmax(axis=1)]).all()


def test_multiclass_with_numeric_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 3))
    y = np.select([X[:, 0] > 0.5, X[:, 1] < -0.5], [2, 1], 0)
    model = RuleListClassifier().fit(X, y)
    assert (model.predict(X) == y).mean() > 0.97
    assert set(model.predict(X)) == {0, 1, 2}
    assert {c.feature for rule in model.rules_ for c in rule.conditions} == {"x0", "x1"}


def test_missing_values_can_be_a_condition():
    X = pd.DataFrame({"x": [np.nan] * 20 + list(range(40))})
    y = ["m"] * 20 + ["a"] * 40
    model = RuleListClassifier(min_support=5).fit(X, y)
    assert model.rules_[0].conditions == (Condition("x", "is missing"),)
    assert model.predict(pd.DataFrame({"x": [np.nan, 3.0]})).tolist() == ["m", "a"]


def test_the_search_does_not_depend_on_row_order(german_small):
    X, y = german_small
    order = np.random.default_rng(1).permutation(len(X))
    model = RuleListClassifier(complexity_penalty=0.002).fit(X, y)
    shuffled = RuleListClassifier(complexity_penalty=0.002).fit(X.iloc[order], y.iloc[order])
    assert model.rules_ == shuffled.rules_


def test_zero_rules_leaves_the_default():
    X, y = generated(200, seed=5)
    model = RuleListClassifier(max_rules=0).fit(X, y)
    assert len(model.rules_) == 1
    assert str(model) == f"ELSE class = {model.rules_[0].prediction}"


def test_entirely_missing_and_constant_columns_are_harmless():
    X, y = generated(300, seed=6)
    X["empty"] = np.nan
    X["constant"] = 1.0
    model = RuleListClassifier().fit(X, y)
    assert all(c.feature not in ("empty", "constant") for rule in model.rules_ for c in rule.conditions)
    with pytest.raises(ValueError, match="entirely missing"):
        RuleListClassifier().fit(X[["empty"]], y)


def test_thresholds_stay_finite_at_the_ends_of_the_float_range():
    X = pd.DataFrame({"x": [-1.7e308, -1e308, 1e308, 1.7e308] * 10})
    y = ["a", "a", "b", "b"] * 10
    model = RuleListClassifier(min_support=2).fit(X, y)
    threshold = model.rules_[0].conditions[0].value
    assert np.isfinite(threshold) and -1e308 <= threshold < 1e308
    assert (model.predict(X) == np.array(y)).all()
    assert model.predict(pd.DataFrame({"x": [np.inf, -np.inf]})).tolist() == ["b", "a"]
    with pytest.raises(ValueError, match="infinite values"):
        RuleListClassifier().fit(pd.DataFrame({"x": [1.0, np.inf]}), ["a", "b"])


def test_bad_targets():
    X, y = generated(50, seed=7)
    with pytest.raises(ValueError, match="one class"):
        RuleListClassifier().fit(X, ["yes"] * 50)
    with pytest.raises(ValueError, match="X has 50 rows but y has 49 values"):
        RuleListClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        RuleListClassifier().fit(X, None)


@pytest.mark.parametrize("parameters, error, message", [
    ({"max_rules": -1}, ValueError, r"'max_rules' parameter of RuleListClassifier must be an int in the range \[0, inf\)\. Got -1"),
    ({"max_conditions": 0}, ValueError, r"'max_conditions' parameter .* must be an int in the range \[1, inf\)\. Got 0"),
    ({"beam_width": 1.5}, TypeError, r"'beam_width' parameter .* must be an int in the range \[1, inf\)\. Got 1.5"),
    ({"min_support": 0}, ValueError, r"'min_support' parameter .* an int in the range \[1, inf\) or a float in the range \(0\.0, 1\.0\)\. Got 0"),
    ({"min_support": 1.5}, ValueError, r"'min_support' parameter .* Got 1.5"),
    ({"min_support": "5"}, TypeError, r"'min_support' parameter .* Got '5'"),
    ({"prior_weight": -1.0}, ValueError, r"'prior_weight' parameter .* Got -1.0"),
    ({"prior_weight": ()}, ValueError, r"`prior_weight` must be .* got an empty sequence"),
    ({"prior_weight": (0.5, "a")}, TypeError, r"`prior_weight` must be .*; got \(0.5, 'a'\)"),
    ({"complexity_penalty": float("nan")}, ValueError, r"'complexity_penalty' parameter .* Got nan"),
])
def test_parameters_are_validated_in_fit(parameters, error, message):
    X, y = generated(50, seed=8)
    model = RuleListClassifier(**parameters)
    with pytest.raises(error, match=message):
        model.fit(X, y)

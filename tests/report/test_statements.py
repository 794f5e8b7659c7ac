"""The audit's statement matrix: every statement the report prints is recomputed another way.

Counts of decisions are recounted with the model's own ``predict``; every counterfactual marked valid is
rebuilt from the printed changes and asked of ``predict`` again; every printed condition is re-parsed
and checked against its row; rows are paired by index whatever the order or labels of ``y``.
"""

import re

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

import tabxai as tx

TINY = dict(n_background=6, n_coalitions=40, n_explained=16, n_repeats=1, n_bootstrap=0, max_applicants=10,
            n_recourse=4, n_counterfactuals=2, top_features=1, random_state=5)


@pytest.fixture(scope="module")
def case(credit):
    model, X, y = credit
    return model, X.iloc[:150], y.iloc[:150], credit


@pytest.fixture(scope="module")
def threshold_models(credit):
    model, X, y = credit
    train_X, train_y = X.iloc[150:], y.iloc[150:]  # rows the audited 150 do not include
    fixed = FixedThresholdClassifier(clone(model), threshold=0.35, pos_label="bad").fit(train_X, train_y)
    tuned = TunedThresholdClassifierCV(clone(model), scoring="balanced_accuracy", cv=3, thresholds=20,
                                       random_state=0).fit(train_X, train_y)
    return {"fixed": fixed, "tuned": tuned}


def _predict_rows(predict, X, positions, changes=None):
    rows = X.iloc[list(positions)].copy()
    for feature, value in (changes or {}).items():
        rows[feature] = pd.Series([value], index=rows.index).astype(X[feature].dtype)
    return np.asarray(predict(rows), dtype=object)


_CONDITION = re.compile(r"^(?P<feature>[\w ]+?) (?P<op>=|is missing)(?: (?P<value>.+))?$")


def _condition_holds(condition, row, units):
    """Re-parse ``feature = value [unit]`` / ``feature is missing`` and check it against the row."""
    match = _CONDITION.match(condition)
    assert match, f"unparsed condition {condition!r}"
    feature, op, text = match["feature"], match["op"], match["value"]
    actual = row[feature]
    if op == "is missing":
        return pd.isna(actual)
    unit = units.get(feature)
    if unit and text.endswith(" " + unit):
        text = text[: -len(unit) - 1]
    if isinstance(actual, (int, float, np.number)) and not isinstance(actual, bool):
        return not pd.isna(actual) and float(text.replace(",", "")) == pytest.approx(float(actual), rel=1e-6)
    return text == str(actual)


def _check_statements(report, predict, X, y, favorable, units=None):
    result = report.to_dict()
    units = units or {}
    decisions = np.asarray(predict(X), dtype=object)
    adverse = decisions != favorable
    model = result["model"]
    # counts of decisions: recounted with the model's predict
    assert model["n_adverse"] == int(adverse.sum())
    assert model["adverse_rate"] == pytest.approx(adverse.mean())
    if y is not None:
        assert result["performance"]["accuracy"] == pytest.approx(np.mean(decisions == np.asarray(y, dtype=object)))
    # each applicant: a row the model declines, with its own label, its own reasons
    applicants = result["reasons"]["applicants"]
    assert len(applicants) == min(int(adverse.sum()), TINY["max_applicants"])
    for a in applicants:
        assert a["decision"] == decisions[a["position"]] and decisions[a["position"]] != favorable
        assert a["row"] == X.index[a["position"]]
        row = X.iloc[a["position"]]
        for reason in a["reasons"]:
            if ":" not in reason["condition"]:  # single columns (groups list their members)
                assert _condition_holds(reason["condition"], row, units), (reason["condition"], row.to_dict())
    # every valid counterfactual: rebuilt from its printed changes, approved by predict
    recourse = result["recourse"]
    assert recourse["error"] is None, recourse["error"]
    assert recourse["positions"] == [a["position"] for a in applicants][: TINY["n_recourse"]]
    checked = 0
    for a in recourse["applicants"]:
        assert decisions[a["position"]] != favorable
        for c in a["counterfactuals"]:
            changes = {change["feature"]: change["value"] for change in c["changes"]}
            approved = _predict_rows(predict, X, [a["position"]], changes)[0] == favorable
            assert c["valid"] == approved, (a["row"], changes)
            checked += c["valid"]
    return result, checked


@pytest.mark.parametrize("kind", ["fixed", "tuned"])
def test_threshold_classifiers_are_audited_by_their_own_decisions(case, threshold_models, kind):
    _, X, y, _ = case
    model = threshold_models[kind]
    argmax = np.asarray(model.classes_)[model.predict_proba(X).argmax(axis=1)]
    report = tx.audit(model, X, y, positive="bad", favorable="good", units={"duration": "months"}, **TINY)
    _, checked = _check_statements(report, model.predict, X, y, "good", {"duration": "months"})
    assert checked > 0
    if kind == "fixed":  # the threshold moves decisions: arg-max would have counted others
        assert (argmax != model.predict(X)).any()


def test_bare_callable_with_a_decision_threshold(case):
    model, X, y, _ = case
    decide = lambda rows: np.where(model.predict_proba(rows)[:, 1] >= 0.6, "good", "bad")  # noqa: E731
    # a bound method of an estimator decides with the estimator's predict: `decision` is refused, not ignored
    with pytest.raises(ValueError, match="decides with its predict"):
        tx.audit(model.predict_proba, X, y, decision=0.6, positive="bad", favorable="good", **TINY)

    def probabilities(rows):
        return model.predict_proba(rows)

    report = tx.audit(probabilities, X, y, decision=0.6, positive="bad", favorable="good", **TINY)
    _check_statements(report, decide, X, y, "good")
    assert report.to_dict()["model"]["decisions"] == "the decision given"


def test_y_is_paired_by_index(case):
    model, X, y, _ = case
    in_order = tx.audit(model, X, y, positive="bad", favorable="good", **TINY).to_dict()
    shuffled = tx.audit(model, X, y.sample(frac=1.0, random_state=1), positive="bad", favorable="good",
                        **TINY).to_dict()
    assert shuffled["performance"] == in_order["performance"]
    assert shuffled["permutation_importance"] == in_order["permutation_importance"]
    assert shuffled["glass_box"] == in_order["glass_box"]
    foreign = y.set_axis(y.index + 10_000)
    with pytest.raises(ValueError, match="different indexes"):
        tx.audit(model, X, foreign, positive="bad", favorable="good", **TINY)
    with pytest.raises(ValueError, match="one label per row"):
        tx.audit(model, X, y.iloc[:-1], positive="bad", favorable="good", **TINY)


def test_duplicate_index_labels_never_merge_applicants(case):
    model, X, y, _ = case
    plain = tx.audit(model, X.reset_index(drop=True), y.reset_index(drop=True), positive="bad", favorable="good",
                     **TINY).to_dict()
    labels = np.arange(len(X)) % 7  # every label repeats
    repeated = tx.audit(model, X.set_axis(labels), y.set_axis(labels), positive="bad", favorable="good",
                        **TINY).to_dict()
    for a, b in zip(plain["reasons"]["applicants"], repeated["reasons"]["applicants"], strict=True):
        assert a["position"] == b["position"] and b["row"] == labels[b["position"]]
        assert a["reasons"] == b["reasons"] and len(b["reasons"]) <= TINY.get("k", 4)
    _check_statements(tx.audit(model, X.set_axis(labels), y.set_axis(labels), positive="bad", favorable="good",
                               **TINY), model.predict, X.set_axis(labels), y.set_axis(labels), "good")


def test_integer_labels(case):
    model, X, y, _ = case
    y_int = (y == "bad").astype(int)
    numeric_model = clone(model).fit(case[3][1].iloc[150:], (case[3][2].iloc[150:] == "bad").astype(int))
    report = tx.audit(numeric_model, X, y_int, positive=1, favorable=0, **TINY)
    result, _ = _check_statements(report, numeric_model.predict, X, y_int, 0)
    assert (result["model"]["positive"], result["model"]["adverse"]) == (1, 1)


def test_cli_on_a_saved_threshold_classifier_counts_as_python(case, threshold_models, tmp_path):
    from tabxai.cli import main

    _, X, y, _ = case
    model = threshold_models["fixed"]
    joblib.dump(model, tmp_path / "model.joblib")
    X.assign(credit_risk=y).to_csv(tmp_path / "data.csv", index=False)
    code = main(["audit", "--model", str(tmp_path / "model.joblib"), "--data", str(tmp_path / "data.csv"),
                 "--target", "credit_risk", "--positive", "bad", "--favorable", "good", "--background", "6",
                 "--explained", "16", "--repeats", "1", "--bootstrap", "0", "--max-applicants", "5",
                 "--recourse", "2", "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"), "--quiet"])
    assert code == 0
    import json

    printed = json.loads((tmp_path / "r.json").read_text())
    data = pd.read_csv(tmp_path / "data.csv")
    assert printed["model"]["n_adverse"] == int((model.predict(data.drop(columns="credit_risk")) != "good").sum())
    assert printed["model"]["n_adverse"] == int((model.predict(X) != "good").sum())


@pytest.mark.parametrize("n_features", [12, 60])
def test_default_settings_never_trigger_the_library_warnings(n_features):
    import warnings

    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(n_features)
    X = pd.DataFrame(rng.normal(size=(300, n_features)), columns=[f"x{j}" for j in range(n_features)])
    y = np.where(X.iloc[:, :5].sum(axis=1) + rng.normal(size=300) > 0, "bad", "good")
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module="tabxai")
        warnings.filterwarnings("error", message=".*n_coalitions.*")
        report = tx.audit(model, X, y, positive="bad", favorable="good", n_explained=10, max_applicants=4,
                          n_repeats=1, n_bootstrap=0, n_recourse=1)
    assert report.to_dict()["reasons"]["n_applicants"] == 4

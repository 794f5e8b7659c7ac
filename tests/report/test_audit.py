"""tx.audit: every number of the report equals the library's own functions called directly."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score

import tabxai as tx
from tabxai.report import group_fairness, numeric_bands

SMALL = dict(n_background=8, n_coalitions=40, n_explained=30, n_repeats=2, n_bootstrap=30, max_applicants=12,
             n_recourse=3, n_counterfactuals=2, top_features=2)  # as in conftest.py


def test_to_dict_is_json_and_names_the_outcomes(small_audit, credit):
    report, _ = small_audit
    result = report.to_dict()
    json.dumps(result, allow_nan=False)
    model = result["model"]
    assert (model["positive"], model["favorable"], model["adverse"]) == ("bad", "good", "bad")
    _, X, _ = credit
    assert model["n_rows"] == len(X) and [c["name"] for c in model["columns"]] == list(X.columns)
    amount = next(c for c in model["columns"] if c["name"] == "amount")
    assert amount["missing"] == int(X["amount"].isna().sum()) and amount["kind"] == "numeric"
    assert result["random_state"] == 3 and result["provenance"]["parameters"]["n_coalitions"] == SMALL["n_coalitions"]


def test_performance_equals_sklearn(small_audit, credit):
    model, X, y = credit
    performance = small_audit[0].to_dict()["performance"]
    proba = model.predict_proba(X)[:, list(model.classes_).index("bad")]
    truth = np.asarray(y) == "bad"
    assert performance["roc_auc"] == pytest.approx(roc_auc_score(truth, proba), abs=1e-12)
    assert performance["accuracy"] == pytest.approx(accuracy_score(y, model.predict(X)), abs=1e-12)
    assert performance["brier_score"] == pytest.approx(brier_score_loss(truth, proba), abs=1e-12)
    fraction, predicted = calibration_curve(truth, proba, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(performance["calibration"]["fraction_positive"], fraction)
    np.testing.assert_allclose(performance["calibration"]["mean_predicted"], predicted)


def _masker(result, X):
    shap = result["shapley"]
    return tx.IndependentMasker(X.iloc[shap["background_positions"]], weights=shap["background_weights"])


def _link(result):
    """The scale the audit chose (``link="auto"``): log-odds for this logistic model's probabilities."""
    return {"log-odds": "logit", "probability": None}[result["shapley"]["scale"]]


def _direct_explanation(result, model, X):
    """The global view's Shapley values, asked of KernelSHAP directly with the recorded background and budget."""
    shap = result["shapley"]
    budget = shap["parameters"]["n_coalitions"]
    explainer = tx.KernelSHAP(model, _masker(result, X), n_coalitions=budget, random_state=3, output="bad",
                              link=_link(result))
    return explainer.explain(X.iloc[shap["global_positions"]])


def _naive_certain(values, stderr, order, rank, n_cited, z=1.959963984540054):
    """Whether the reason at ``rank`` differs from the cited reasons next to it, by loops."""
    j = order[rank]
    for m in ([order[rank - 1]] if rank > 0 else []) + ([order[rank + 1]] if rank + 1 < n_cited else []):
        spread = np.hypot(stderr[j], stderr[m])
        if not (abs(values[j] - values[m]) > z * spread if spread > 0 else values[j] != values[m]):
            return False
    return True


def test_shapley_reasons_and_partial_dependence_equal_direct_calls(small_audit, credit):
    model, X, y = credit
    report = small_audit[0]
    result = report.to_dict()
    expl = _direct_explanation(result, model, X)
    shap = result["shapley"]
    assert shap["scale"] == "log-odds" and shap["scale_auto"]  # link="auto": every probability is inside (0, 1)
    assert shap["n_background"] == SMALL["n_background"] and sum(shap["background_weights"]) == pytest.approx(1)
    mean_abs = dict(zip(expl.feature_names, np.abs(expl.values).mean(axis=0)))
    assert shap["mean_abs"] == pytest.approx([mean_abs[f] for f in shap["features"]], abs=1e-12)
    assert shap["mean_abs"] == sorted(shap["mean_abs"], reverse=True)
    assert all(lo <= m <= hi for lo, m, hi in zip(shap["ci_low"], shap["mean_abs"], shap["ci_high"]))

    # reasons: tx.reason_codes of KernelSHAP with the audit's stopping rule, asked directly on the same rows
    reasons = result["reasons"]
    decisions = model.predict(X)
    adverse = np.flatnonzero(decisions == "bad")[:SMALL["max_applicants"]]
    assert [a["position"] for a in reasons["applicants"]] == adverse.tolist()[:len(reasons["applicants"])]
    seed = int(np.random.SeedSequence([3, 0]).generate_state(1)[0])  # the first chunk's seed
    direct = tx.KernelSHAP(model, _masker(result, X), n_coalitions=reasons["max_coalitions"],
                           stop=tx.report.reasons_settled(4, "positive"), adjustment=None, random_state=seed,
                           output="bad", link=_link(result)).explain(X.iloc[adverse])
    codes = tx.reason_codes(direct, k=4, units={"duration": "months"})
    table = report.reasons
    assert len(table) == len(adverse) and table["row"].tolist() == X.index[adverse].tolist()
    for i, line in enumerate(table.itertuples(index=False)):
        mine = codes[codes["row"] == X.index[adverse[i]]]
        values, stderr = direct.values[i], direct.stderr[i]
        order = np.argsort(-values, kind="stable")
        for r in range(1, 5):
            if r > len(mine):
                assert pd.isna(getattr(line, f"reason_{r}"))
                continue
            code = mine.iloc[r - 1]
            assert getattr(line, f"reason_{r}") == code["condition"]
            assert getattr(line, f"contribution_{r}") == pytest.approx(code["contribution"], abs=1e-12)
            assert getattr(line, f"stderr_{r}") == pytest.approx(code["stderr"], abs=1e-12)
            assert bool(getattr(line, f"certain_{r}")) == bool(code["certain"]) == _naive_certain(
                values, stderr, order, r - 1, len(mine))
            assert bool(line.cited_certain) == bool(code["cited_certain"])
    proba = model.predict_proba(X)[:, 0]  # classes_ = ['bad', 'good']
    np.testing.assert_allclose(table["score"], proba[adverse], atol=1e-12)
    assert reasons["n_reasons"] == len(codes) and reasons["n_uncertain"] == int((~codes["certain"]).sum())
    assert reasons["model_rows"] == direct.params["model_rows"]

    top = [f for f in shap["features"] if f in X.columns][:SMALL["top_features"]]
    curves = tx.partial_dependences(model, X.iloc[shap["global_positions"]], top, kind="both", output="bad",
                                   grid_resolution=20, link=_link(result))
    assert [d["feature"] for d in result["partial_dependence"]] == top
    for entry, curve in zip(result["partial_dependence"], curves):
        np.testing.assert_allclose(entry["average"], curve.average[0], atol=1e-12)


def test_permutation_importance_and_glass_box_equal_direct_calls(small_audit, credit):
    model, X, y = credit
    result = small_audit[0].to_dict()
    direct = tx.permutation_importance(model, X, y, scoring="roc_auc", n_repeats=SMALL["n_repeats"],
                                       random_state=3).to_frame()
    reported = result["permutation_importance"]
    assert reported["features"] == list(direct.index)
    np.testing.assert_allclose(reported["mean"], direct["mean"], atol=1e-12)
    np.testing.assert_allclose(reported["ci_low"], direct["ci_low"], atol=1e-12)

    for key, learner in (("rule_list", tx.RuleListClassifier()), ("one_r", tx.OneR())):
        surrogate = tx.fit_surrogate(model, X, learner, y=y, test_size=0.3, random_state=3)
        entry = result["glass_box"][key]
        assert entry["fidelity"] == surrogate.fidelity
        assert entry["baseline_accuracy"] == surrogate.baseline_accuracy
        assert entry["model_accuracy"] == surrogate.model_accuracy
        assert entry["rules"] == str(surrogate.learner)


def test_fairness_equals_group_fairness_and_direct_attribution(small_audit, credit):
    model, X, y = credit
    report, sensitive = small_audit
    result = report.to_dict()
    decisions = model.predict(X)
    by_name = {f["attribute"]: f for f in result["fairness"]}
    assert list(by_name) == ["sex", "age", "foreign_worker"]
    groups = {"sex": sensitive["sex"], "age": numeric_bands(X["age"]), "foreign_worker": X["foreign_worker"]}
    assert by_name["age"]["banded"] and not by_name["sex"]["banded"]
    for name, values in groups.items():
        direct = group_fairness(decisions, values, y_true=y, positive="bad", favorable="good",
                                n_bootstrap=SMALL["n_bootstrap"], random_state=3)
        entry = by_name[name]
        assert entry["groups"] == [str(g) if not isinstance(g, str) else g for g in direct["table"].index]
        for column in ("selection_rate", "true_positive_rate", "false_positive_rate", "impact_ratio",
                       "impact_ratio_low", "selection_rate_high"):
            np.testing.assert_allclose(np.array(entry["table"][column], dtype=float),
                                       direct["table"][column].to_numpy(float), atol=1e-12)
        assert entry["table"]["four_fifths_flag"] == direct["table"]["four_fifths_flag"].tolist()
        assert entry["equalized_odds_difference"] == pytest.approx(direct["equalized_odds_difference"])
    # direct attribution: a derived attribute (sex) is attributed to its source column
    assert by_name["sex"]["source"] == "personal_status_sex"
    shap = result["shapley"]
    assert by_name["sex"]["direct_attribution"]["mean_abs"] == \
        shap["mean_abs"][shap["features"].index("personal_status_sex")]
    assert by_name["foreign_worker"]["direct_attribution"]["feature"] == "foreign_worker"
    means = by_name["sex"]["group_mean_attributions"]
    expl = _direct_explanation(result, model, X)
    where = {p: i for i, p in enumerate(shap["explained_positions"])}
    rows = shap["global_positions"]
    sex_of_rows = np.asarray(sensitive["sex"])[rows]
    values = expl.values[[where[p] for p in rows]]
    j = list(expl.feature_names).index(means["features"][0])
    for g, group in enumerate(means["groups"]):
        assert means["means"][g][0] == pytest.approx(values[sex_of_rows == group, j].mean(), abs=1e-12)


def test_html_has_every_section_and_no_scripts_or_requests(small_audit, tmp_path):
    report, _ = small_audit
    path = report.save(tmp_path / "audit.html")
    text = path.read_text()
    for heading in ("Model and data", "What drives the model", "Principal reasons per adverse decision",
                    "Fairness by group", "Glass-box baseline", "Provenance", "@media print"):
        assert heading in text
    lowered = text.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert lowered.count("<img") >= 5 and 'src="data:image/png;base64,' in text
    assert report._repr_html_().startswith("<iframe srcdoc=")
    assert "AuditReport" in repr(report)


def test_user_strings_are_escaped():
    rng = np.random.default_rng(0)
    evil = "<img src=x onerror=alert(1)>"
    X = pd.DataFrame({evil: rng.normal(size=120), "kind": pd.Categorical(rng.choice(["</script>", "b&b"], 120))})
    y = np.where(X[evil] + rng.normal(size=120) > 0, "<b>bad</b>", "good")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer([("kind", OneHotEncoder(), ["kind"])], remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    report = tx.audit(model, X, y, sensitive=["kind"], positive="<b>bad</b>", n_background=5, n_coalitions=4,
                      n_explained=10, n_repeats=1, n_bootstrap=0, max_applicants=3, title="<i>title</i>")
    text = report.to_html()
    assert evil not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "</script>" not in text and "&lt;/script&gt;" in text
    assert "<b>bad</b>" not in text and "<i>title</i>" not in text


@pytest.mark.slow
def test_report_for_20000_applicants_stays_under_5_mb_and_writes_every_reason(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X, y = tx.datasets.load_german_credit()
    X = X[["duration", "amount", "age", "installment_rate"]]
    from sklearn.model_selection import FixedThresholdClassifier

    model = FixedThresholdClassifier(LogisticRegression(max_iter=1000), threshold=0.2, pos_label="bad").fit(X, y)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(X), 20_000)
    big = X.iloc[rows].reset_index(drop=True)
    big["amount"] = big["amount"] * rng.uniform(0.8, 1.2, len(big))
    labels = y.iloc[rows].reset_index(drop=True)
    report = tx.audit(model, big, labels, sensitive=["age"], positive="bad", favorable="good", n_background=5,
                      n_coalitions=8, n_explained=50, n_repeats=1, n_bootstrap=0, n_recourse=2,
                      reasons_out=tmp_path / "reasons.parquet")
    size = report.save(tmp_path / "big.html").stat().st_size
    adverse = int((model.predict(big) == "bad").sum())
    result = report.to_dict()
    assert result["reasons"]["n_applicants"] == adverse > 10_000
    assert len(result["reasons"]["applicants"]) <= 50 and size < 5_000_000
    table = report.reasons
    assert len(table) == adverse and table["row"].is_unique
    np.testing.assert_array_equal(table["row"], np.flatnonzero(model.predict(big) == "bad"))
    frequency = result["reasons"]["frequency"]
    cited = {f: (table[[f"reason_{r}" for r in range(1, 5)]].apply(lambda c: c.str.startswith(f + " ")).any(axis=1)
                 ).mean() for f in frequency["features"]}
    assert frequency["share"] == pytest.approx([cited[f] for f in frequency["features"]])


def test_given_applicants_and_favorable_default(credit):
    model, X, y = credit
    chosen = list(X.index[:3])
    report = tx.audit(model, X, None, applicants=chosen, positive="good", n_background=5, n_coalitions=20,
                      n_explained=10, n_bootstrap=0)
    result = report.to_dict()
    assert [a["row"] for a in result["reasons"]["applicants"]] == chosen
    assert result["model"]["adverse"] == "bad" and result["reasons"]["direction"] == "negative"
    assert result["performance"] is None and result["permutation_importance"] is None
    for applicant in result["reasons"]["applicants"]:
        assert all(r["contribution"] > 0 for r in applicant["reasons"])  # towards the adverse outcome


def test_does_not_modify_inputs(credit):
    model, X, y = credit
    before = X.copy()
    tx.audit(model, X, y, sensitive=["age"], n_background=5, n_coalitions=20, n_explained=10, n_bootstrap=0,
             n_repeats=1, max_applicants=2)
    pd.testing.assert_frame_equal(X, before)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(positive="excellent"), ValueError, "`positive` must be one of the model's classes"),
    (dict(favorable="maybe"), ValueError, "`favorable` must be one of"),
    (dict(sensitive=["gender"]), ValueError, "sensitive attribute 'gender' is not a column of X"),
    (dict(sensitive="age"), TypeError, "`sensitive` must be a list"),
    (dict(sensitive={"sex": [1, 2]}), ValueError, "one value per row"),
    (dict(applicants=["nobody"]), ValueError, "not in X's index"),
    (dict(k=0), ValueError, "`k` must be an int >= 1"),
    (dict(shapley="lime"), ValueError, "`shapley` must be one of"),
])
def test_bad_arguments(credit, kwargs, error, match):
    model, X, y = credit
    with pytest.raises(error, match=match):
        tx.audit(model, X, y, **kwargs)


def test_bad_data(credit):
    model, X, y = credit
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        tx.audit(model, X.to_numpy(), y)
    with pytest.raises(ValueError, match="one label per row"):
        tx.audit(model, X, y.iloc[:5])
    with pytest.raises(ValueError, match="not the model's classes"):
        tx.audit(model, X, np.where(y == "bad", "default", "paid"))
    from sklearn.linear_model import LinearRegression

    numeric = X[["duration", "age"]]
    with pytest.raises(ValueError, match="binary classifier"):
        tx.audit(LinearRegression().fit(numeric, numeric["age"]), numeric)


def test_feature_groups_and_permutation_shapley(credit):
    model, X, y = credit
    groups = {"loan": ["duration", "amount"], "person": ["personal_status_sex", "age"]}
    report = tx.audit(model, X, y, feature_groups=groups, shapley="permutation", n_coalitions=40, n_background=5,
                      n_explained=10, n_repeats=1, n_bootstrap=0, max_applicants=4, sensitive=["age"],
                      random_state=1)
    result = report.to_dict()
    assert result["shapley"]["method"] == "PermutationShapley"
    assert set(result["shapley"]["features"]) == {"status", "loan", "credit_history", "savings", "person", "housing",
                                                 "foreign_worker"}
    assert set(result["permutation_importance"]["features"]) == set(result["shapley"]["features"])
    conditions = [r["condition"] for a in result["reasons"]["applicants"] for r in a["reasons"]
                  if r["feature"] == "loan"]
    assert conditions and all(c.startswith("loan: duration = ") and ", amount " in c for c in conditions)
    # partial dependence only for single columns; age is inside a group: its direct attribution is the group's,
    # and every reason that cites the group is flagged as sensitive
    assert all(d["feature"] in X.columns for d in result["partial_dependence"])
    direct = result["fairness"][0]["direct_attribution"]
    assert direct["feature"] == "person" and direct["column"] == "age" and direct["in_group"]
    position = result["shapley"]["features"].index("person")
    assert direct["mean_abs"] == pytest.approx(result["shapley"]["mean_abs"][position])
    cited = [r for a in result["reasons"]["applicants"] for r in a["reasons"]]
    assert [r["sensitive"] for r in cited] == [r["feature"] == "person" for r in cited]
    assert "in the feature group <code>person</code>" in report.to_html()


def test_reasons_cite_sensitive_sources(small_audit):
    result = small_audit[0].to_dict()
    reasons = [r for a in result["reasons"]["applicants"] for r in a["reasons"]]
    flagged = {r["feature"] for r in reasons if r["sensitive"]}
    assert flagged <= {"personal_status_sex", "age", "foreign_worker"}
    assert result["reasons"]["n_sensitive"] == sum(r["sensitive"] for r in reasons)


@pytest.mark.parametrize("as_callable", ["bound method", "bare function"])
def test_callable_models(as_callable):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    X, y = tx.datasets.load_german_credit()
    X = X[["duration", "amount", "age"]]
    fitted = LogisticRegression(max_iter=1000).fit(X[:700], y[:700])
    model = fitted.predict_proba if as_callable == "bound method" else (lambda rows: fitted.predict_proba(rows))
    report = tx.audit(model, X[700:], y[700:], positive="bad", favorable="good", n_background=5, n_explained=10,
                      n_repeats=2, n_bootstrap=0, max_applicants=3)
    result = report.to_dict()
    assert result["model"]["outputs"] == ["bad", "good"]
    assert result["permutation_importance"]["scoring"] == "roc_auc"
    direct = tx.permutation_importance(fitted, X[700:], y[700:], scoring="roc_auc", n_repeats=2, random_state=0)
    np.testing.assert_allclose(sorted(result["permutation_importance"]["mean"]), sorted(direct.importances_mean),
                               atol=1e-12)
    proba = fitted.predict_proba(X[700:])[:, 0]
    assert result["performance"]["roc_auc"] == pytest.approx(roc_auc_score(y[700:] == "bad", proba))


def test_log_odds_scale(credit):
    model, X, y = credit
    report = tx.audit(model, X, y, link="logit", n_background=6, n_coalitions=30, n_explained=12, n_repeats=1,
                      n_bootstrap=0, max_applicants=3, random_state=2, top_features=1)
    result = report.to_dict()
    shap = result["shapley"]
    assert shap["scale"] == "log-odds" and "on the log-odds scale" in report.to_html()
    direct = tx.KernelSHAP(model, _masker(result, X), n_coalitions=shap["parameters"]["n_coalitions"], random_state=2,
                           output="good", link="logit").explain(X.iloc[shap["global_positions"]])
    values = direct.values
    mean_abs = dict(zip(direct.feature_names, np.abs(values).mean(axis=0)))
    assert shap["mean_abs"] == pytest.approx([mean_abs[f] for f in shap["features"]], abs=1e-12)
    proba = model.predict_proba(X.iloc[shap["explained_positions"][:1]])[0, 1]
    assert direct.base_values[0] + direct.values[0].sum() == pytest.approx(np.log(proba / (1 - proba)), abs=1e-9)
    curve = tx.partial_dependence(model, X.iloc[shap["global_positions"]], result["partial_dependence"][0]["feature"],
                                  kind="both", output="good", link="logit", grid_resolution=20)
    np.testing.assert_allclose(result["partial_dependence"][0]["average"], curve.average[0], atol=1e-12)


def test_auto_scale_is_log_odds_only_when_every_probability_has_one(credit):
    """link="auto": log-odds for a model whose probabilities are all inside (0, 1); probabilities for a forest
    whose leaves give exactly 0 and 1 (no log-odds), said so in the HTML."""
    from sklearn.ensemble import RandomForestClassifier

    from tabxai.report._context import audit_link

    assert audit_link("auto", np.array([[0.2, 0.8], [1e-9, 1 - 1e-9]])) == "logit"
    assert audit_link("auto", np.array([[0.0, 1.0], [0.3, 0.7]])) is None
    assert audit_link(None, np.array([[0.2, 0.8]])) is None and audit_link("logit", np.array([[0.0, 1.0]])) == "logit"
    _, X, y = credit
    numbers = X[["duration", "age"]]
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(numbers, y)
    assert (forest.predict_proba(numbers) == 0).any()
    report = tx.audit(forest, numbers, y, n_background=4, n_coalitions=4, n_explained=6, n_repeats=1, n_bootstrap=0,
                      max_applicants=2, n_recourse=0, random_state=0, top_features=1)
    shap = report.to_dict()["shapley"]
    assert shap["scale"] == "probability" and shap["scale_auto"]
    assert "probabilities of exactly 0 or 1, which have no log-odds" in report.to_html()

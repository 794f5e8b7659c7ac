"""The audit's recourse section: equal to tx.Counterfactuals called directly, valid, within its constraints."""

import html

import numpy as np
import pandas as pd
import pytest

import tabxai as tx

TINY = dict(n_background=5, n_coalitions=20, n_explained=10, n_repeats=1, n_bootstrap=0, max_applicants=4)


def _direct(model, X, recourse):
    search = tx.Counterfactuals(model, X, desired=recourse["desired"], immutable=recourse["immutable"],
                                monotone=recourse["monotone"] or None, random_state=recourse["random_state"])
    return search.explain(X.iloc[recourse["positions"]], n=recourse["n"])


def _applied(X, position, changes):
    """The audited row with the report's changes applied, as a one-row DataFrame of X's dtypes."""
    row = X.iloc[[position]].copy()
    for change in changes:
        row[change["feature"]] = pd.Series([change["value"]], index=row.index).astype(X[change["feature"]].dtype)
    return row


def test_recourse_numbers_equal_a_direct_call(small_audit, credit):
    model, X, _ = credit
    result = small_audit[0].to_dict()
    recourse = result["recourse"]
    assert recourse["desired"] == "good" and recourse["n"] == 2 and recourse["random_state"] == 3
    assert recourse["immutable"] == ["personal_status_sex", "age", "foreign_worker"]  # sex is derived from its column
    assert recourse["monotone"] == {}  # age is sensitive, hence immutable
    declined = [a["position"] for a in result["reasons"]["applicants"] if a["decision"] == "bad"]
    assert recourse["positions"] == declined[:3] and len(recourse["positions"]) == 3
    direct = _direct(model, X, recourse)
    assert [a["status"] for a in recourse["applicants"]] == direct.status
    assert [a["message"] for a in recourse["applicants"]] == direct.messages
    lines = [c for a in recourse["applicants"] for c in a["counterfactuals"]]
    assert len(lines) == len(direct.row_index) > 0
    np.testing.assert_allclose([c["proximity"] for c in lines], direct.proximity, rtol=0, atol=0)
    np.testing.assert_allclose([c["output"] for c in lines], direct.output, rtol=0, atol=0)
    np.testing.assert_allclose([c["plausibility"] for c in lines], direct.plausibility, rtol=0, atol=0)
    assert [c["sparsity"] for c in lines] == direct.sparsity.tolist()
    assert [c["valid"] for c in lines] == direct.valid.tolist()
    assert [c["sentence"] for c in lines] == [s for i in range(len(direct)) for s in direct.describe(i)]
    for a, diversity in zip(recourse["applicants"], direct.diversity):
        assert a["diversity"] == (None if np.isnan(diversity) else pytest.approx(diversity, abs=0))
    assert recourse["all_valid"] == bool(direct.valid.all())
    assert result["provenance"]["parameters"]["n_recourse"] == 3


def test_every_counterfactual_is_valid_and_keeps_sensitive_columns(small_audit, credit):
    model, X, _ = credit
    recourse = small_audit[0].to_dict()["recourse"]
    for applicant in recourse["applicants"]:
        assert X.index[applicant["position"]] == applicant["row"]
        for counterfactual in applicant["counterfactuals"]:
            changed = {c["feature"] for c in counterfactual["changes"]}
            assert changed and not changed & set(recourse["immutable"])
            assert len(changed) == counterfactual["sparsity"]
            row = _applied(X, applicant["position"], counterfactual["changes"])
            assert model.predict(row)[0] == "good"  # valid, checked by calling the model
            assert counterfactual["valid"]
            probability = model.predict_proba(row)[0, list(model.classes_).index("good")]
            assert counterfactual["output"] == pytest.approx(probability, abs=1e-12)
    direct = _direct(model, X, recourse).to_frame()
    original = X.iloc[recourse["positions"]].reset_index(drop=True)
    for column in recourse["immutable"]:
        assert (direct[column].astype(str).to_numpy() == original[column].astype(str).to_numpy()[direct["row"]]).all()


def test_age_only_increases_when_it_is_not_sensitive(credit):
    model, X, y = credit
    report = tx.audit(model, X, y, sensitive=["foreign_worker"], positive="bad", favorable="good", n_recourse=3,
                      n_counterfactuals=3, random_state=1, **TINY)
    recourse = report.to_dict()["recourse"]
    assert recourse["immutable"] == ["foreign_worker"] and recourse["monotone"] == {"age": "increase"}
    changes = [c for a in recourse["applicants"] for cf in a["counterfactuals"] for c in cf["changes"]]
    assert changes and all(c["value"] > c["original"] for c in changes if c["feature"] == "age")
    assert all(c["feature"] != "foreign_worker" for c in changes)
    assert "age may only increase" in report.to_html()


def test_section_absent_with_n_recourse_0(credit):
    model, X, y = credit
    report = tx.audit(model, X, y, sensitive=["age"], positive="bad", favorable="good", n_recourse=0, **TINY)
    assert report.to_dict()["recourse"] is None
    text = report.to_html()
    assert 'id="recourse"' not in text and "Recourse" not in text
    assert "4. Typical and unusual applicants" in text and "5. Fairness by group" in text and "7. Provenance" in text


def test_no_recourse_under_the_constraints_is_said_plainly():
    from sklearn.linear_model import LogisticRegression

    X, y = tx.datasets.load_german_credit()
    X = X[["duration", "amount", "age"]]
    model = LogisticRegression(max_iter=1000).fit(X[:700], y[:700])
    report = tx.audit(model, X[700:], y[700:], sensitive=["duration", "amount", "age"], positive="bad",
                      favorable="good", n_recourse=2, **TINY)
    recourse = report.to_dict()["recourse"]
    assert recourse["applicants"] == [] and "every column is immutable" in recourse["error"]
    assert "No recourse under these constraints: every column is immutable" in report.to_html()


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_n_recourse(credit, bad):
    model, X, y = credit
    with pytest.raises((TypeError, ValueError), match="n_recourse"):
        tx.audit(model, X, y, n_recourse=bad, **TINY)


def test_recourse_escapes_hostile_strings():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    evil = "<img src=x onerror=alert(1)>"
    X = pd.DataFrame({evil: rng.normal(size=120), "kind": pd.Categorical(rng.choice(["</script>", "b&b"], 120))})
    y = np.where(X[evil] + (X["kind"] == "b&b") + rng.normal(size=120) > 0.5, "<b>bad</b>", "good")
    encode = ColumnTransformer([("kind", OneHotEncoder(), ["kind"])], remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    report = tx.audit(model, X, y, positive="<b>bad</b>", favorable="good", n_background=5, n_coalitions=4,
                      n_explained=10, n_repeats=1, n_bootstrap=0, max_applicants=5, n_recourse=5)
    sentences = [c["sentence"] for a in report.to_dict()["recourse"]["applicants"] for c in a["counterfactuals"]]
    assert sentences and any(evil in s for s in sentences) and any("</script>" in s or "b&b" in s for s in sentences)
    text = report.to_html()
    for sentence in sentences:
        assert html.escape(sentence, quote=False) in text or html.escape(sentence) in text
    assert evil not in text and "</script>" not in text and "<b>bad</b>" not in text

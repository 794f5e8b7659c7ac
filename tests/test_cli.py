"""The tabxai command: every option, and bad input ends with a clear message, exit code 2 and nothing written."""

import json
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

import tabxai as tx
from tabxai.cli import main

FAST = ["--coalitions", "20", "--background", "5", "--explained", "12", "--repeats", "1", "--bootstrap", "10",
        "--max-applicants", "3", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A fitted pipeline saved with joblib, its data as CSV (with the target and a column the model ignores)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = tx.datasets.load_german_credit()
    X = X[["status", "duration", "amount", "savings", "age", "personal_status_sex"]].iloc[:300]
    encode = ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), ["status", "savings"]),
                                ("n", StandardScaler(), ["duration", "amount", "age"])])
    features = ["status", "duration", "amount", "savings", "age"]
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(X[features], y.iloc[:300])
    folder = tmp_path_factory.mktemp("cli")
    data = X.astype({c: str for c in ["status", "savings", "personal_status_sex"]}).copy()
    data["sex"] = data.pop("personal_status_sex").str.split(":").str[0]
    data["risk"] = y.iloc[:300].astype(str).to_numpy()
    data.to_csv(folder / "applicants.csv", index=False)
    (folder / "wording.json").write_text(json.dumps({"duration": "Length of the requested credit term",
                                                     "amount": {"high": "Credit amount requested",
                                                                "low": "Credit amount requested"}}))
    joblib.dump(model, folder / "model.joblib")
    return folder, model, data, features


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_audit_of_a_user_model_with_every_option(files, tmp_path, capsys):
    folder, model, data, features = files
    out, js = tmp_path / "report.html", tmp_path / "report.json"
    code, _, err = _run(["audit", "--model", folder / "model.joblib", "--data", folder / "applicants.csv",
                         "--target", "risk", "--sensitive", "sex,age", "--positive", "bad", "--favorable", "good",
                         "--out", out, "--json", js, "--title", "Q3 audit", "--reasons", "2", "--seed", "5",
                         "--jobs", "1", "--log-odds", "--recourse", "2", "--reasons-out", tmp_path / "reasons.csv",
                         "--reason-text", folder / "wording.json", *FAST[:-1]], capsys)
    assert code == 0, err
    reasons = pd.read_csv(tmp_path / "reasons.csv")
    assert reasons["row"].tolist() == np.flatnonzero(model.predict(data[features]) == "bad")[:3].tolist()  # --max-applicants 3
    statements = reasons[["statement_1", "statement_2"]].stack()
    wording = {"Length of the requested credit term", "Credit amount requested"}
    conditions = reasons[["reason_1", "reason_2"]].stack()
    for reason, statement in zip(conditions, statements):
        assert statement == ("Length of the requested credit term" if reason.startswith("duration = ") else
                             "Credit amount requested" if reason.startswith("amount = ") else reason)
    assert set(statements) & wording
    assert "loading model.joblib runs code" in err and "tabxai: wrote" in err
    result = json.loads(js.read_text())
    assert result["title"] == "Q3 audit" and result["random_state"] == 5 and result["shapley"]["scale"] == "log-odds"
    assert [f["attribute"] for f in result["fairness"]] == ["sex", "age"]
    assert result["fairness"][0]["direct_attribution"] is None  # sex is not a model input
    assert result["fairness"][1]["banded"] and result["fairness"][1]["direct_attribution"]["feature"] == "age"
    assert [c["name"] for c in result["model"]["columns"]] == features  # the model's columns only
    assert len(result["reasons"]["applicants"]) <= 3
    assert all(len(a["reasons"]) <= 2 for a in result["reasons"]["applicants"])
    recourse = result["recourse"]
    assert recourse["n_applicants"] <= 2 and recourse["random_state"] == 5 and recourse["immutable"] == ["age"]
    assert all(cf["valid"] for a in recourse["applicants"] for cf in a["counterfactuals"])
    parameters = result["provenance"]["parameters"]
    assert (parameters["n_coalitions"], parameters["n_background"], parameters["n_explained"],
            parameters["n_repeats"], parameters["n_bootstrap"], parameters["k"], parameters["n_recourse"]) == \
        (20, 5, 12, 1, 10, 2, 2)
    import hashlib

    assert result["provenance"]["model_file_sha256"] == \
        hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()
    assert result["provenance"]["data_file_sha256"] == \
        hashlib.sha256((folder / "applicants.csv").read_bytes()).hexdigest()
    assert result["provenance"]["command_line"].startswith("tabxai audit --model ")
    html = out.read_text()
    assert "Q3 audit" in html and "applicants.csv" in html
    proba = model.predict_proba(pd.read_csv(folder / "applicants.csv")[features])[:, 0]
    truth = data["risk"] == "bad"
    from sklearn.metrics import roc_auc_score

    assert result["performance"]["roc_auc"] == pytest.approx(roc_auc_score(truth, proba), abs=1e-12)


def test_audit_parquet_data_without_target(files, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    folder, _, data, _ = files
    data.to_parquet(tmp_path / "applicants.parquet")
    out = tmp_path / "r.html"
    code, _, err = _run(["audit", "--model", folder / "model.joblib", "--data", tmp_path / "applicants.parquet",
                         "--positive", "bad", "--out", out, *FAST], capsys)
    assert code == 0, err
    assert "No labels given" in out.read_text()
    assert err.count("\n") == 1  # --quiet: only the pickle warning


@pytest.mark.slow
def test_default_audit_of_the_bundled_data(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(["audit", *FAST[2:], "--coalitions", "40"], capsys)
    assert code == 0, err
    text = (tmp_path / "audit.html").read_text()
    assert "German credit" in text and "foreign_worker" in text and "age band" in text and "sex" in text
    assert "duration = " in text or "amount = " in text or "status = " in text
    assert 'id="recourse"' in text and "Held fixed (sensitive): personal_status_sex, age, foreign_worker" in text


def _check_error(argv, capsys, tmp_path, message):
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_input_exits_2_and_writes_nothing(files, tmp_path, capsys):
    folder, model, data, features = files
    model_file, data_file = folder / "model.joblib", folder / "applicants.csv"
    out = tmp_path / "r.html"
    base = ["audit", "--model", model_file, "--data", data_file, "--out", out, *FAST]
    _check_error(["audit", "--model", tmp_path / "missing.joblib", "--data", data_file, "--out", out], capsys,
                 tmp_path, "no such file")
    _check_error(["audit", "--model", model_file, "--data", tmp_path / "missing.csv", "--out", out], capsys,
                 tmp_path, "no such file")
    _check_error(["audit", "--model", model_file, "--out", out], capsys, tmp_path, "give both --model and --data")
    _check_error(base + ["--target", "outcome"], capsys, tmp_path, "--target 'outcome' is not a column")
    _check_error(base + ["--sensitive", "race"], capsys, tmp_path, "--sensitive names ['race']")
    _check_error(base + ["--positive", "excellent"], capsys, tmp_path, "--positive 'excellent' is not one of")
    bad_json = tmp_path.parent / "bad_reason_text.json"
    bad_json.write_text("{'duration': oops")
    _check_error(base + ["--reason-text", bad_json], capsys, tmp_path, "--reason-text: the reason texts")
    wrong = tmp_path.parent / "wrong_reason_text.json"
    wrong.write_text(json.dumps({"duration": 3}))
    _check_error(base + ["--reason-text", wrong], capsys, tmp_path, "must be a text or a dict of texts")
    _check_error(base + ["--reasons-out", tmp_path / "missing" / "reasons.csv"], capsys, tmp_path,
                 "the directory")
    _check_error(base + ["--reasons-out", tmp_path / "reasons.xlsx"], capsys, tmp_path, "must end in .csv or .parquet")
    if __import__("importlib").util.find_spec("distributed") is not None:
        _check_error(base + ["--scheduler", "tcp://127.0.0.1:9"], capsys, tmp_path, "cannot reach a Dask scheduler")
    with pytest.raises(SystemExit) as exited:  # argparse rejects it before anything runs
        _run(base + ["--recourse", "-1"], capsys)
    assert exited.value.code == 2 and "expected a whole number >= 0; got '-1'" in capsys.readouterr().err
    _check_error(["audit", "--target", "y", "--out", out], capsys, tmp_path, "--target needs --model and --data")
    _check_error(base[:-len(FAST)] + ["--out", tmp_path / "no" / "r.html"], capsys, tmp_path, "does not exist")

    # columns that do not match the model
    wrong = folder / "wrong.csv"
    data.drop(columns=["amount"]).to_csv(wrong, index=False)
    _check_error(["audit", "--model", model_file, "--data", wrong, "--out", out], capsys, tmp_path,
                 "lacks columns the model was fitted on: ['amount']")
    # a file that is not a model, and a pickle of something that is not a model
    text_file = folder / "notes.joblib"
    text_file.write_text("not a pickle")
    _check_error(["audit", "--model", text_file, "--data", data_file, "--out", out], capsys, tmp_path,
                 "is not a joblib or pickle file of a model")
    with open(folder / "dict.pkl", "wb") as handle:
        pickle.dump({"weights": [1, 2]}, handle)
    _check_error(["audit", "--model", folder / "dict.pkl", "--data", data_file, "--out", out], capsys, tmp_path,
                 "holds a dict, not a model")
    # data of the wrong format, and values the model cannot take
    _check_error(["audit", "--model", model_file, "--data", folder / "notes.joblib", "--out", out], capsys,
                 tmp_path, "expected a .csv or .parquet file")
    garbage = folder / "garbage.csv"
    data.assign(amount="lots").to_csv(garbage, index=False)
    _check_error(["audit", "--model", model_file, "--data", garbage, "--out", out], capsys, tmp_path,
                 "error:")


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "--reasons", "0"])
    assert exit_info.value.code == 2 and "expected a whole number >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "--method", "shapley"])
    assert exit_info.value.code == 2
    assert main([]) == 2 and "tabxai audit" in capsys.readouterr().err


@pytest.mark.parametrize("method, suffix", [("kernel-shap", ".csv"), ("exact", ".json"), ("permutation", ".csv"),
                                            ("kernel-shap", ".parquet")])
def test_explain_writes_values_with_standard_errors_and_provenance(files, tmp_path, capsys, method, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    folder, model, data, features = files
    out = tmp_path / f"values{suffix}"
    code, _, err = _run(["explain", "--model", folder / "model.joblib", "--data", folder / "applicants.csv",
                         "--target", "risk", "--method", method, "--out", out, "--rows", "3", "--background", "10",
                         "--coalitions", "12", "--permutations", "2", "--output", "bad", "--seed", "1"], capsys)
    assert code == 0, err
    if suffix == ".csv":
        values = pd.read_csv(out)
        provenance = json.loads((tmp_path / "values.csv.provenance.json").read_text())
    elif suffix == ".json":
        content = json.loads(out.read_text())
        values, provenance = pd.DataFrame(content["values"]), content["provenance"]
    else:
        values = pd.read_parquet(out)
        provenance = values.attrs["tabxai_provenance"]
    assert list(values.columns) == ["row", "output", "feature", "value", "stderr", "base_value"]
    # sex is in the file but not a model input: the model's columns are explained
    assert len(values) == 3 * len(features) and set(values["feature"]) == set(features)
    assert (values["output"] == "bad").all()
    # values add up to the model's probability of "bad"
    totals = values.groupby("row")["value"].sum() + values.groupby("row")["base_value"].first()
    proba = model.predict_proba(pd.read_csv(folder / "applicants.csv")[features].iloc[:3])[:, 0]
    np.testing.assert_allclose(totals.to_numpy(), proba, atol=1e-9)
    assert provenance["method"] == {"kernel-shap": "KernelSHAP", "exact": "ExactShapley",
                                    "permutation": "PermutationShapley"}[method]
    assert provenance["command_line"].startswith("tabxai explain --model ") and method in provenance["command_line"]
    assert provenance["data_file"].endswith("applicants.csv") and len(provenance["model_file_sha256"]) == 64
    if method == "exact":
        assert values["stderr"].isna().all()
    else:
        assert values["stderr"].notna().all()


def test_explain_lime_and_bad_output(files, tmp_path, capsys):
    folder, *_ = files
    base = ["explain", "--model", folder / "model.joblib", "--data", folder / "applicants.csv", "--target", "risk",
            "--rows", "2", "--background", "5"]
    _check_error(base + ["--out", tmp_path / "v.txt"], capsys, tmp_path, "expected a .csv, .parquet or .json file")
    _check_error(base + ["--output", "neutral", "--out", tmp_path / "v.csv"], capsys, tmp_path,
                 "--output 'neutral' is not one of the model's classes")


def test_python_dash_m_and_help_read_well():
    done = subprocess.run([sys.executable, "-m", "tabxai", "audit", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    for option in ("--model", "--data", "--target", "--sensitive", "--positive", "--favorable", "--out"):
        assert option in done.stdout
    assert "German credit" in done.stdout
    explain = subprocess.run([sys.executable, "-m", "tabxai", "explain", "--help"], capture_output=True, text=True,
                             timeout=120)
    text = " ".join(explain.stdout.split())
    assert "when this tabxai has" not in text
    for method in ("kernel-shap: KernelSHAP", "exact: Shapley values over every coalition",
                   "permutation: Shapley values by sampled permutations", "lime: LIME's local linear surrogate"):
        assert method in text

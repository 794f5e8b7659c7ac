"""Auditing a portfolio: every adverse decision explained, at model speed, in bounded memory.

1. Adult (32,561 applicants, a HistGradientBoosting pipeline saved with joblib, fitted on Adult's test
   split) through the command line, as a user runs it: ``tabxai audit --model m.joblib --data adult.csv
   --target income --sensitive sex,race,age --positive '>50K' --favorable '>50K' --reasons-out
   reasons.parquet``. Reported: wall time, model rows per adverse applicant, the share of cited reasons
   whose rank is statistically certain, HTML size, peak memory, and the reasons section against the
   model floor of the rows it used (the same model predicting as many rows in batches of 32,768).
2. The weighted background summary against a random background of the same size: how far each moves
   the Shapley values of 40 applicants from those over a 1,000-row random background (the reference),
   at the same coalitions.
3. A synthetic portfolio with a cheap model (a NumPy logistic score on 4 columns): wall time and peak
   memory of ``tx.audit(..., reasons_out=...)`` in a fresh process, for growing numbers of applicants.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import load_note, markdown_table, model_floor

TITLE = "Auditing a portfolio: reasons for every adverse decision (Adult through the CLI; 10^4 to 10^6 applicants)"


def _adult_files(folder, n_rows=None):
    import joblib
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    import tabxai as tx

    train, y_train = tx.datasets.load_adult(split="test")  # the model never sees the audited rows
    audited, y_audited = tx.datasets.load_adult(split="train")
    if n_rows is not None:
        audited, y_audited = audited.iloc[:n_rows], y_audited.iloc[:n_rows]
    data = audited.assign(income=y_audited.astype(str).to_numpy())
    data.to_csv(folder / "adult.csv", index=False)
    data = pd.read_csv(folder / "adult.csv")  # what the model will be given: strings, as read from the file
    X = data.drop(columns="income")
    fitted = pd.read_csv(folder / "adult.csv", nrows=0).columns.drop("income")
    train = train[fitted].astype({c: str for c in X.select_dtypes(exclude="number").columns})
    categorical = list(X.select_dtypes(exclude="number").columns)
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2),
         categorical), remainder="passthrough", verbose_feature_names_out=False)
    model = make_pipeline(encode, HistGradientBoostingClassifier(
        max_iter=100, categorical_features=[True] * len(categorical) + [False] * (X.shape[1] - len(categorical)),
        random_state=0))
    model.fit(train, y_train.astype(str).to_numpy())
    joblib.dump(model, folder / "model.joblib")
    return model, X


def _cli_audit(folder, extra=()):
    out, js, reasons = folder / "report.html", folder / "report.json", folder / "reasons.parquet"
    command = [sys.executable, "-m", "tabxai", "audit", "--model", str(folder / "model.joblib"), "--data",
               str(folder / "adult.csv"), "--target", "income", "--sensitive", "sex,race,age", "--positive", ">50K",
               "--favorable", ">50K", "--reasons-out", str(reasons), "--out", str(out), "--json", str(js), "--quiet",
               *extra]
    script = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"tabxai audit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - start
    peak = int(done.stdout.strip().splitlines()[-1]) / 1024
    return wall, peak, json.loads(js.read_text()), out.stat().st_size, pd.read_parquet(reasons)


def _adult_section(quick):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        model, X = _adult_files(folder, n_rows=4_000 if quick else None)
        wall, peak, result, size, reasons = _cli_audit(folder)
        rows = result["reasons"]["model_rows"]  # the floor with the model's own threads, as the command ran it
        floor = model_floor(model.predict_proba, X, rows, batch=32_768, repeats=1 if quick else 3)
    r = result["reasons"]
    timings = result["timings"]
    certain = np.concatenate([reasons[c].dropna().to_numpy(dtype=bool) for c in reasons if c.startswith("certain_")])
    table = markdown_table(["measure", "value"], [
        ["applicants audited", result["model"]["n_rows"]],
        ["adverse decisions (reasons file lines)", len(reasons)],
        ["wall time of the command (s)", wall],
        ["reasons section (s)", timings["reasons"]],
        ["model rows per adverse applicant (target at most 1,000; 4,000 before)", r["model_rows_per_applicant"]],
        ["reasons section / model floor of its rows (target at most 1.2)", timings["reasons"] / floor],
        ["cited reasons with a certain rank among the cited (target at least 0.75)", float(certain.mean())],
        ["applicants whose cited reasons are certainly the largest (`cited_certain`)",
         float(reasons["cited_certain"].dropna().astype(bool).mean())],
        ["scale of the values (`--scale auto`)", result["shapley"]["scale"]],
        ["HTML size (MB; target at most 5)", size / 1e6],
        ["peak memory (MiB)", peak],
    ])
    stopped = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["stopped_by"].items()))
    return (f"**Adult through the command line** ({'4,000 rows, quick mode' if quick else 'all 32,561 rows'}; "
            f"background: a weighted summary of {r['n_background']} rows; at most {r['max_coalitions']} coalitions "
            f"per applicant; rows stopped by {stopped}).\n\n{table}\n\nTime per section inside `tx.audit` (s):\n\n"
            + markdown_table(list(timings), [[float(v) for v in timings.values()]]))


def _floor_section(quick):
    """The reasons' own cost against the model's, in one process with one thread, interleaved: KernelSHAP with
    the audit's settings on adverse Adult applicants, and the model predicting as many rows."""
    from threadpoolctl import threadpool_limits

    import tabxai as tx
    from tabxai.report import reasons_settled
    from tabxai.report._sections import APPLICANT_COALITIONS
    from tabxai.shapley.kernel import smallest_sound_budget

    with tempfile.TemporaryDirectory() as name:
        model, X = _adult_files(Path(name), n_rows=4_000 if quick else 12_000)
    adverse = X[model.predict(X) != ">50K"].iloc[:300 if quick else 1_500]
    masker = tx.background_summary(X, 8, random_state=0)
    explainer = tx.KernelSHAP(model, masker, n_coalitions=smallest_sound_budget(X.shape[1], APPLICANT_COALITIONS),
                              stop=reasons_settled(4, "negative"), adjustment=None, output=">50K", link="logit",
                              random_state=0)
    ratios, rows = [], 0
    with threadpool_limits(1):
        explainer.explain(adverse.iloc[:20])  # compiled kernels, warm caches
        for _ in range(1 if quick else 3):
            start = time.perf_counter()
            rows = explainer.explain(adverse).params["model_rows"]
            took = time.perf_counter() - start
            ratios.append(took / model_floor(model.predict_proba, adverse, rows, batch=32_768, repeats=1))
    return (f"**The reasons' own cost** (in one process, one thread: KernelSHAP with the audit's settings on "
            f"{len(adverse):,} adverse Adult applicants, {rows / len(adverse):,.0f} model rows each, against the model "
            "predicting as many rows in batches of 32,768, run right after; median of the runs' ratios; the command "
            "line's ratio above also carries the machine's load between the two measurements):\n\n"
            + markdown_table(["reasons / model floor (target at most 1.2)", "runs"],
                             [[float(np.median(ratios)), len(ratios)]]))


def _german_section():
    """The default audit (German credit, the reference model) as the README's first command runs it."""
    with tempfile.TemporaryDirectory() as name:
        js = Path(name) / "report.json"
        subprocess.run([sys.executable, "-m", "tabxai", "audit", "--out", str(Path(name) / "report.html"), "--json",
                        str(js), "--quiet"], check=True)
        r = json.loads(js.read_text())["reasons"]
    return ("**The default German audit** (`tabxai audit`: 20 players, log-odds by `--scale auto`):\n\n" + markdown_table(
        ["adverse applicants", "cited reasons", "with a certain rank among the cited (target at least 0.75; 0.47 "
         "before)", "applicants whose cited reasons are certainly the largest", "model rows per applicant"],
        [[r["n_applicants"], r["n_reasons"], r["certain_share"], r["cited_certain_share"],
          r["model_rows_per_applicant"]]]))


def _summary_section(quick):
    """Shapley values over the weighted summary and over a random background of the same size, against a
    1,000-row background."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    import tabxai as tx

    X, y = tx.datasets.load_adult(split="train")
    with threadpool_limits(limits=1, user_api="openmp"):
        model = HistGradientBoostingClassifier(max_iter=100, categorical_features="from_dtype", random_state=0)
        model.fit(X, y)
        adverse = X[model.predict(X) != ">50K"].sample(10 if quick else 40, random_state=1)
        budget = 600

        def values(background, seed=0):
            explainer = tx.KernelSHAP(model, background, n_coalitions=budget, output=">50K", random_state=seed)
            return explainer.explain(adverse).values

        reference = values(X.sample(1000, random_state=0))
        noise = values(X.sample(1000, random_state=0), seed=1)  # the reference's own sampling noise
        rows = []
        for n in (8, 16):
            summary = values(tx.background_summary(X, n, random_state=0))
            random = [values(X.sample(n, random_state=k)) for k in range(3 if quick else 5)]
            error = lambda v: float(np.linalg.norm(v - reference) / np.linalg.norm(reference))  # noqa: E731
            rows.append([n, error(summary), float(np.median([error(v) for v in random]))])
    return ("**Background summary** (Adult, HistGradientBoosting, P(>50K), "
            f"{len(adverse)} adverse applicants, {budget} coalitions): relative distance "
            "||phi - phi_ref|| / ||phi_ref|| to the values over a random 1,000-row background (the reference's "
            f"own sampling noise at another seed: {float(np.linalg.norm(noise - reference) / np.linalg.norm(reference)):.3f}).\n\n"
            + markdown_table(["background rows", "weighted summary (tx.background_summary)",
                              "random rows (median of draws)"], rows))


_SYNTHETIC = """
import resource, sys, tempfile, time
import numpy as np, pandas as pd
import tabxai as tx
n = int(sys.argv[1])
rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["income", "debt", "age", "tenure"])
X["region"] = rng.choice(["north", "south", "east"], size=n)
def proba(rows):
    score = 0.8 * rows["debt"].to_numpy() - rows["income"].to_numpy() - 0.3 * rows["tenure"].to_numpy()
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])
start = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    report = tx.audit(proba, X, None, decision=0.5, positive=1, favorable=0, sensitive=["region"], n_background=4,
                      n_explained=20, n_bootstrap=0, n_recourse=0, top_features=0,
                      reasons_out=folder + "/reasons.parquet")
    result = report.to_dict()
wall = time.perf_counter() - start
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(wall, peak / 1024, result["reasons"]["n_applicants"], result["reasons"]["model_rows"])
"""


def _synthetic_section(quick):
    sizes = (2_000, 20_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, "-c", _SYNTHETIC, str(n)], capture_output=True, text=True, check=True)
        wall, peak, applicants, model_rows = out.stdout.split()[-4:]
        rows.append([n, int(applicants), float(wall), float(wall) / int(applicants) * 1e6, float(peak),
                     int(model_rows) / int(applicants)])
    return ("**Synthetic portfolio, cheap model** (a NumPy logistic score, 5 columns, decision at 0.5; fresh process "
            "per size; reasons written to Parquet in chunks of 2,048 applicants):\n\n"
            + markdown_table(["applicants", "adverse decisions", "wall time (s)", "microseconds per adverse applicant",
                              "peak memory (MiB)", "model rows per applicant"], rows))


def run(quick=False):
    start_load = os.getloadavg()[0]
    parts = [_adult_section(quick), _floor_section(quick), _german_section(), _summary_section(quick), _synthetic_section(quick), load_note(start_load),
             "Reproduce with `python -m benchmarks.run portfolio` (`--quick` for a smoke run)."]
    return "\n\n".join(parts)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))

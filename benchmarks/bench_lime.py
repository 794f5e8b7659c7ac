"""LIME: stability across seeds, speed against lime and over the model floor, fidelity.

Both libraries run lime's default estimand (quartile discretizer on the background, kernel width
``0.75 * sqrt(n_features)``, ridge with alpha 1) at 5,000 samples per row. lime gets the data it
needs (categories as integer codes, a predict function that decodes them for the pipeline);
tabxai takes the raw DataFrame.

- Stability: mean pairwise Jaccard index of the top-5 features (by |coefficient|) across 10 seeds,
  per explained row, averaged over rows.
- Speed: wall time per job, tabxai against lime in the same run, interleaved; overhead = tabxai's
  wall time / the model floor on the rows tabxai asked about (the rows share one set of 4,999 fitted
  and 500 held-out samples, plus each row itself).
- Fidelity: tabxai's weighted R^2 on fresh held-out samples beside its in-sample R^2 and lime's
  in-sample ``score``.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

import tabxai as tx

from ._common import CountingModel, interleaved, markdown_table, model_floor

TITLE = "LIME (German credit, job A)"

N_SAMPLES = 5000


def _german():
    X, y = tx.datasets.load_german_credit()
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    pipeline = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], remainder="passthrough"),
        LogisticRegression(max_iter=5000)).fit(X, y)
    background = X.iloc[:200]
    rows = X.iloc[500:505]
    # lime needs numbers: categories as integer codes, decoded again in front of the pipeline
    categories = {c: pd.Index(sorted(X[c].dropna().unique())) for c in categorical}
    positions = [X.columns.get_loc(c) for c in categorical]

    def to_codes(frame):
        out = frame.copy()
        for c in categorical:
            out[c] = categories[c].get_indexer(frame[c])
        return out.to_numpy(dtype=float)

    def from_codes(array):
        frame = pd.DataFrame(array, columns=X.columns)
        for c in categorical:
            frame[c] = categories[c][np.round(frame[c].to_numpy()).astype(int)]
        for c in X.columns:
            if c not in categories:
                frame[c] = frame[c].astype(float)
        return frame

    positive = list(pipeline.classes_).index("bad")

    def predict_codes(array):
        return pipeline.predict_proba(from_codes(array))

    return {"name": "German credit, pipeline (one-hot + LogisticRegression)", "model": pipeline, "output": "bad",
            "background": background, "rows": rows, "lime_background": to_codes(background),
            "lime_rows": to_codes(rows), "lime_predict": predict_codes, "lime_categorical": positions,
            "label": positive, "floor_function": pipeline.predict_proba}


def _job_a(estimator):
    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    model = estimator.fit(X, y)
    return {"name": f"job A, {type(estimator).__name__}", "model": model, "output": 1, "background": X[:100],
            "rows": X[1000:1005], "lime_background": X[:100], "lime_rows": X[1000:1005],
            "lime_predict": model.predict_proba, "lime_categorical": [], "label": 1,
            "floor_function": model.predict_proba}


def _lime(job, seed):
    from lime.lime_tabular import LimeTabularExplainer

    explainer = LimeTabularExplainer(job["lime_background"], mode="classification",
                                     categorical_features=job["lime_categorical"], random_state=seed)
    n_features = job["lime_background"].shape[1]
    coefficients, scores = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in job["lime_rows"]:
            explanation = explainer.explain_instance(row, job["lime_predict"], labels=(job["label"],),
                                                     num_features=n_features, num_samples=N_SAMPLES)
            coef = np.zeros(n_features)
            for j, value in explanation.local_exp[job["label"]]:
                coef[j] = value
            coefficients.append(coef)
            scores.append(explanation.score)
    return np.array(coefficients), np.array(scores)


def _tabxai(job, seed, model=None):
    explainer = tx.LimeTabular(job["model"] if model is None else model, job["background"],
                               output=job["output"] if model is None else job["label"], n_samples=N_SAMPLES,
                               random_state=seed)
    return explainer.explain(job["rows"])


def _jaccard(coefficient_sets, k=5):
    """Mean pairwise Jaccard index of the top-k sets, per row, averaged over rows."""
    per_row = []
    for row in range(coefficient_sets[0].shape[0]):
        tops = [set(np.argsort(-np.abs(c[row]), kind="stable")[:k]) for c in coefficient_sets]
        pairs = [len(a & b) / len(a | b) for a, b in itertools.combinations(tops, 2)]
        per_row.append(np.mean(pairs))
    return float(np.mean(per_row))


def _stability(jobs, quick):
    seeds = range(4 if quick else 10)
    table = []
    for job in jobs:
        ours = [_tabxai(job, seed).values for seed in seeds]
        theirs = [_lime(job, seed)[0] for seed in seeds]
        table.append([job["name"], _jaccard(ours), _jaccard(theirs)])
    header = ["job", "tabxai top-5 Jaccard (target >= 0.9)", "lime top-5 Jaccard"]
    intro = (f"Mean pairwise Jaccard index of the top-5 features across {len(seeds)} seeds at {N_SAMPLES:,} "
             "samples per row, 5 explained rows.\n\n")
    return intro + markdown_table(header, table)


def _speed_and_fidelity(jobs, quick):
    speed, fidelity = [], []
    for job in jobs:
        function = job["floor_function"]
        counted = CountingModel(function)
        asking = tx.LimeTabular(counted, job["background"], output=job["label"], n_samples=N_SAMPLES, random_state=0)
        counted.rows, counted.sample = 0, None  # the rows explain asks for (not the background's base values)
        asking.explain(job["rows"])  # and a sample of them for the floor
        rows_per_row = counted.rows // len(job["rows"])
        explainer = tx.LimeTabular(job["model"], job["background"], output=job["output"], n_samples=N_SAMPLES,
                                   random_state=0)
        explainer.explain(job["rows"].iloc[:1] if hasattr(job["rows"], "iloc") else job["rows"][:1])
        times, results = interleaved({
            "tabxai": lambda explainer=explainer, job=job: explainer.explain(job["rows"]),
            "lime": lambda job=job: _lime(job, 0),
        }, repeats=1 if quick else 3)
        floor = model_floor(function, counted.sample, counted.rows)
        speed.append([job["name"], rows_per_row, times["tabxai"] / floor, times["lime"] / times["tabxai"],
                      times["tabxai"] / len(job["rows"]), times["lime"] / len(job["rows"])])
        expl = results["tabxai"]
        fidelity.append([job["name"], float(np.mean(expl.diagnostics["r2_holdout"])),
                         float(np.mean(expl.diagnostics["r2"])), float(np.mean(results["lime"][1]))])
    speed_header = ["job", "tabxai model rows / row", "tabxai overhead over model floor", "lime time / tabxai time",
                    "tabxai s / row", "lime s / row"]
    fidelity_header = ["job", "tabxai held-out R^2", "tabxai in-sample R^2", "lime in-sample score"]
    intro = (f"Wall time at {N_SAMPLES:,} samples per row, 5 explained rows, interleaved runs (targets: overhead "
             "<= 1.3 on HistGradientBoosting, lime / tabxai >= 30 on LogisticRegression). Every model predicts "
             "with one thread.\n\n")
    fidelity_intro = ("\n\nFidelity: weighted R^2 of the surrogate, mean over the explained rows (held out: "
                      "500 fresh samples per row).\n\n")
    return intro + markdown_table(speed_header, speed) + fidelity_intro + markdown_table(fidelity_header, fidelity)


def run(quick=False):
    with threadpool_limits(limits=1):
        jobs = [_german(), _job_a(LogisticRegression(max_iter=1000)),
                _job_a(HistGradientBoostingClassifier(max_iter=100, random_state=0))]
        return "\n\n".join([_stability(jobs, quick), _speed_and_fidelity(jobs, quick)])

"""Counterfactuals: tabxai's search against dice-ml (random and genetic) on the same pipelines and rows.

German credit (a LogisticRegression pipeline) and Adult (a HistGradientBoosting pipeline), each a
scikit-learn Pipeline with a ColumnTransformer (one-hot categories, scaled numbers) fitted on the
raw data with categories as strings. The explained rows are the first rows the model declines
("bad", "<=50K"); every method is asked for 5 counterfactuals with the desired class, the same
immutable features (German: personal_status_sex, foreign_worker; Adult: race, sex,
native_country) and no other constraint. DiCE 0.12 runs with its defaults (``method="random"``
with ``random_seed=0``, ``method="genetic"`` after ``numpy.random.seed(0)``).

All metrics are computed here, the same way for every method, on the counterfactuals each returned
(per row, then averaged over rows): validity = share of returned counterfactuals the model maps to
the desired class (called again here); rows found = share of rows with at least one valid one;
proximity = mean over a row's valid counterfactuals of ``sum_j d_j`` with numbers scaled by their
median absolute deviation in X and categories 0/1; sparsity = mean number of changed features;
plausibility = mean distance to the nearest row of X the model maps to the desired class;
in range = share whose values all lie within X's range and categories; diversity = mean pairwise
distance within a row's set. Setup = building the explainer once (tabxai asks the model about every
row of X, to know which have the desired outcome); time per row = the search alone; time / tabxai =
a method's search time over tabxai's in the same run. Every model predicts with one thread.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import tabxai as tx
from tabxai.counterfactuals._problem import robust_scale
from tabxai._kernels.counterfactuals import mean_pairwise_distance, nearest_distances

from ._common import markdown_table

TITLE = "Counterfactuals against dice-ml (random and genetic)"
N_COUNTERFACTUALS = 5


def _jobs(quick):
    X, y = tx.datasets.load_german_credit()
    yield ("German credit", "LogisticRegression", X, y.astype(str), "good", ["personal_status_sex", "foreign_worker"],
           LogisticRegression(max_iter=1000), 3 if quick else 20)
    X, y = tx.datasets.load_adult("train")
    if quick:
        X, y = X.iloc[:5000], y.iloc[:5000]
    yield ("Adult", "HistGradientBoosting", X, y.astype(str), ">50K", ["race", "sex", "native_country"],
           HistGradientBoostingClassifier(random_state=0), 3 if quick else 10)


def _as_strings(X):
    X = X.copy()
    for name in X.columns:
        if isinstance(X[name].dtype, pd.CategoricalDtype):
            X[name] = X[name].astype(object).where(X[name].notna(), "missing").astype(str).astype(object)
    return X


class _Metrics:
    """The same metrics for every method, on codes of the data's schema."""

    def __init__(self, X, model, desired):
        self.schema = tx.TabularSchema.from_data(X)
        self.codes = self.schema.encode(X)
        self.categorical = np.array([c.kind != "numeric" for c in self.schema.columns])
        self.scale = np.array([1.0 if c else robust_scale(self.codes[:, j]) for j, c in enumerate(self.categorical)])
        self.model, self.desired = model, desired
        self.low, self.high = np.nanmin(self.codes, axis=0), np.nanmax(self.codes, axis=0)
        self.reference = np.ascontiguousarray(self.codes[model.predict(X) == desired])

    def encode(self, frame):
        frame = frame[list(self.schema.names)].copy()
        for j, name in enumerate(self.schema.names):
            if self.categorical[j]:
                frame[name] = frame[name].astype(str).astype(object)
            else:
                frame[name] = pd.to_numeric(frame[name])
        return self.schema.encode(frame)

    def row(self, x_frame, cfs):
        """Metrics of one row's counterfactuals (a DataFrame with X's columns), or None when none came back."""
        if cfs is None or len(cfs) == 0:
            return None
        valid = self.model.predict(cfs[list(self.schema.names)]) == self.desired
        codes = self.encode(cfs)
        x = self.encode(x_frame)[0]
        kept = codes[valid]
        distances = np.where(self.categorical, (kept != x).astype(float), np.abs(kept - x) / self.scale)
        changed = (kept != x) & ~(np.isnan(kept) & np.isnan(x))
        inside = ((kept >= self.low) & (kept <= self.high)) | self.categorical
        return {
            "validity": valid.mean(), "found": float(valid.any()),
            "proximity": distances.sum(axis=1).mean() if valid.any() else np.nan,
            "sparsity": changed.sum(axis=1).mean() if valid.any() else np.nan,
            "plausibility": nearest_distances(np.ascontiguousarray(kept), self.reference, self.scale,
                                              self.categorical).mean() if valid.any() else np.nan,
            "in_range": inside.all(axis=1).mean() if valid.any() else np.nan,
            "diversity": mean_pairwise_distance(np.ascontiguousarray(kept), self.scale, self.categorical),
        }


def _tabxai(model, X, rows, desired, immutable):
    start = time.perf_counter()
    cf = tx.Counterfactuals(model, X, desired=desired, immutable=immutable, random_state=0)
    setup = time.perf_counter() - start
    result = cf.explain(rows, n=N_COUNTERFACTUALS)
    seconds = time.perf_counter() - start - setup
    frame = result.to_frame()
    return setup, seconds, [frame.loc[frame["row"] == i, list(X.columns)] for i in range(len(rows))]


def _dice(model, X, y, rows, immutable, method):
    import dice_ml

    numeric = [c for c in X.columns if not pd.api.types.is_object_dtype(X[c])]
    start = time.perf_counter()
    data = dice_ml.Data(dataframe=X.assign(_outcome=y.to_numpy()), continuous_features=numeric,
                        outcome_name="_outcome")
    explainer = dice_ml.Dice(data, dice_ml.Model(model=model, backend="sklearn"), method=method)
    setup = time.perf_counter() - start
    vary = [c for c in X.columns if c not in immutable]
    cfs = []
    for i in range(len(rows)):
        kwargs = {"random_seed": 0} if method == "random" else {}
        if method == "genetic":
            np.random.seed(0)
        try:
            out = explainer.generate_counterfactuals(rows.iloc[[i]], total_CFs=N_COUNTERFACTUALS,
                                                     desired_class="opposite", features_to_vary=vary,
                                                     verbose=False, **kwargs)
            frame = out.cf_examples_list[0].final_cfs_df
        except Exception:  # DiCE raises when it finds nothing for a row
            frame = None
        cfs.append(frame)
    return setup, time.perf_counter() - start - setup, cfs


def run(quick=False):
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    with threadpool_limits(1):  # one model thread for every method: stable times on a shared machine
        return _run(quick)


def _run(quick):
    table = []
    for name, model_name, X, y, desired, immutable, estimator, n_rows in _jobs(quick):
        X = _as_strings(X)
        numeric = [c for c in X.columns if not pd.api.types.is_object_dtype(X[c])]
        categories = [c for c in X.columns if c not in numeric]
        prepare = make_column_transformer((OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories),
                                          (StandardScaler(), numeric))
        model = make_pipeline(clone(prepare), clone(estimator)).fit(X, y)
        target = (y == desired).astype(int)
        dice_model = make_pipeline(clone(prepare), clone(estimator)).fit(X, target)  # DiCE wants 0/1 labels
        rows = X[model.predict(X) != desired].head(n_rows)
        metrics = _Metrics(X, model, desired)
        _tabxai(model, X, rows.head(1), desired, immutable)  # warm-up: loads the Numba kernels
        results = {"tabxai": _tabxai(model, X, rows, desired, immutable)}
        for method in ("random", "genetic"):
            results[f"dice-ml {method}"] = _dice(dice_model, X, target, rows, immutable, method)
        ours = results["tabxai"][1]
        for method, (setup, seconds, cfs) in results.items():
            per_row = [metrics.row(rows.iloc[[i]], cfs[i]) for i in range(len(rows))]
            found = [m for m in per_row if m is not None]

            def mean(key, found=found):
                values = [m[key] for m in found if not np.isnan(m[key])]
                return float(np.mean(values)) if values else float("nan")

            rows_found = sum(m["found"] for m in found) / len(rows)
            table.append([name, method, f"{mean('validity'):.0%}", f"{rows_found:.0%}",
                          mean("proximity"), mean("sparsity"), mean("plausibility"), f"{mean('in_range'):.0%}",
                          mean("diversity"), setup, seconds / len(rows), seconds / ours])
    header = ["data", "method", "validity", "rows found", "proximity", "sparsity", "plausibility", "in range",
              "diversity", "setup s", "s / row", "time / tabxai"]
    text = (f"{N_COUNTERFACTUALS} counterfactuals per declined row (German credit: 20 rows, LogisticRegression "
            "pipeline; Adult: 10 rows, HistGradientBoosting pipeline), same model, same immutable features. "
            "Proximity, sparsity (features changed), plausibility (distance to the nearest row of X with the desired "
            "outcome): lower is better; diversity (mean pairwise distance): higher is more varied. "
            "Computed identically for all methods; setup (once per explainer) apart from the time per explained "
            "row; one model thread. See `benchmarks/bench_counterfactuals.py`. Targets: validity 100%, proximity and "
            "sparsity no worse than DiCE's best, at least 10x faster per row than DiCE.\n\n")
    return text + markdown_table(header, table)

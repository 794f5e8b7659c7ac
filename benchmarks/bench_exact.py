"""Job A of BENCHMARKS.md: exact Shapley values, tabxai ExactShapley against shap ExactExplainer.

Overhead = explainer wall time / model floor, where the model floor is the same model predicting
the same number of rows in batches of 100,000. shap's ExactExplainer runs in the same process,
interleaved with tabxai, on the same model, background and rows.

Memory: peak resident memory of separate processes explaining 200 and 2,000 rows (12 players, a
10-row background, LogisticRegression), at the default ``max_rows`` and at a 32 times larger one:
ExactShapley cuts the explained rows into blocks of ``max_rows // 2**players`` rows, so the peak
follows ``max_rows`` and not the number of rows.
"""

from __future__ import annotations

import os
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import tabxai as tx

from ._common import CountingModel, interleaved, load_note, markdown_table, model_floor, peak_memory_mib

TITLE = "Exact Shapley values (job A)"


def _job_a():
    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    models = {
        "LogisticRegression": LogisticRegression(max_iter=1000).fit(X, y),
        "HistGradientBoosting": HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y),
    }
    return X, models


def _shap_exact(predict, background, rows):
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.explainers.Exact(predict, masker)
    return explainer(rows).values


def _memory(quick):
    from tabxai.model import DEFAULT_MAX_ROWS

    row_counts = (50, 500) if quick else (200, 2000)
    settings = (DEFAULT_MAX_ROWS, 32 * DEFAULT_MAX_ROWS)
    table = []
    for max_rows in settings:
        peaks = {n_rows: peak_memory_mib(f"tx.ExactShapley(model, X[:10], output=1, max_rows={max_rows})", n_rows)
                 for n_rows in row_counts}
        for n_rows, peak in peaks.items():
            table.append([f"{max_rows:,}", max(1, max_rows // 2 ** 12), n_rows, n_rows * 2 ** 12 * 10, peak,
                          peak / peaks[row_counts[0]]])
    # the behaviour before blocks were bounded, measured rather than recalled: one block for all rows
    unbounded = ("type('OneBlock', (tx.ExactShapley,), {'_block_size': lambda self, masker: None})"
                 "(model, X[:10], output=1)")
    reference = table[0][4]
    for n_rows in row_counts:
        peak = peak_memory_mib(unbounded, n_rows)
        table.append(["one block (before the fix)", n_rows, n_rows, n_rows * 2 ** 12 * 10, peak, peak / reference])
    header = ["max_rows", "explained rows per block", "explained rows", "model rows", "peak RSS (MiB)",
              f"ratio to {row_counts[0]} rows at the same max_rows (last lines: at the default)"]
    intro = ("Peak resident memory of a whole process (Python, NumPy, scikit-learn, tabxai and its compiled "
             "kernels included, about 300 MiB before any work) explaining rows of job A with ExactShapley "
             "(12 players, 4,096 coalitions, a 10-row background to keep the 2,000-row job under a minute; "
             "LogisticRegression, `output=1`), one fresh process per line. The last lines run the same job with "
             "every row in one block, as `n_jobs=1` did before blocks were bounded: a block holds its rows x "
             "4,096 coalition values and two int64 index arrays of that size (about 94 KiB per explained row, "
             "190 MiB for 2,000 rows).\n\n")
    return intro + markdown_table(header, table)


def run(quick=False):
    start_load = os.getloadavg()[0]
    with threadpool_limits(limits=1):  # one model thread everywhere: thread pools on 2 shared cores are erratic
        body = _run(quick) + "\n\n" + _memory(quick)
    return body + "\n\n" + load_note(start_load)


def _run(quick):
    X, models = _job_a()
    background = X[:100]
    rows = X[1000:1002] if quick else X[1000:1005]
    repeats = 1 if quick else 3
    table = []
    for name, estimator in models.items():
        def predict(data, estimator=estimator):
            return estimator.predict_proba(data)[:, 1]

        counted = CountingModel(predict)
        tx.ExactShapley(counted, background).explain(rows)
        tabxai_rows = counted.rows
        counted_shap = CountingModel(predict)
        shap_values = _shap_exact(counted_shap, background, rows)
        shap_rows = counted_shap.rows
        explainer = tx.ExactShapley(estimator, background, output=1)
        explainer.explain(rows[:1])  # compile kernels before timing
        times, results = interleaved({
            "tabxai": lambda: explainer.explain(rows).values,
            "shap": lambda: _shap_exact(predict, background, rows),
        }, repeats=repeats)
        floor_tabxai = model_floor(estimator.predict_proba, counted.sample, tabxai_rows)
        floor_shap = model_floor(estimator.predict_proba, counted_shap.sample, shap_rows)
        difference = float(np.max(np.abs(results["tabxai"] - shap_values)))
        table.append([
            name,
            tabxai_rows // len(rows),
            times["tabxai"] / floor_tabxai,
            shap_rows // len(rows),
            times["shap"] / floor_shap,
            times["shap"] / times["tabxai"],
            f"{difference:.1e}",
        ])
    header = ["model", "tabxai model rows / row", "tabxai overhead", "shap model rows / row",
              "shap overhead", "shap time / tabxai time", "max |tabxai - shap|"]
    intro = (
        f"`make_classification(5000, 12 features)`, background 100 rows, {len(rows)} explained rows, output = "
        "probability of class 1. Overhead is wall time over the model floor: the model predicting, in batches of 100,000, as many of the rows each library built as that library asked for "
        "(targets: at most 1.15 for HistGradientBoosting, 1.6 for LogisticRegression). "
        f"Median of {repeats} interleaved runs; every model predicts with one thread (threadpoolctl), floor included.\n\n"
    )
    return intro + markdown_table(header, table)

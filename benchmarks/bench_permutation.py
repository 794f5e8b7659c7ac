"""PermutationShapley: accuracy per model row (job B), overhead over the model floor (job A), memory.

Job B: exact values by enumerating all 65,536 coalitions are the truth (computed once per run);
tabxai PermutationShapley and shap PermutationExplainer (``Independent(background, max_samples=20)``)
run on the same model, background and rows over several seeds. shap's ``max_evals`` sets its
budget; the rows it passes to the model are counted, and tabxai gets the most antithetic pairs per
background row whose model rows do not exceed shap's.

Job A: wall time over the model floor for ``n_permutations="auto"``, and the time ratio against
shap PermutationExplainer at about the same number of model rows. Times and floors are measured
interleaved, median of repeats.

Memory: peak resident memory of a separate process explaining 200 and 2,000 rows with a 500-row
background: bounded by ``max_rows``, not by the number of rows.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

import tabxai as tx

from ._common import CountingModel, job_b, markdown_table, model_floor, peak_memory_mib, relative_error

TITLE = "PermutationShapley (jobs A and B)"

def _shap_permutation(predict, background, rows, max_evals, seed):
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.explainers.Permutation(predict, masker, seed=seed)
    return np.asarray(explainer(rows, max_evals=max_evals, silent=True).values)


def _accuracy(quick):
    background, rows, model = job_b()
    n_players, n_background = rows.shape[1], len(background)

    def predict(data):
        return model.predict_proba(data)[:, 1]

    truth = tx.ExactShapley(model, background, output=1).explain(rows).values
    budgets = [541, 1069] if quick else [541, 1069, 2048]
    seeds = range(2 if quick else 8)
    table = []
    for max_evals in budgets:
        counted_shap = CountingModel(predict)
        _shap_permutation(counted_shap, background, rows, max_evals, 0)
        shap_rows = counted_shap.rows / len(rows)
        pairs = int((shap_rows - 1) // (2 * (n_players - 1) * n_background))
        counted = CountingModel(predict)
        tx.PermutationShapley(counted, background, n_permutations=pairs, random_state=0).explain(rows)
        ours, theirs, covered = [], [], []
        for seed in seeds:
            expl = tx.PermutationShapley(model, background, output=1, n_permutations=pairs,
                                         random_state=seed).explain(rows)
            ours.append(relative_error(expl.values, truth))
            covered.append(np.mean(np.abs(expl.values - truth) <= 1.96 * expl.stderr))
            theirs.append(relative_error(_shap_permutation(predict, background, rows, max_evals, seed), truth))
        table.append([max_evals, round(shap_rows), pairs, counted.rows // len(rows), float(np.mean(theirs)),
                      float(np.mean(ours)), float(np.mean(ours) / np.mean(theirs)), float(np.mean(covered))])
    header = ["shap max_evals", "shap model rows / row", "tabxai pairs / background row", "tabxai model rows / row",
              "shap error", "tabxai error", "tabxai / shap (target <= 0.5)", "95% interval coverage"]
    intro = ("Job B: `make_classification(5000, 16 features, 10 informative, random_state=1)`, "
             "HistGradientBoostingClassifier, background 20 rows, 4 explained rows, output = probability of class 1, "
             "truth by enumerating all 65,536 coalitions. Relative error `||phi_hat - phi|| / ||phi||`, mean over "
             f"rows and {len(seeds)} seeds, at equal model rows (tabxai at most shap's). Coverage: share of the "
             f"{len(rows) * n_players * len(seeds)} (row, feature, seed) values whose interval "
             "`value +- 1.96 stderr` holds the truth.\n\n")
    return intro + markdown_table(header, table)


def _overhead(quick):
    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    background, rows = X[:100], X[1000:1002] if quick else X[1000:1005]
    models = {
        "LogisticRegression": LogisticRegression(max_iter=1000).fit(X, y),
        "HistGradientBoosting": HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y),
    }
    repeats = 1 if quick else 3
    table = []
    for name, estimator in models.items():
        def predict(data, estimator=estimator):
            return estimator.predict_proba(data)[:, 1]

        counted = CountingModel(predict)
        tx.PermutationShapley(counted, background, random_state=0).explain(rows)
        pairs_shap = round(counted.rows / len(rows) / (len(background) * (2 * X.shape[1] + 1)))
        max_evals = pairs_shap * (2 * X.shape[1] + 1)
        counted_shap = CountingModel(predict)
        _shap_permutation(counted_shap, background, rows, max_evals, 0)
        explainer = tx.PermutationShapley(estimator, background, output=1, random_state=0)
        explainer.explain(rows[:1])  # compile kernels before timing
        times = {"tabxai": [], "shap": [], "floor": [], "floor shap": []}
        for _ in range(repeats):
            start = time.perf_counter()
            explainer.explain(rows)
            times["tabxai"].append(time.perf_counter() - start)
            start = time.perf_counter()
            _shap_permutation(predict, background, rows, max_evals, 0)
            times["shap"].append(time.perf_counter() - start)
            times["floor"].append(model_floor(estimator.predict_proba, counted.sample, counted.rows, repeats=1))
            times["floor shap"].append(model_floor(estimator.predict_proba, counted_shap.sample, counted_shap.rows,
                                                   repeats=1))
        median = {key: float(np.median(value)) for key, value in times.items()}
        table.append([name, counted.rows // len(rows), median["tabxai"] / median["floor"],
                      counted_shap.rows // len(rows), median["shap"] / median["floor shap"],
                      median["shap"] / median["tabxai"]])
    header = ["model", "tabxai model rows / row", "tabxai overhead", "shap model rows / row", "shap overhead",
              "shap time / tabxai time"]
    intro = (f"Job A: `make_classification(5000, 12 features)`, background 100 rows, {len(rows)} explained rows, "
             "tabxai `n_permutations=\"auto\"` (94 pairs per background row, 2,068 coalitions per row), shap "
             "PermutationExplainer with `max_evals` for as many model rows. Overhead = wall time / model floor on the "
             f"rows each library built; times and floors interleaved, median of {repeats}.\n\n")
    return intro + markdown_table(header, table)


def _memory():
    peaks = {}
    for n_rows in (200, 2000):
        peaks[n_rows] = peak_memory_mib(
            "tx.PermutationShapley(model, X[:500], n_permutations=2, output=1, random_state=0, max_rows=50_000)",
            n_rows)
    table = [[n_rows, n_rows * (2 * 2 * 11 * 500 + 1), peak, peak / peaks[200]] for n_rows, peak in peaks.items()]
    header = ["explained rows", "model rows", "peak RSS (MiB)", "ratio to 200 rows"]
    intro = ("Peak resident memory of a whole process explaining rows with PermutationShapley (2 pairs per "
             "background row, 500-row background, LogisticRegression, `max_rows=50_000`).\n\n")
    return intro + markdown_table(header, table)


def run(quick=False):
    parts = [_accuracy(quick), _overhead(quick)]
    if not quick:
        parts.append(_memory())
    return "\n\n".join(parts)

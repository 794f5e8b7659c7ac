"""Defaults: what a user gets without tuning, one line per target of the defaults table (issue 21).

Every model runs with one thread (threadpoolctl), floors included.

- KernelSHAP on Adult: 12 players (the Adult columns but ``fnlwgt`` and ``education``, which
  ``education_num`` codes), HistGradientBoosting on integer-coded categories, background 50 rows,
  4 explained rows, truth by enumerating all 4,096 coalitions. tabxai with its defaults (and with
  each ``adjustment`` forced) at two budgets; shap's KernelExplainer gets, per budget, the
  ``nsamples`` that takes the same wall time (timed, scaled, timed and scaled again, then measured),
  and the error ratio is taken at equal seconds. Relative error ``||phi_hat - phi|| / ||phi||``,
  mean over rows and seeds.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tabxai as tx

from ._common import load_note, markdown_table, relative_error

TITLE = "Defaults: accuracy and speed without tuning"


def _adult():
    """Adult as a float matrix (categories as integer codes, missing as NaN) and a fitted model on it."""
    X, y = tx.datasets.load_adult(split="train")
    X = X.drop(columns=["fnlwgt", "education"])
    categorical = [i for i, c in enumerate(X.columns) if not pd.api.types.is_numeric_dtype(X[c])]
    codes = np.column_stack([
        np.where(X[c].cat.codes.to_numpy() < 0, np.nan, X[c].cat.codes.to_numpy()) if i in categorical
        else X[c].to_numpy(dtype=float) for i, c in enumerate(X.columns)])
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=0)
    model.fit(codes, (y == ">50K").to_numpy())
    return codes, model


def _shap_kernel(predict, background, rows, nsamples, seed):
    import shap

    np.random.seed(seed)  # shap's KernelExplainer draws from NumPy's global generator
    explainer = shap.KernelExplainer(predict, background)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(explainer.shap_values(rows, nsamples=nsamples, silent=True))


def _seconds(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _kernel_adult(quick):
    codes, model = _adult()
    background, rows = codes[:50], codes[1000:1004]

    def predict(data):
        return model.predict_proba(data)[:, 1]

    truth = tx.ExactShapley(predict, background).explain(rows).values
    seeds = range(2 if quick else 4)
    budgets = ["auto"] if quick else [1024, "auto"]
    tx.KernelSHAP(predict, background, n_coalitions=512, random_state=0).explain(rows[:1])  # compile
    _shap_kernel(predict, background, rows[:1], 64, 0)  # import shap before timing it
    table = []
    for budget in budgets:
        errors, seconds, adjusted = {}, {}, {}
        for adjustment in ("auto", None, "trees"):
            runs = [_seconds(lambda s=seed: tx.KernelSHAP(predict, background, n_coalitions=budget,
                                                          adjustment=adjustment, random_state=s).explain(rows))
                    for seed in seeds]
            seconds[adjustment] = float(np.median([t for t, _ in runs]))
            errors[adjustment] = float(np.mean([relative_error(e.values, truth) for _, e in runs]))
            adjusted[adjustment] = float(np.mean([e.diagnostics["adjusted"].mean() for _, e in runs]))
        cells = []
        for adjustment in ("auto", None, "trees"):
            nsamples = 256
            for _ in range(2):  # shap's time is not proportional to nsamples: two secant steps
                elapsed, _ = _seconds(lambda n=nsamples: _shap_kernel(predict, background, rows, n, 0))
                nsamples = int(np.clip(round(nsamples * seconds[adjustment] / elapsed), 2 * 12 + 2, 4094))
            shap_runs = [_seconds(lambda s=seed: _shap_kernel(predict, background, rows, nsamples, s)) for seed in seeds]
            shap_seconds = float(np.median([t for t, _ in shap_runs]))
            shap_error = float(np.mean([relative_error(v, truth) for _, v in shap_runs]))
            cells.append((errors[adjustment] / shap_error, shap_seconds / seconds[adjustment], nsamples))
        (auto, auto_time, auto_n), (plain, plain_time, _), (trees, trees_time, _) = cells
        table.append([str(budget), seconds["auto"], errors["auto"], f"{adjusted['auto']:.2f}", auto_n, auto_time,
                      auto, plain, trees, seconds["auto"] / seconds[None]])
    header = ["`n_coalitions`", "tabxai default: seconds", "error", "rows adjusted", "shap nsamples at equal time",
              "shap time / tabxai time (measured)", "**default error / shap's** (target <= 0.1)",
              "`adjustment=None` / shap", "`adjustment=\"trees\"` / shap", "default time / plain time"]
    intro = ("KernelSHAP, `tx.KernelSHAP(model, background).explain(rows)`, against shap's KernelExplainer at equal "
             "wall time. Adult, 12 players (all columns but `fnlwgt` and `education`), HistGradientBoosting on "
             "integer-coded categories, background 50 rows, 4 explained rows, truth by enumerating all 4,096 "
             f"coalitions; error `||phi_hat - phi|| / ||phi||`, mean over rows and {len(seeds)} seeds. shap's "
             "`nsamples` is chosen for the same seconds as each tabxai variant (two steps of timing and scaling from 256); the "
             "time ratio says how equal the seconds came out.\n\n")
    return intro + markdown_table(header, table)


def run(quick=False):
    start_load = os.getloadavg()[0]
    with threadpool_limits(limits=1):
        body = "\n\n".join([_kernel_adult(quick)])
    return body + "\n\n" + load_note(start_load) + \
        "\n\nReproduce: `python -m benchmarks.run defaults`."

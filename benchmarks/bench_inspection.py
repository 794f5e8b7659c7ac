"""Global methods: partial dependence / ICE and permutation importance, tabxai against sklearn.inspection.

Data: ``make_classification(10000, 12 features, 8 informative)``. Partial dependence of every one of
the 12 features on a grid of 50 values over 2,000 rows, ICE and average (``kind="both"``; sklearn
with ``method="brute"``); permutation importance on all 10,000 rows with 5 repeats and the default
scorer (accuracy). Overhead = wall time / model floor, the model floor being the same
estimator predicting, in batches of 100,000, as many of the rows tabxai built as it asked for
(sklearn asks for the same number of rows). Both libraries run in the same process, interleaved.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import tabxai as tx

from ._common import CountingModel, interleaved, markdown_table

TITLE = "Partial dependence, ICE and permutation importance"


def _models(X, y):
    return {
        "LogisticRegression": LogisticRegression(max_iter=1000).fit(X, y),
        "HistGradientBoosting": HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y),
        "RandomForest": RandomForestClassifier(n_estimators=50, max_depth=12, random_state=0).fit(X, y),
    }


def _floor(function, sample, n_rows, batch=100_000):
    """The model floor as a job to time with the others: ``n_rows`` rows of ``sample`` in batches of ``batch``."""
    take = np.resize(np.arange(len(sample)), min(batch, n_rows))
    block = sample[take]

    def run():
        for start in range(0, n_rows, batch):
            function(block[: min(batch, n_rows - start)])

    return run


def _partial_dependence_row(name, estimator, rows, features, grid, repeats):
    kind = "both"
    counted = CountingModel(lambda data: estimator.predict_proba(data)[:, 1])
    tx.partial_dependence(counted, rows, features, grid_resolution=grid, kind=kind)  # also compiles kernels
    floor = _floor(estimator.predict_proba, counted.sample, counted.rows)

    def ours():
        return tx.partial_dependence(estimator, rows, features, grid_resolution=grid, kind=kind, output=1)

    def theirs():
        return [sk_partial_dependence(estimator, rows, [j], grid_resolution=grid, kind=kind, method="brute")
                for j in features]

    times, results = interleaved({"tabxai": ours, "sklearn": theirs, "floor": floor}, repeats=repeats)
    difference = 0.0
    for mine, bunch in zip(results["tabxai"], results["sklearn"]):
        for key, values in (("average", mine.average), ("individual", mine.individual)):
            if values is not None:
                difference = max(difference, float(np.max(np.abs(values - bunch[key]))))
    job = f"partial dependence, {kind}: {len(features)} features x {grid} values x {len(rows):,} rows"
    return [job, name, counted.rows, times["tabxai"] / times["floor"], times["sklearn"] / times["floor"],
            times["sklearn"] / times["tabxai"], f"max diff {difference:.1e}"]


def _permutation_row(name, estimator, X, y, n_repeats, repeats):
    counted = CountingModel(estimator.predict)
    tx.permutation_importance(counted, X, y, scoring="accuracy", n_repeats=n_repeats, random_state=0)
    floor = _floor(estimator.predict, counted.sample, counted.rows)

    def ours():
        return tx.permutation_importance(estimator, X, y, n_repeats=n_repeats, random_state=0)

    def theirs():
        return sk_permutation_importance(estimator, X, y, n_repeats=n_repeats, random_state=0)

    times, results = interleaved({"tabxai": ours, "sklearn": theirs, "floor": floor}, repeats=repeats)
    mine, bunch = results["tabxai"], results["sklearn"]
    their_stderr = bunch.importances_std * np.sqrt(n_repeats / (n_repeats - 1)) / np.sqrt(n_repeats)
    spread = np.sqrt(mine.stderr ** 2 + their_stderr ** 2)
    gap = np.abs(mine.importances_mean - bunch.importances_mean)
    z = float(np.max(np.where(spread > 0, gap / np.where(spread > 0, spread, 1.0), 0.0)))
    job = f"permutation importance: {X.shape[1]} features x {n_repeats} repeats x {len(X):,} rows"
    return [job, name, counted.rows, times["tabxai"] / times["floor"], times["sklearn"] / times["floor"],
            times["sklearn"] / times["tabxai"], f"max |diff| / stderr {z:.1f}"]


def run(quick=False):
    with threadpool_limits(limits=1):  # see the note in the intro
        return _run(quick)


def _run(quick):
    X, y = make_classification(n_samples=10000, n_features=12, n_informative=8, random_state=0)
    models = _models(X, y)
    repeats = 1 if quick else 3
    pd_rows = X[:500] if quick else X[:2000]
    features = list(range(4 if quick else X.shape[1]))
    grid = 20 if quick else 50
    pi_X, pi_y = (X[:2000], y[:2000]) if quick else (X, y)
    table = []
    for name, estimator in models.items():
        table.append(_partial_dependence_row(name, estimator, pd_rows, features, grid, repeats))
    for name, estimator in models.items():
        table.append(_permutation_row(name, estimator, pi_X, pi_y, 5, repeats))
    header = ["job", "model", "model rows", "tabxai overhead", "sklearn overhead", "sklearn time / tabxai time",
              "agreement"]
    intro = (
        "`make_classification(10000, 12 features)`; classifiers' probability of class 1 for partial dependence "
        "(sklearn `method=\"brute\"`, one call per feature), accuracy for permutation importance. Overhead is "
        "wall time over the model floor: the same estimator predicting as many rows in batches of 100,000, timed "
        "interleaved with both libraries (targets: at most 1.15 for HistGradientBoosting and RandomForest; never "
        f"slower than sklearn on LogisticRegression). Median of {repeats} interleaved runs. Agreement: largest "
        "difference from sklearn's values (partial dependence, same grid), or largest difference of mean "
        "importances in combined standard errors (permutation importance, different random permutations). "
        "Models predict with one thread (threadpoolctl) in all three timings: on this shared 2-core machine, "
        "OpenMP and BLAS thread pools under oversubscription make identical calls vary by tens of percent.\n\n"
    )
    return intro + markdown_table(header, table)

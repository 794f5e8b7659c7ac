"""Shapley interactions against shapiq, and SAGE against sage-importance.

Accuracy (interactions): adult (14 features, categories as integer codes), HistGradientBoosting,
background 20 rows, explained rows from the test rows; the truth is tabxai's exact enumeration of
all 16,384 coalitions (equal to shapiq's ExactComputer to 1e-10 in the tests). shapiq's
``approximator="auto"`` (``setup_approximator_automatically``: KernelSHAPIQ for k-SII, RegressionFSII
for FSII, SVARMIQ for STII) runs on the same game (a lookup table of the exact coalition values),
with the same budget of coalitions per row, over several seeds. Error: ``||I_hat - I|| / ||I||`` over
the main effects and pairs, averaged over rows and seeds; coverage: the share of (row, interaction)
values whose 95% interval from tabxai's standard errors covers the truth.

Overhead (interactions): job A of BENCHMARKS.md with HistGradientBoosting (12 features, background
100, 5 rows), 1,024 coalitions per row: wall time over the model floor of the rows it asked for.

SAGE: adult, HistGradientBoosting, log loss, 1,000 rows (300 quick), background 32 rows. sage-importance's
``PermutationEstimator`` with its ``MarginalImputer`` on the same background runs to its default
convergence (max standard error / range < 0.025; 0.1 in quick mode); tabxai's ``sage`` then runs with ``tol`` set to the
ratio sage-importance reached. Time ratio, interleaved runs, and agreement (largest
``|difference| / sqrt(se_a^2 + se_b^2)`` over features).
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

import tabxai as tx

from ._common import CountingModel, load_note, markdown_table, model_floor

TITLE = "Shapley interactions (vs shapiq) and SAGE (vs sage-importance)"


def _adult():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = tx.datasets.load_adult(split="train")
    codes = np.column_stack([X[c].cat.codes.to_numpy(dtype=float) if hasattr(X[c], "cat")
                             else X[c].to_numpy(dtype=float) for c in X.columns])
    codes[codes < 0] = np.nan
    categorical = [hasattr(X[c], "cat") for c in X.columns]
    labels = np.asarray(y == sorted(set(y))[-1], dtype=int)
    order = np.random.default_rng(0).permutation(len(codes))
    train = order[:8000]
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features=categorical, random_state=0)
    model.fit(codes[train], labels[train])
    return codes, labels, order, model


def _to_matrix(values, n):
    out = np.zeros((n, n))
    for members, position in values.interaction_lookup.items():
        if len(members) in (1, 2):
            out[members[0], members[-1]] = out[members[-1], members[0]] = values.values[position]
    return out


def _interaction_accuracy(quick):
    from shapiq.explainer.configuration import setup_approximator_automatically

    from tabxai._engine import coalition_values
    from tabxai._kernels.shapley import all_coalitions

    codes, _, order, model = _adult()
    n = codes.shape[1]

    def predict(rows):
        return model.predict_proba(rows)[:, 1]

    background = codes[order[8000:8020]]
    rows = codes[order[9000:9000 + (2 if quick else 4)]]
    seeds = range(1 if quick else 3)
    indices = ["k-SII"] if quick else ["k-SII", "FSII", "STII"]
    everything = all_coalitions(n)
    keys = everything.astype(np.int64) @ (1 << np.arange(n))
    lookup = np.empty(len(keys), dtype=np.int64)
    lookup[keys] = np.arange(len(keys))
    exact = tx.ShapleyInteractions(predict, background, n_coalitions="exact")
    tables = [coalition_values(exact._bound_model, exact._bound_masker, rows[r:r + 1], everything,
                               np.zeros(len(everything), dtype=np.int64), np.arange(len(everything)))[:, 0]
              for r in range(len(rows))]
    upper = np.triu_indices(n)
    lines = []
    for index in indices:
        truth = tx.ShapleyInteractions(predict, background, index=index, n_coalitions="exact").explain(rows).values
        for budget in (512, 1024):
            ours, theirs, covered = [], [], []
            for seed in seeds:
                expl = tx.ShapleyInteractions(predict, background, index=index, n_coalitions=budget - 2,
                                              random_state=seed).explain(rows)
                for r in range(len(rows)):
                    norm = np.linalg.norm(truth[r][upper])
                    error = (expl.values[r] - truth[r])[upper]
                    ours.append(np.linalg.norm(error) / norm)
                    covered.append(np.mean(np.abs(error) <= 1.96 * expl.stderr[r][upper]))

                    def game(coalitions, table=tables[r]):
                        return table[lookup[coalitions.astype(np.int64) @ (1 << np.arange(n))]]

                    approximator = setup_approximator_automatically(index, 2, n, random_state=seed)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        estimate = _to_matrix(approximator.approximate(budget, game), n)
                    theirs.append(np.linalg.norm((estimate - truth[r])[upper]) / norm)
            lines.append([index, budget, type(approximator).__name__, float(np.mean(theirs)), float(np.mean(ours)),
                          float(np.mean(ours) / np.mean(theirs)), float(np.mean(covered))])
    table = markdown_table(["index", "coalitions per row", "shapiq auto", "shapiq error", "tabxai error",
                            "error ratio", "95% coverage"], lines)
    return table, len(rows), len(seeds)


def _interaction_overhead(quick):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    background, rows = X[:100], X[200:202 if quick else 205]
    counter = CountingModel(lambda data: model.predict_proba(data)[:, 1])
    start = time.perf_counter()
    tx.ShapleyInteractions(counter, background, n_coalitions=1024, random_state=0).explain(rows)
    wall = time.perf_counter() - start
    floor = model_floor(lambda data: model.predict_proba(data)[:, 1], counter.sample, counter.rows)
    return [["job A, HGB, k-SII, 1,024 coalitions", counter.rows, wall, floor, wall / floor]]


def _sage(quick):
    import sage as sage_importance

    codes, labels, order, model = _adult()
    X = codes[order[10000:10000 + (300 if quick else 1000)]]
    y = labels[order[10000:10000 + len(X)]]
    background = codes[order[8000:8032]]

    def peer():
        imputer = sage_importance.MarginalImputer(lambda data: model.predict_proba(data), background)
        estimator = sage_importance.PermutationEstimator(imputer, "cross entropy", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimator(X, y, thresh=0.1 if quick else 0.025, bar=False)

    start = time.perf_counter()
    theirs = peer()
    peer_time = time.perf_counter() - start
    reached = float(theirs.std.max() / (theirs.values.max() - theirs.values.min()))

    def ours():
        return tx.sage(model, X, y, background=background, tol=reached, random_state=0)

    start = time.perf_counter()
    result = ours()
    our_time = time.perf_counter() - start
    if not quick:  # a second, interleaved pair of runs; the medians of the two
        start = time.perf_counter()
        peer()
        peer_time = float(np.median([peer_time, time.perf_counter() - start]))
        start = time.perf_counter()
        ours()
        our_time = float(np.median([our_time, time.perf_counter() - start]))
    ours_ratio = float(result.stderr.max() / (result.values.max() - result.values.min()))
    agreement = np.abs(result.values - theirs.values) / np.sqrt(result.stderr ** 2 + theirs.std ** 2)
    return [[len(X), reached, ours_ratio, peer_time, our_time, our_time / peer_time, float(agreement.max()),
             result.n_permutations]]


def run(quick=False):
    load = os.getloadavg()[0]
    accuracy, n_rows, n_seeds = _interaction_accuracy(quick)
    overhead = markdown_table(["job", "model rows", "wall s", "model floor s", "overhead"], _interaction_overhead(quick))
    sage_table = markdown_table(["rows", "sage-importance max se / range", "tabxai max se / range",
                                 "sage-importance s", "tabxai s", "time ratio", "largest abs. difference / se",
                                 "tabxai permutations"], _sage(quick))
    from importlib.metadata import version

    return (f"Interactions on adult (14 features, HistGradientBoosting, background 20, {n_rows} rows x {n_seeds} "
            f"seeds), shapiq {version('shapiq')} (the newest that installs on Python 3.11; 1.5 and later need "
            "3.12), same game and budget:\n\n" + accuracy
            + "\n\nWall time of the interactions over the model floor of the rows they asked for:\n\n" + overhead
            + "\n\nSAGE, adult, log loss, background 32 rows: time to the same standard error (sage-importance "
              "0.0.6 first, to convergence at 0.025 (0.1 quick); tabxai with `tol` set to the ratio it reached):\n\n"
            + sage_table + "\n\n" + load_note(load))

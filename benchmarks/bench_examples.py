"""Example-based explanations: prototypes against a ProtoDash reference and random rows; influence against its floor.

Prototypes. Every selection is measured in the same geometry: tabxai's mixed-type encoding and RBF
kernel with ``gamma = 1 / (2 * median squared distance)``, MMD^2 computed here from the kernel
matrix. The ProtoDash reference is written here (AIX360 0.3 pins pandas < 1.4 and does not install):
Gurumoorthy et al. 2019, Algorithm 1: pick the row of largest gradient ``mu - K w`` of
``w'mu - w'Kw/2``, re-fit non-negative weights on the chosen rows (NNLS through a Cholesky factor),
weights normalised to sum to 1 for the MMD^2. "ProtoDash rows, simplex weights" keeps ProtoDash's
rows and gives them tabxai's optimal weights (separating selection from weighting). MMD-critic =
greedy selection with uniform weights (Kim et al. 2016). Random = median over 50 random row sets
with uniform weights. Nearest-prototype accuracy: prototypes per class fitted on 70% of the rows,
accuracy on the other 30% with tabxai's rule (each class's weighted kernel similarity), against the
majority class and against random prototypes per class (median of 20 draws) under the same rule.
Criticisms: 10 rows made unusual (one number set 6 to 24 standard deviations out), 10 criticisms.

Influence. ``tx.influence`` on a pipeline against its floor: the same number of fits of
``sklearn.base.clone`` of the estimator on the same subsets plus the same ``predict_proba`` /
``predict`` calls, in a plain loop (no accumulation, no standard errors), interleaved, median of
5 repeats after a warm-up call, one process (``n_jobs=1``), one BLAS thread (threadpoolctl). With test rows, tabxai's own work is two matrix products of
(training rows x models) by (models x test rows) for the sums and sums of squares with each row,
and one pass over the (training rows x test rows) result: against a learner as cheap as Ridge on
20,000 rows (about 30 ms a fit and prediction) that is a visible share; against one-hot + logistic
regression it is lost in the noise of the fits.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import tabxai as tx
from tabxai.examples._encoding import MixedEncoding, kernel_matrix, kernel_means
from tabxai.examples._influence import _subset_mask
from tabxai.examples._selection import simplex_weights

from ._common import interleaved, load_note, markdown_table

TITLE = "Prototypes against ProtoDash, influence against its floor"


def protodash(K, mu, m):
    """ProtoDash (Gurumoorthy et al. 2019): gradient selection, non-negative weights re-fitted each step."""
    chosen, weights = [], np.zeros(0)
    for _ in range(m):
        gradient = mu - (K[:, chosen] @ weights if chosen else 0.0)
        gradient[chosen] = -np.inf
        chosen.append(int(np.argmax(gradient)))
        K_ss = K[np.ix_(chosen, chosen)] + 1e-10 * np.eye(len(chosen))
        L = np.linalg.cholesky(K_ss)
        weights = nnls(L.T, np.linalg.solve(L, mu[chosen]))[0]
    return np.array(chosen), weights


def mmd_critic(K, mu, m):
    """MMD-critic's greedy prototypes: uniform weights, each step the row that lowers MMD^2 most."""
    chosen = []
    for _ in range(m):
        t = len(chosen) + 1
        base = K[np.ix_(chosen, chosen)].sum() if chosen else 0.0
        cross = K[:, chosen].sum(axis=1) if chosen else np.zeros(len(mu))
        score = -2 * (mu[chosen].sum() + mu) / t + (base + 2 * cross + np.diag(K)) / t ** 2
        score[chosen] = np.inf
        chosen.append(int(np.argmin(score)))
    return np.array(chosen)


def mmd2(K, mu, constant, rows, weights):
    return float(constant - 2 * weights @ mu[rows] + weights @ K[np.ix_(rows, rows)] @ weights)


def _datasets(quick):
    X, y = tx.datasets.load_german_credit()
    yield "German credit (1,000 rows, 20 columns, 13 categorical)", X, np.asarray(y).astype(str)
    X, y = tx.datasets.load_adult("train")
    n = 2000 if quick else 5000
    yield f"Adult ({n:,} rows, 14 columns, 8 categorical, missing values)", X.iloc[:n], np.asarray(y)[:n].astype(str)


def _prototype_rows(quick):
    rows = []
    accuracy_rows = []
    m_values = (10,) if quick else (10, 20)
    for name, X, y in _datasets(quick):
        points = MixedEncoding(X).reference_points
        for m in m_values:
            start = time.perf_counter()
            p = tx.Prototypes(n_prototypes=m, n_criticisms=0, random_state=0).fit(X)
            ours_time = time.perf_counter() - start
            start = time.perf_counter()
            K = kernel_matrix(points, points, p.gamma_, "rbf")
            mu = K.mean(axis=1)
            chosen, w = protodash(K, mu, m)
            protodash_time = time.perf_counter() - start
            constant = mu.mean()
            rng = np.random.default_rng(0)
            random = np.median([mmd2(K, mu, constant, rng.choice(len(X), m, replace=False), np.full(m, 1 / m))
                                for _ in range(50)])
            critic = mmd_critic(K, mu, m)
            simplex = simplex_weights(K[np.ix_(chosen, chosen)], mu[chosen])
            ours = mmd2(K, mu, constant, p.prototype_indices_, p.weights_)
            rows.append([name, m, ours, mmd2(K, mu, constant, chosen, w / w.sum()),
                         mmd2(K, mu, constant, chosen, simplex), mmd2(K, mu, constant, critic, np.full(m, 1 / m)),
                         random, ours / random, ours_time, protodash_time])
        accuracy_rows.append(_accuracy(name, X, y, 10))
    return rows, accuracy_rows


def _accuracy(name, X, y, m):
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[: int(0.7 * len(X))], order[int(0.7 * len(X)):]
    p = tx.Prototypes(n_prototypes=m, n_criticisms=0, by_class=True, random_state=0).fit(X.iloc[train], y[train])
    ours = p.score(X.iloc[test], y[test])
    majority = max(np.mean(y[test] == c) for c in np.unique(y))
    random_scores = []
    for seed in range(20):  # random prototypes per class, uniform weights, the same rule
        rng = np.random.default_rng(seed)
        picks = np.concatenate([rng.choice(train[y[train] == c], m, replace=False) for c in p.classes_])
        fake = tx.Prototypes(n_prototypes=m, n_criticisms=0, by_class=True, random_state=0).fit(X.iloc[train], y[train])
        fake.prototype_indices_ = picks
        fake._prototype_points = fake._encoding.transform(X.iloc[picks])
        fake.weights_ = np.full(len(picks), 1 / m)
        fake._prototype_class = np.repeat(np.arange(len(p.classes_)), m)
        random_scores.append(fake.score(X.iloc[test], y[test]))
    return [name, m, ours, majority, float(np.median(random_scores))]


def _criticism_rows():
    X, _ = tx.datasets.load_german_credit()
    X = X.copy()
    planted = np.random.default_rng(0).choice(len(X), 10, replace=False)
    numeric = ["duration", "amount", "age"]
    for k, position in enumerate(planted):
        column = numeric[k % 3]
        X.iloc[position, X.columns.get_loc(column)] = round(X[column].mean() + (6 + 2 * k) * X[column].std())
    rows = []
    for rule in ("farthest", "witness"):
        p = tx.Prototypes(n_prototypes=20, n_criticisms=10, criticism=rule, random_state=0).fit(X)
        rows.append([rule, int(np.intersect1d(p.criticism_indices_, planted).size)])
    return rows


_LARGE_FIT = """
import sys, time, numpy as np, pandas as pd, tabxai as tx
n = int(sys.argv[1])
rng = np.random.default_rng(0)
X = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(6)})
for j in range(4):
    X[f"c{j}"] = pd.Categorical(rng.choice(list("abcdefgh"), n))
X.loc[rng.random(n) < 0.05, "x0"] = np.nan
tx.Prototypes(n_prototypes=2, n_criticisms=1).fit(X.iloc[:50])  # loads the kernels
start = time.perf_counter()
tx.Prototypes(n_prototypes=20, n_criticisms=10).fit(X)
print(time.perf_counter() - start)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def _large_rows(quick):
    """Fit time and peak resident memory of a fresh process fitting 20 prototypes on n mixed-type rows."""
    import subprocess
    import sys

    rows = []
    for n in (1_000, 10_000) if quick else (1_000, 10_000, 100_000):
        out = subprocess.run([sys.executable, "-c", _LARGE_FIT, str(n)], capture_output=True, text=True, check=True)
        seconds, peak = out.stdout.split()[-2:]
        rows.append([n, float(seconds), int(peak) / 1024])
    return rows


def _influence_jobs(quick):
    X, y = tx.datasets.load_german_credit()
    categorical = list(X.select_dtypes("category"))
    numeric = [c for c in X.columns if c not in categorical]
    pipeline = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical),
                                                     (StandardScaler(), numeric)), LogisticRegression(max_iter=1000))
    yield "German credit, one-hot + LogisticRegression", pipeline, X.iloc[:800], y.iloc[:800], X.iloc[800:], \
        10 if quick else 40
    X, y = tx.datasets.load_california_housing()
    n = 5000 if quick else 20000
    for test in (None, X.iloc[n:n + 500]):
        yield f"California housing ({n:,} rows), StandardScaler + Ridge", make_pipeline(StandardScaler(), Ridge()), \
            X.iloc[:n], y.iloc[:n], test, 20 if quick else 200


def _floor(estimator, X_train, y_train, X_test, n_models, seed=0):
    """The estimator's own work: the same fits on the same subsets and the same predictions, nothing else."""
    n = len(X_train)
    size = int(round(0.5 * n))
    X_all = X_train if X_test is None else pd.concat([X_train, X_test], ignore_index=True)
    y_values = np.asarray(y_train)
    method = "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
    for model in range(n_models):
        subset = np.flatnonzero(_subset_mask(seed, model, n, size))
        fitted = clone(estimator).fit(X_train.iloc[subset], y_values[subset])
        getattr(fitted, method)(X_all)


def _influence_rows(quick):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one BLAS thread for the fits of both: stable times on a shared machine
        return _influence_timings(quick)


def _influence_timings(quick):
    rows = []
    for name, estimator, X_train, y_train, X_test, n_models in _influence_jobs(quick):
        tx.influence(estimator, X_train, y_train, X_test, n_models=4)  # warm-up: loads the kernels
        times, _ = interleaved({
            "tabxai": lambda: tx.influence(estimator, X_train, y_train, X_test, n_models=n_models, random_state=0),
            "floor": lambda: _floor(estimator, X_train, y_train, X_test, n_models),
        }, repeats=5)
        rows.append([name, n_models, 0 if X_test is None else len(X_test), times["tabxai"], times["floor"],
                     times["tabxai"] / times["floor"]])
    return rows


def run(quick=False):
    start_load = os.getloadavg()[0]
    prototypes, accuracy = _prototype_rows(quick)
    criticisms = _criticism_rows()
    influence = _influence_rows(quick)
    large = _large_rows(quick)
    return "\n\n".join([
        __doc__.split("\n\n", 1)[1].strip(),
        "MMD² of m prototypes (lower is better); fit times in seconds (tabxai: the whole fit from the raw table; "
        "ProtoDash: from the kernel matrix, excluded the encoding):",
        markdown_table(["data", "m", "tabxai", "ProtoDash", "ProtoDash rows, simplex weights", "MMD-critic (uniform)",
                        "random rows (median)", "tabxai / random", "tabxai fit s", "ProtoDash s"], prototypes),
        "Bounded memory: a fresh process fits 20 prototypes and 10 criticisms on n rows of 6 numeric (5% missing) "
        "and 4 categorical columns (default `max_samples=20000`: beyond it the MMD is measured on 20,000 rows drawn "
        "at random; kernel values in blocks of about 2 million):",
        markdown_table(["rows", "fit s", "peak resident memory (MiB, imports included)"], large),
        "Nearest-prototype accuracy on held-out rows (10 prototypes per class):",
        markdown_table(["data", "m per class", "tabxai prototypes", "majority class", "random prototypes (median)"],
                       accuracy),
        "Planted unusual rows found among 10 criticisms (German credit, 20 prototypes):",
        markdown_table(["criticism rule", "planted rows found (of 10)"], criticisms),
        "Influence: wall time against the floor of the estimator's own fits and predictions (n_jobs=1):",
        markdown_table(["job", "models", "test rows", "tabxai s", "floor s", "tabxai / floor"], influence),
        load_note(start_load),
    ])

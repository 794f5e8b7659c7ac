"""The audit's sections that are more than one library call: explainer choice, performance, attribution
by group, glass-box baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..rules import OneR, RuleListClassifier, fit_surrogate
from ..shapley import KernelSHAP, PermutationShapley
from ._inputs import _plain, _same
from .fairness import group_labels

__all__ = ["_ProbabilityAuc", "_direct", "_explainer", "_glass_box", "_group_means", "_offers_proba", "_performance",
           "_recourse"]


def _explainer(shapley, model, background, n_coalitions, seed, positive, feature_groups, link, n_jobs):
    if shapley == "kernel":
        return KernelSHAP(model, background, n_coalitions=n_coalitions, random_state=seed, output=positive,
                          feature_groups=feature_groups, link=link, n_jobs=n_jobs, progress=False)
    probe = KernelSHAP(model, background.iloc[:1], n_coalitions="auto", output=positive, feature_groups=feature_groups)
    n_players = len(probe.feature_names)
    pairs = max(1, math.ceil(n_coalitions / (2 * max(n_players - 1, 1))))
    return PermutationShapley(model, background, n_permutations=pairs, random_state=seed, output=positive,
                              feature_groups=feature_groups, link=link, n_jobs=n_jobs, progress=False)


def _offers_proba(model):
    return hasattr(model, "predict_proba") or getattr(model, "__name__", None) == "predict_proba"


class _ProbabilityAuc:
    """ROC AUC scorer of a bare callable that returns class probabilities (its only response)."""

    def __init__(self, positive, position):
        self.positive = positive
        self.position = position
        self.__name__ = "roc_auc"

    def __call__(self, estimator, X, y, sample_weight=None):
        from sklearn.metrics import roc_auc_score

        scores = np.asarray(estimator.predict(X), dtype=np.float64)
        scores = scores[:, self.position] if scores.ndim == 2 else scores
        truth = np.array([_same(v, self.positive) for v in np.asarray(y, dtype=object)])
        return float(roc_auc_score(truth, scores, sample_weight=sample_weight))

    def __repr__(self):
        return f"roc_auc of P({self.positive})"


def _performance(proba, decisions, y_values, positive):
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, roc_auc_score

    truth = np.array([_same(v, positive) for v in y_values])
    result = {"n_rows": len(truth), "accuracy": float(np.mean([_same(d, t) for d, t in zip(decisions, y_values)])),
              "positive_rate": float(truth.mean()), "brier_score": float(brier_score_loss(truth, proba))}
    result["roc_auc"] = float(roc_auc_score(truth, proba)) if 0 < truth.sum() < len(truth) else None
    fraction, predicted = calibration_curve(truth, proba, n_bins=10, strategy="quantile")
    result["calibration"] = {"n_bins": 10, "strategy": "quantile", "mean_predicted": predicted.tolist(),
                             "fraction_positive": fraction.tolist()}
    return result


def _direct(source, players, mean_abs):
    if source is None or source not in players:
        return None
    j = players.index(source)
    rank = int(1 + np.sum(mean_abs > mean_abs[j]))
    return {"feature": _plain(source), "mean_abs": float(mean_abs[j]), "rank": rank, "n_features": len(players),
            "share": float(mean_abs[j] / mean_abs.sum()) if mean_abs.sum() > 0 else None}


def _group_means(expl, groups, players, n_features=6):
    """Mean attribution per group over the global rows, for the features whose group means differ most."""
    values = expl.values
    order = list(groups.cat.categories) if isinstance(getattr(groups, "dtype", None), pd.CategoricalDtype) else None
    groups = pd.Series(np.asarray(groups, dtype=object))
    labels = group_labels(groups, order)
    if not labels:
        return {"groups": [], "features": [], "means": [], "counts": []}
    means = np.array([values[(groups == g).to_numpy()].mean(axis=0) for g in labels])
    counts = [int((groups == g).sum()) for g in labels]
    spread = means.max(axis=0) - means.min(axis=0)
    chosen = np.argsort(-spread, kind="stable")[:n_features]
    return {"groups": [_plain(g) for g in labels], "features": [_plain(players[j]) for j in chosen],
            "means": [[float(means[g, j]) for j in chosen] for g in range(len(labels))], "counts": counts,
            "spread": [float(spread[j]) for j in chosen]}


def _glass_box(model, X, y_values, seed):
    y = None if y_values is None else y_values
    out = {}
    for name, learner in (("rule_list", RuleListClassifier()), ("one_r", OneR())):
        try:
            surrogate = fit_surrogate(model, X, learner, y=y, test_size=0.3, random_state=seed)
        except ValueError as error:
            out[name] = {"error": str(error)}
            continue
        out[name] = {"learner": repr(learner), "fidelity": surrogate.fidelity,
                     "train_fidelity": surrogate.train_fidelity, "accuracy": surrogate.accuracy,
                     "model_accuracy": surrogate.model_accuracy, "baseline_accuracy": surrogate.baseline_accuracy,
                     "n_train": surrogate.n_train, "n_test": surrogate.n_test,
                     "rules": str(surrogate.learner)}
    out["test_size"] = 0.3
    out["random_state"] = seed
    return out


def _recourse(model, X, positions, labels_index, desired, favorable, immutable, monotone, n, seed, n_jobs):
    """The recourse section: ``tx.Counterfactuals(model, X, ...).explain(X.iloc[positions], n=n)``, as data."""
    from ..counterfactuals import Counterfactuals

    out = {"n_applicants": len(positions), "n": n, "desired": _plain(desired), "favorable": _plain(favorable),
           "immutable": [_plain(c) for c in immutable], "monotone": _plain(monotone), "random_state": seed,
           "positions": [int(p) for p in positions], "applicants": [], "error": None}
    if not len(positions):
        return out
    try:
        search = Counterfactuals(model, X, desired=desired, immutable=list(immutable), monotone=monotone or None,
                                 random_state=seed, n_jobs=n_jobs, progress=False)
        found = search.explain(X.iloc[list(positions)], n=n)
    except (ValueError, TypeError) as error:
        out["error"] = str(error)
        return out
    frame_changes = found.changes()
    for i, p in enumerate(positions):
        ks = np.flatnonzero(found.row_index == i)
        sentences = found.describe(i) if ks.size else []
        counterfactuals = []
        for rank, (k, sentence) in enumerate(zip(ks, sentences)):
            mine = frame_changes[(frame_changes["row"] == i) & (frame_changes["counterfactual"] == rank)]
            counterfactuals.append({
                "sentence": sentence, "output": float(found.output[k]), "valid": bool(found.valid[k]),
                "proximity": float(found.proximity[k]), "sparsity": int(found.sparsity[k]),
                "plausibility": float(found.plausibility[k]), "in_range": bool(found.in_range[k]),
                "changes": [{"feature": _plain(line.feature), "original": _plain(line.original),
                             "value": _plain(line.value)} for line in mine.itertuples(index=False)]})
        out["applicants"].append({"row": _plain(labels_index[p]), "position": int(p), "status": found.status[i],
                                  "message": found.messages[i], "diversity": _plain(float(found.diversity[i])),
                                  "counterfactuals": counterfactuals})
    out["outcome"] = found.outcome
    out["n_found"] = sum(a["status"] == "found" for a in out["applicants"])
    out["n_without"] = sum(not a["counterfactuals"] for a in out["applicants"])
    out["all_valid"] = bool(np.all(found.valid))
    return out

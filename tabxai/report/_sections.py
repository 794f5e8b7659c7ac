"""The audit's sections: each a short function of the prepared :class:`~tabxai.report._context.AuditContext`.

A section calls public tabxai functions with the recorded seed and parameters and returns plain,
JSON-ready data. Rows are positions of the context; printed rows carry the user's index label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _provenance
from ..inspection import partial_dependences, permutation_importance
from ..rules import OneR, RuleListClassifier, fit_surrogate
from ..shapley import KernelSHAP, PermutationShapley
from ..shapley.kernel import smallest_sound_budget
from ._context import same
from ._inputs import _columns, _model_repr, _model_type, _plain
from ._portfolio import ReasonText, explain_applicants
from ._typical import typical_applicants
from .fairness import group_fairness, group_labels

GLOBAL_COALITIONS = 160  # per row of the global view (at least; more when the players need it)
GLASS_BOX_ROWS = 20_000  # rows the glass-box learners see at most (a seeded sample of a larger portfolio)
APPLICANT_COALITIONS = 384  # most per applicant by default; the stopping rule usually spends far fewer (Adult: 114)

__all__ = ["Attributions", "applicant_budget", "dependence_section", "fairness_section", "glass_box_section", "importance_section",
           "model_section", "performance_section", "provenance_section", "reasons_section", "recourse_section",
           "shapley_section", "typical_section"]


def model_section(ctx):
    return {
        "repr": _model_repr(ctx.model), "type": _model_type(ctx.model), "outputs": [_plain(o) for o in ctx.classes],
        "positive": _plain(ctx.positive), "favorable": _plain(ctx.favorable), "adverse": _plain(ctx.adverse),
        "n_rows": ctx.n_rows, "n_adverse": int(ctx.is_adverse.sum()), "adverse_rate": float(ctx.is_adverse.mean()),
        "decisions": "the model's own predict" if ctx.adapter.owner is not None else (
            "the decision given" if ctx.adapter.decision is not None else "the more probable class"),
        "columns": _columns(ctx.frame),
    }


def performance_section(ctx):
    """ROC AUC, accuracy (of the model's own decisions), Brier score and a calibration curve, on every row."""
    if ctx.y is None:
        return None
    ctx.say("measuring performance")
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, roc_auc_score

    proba = ctx.probabilities[:, ctx.positive_index]
    truth = np.array([same(v, ctx.positive) for v in ctx.y])
    result = {"n_rows": len(truth), "accuracy": float(np.mean([same(d, t) for d, t in zip(ctx.decisions, ctx.y)])),
              "positive_rate": float(truth.mean()), "brier_score": float(brier_score_loss(truth, proba))}
    result["roc_auc"] = float(roc_auc_score(truth, proba)) if 0 < truth.sum() < len(truth) else None
    fraction, predicted = calibration_curve(truth, proba, n_bins=10, strategy="quantile")
    result["calibration"] = {"n_bins": 10, "strategy": "quantile", "mean_predicted": predicted.tolist(),
                             "fraction_positive": fraction.tolist()}
    return result


@dataclass
class Attributions:
    """The Shapley values the later sections share: of the global rows and the applicants, by position."""

    explanation: object
    positions: np.ndarray  # context positions of the explanation's rows
    explainer: str

    def of(self, positions):
        where = {int(p): i for i, p in enumerate(self.positions)}
        return self.explanation[[where[int(p)] for p in positions]]

    @property
    def players(self):
        return list(self.explanation.feature_names)


def shapley_section(ctx):
    """Shapley values of the global rows (a fixed budget KernelSHAP does not warn about) and their summary."""
    options = ctx.options
    positions = ctx.global_positions
    explainer, budget = _explainer(ctx)
    ctx.say(f"Shapley values of {len(positions)} rows ({options['shapley']}, {budget} coalitions, "
            f"{len(ctx.masker.weights)} background rows)")
    explanation = explainer.explain(ctx.frame.iloc[positions])
    attributions = Attributions(explanation, positions, type(explainer).__name__)
    mean_abs, half = _mean_abs_interval(explanation.values)
    players = attributions.players
    order = np.argsort(-mean_abs, kind="stable")
    data = {
        "method": attributions.explainer, "parameters": _plain(explanation.params.get("parameters")),
        "random_state": explanation.params.get("random_state"), "model_rows": explanation.params.get("model_rows"),
        "explained_positions": positions.tolist(), "global_positions": positions.tolist(),
        "background_positions": None if ctx.background_positions is None else ctx.background_positions.tolist(),
        "background_weights": ctx.masker.weights.tolist(),
        "n_background": len(ctx.masker.weights), "base_value": float(explanation.base_values[0]),
        "scale": "log-odds" if options["link"] == "logit" else "probability",
        "scale_auto": bool(options.get("link_auto")),
        "features": [_plain(players[j]) for j in order], "mean_abs": [float(mean_abs[j]) for j in order],
        "ci_low": [float(mean_abs[j] - half[j]) for j in order],
        "ci_high": [float(mean_abs[j] + half[j]) for j in order],
    }
    return data, attributions


def n_players_of(ctx):
    """Players of the audit's attributions (columns, or feature groups), from the masker: no model call."""
    return ctx.masker.setup(ctx.adapter, ctx.options["feature_groups"])[1].n_players


def _mean_abs_interval(values):
    from scipy.stats import t as student

    mean_abs = np.abs(values).mean(axis=0)
    m = values.shape[0]
    if m < 2:
        return mean_abs, np.full(values.shape[1], np.nan)
    return mean_abs, student.ppf(0.975, m - 1) * np.abs(values).std(axis=0, ddof=1) / math.sqrt(m)


def _explainer(ctx):
    """The audit's Shapley explainer of the global rows and the coalitions per row it spends."""
    options = ctx.options
    arguments = {"random_state": ctx.seed, "output": ctx.output_key, "feature_groups": options["feature_groups"],
                 "link": options["link"], "n_jobs": options["n_jobs"], "progress": False}
    n_players = n_players_of(ctx)
    budget = smallest_sound_budget(n_players, GLOBAL_COALITIONS)  # never a budget KernelSHAP warns about
    if options["shapley"] == "kernel":
        return KernelSHAP(ctx.adapter, ctx.masker, n_coalitions=budget, **arguments), budget
    pairs = max(1, math.ceil(budget / (2 * max(n_players - 1, 1))))
    return PermutationShapley(ctx.adapter, ctx.masker, n_permutations=pairs, **arguments), budget


def applicant_budget(ctx):
    """Most coalitions per applicant: ``n_coalitions``, or by default enough for the stopping rule to settle
    most reasons (never a budget KernelSHAP warns about)."""
    budget = ctx.options["n_coalitions"]
    return smallest_sound_budget(n_players_of(ctx), APPLICANT_COALITIONS if budget is None else budget)


def importance_section(ctx):
    """Permutation importance (ROC AUC of P(positive)), with ``y`` paired with the rows as everywhere else."""
    if ctx.y is None:
        return None, None
    options = ctx.options
    ctx.say(f"permutation importance ({options['n_repeats']} repeats)")
    y = pd.Series(ctx.y, index=ctx.frame.index)
    offers_proba = hasattr(ctx.model, "predict_proba") or getattr(ctx.model, "__name__", None) == "predict_proba"
    scoring = "roc_auc" if offers_proba else _ProbabilityAuc(ctx.positive, ctx.positive_index)
    importance = permutation_importance(ctx.model, ctx.frame, y, scoring=scoring, n_repeats=options["n_repeats"],
                                        random_state=ctx.seed, feature_groups=options["feature_groups"],
                                        n_jobs=options["n_jobs"])
    table = importance.to_frame()
    data = {"scoring": importance.scoring, "n_repeats": options["n_repeats"],
            "baseline_score": importance.baseline_score, "features": [_plain(f) for f in table.index],
            "mean": table["mean"].tolist(), "stderr": table["stderr"].tolist(), "ci_low": table["ci_low"].tolist(),
            "ci_high": table["ci_high"].tolist()}
    return data, importance


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
        truth = np.array([same(v, self.positive) for v in np.asarray(y, dtype=object)])
        return float(roc_auc_score(truth, scores, sample_weight=sample_weight))

    def __repr__(self):
        return f"roc_auc of P({self.positive})"


def dependence_section(ctx, attributions, mean_abs_order):
    """Partial dependence and ICE of the top single-column features, over the global rows."""
    top = [f for f in mean_abs_order if f in ctx.frame.columns][:ctx.options["top_features"]]
    if not top:
        return [], []
    ctx.say(f"partial dependence and ICE of {len(top)} features")
    curves = partial_dependences(ctx.adapter, ctx.frame.iloc[ctx.global_positions], list(top), kind="both",
                                 output=ctx.output_key, link=ctx.options["link"], grid_resolution=20,
                                 n_jobs=ctx.options["n_jobs"])
    entries = [{"feature": _plain(feature), "categorical": bool(curve.categorical[0]),
                "grid": [_plain(v) for v in curve.grid_values[0]], "average": curve.average[0].tolist()}
               for feature, curve in zip(top, curves)]
    return entries, curves


def reasons_section(ctx):
    """Principal reasons of every applicant (``_portfolio.explain_applicants``: adaptive KernelSHAP, streamed to
    the reasons file), a sample of them for the HTML and the reason-frequency table."""
    ctx.say(f"principal reasons for {len(ctx.applicants):,} applicants")
    return explain_applicants(ctx, ctx.masker, applicant_budget(ctx), ReasonText(ctx.options["reason_text"],
                                                                                 ctx.frame))


def recourse_section(ctx):
    """Counterfactuals of the first declined applicants: ``tx.Counterfactuals(...).explain(rows, n=n)``, as data.

    Declined means the model's own decision; every counterfactual's validity is the model's decision on it,
    asked again by ``Counterfactuals``."""
    options = ctx.options
    n_recourse = options["n_recourse"]
    if not n_recourse:
        return None
    from ..counterfactuals import Counterfactuals

    positions = [int(p) for p in ctx.applicants if ctx.is_adverse[p]][:n_recourse]
    sources = {source for _, source in ctx.sensitive.values() if source is not None}
    immutable = [c for c in ctx.frame.columns if c in sources]
    monotone = {"age": "increase"} if "age" in ctx.frame.columns and "age" not in immutable and \
        pd.api.types.is_numeric_dtype(ctx.frame["age"]) else {}
    n = options["n_counterfactuals"]
    ctx.say(f"counterfactuals for {len(positions)} declined applicants")
    out = {"n_applicants": len(positions), "n": n, "desired": _plain(ctx.favorable), "favorable": _plain(ctx.favorable),
           "immutable": [_plain(c) for c in immutable], "monotone": _plain(monotone), "random_state": ctx.seed,
           "positions": positions, "applicants": [], "error": None}
    if not positions:
        return out
    try:
        search = Counterfactuals(ctx.adapter, ctx.frame, desired=ctx.favorable, immutable=immutable,
                                 monotone=monotone or None, random_state=ctx.seed, n_jobs=options["n_jobs"],
                                 progress=False)
        found = search.explain(ctx.frame.iloc[positions], n=n)
    except (ValueError, TypeError) as error:
        out["error"] = str(error)
        return out
    changes = found.changes()
    for i, p in enumerate(positions):
        ks = np.flatnonzero(found.row_index == i)
        sentences = found.describe(i) if ks.size else []
        counterfactuals = []
        for rank, (k, sentence) in enumerate(zip(ks, sentences)):
            mine = changes[(changes["row"] == i) & (changes["counterfactual"] == rank)]
            counterfactuals.append({
                "sentence": sentence, "output": float(found.output[k]), "valid": bool(found.valid[k]),
                "proximity": float(found.proximity[k]), "sparsity": int(found.sparsity[k]),
                "plausibility": float(found.plausibility[k]), "in_range": bool(found.in_range[k]),
                "changes": [{"feature": _plain(line.feature), "original": _plain(line.original),
                             "value": _plain(line.value)} for line in mine.itertuples(index=False)]})
        out["applicants"].append({"row": _plain(ctx.labels[p]), "position": p, "status": found.status[i],
                                  "message": found.messages[i], "diversity": _plain(float(found.diversity[i])),
                                  "counterfactuals": counterfactuals})
    out["outcome"] = found.outcome
    out["n_found"] = sum(a["status"] == "found" for a in out["applicants"])
    out["n_without"] = sum(not a["counterfactuals"] for a in out["applicants"])
    out["all_valid"] = bool(np.all(found.valid))
    return out


def typical_section(ctx):
    """Typical and unusual applicants: prototypes of approved and declined applicants, criticisms, and the most
    similar approved applicants of the first declined ones (``_typical.typical_applicants``)."""
    ctx.say("typical and unusual applicants")
    return typical_applicants(ctx.adapter, ctx.X, ctx.is_adverse, random_state=ctx.seed, output=ctx.favorable)


def fairness_section(ctx, attributions):
    """Outcome rates by group for each sensitive attribute, its direct attribution and the per-group means."""
    global_expl = attributions.of(ctx.global_positions)
    mean_abs = np.abs(global_expl.values).mean(axis=0)
    entries, global_groups = [], []
    for name, (values, source) in ctx.sensitive.items():
        ctx.say(f"fairness by {name}")
        groups, banded = ctx.sensitive_groups[name]
        metrics = group_fairness(ctx.decisions, groups, y_true=ctx.y, positive=ctx.positive, favorable=ctx.favorable,
                                 labels=list(ctx.classes),
                                 n_bootstrap=ctx.options["n_bootstrap"], random_state=ctx.seed)
        table = metrics["table"]
        entry = {"attribute": _plain(name), "banded": banded, "source": _plain(source),
                 "groups": [_plain(g) for g in table.index],
                 "table": {column: [_plain(v) for v in table[column]] for column in table.columns},
                 "equalized_odds_difference": metrics.get("equalized_odds_difference"),
                 "equalized_odds_difference_interval": metrics.get("equalized_odds_difference_interval"),
                 "demographic_parity_difference": metrics["demographic_parity_difference"],
                 "demographic_parity_difference_interval": metrics.get("demographic_parity_difference_interval"),
                 "threshold": metrics["threshold"], "n_bootstrap": ctx.options["n_bootstrap"],
                 "direct_attribution": _direct(source, ctx.players_of, attributions.players, mean_abs),
                 "group_mean_attributions": _group_means(global_expl, groups.iloc[ctx.global_positions],
                                                         attributions.players)}
        global_groups.append(groups.iloc[ctx.global_positions])
        entries.append(entry)
    return entries, global_groups


def _direct(source, players_of, players, mean_abs):
    """The attribution the model gives the sensitive column directly: its own, or its feature group's."""
    player = players_of.get(source) if source is not None else None
    if player is None or player not in players:
        return None
    j = players.index(player)
    rank = int(1 + np.sum(mean_abs > mean_abs[j]))
    return {"feature": _plain(player), "column": _plain(source), "in_group": not same(player, source),
            "mean_abs": float(mean_abs[j]), "rank": rank, "n_features": len(players),
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


def glass_box_section(ctx, test_size=0.3):
    """OneR and a rule list fitted on the labels, and a rule-list surrogate of the model's decisions: every
    accuracy on the same held-out rows, beside the model's and the majority class's."""
    ctx.say("glass-box baselines and a rule-list surrogate")
    rows = np.arange(ctx.n_rows)
    if ctx.n_rows > GLASS_BOX_ROWS:  # a portfolio: the learners on a seeded sample of its rows
        rows = np.sort(np.random.default_rng(ctx.seed).choice(ctx.n_rows, GLASS_BOX_ROWS, replace=False))
    frame = ctx.frame.iloc[rows]
    y = None if ctx.y is None else ctx.y[rows]
    out = {"test_size": test_size, "random_state": ctx.seed, "n_rows": len(rows)}
    for name, learner in (("rule_list", RuleListClassifier()), ("one_r", OneR())):
        try:
            surrogate = fit_surrogate(ctx.adapter, frame, learner, y=y, test_size=test_size, random_state=ctx.seed)
        except ValueError as error:
            out[name] = {"error": str(error)}
            continue
        out[name] = {"learner": repr(learner), "fidelity": surrogate.fidelity,
                     "train_fidelity": surrogate.train_fidelity, "accuracy": surrogate.accuracy,
                     "model_accuracy": surrogate.model_accuracy, "baseline_accuracy": surrogate.baseline_accuracy,
                     "majority_accuracy": surrogate.majority_accuracy, "n_train": surrogate.n_train,
                     "n_test": surrogate.n_test, "rules": str(surrogate.learner)}
    return out


def provenance_section(ctx, given):
    options = ctx.options
    parameters = {key: _plain(value) for key, value in options.items()}
    parameters.update({"positive": _plain(ctx.positive), "favorable": _plain(ctx.favorable), "random_state": ctx.seed,
                       "sensitive": [_plain(s) for s in ctx.sensitive]})
    return {"time": _provenance.utc_now(), "command_line": _provenance.command_line(),
            "versions": _provenance.report_versions(), "random_state": ctx.seed, "parameters": parameters,
            "data_sha256": _provenance.data_sha256(ctx.X, given.get("y")),
            "model_sha256": _provenance.model_sha256(ctx.model),
            **{str(key): _plain(value) for key, value in (given.get("extra") or {}).items()}}

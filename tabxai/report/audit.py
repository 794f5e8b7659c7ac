"""``tx.audit``: one self-contained HTML audit report of a binary credit model.

The report computes nothing of its own that the library does not offer: every number comes from a
public function (``permutation_importance``, ``KernelSHAP``, ``partial_dependence``,
``reason_codes``, ``fit_surrogate``, fairlearn's ``MetricFrame``) called with the parameters
recorded in the report's provenance, so each can be reproduced by calling that function directly.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd

from .._engine import predict
from .._validation import check_choice, check_int, check_n_jobs, resolve_seed, row_generator
from ..data import TabularSchema
from ..inspection import partial_dependences, permutation_importance
from ..model import as_model
from . import _provenance
from ._figures import report_figures
from ._inputs import _applicants, _columns, _decisions, _index_of, _model_repr, _model_type, _plain, _same, _sensitive
from ._report import AuditReport
from ._typical import typical_applicants
from ._sections import (_direct, _explainer, _glass_box, _group_means, _offers_proba, _performance, _ProbabilityAuc,
                        _recourse)
from .fairness import group_fairness, numeric_bands
from .reason_codes import reason_codes

__all__ = ["audit"]


def audit(model, X, y=None, *, sensitive=None, applicants=None, positive=None, favorable=None, background=None,
          random_state=0, shapley="kernel", n_coalitions=160, n_background=25, n_explained=80,
          max_applicants=None, k=4, units=None, feature_groups=None, link=None, n_repeats=5, top_features=3,
          n_bootstrap=200, n_recourse=10, n_counterfactuals=3, title=None, provenance=None, n_jobs=None,
          progress=None):
    """Audit a binary classifier: performance, drivers, reasons per adverse decision, fairness.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted binary classifier (its ``predict_proba`` is explained) or a callable returning
        the two class probabilities.
    X : DataFrame of shape (n_rows, n_columns)
        The audited rows (held out from training), in the model's input format.
    y : array-like of shape (n_rows,), default=None
        True labels of ``X``: enables performance, permutation importance, TPR/FPR/precision by
        group and the glass-box baselines' accuracy.
    sensitive : list or dict, default=None
        Sensitive attributes: column names of ``X`` or ``{name: values}`` with one value per row
        (attributes the model does not see). Numeric attributes with more than 8 values are cut
        into 4 bands. A Series named after a column of ``X`` counts as derived from it: the
        direct attribution reported is that column's.
    applicants : list of index labels or boolean array, default=None
        Rows to give principal reasons for; default every row with an adverse decision.
    positive : label, default=None
        The class whose probability is explained and the positive label of the rates (ROC AUC,
        selection rate, TPR, FPR); default the model's second class.
    favorable : label, default=None
        The favourable decision (four-fifths rule); adverse decisions are the others. Default
        ``positive``.
    background : DataFrame, default=None
        Reference rows of the Shapley values; default ``n_background`` rows of ``X`` drawn with
        the seed.
    random_state : int, default=0
        The one seed of every random choice; recorded in the report.
    shapley : {"kernel", "permutation"}, default="kernel"
        ``KernelSHAP`` or ``PermutationShapley`` for the Shapley values.
    n_coalitions : int, default=160
        Coalitions per explained row (``n_coalitions`` of KernelSHAP; PermutationShapley gets
        as many antithetic pairs as buy about this many coalitions).
    n_background : int, default=25
        Background rows drawn from ``X`` when ``background`` is None.
    n_explained : int, default=80
        Rows of ``X`` (drawn with the seed) whose Shapley values give the global view and the
        per-group mean attributions; partial dependence averages over them too.
    max_applicants : int, default=None
        At most this many applicants get reasons (the first ones); None: all.
    k : int, default=4
        Most reasons per applicant.
    units : dict, default=None
        ``{column: unit}`` for the reasons, e.g. ``{"duration": "months"}``.
    feature_groups : dict, default=None
        Columns that share one attribution (Shapley values and permutation importance).
    link : {None, "logit"}, default=None
        Scale of the Shapley values, reasons and partial dependence: probabilities, or log-odds
        (the additive scale of a credit scorecard).
    n_repeats : int, default=5
        Repeats of permutation importance.
    top_features : int, default=3
        Features (by mean absolute Shapley value) shown with partial dependence and ICE.
    n_bootstrap : int, default=200
        Bootstrap resamples of the fairness intervals.
    n_recourse : int, default=10
        The first this many applicants with an adverse decision get a recourse section:
        ``tx.Counterfactuals(model, X, desired=favorable, immutable=<the sensitive attributes'
        columns>, monotone={"age": "increase"} when age is a column that is not immutable,
        random_state=random_state).explain(rows, n=n_counterfactuals)``. 0 leaves the section out.
    n_counterfactuals : int, default=3
        Most counterfactuals per applicant in the recourse section.
    title : str, default=None
        Title of the report.
    provenance : dict, default=None
        Extra provenance shown in the report (the command line tool records its files here).
    n_jobs : int, default=None
        Parallel jobs of the Shapley values and permutation importance; never changes results.
    progress : callable, default=None
        Called with a short message as each step starts (the command line prints them).

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> import tabxai as tx
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = tx.datasets.load_german_credit()
    >>> X = X[["duration", "amount", "age"]]
    >>> model = LogisticRegression(max_iter=1000).fit(X[:700], y[:700])
    >>> report = tx.audit(model, X[700:800], y[700:800], sensitive=["age"], positive="bad", favorable="good",
    ...                   n_background=10, n_explained=20, n_repeats=2, n_bootstrap=20, max_applicants=5)
    >>> report.to_dict()["model"]["positive"], len(report.to_dict()["reasons"]["applicants"]) <= 5
    ('bad', True)
    """
    started = time.perf_counter()
    timings = {}
    say = progress if callable(progress) else (lambda message: None)
    seed = resolve_seed(random_state)
    shapley = check_choice(shapley, "shapley", ("kernel", "permutation"))
    link = check_choice(link, "link", (None, "logit"))
    n_coalitions = check_int(n_coalitions, "n_coalitions", min_value=2)
    n_background = check_int(n_background, "n_background", min_value=1)
    n_explained = check_int(n_explained, "n_explained", min_value=1)
    max_applicants = check_int(max_applicants, "max_applicants", min_value=0, allowed=(None,))
    k = check_int(k, "k", min_value=1)
    n_repeats = check_int(n_repeats, "n_repeats", min_value=1)
    top_features = check_int(top_features, "top_features", min_value=0)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", min_value=0)
    n_recourse = check_int(n_recourse, "n_recourse", min_value=0)
    n_counterfactuals = check_int(n_counterfactuals, "n_counterfactuals", min_value=1)
    n_jobs = check_n_jobs(n_jobs)
    if units is not None and not isinstance(units, dict):
        raise TypeError(f"`units` must be a dict {{column: unit}}; got {type(units).__name__}")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"`X` must be a pandas DataFrame (the audited rows); got {type(X).__name__}")
    if len(X) < 2:
        raise ValueError(f"`X` must have at least 2 rows; got {len(X)}")
    n_rows = len(X)
    frame = X.reset_index(drop=True)
    labels_index = list(X.index)

    # model, outputs, decisions -------------------------------------------------------------
    say("checking the model on the data")
    adapter = as_model(model)
    schema = TabularSchema.from_data(frame, what="X")
    codes = schema.encode(frame, what="X")
    bound = adapter.bind(schema, sample=codes)
    probabilities = predict(bound, codes)  # in calls of at most max_rows rows
    named = adapter.output_names is not None  # class labels known from the estimator, not probed names
    outputs = tuple(bound.output_names) if named else ()
    if not named and probabilities.ndim == 2 and probabilities.shape[1] == 2:
        # a bare callable: its two columns are the classes in scikit-learn's order (sorted labels of y)
        labels = sorted(pd.unique(pd.Series(np.asarray(y, dtype=object)).dropna())) if y is not None else []
        outputs = tuple(labels) if len(labels) == 2 else (0, 1)
    n_outputs = probabilities.shape[1] if probabilities.ndim == 2 else 1
    if len(outputs) != 2 or n_outputs != 2:
        raise ValueError(f"tx.audit needs a binary classifier with two class probabilities; the model gives "
                         f"{n_outputs} outputs {list(outputs)}")
    positive = outputs[1] if positive is None else positive
    pos_index = _index_of(outputs, positive, "positive")
    favorable = positive if favorable is None else favorable
    _index_of(outputs, favorable, "favorable")
    adverse = outputs[1 - _index_of(outputs, favorable, "favorable")]
    output_key = positive if named else pos_index  # how the explainers name the explained output
    proba = probabilities[:, pos_index]
    decisions = _decisions(adapter, schema, codes, probabilities, outputs)
    is_adverse = np.array([_same(d, adverse) for d in decisions])
    y_values = None
    if y is not None:
        y_values = np.asarray(y, dtype=object)
        if y_values.ndim != 1 or len(y_values) != n_rows:
            raise ValueError(f"`y` must have one label per row of X ({n_rows}); got shape {y_values.shape}")
        unknown = sorted({str(v) for v in y_values if not any(_same(v, o) for o in outputs)})
        if unknown:
            raise ValueError(f"`y` holds labels {unknown[:5]} that are not the model's classes {list(outputs)}")
    sensitive_values = _sensitive(sensitive, frame, X.index)
    applicant_positions = _applicants(applicants, X.index, is_adverse, max_applicants)
    generator = row_generator(seed, 0)
    global_positions = np.sort(generator.choice(n_rows, size=min(n_explained, n_rows), replace=False))
    if background is None:
        background_positions = np.sort(generator.choice(n_rows, size=min(n_background, n_rows), replace=False))
        background_rows = frame.iloc[background_positions]
    else:
        background_positions = None
        background_rows = background
    timings["model"] = time.perf_counter() - started

    result = {"title": title or "Audit of a credit model", "random_state": seed}
    result["model"] = {
        "repr": _model_repr(model), "type": _model_type(model), "outputs": [_plain(o) for o in outputs],
        "positive": _plain(positive), "favorable": _plain(favorable), "adverse": _plain(adverse),
        "n_rows": n_rows, "n_adverse": int(is_adverse.sum()), "adverse_rate": float(is_adverse.mean()),
        "columns": _columns(frame),
    }

    # performance ---------------------------------------------------------------------------
    tick = time.perf_counter()
    if y_values is not None:
        say("measuring performance")
        result["performance"] = _performance(proba, decisions, y_values, positive)
    else:
        result["performance"] = None
    timings["performance"] = time.perf_counter() - tick

    # Shapley values ------------------------------------------------------------------------
    tick = time.perf_counter()
    explained_positions = np.union1d(global_positions, applicant_positions)
    say(f"Shapley values of {len(explained_positions)} rows ({shapley}, {n_coalitions} coalitions, "
        f"{len(background_rows)} background rows)")
    explainer = _explainer(shapley, model, background_rows, n_coalitions, seed, output_key, feature_groups, link,
                           n_jobs)
    explanation = explainer.explain(X.iloc[explained_positions])
    where = {int(p): i for i, p in enumerate(explained_positions)}
    global_expl = explanation[[where[int(p)] for p in global_positions]]
    values = global_expl.values
    mean_abs = np.abs(values).mean(axis=0)
    m = values.shape[0]
    from scipy.stats import t as student

    half = student.ppf(0.975, max(m - 1, 1)) * np.abs(values).std(axis=0, ddof=1) / math.sqrt(m) if m > 1 \
        else np.full(values.shape[1], np.nan)
    players = list(explanation.feature_names)
    order = np.argsort(-mean_abs, kind="stable")
    result["shapley"] = {
        "method": type(explainer).__name__, "parameters": _plain(explanation.params.get("parameters")),
        "random_state": explanation.params.get("random_state"), "model_rows": explanation.params.get("model_rows"),
        "explained_positions": explained_positions.tolist(), "global_positions": global_positions.tolist(),
        "background_positions": None if background_positions is None else background_positions.tolist(),
        "n_background": len(background_rows), "base_value": float(explanation.base_values[0]),
        "scale": "log-odds" if link == "logit" else "probability",
        "features": [_plain(players[j]) for j in order],
        "mean_abs": [float(mean_abs[j]) for j in order],
        "ci_low": [float(mean_abs[j] - half[j]) for j in order],
        "ci_high": [float(mean_abs[j] + half[j]) for j in order],
    }
    timings["shapley"] = time.perf_counter() - tick

    # permutation importance ----------------------------------------------------------------
    tick = time.perf_counter()
    importance = None
    if y_values is not None:
        say(f"permutation importance ({n_repeats} repeats)")
        scoring = "roc_auc" if _offers_proba(model) else _ProbabilityAuc(positive, pos_index)
        importance = permutation_importance(model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=seed,
                                            feature_groups=feature_groups, n_jobs=n_jobs)
        table = importance.to_frame()
        result["permutation_importance"] = {
            "scoring": importance.scoring, "n_repeats": n_repeats, "baseline_score": importance.baseline_score,
            "features": [_plain(f) for f in table.index], "mean": table["mean"].tolist(),
            "stderr": table["stderr"].tolist(), "ci_low": table["ci_low"].tolist(),
            "ci_high": table["ci_high"].tolist()}
    else:
        result["permutation_importance"] = None
    timings["permutation_importance"] = time.perf_counter() - tick

    # partial dependence of the top single-column features ------------------------------------
    tick = time.perf_counter()
    top = [players[j] for j in order if players[j] in frame.columns][:top_features]
    dependence = []
    if top:
        say(f"partial dependence and ICE of {len(top)} features")
        curves = partial_dependences(model, X.iloc[global_positions], list(top), kind="both", output=output_key, link=link,
                                    grid_resolution=20, n_jobs=n_jobs)
        for feature, curve in zip(top, curves):
            dependence.append((curve, {"feature": _plain(feature), "categorical": bool(curve.categorical[0]),
                                       "grid": [_plain(v) for v in curve.grid_values[0]],
                                       "average": curve.average[0].tolist()}))
    result["partial_dependence"] = [entry for _, entry in dependence]
    timings["partial_dependence"] = time.perf_counter() - tick

    # reasons per adverse decision -------------------------------------------------------------
    tick = time.perf_counter()
    say(f"principal reasons for {len(applicant_positions)} applicants")
    direction = "positive" if _same(adverse, positive) else "negative"
    sign = 1.0 if direction == "positive" else -1.0
    applicant_expl = explanation[[where[int(p)] for p in applicant_positions]]
    codes = reason_codes(applicant_expl, k=k, direction=direction, units=units) if len(applicant_positions) else \
        reason_codes(explanation[:0], k=k, direction=direction, units=units)
    by_row = {}
    for line in codes.itertuples(index=False):
        by_row.setdefault(line.row, []).append(line)
    proba_adverse = probabilities[:, 1 - _index_of(outputs, favorable, "favorable")]
    sensitive_sources = {source for _, source in sensitive_values.values() if source is not None}
    applicants_out = []
    for p in applicant_positions:
        label = labels_index[p]
        lines = by_row.get(label, [])
        applicants_out.append({
            "row": _plain(label), "position": int(p), "decision": _plain(decisions[p]),
            "probability_adverse": float(proba_adverse[p]),
            "reasons": [{"rank": int(r.rank), "feature": _plain(r.feature), "condition": r.condition,
                         "contribution": float(sign * r.contribution),
                         "stderr": None if np.isnan(r.stderr) else float(r.stderr), "certain": bool(r.certain),
                         "sensitive": r.feature in sensitive_sources}
                        for r in lines]})
    result["reasons"] = {"k": k, "direction": direction, "explained_output": _plain(positive),
                         "applicants": applicants_out,
                         "n_uncertain": int((~codes["certain"]).sum()) if len(codes) else 0,
                         "n_sensitive": sum(r["sensitive"] for a in applicants_out for r in a["reasons"])}
    timings["reasons"] = time.perf_counter() - tick

    # recourse: what the first declined applicants could change ---------------------------------
    tick = time.perf_counter()
    result["recourse"] = None
    if n_recourse:
        fav_index = _index_of(outputs, favorable, "favorable")
        declined = [int(p) for p in applicant_positions
                    if is_adverse[p] and probabilities[p].argmax() != fav_index][:n_recourse]
        immutable = [c for c in frame.columns if c in sensitive_sources]
        monotone = {"age": "increase"} if "age" in frame.columns and "age" not in immutable and \
            pd.api.types.is_numeric_dtype(frame["age"]) else {}
        say(f"counterfactuals for {len(declined)} declined applicants")
        result["recourse"] = _recourse(model, X, declined, labels_index, favorable if named else fav_index,
                                       favorable, immutable, monotone, n_counterfactuals, seed, n_jobs)
    timings["recourse"] = time.perf_counter() - tick

    tick = time.perf_counter()
    say("typical and unusual applicants")
    result["typical"] = typical_applicants(model, X, is_adverse, random_state=seed,
                                           output=favorable if named else _index_of(outputs, favorable, "favorable"))
    timings["typical"] = time.perf_counter() - tick

    # fairness ---------------------------------------------------------------------------------
    tick = time.perf_counter()
    fairness, fairness_groups = [], []
    for name, (values_of_rows, source) in sensitive_values.items():
        say(f"fairness by {name}")
        groups = values_of_rows
        banded = False
        if pd.api.types.is_numeric_dtype(groups) and groups.nunique() > 8:
            groups, banded = numeric_bands(groups), True
        metrics = group_fairness(decisions, groups, y_true=y_values, positive=positive, favorable=favorable,
                                 n_bootstrap=n_bootstrap, random_state=seed)
        table = metrics["table"]
        entry = {"attribute": _plain(name), "banded": banded, "source": _plain(source),
                 "groups": [_plain(g) for g in table.index],
                 "table": {column: [_plain(v) for v in table[column]] for column in table.columns},
                 "equalized_odds_difference": metrics.get("equalized_odds_difference"),
                 "equalized_odds_difference_interval": metrics.get("equalized_odds_difference_interval"),
                 "demographic_parity_difference": metrics["demographic_parity_difference"],
                 "demographic_parity_difference_interval": metrics.get("demographic_parity_difference_interval"),
                 "threshold": metrics["threshold"], "n_bootstrap": n_bootstrap}
        entry["direct_attribution"] = _direct(source, players, mean_abs)
        entry["group_mean_attributions"] = _group_means(global_expl, groups.iloc[global_positions], players)
        fairness_groups.append(groups.iloc[global_positions])
        fairness.append(entry)
    result["fairness"] = fairness
    timings["fairness"] = time.perf_counter() - tick

    # glass-box baselines and surrogate ------------------------------------------------------------
    tick = time.perf_counter()
    say("glass-box baselines and a rule-list surrogate")
    result["glass_box"] = _glass_box(model, X, y_values, seed)
    timings["glass_box"] = time.perf_counter() - tick

    # provenance ---------------------------------------------------------------------------------
    parameters = {"positive": _plain(positive), "favorable": _plain(favorable), "random_state": seed,
                  "shapley": shapley, "n_coalitions": n_coalitions, "n_background": n_background,
                  "n_explained": n_explained, "max_applicants": max_applicants, "k": k, "units": units,
                  "link": link,
                  "feature_groups": _plain(feature_groups), "n_repeats": n_repeats, "top_features": top_features,
                  "n_bootstrap": n_bootstrap, "n_recourse": n_recourse, "n_counterfactuals": n_counterfactuals,
                  "background": "given" if background is not None else "drawn from X",
                  "applicants": "given" if applicants is not None else "adverse decisions",
                  "sensitive": [_plain(s) for s in sensitive_values], "n_jobs": n_jobs}
    result["provenance"] = {
        "time": _provenance.utc_now(), "command_line": _provenance.command_line(),
        "versions": _provenance.report_versions(), "random_state": seed, "parameters": parameters,
        "data_sha256": _provenance.data_sha256(X, y), "model_sha256": _provenance.model_sha256(model),
        **{str(key): _plain(value) for key, value in (provenance or {}).items()},
    }
    result = _plain(result)
    tick = time.perf_counter()
    figures = report_figures(result, importance, dependence, positive, global_expl, fairness_groups, applicant_expl[:1])
    timings["figures"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    result["timings"] = {key: round(value, 3) for key, value in timings.items()}
    return AuditReport(result, figures)

"""``tx.audit``: one self-contained HTML audit report of a binary credit model.

The report computes nothing of its own that the library does not offer: every number comes from a
public function (``permutation_importance``, ``KernelSHAP``, ``partial_dependence``,
``reason_codes``, ``fit_surrogate``, ``Counterfactuals``, fairlearn's ``MetricFrame``) called with the
parameters recorded in the report's provenance, so each can be reproduced by calling that function
directly. :func:`audit` validates its arguments, prepares one context (``_context.prepare``: the bound
model, its own decisions, labels paired with the rows) and runs the sections (``_sections``) over it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from .._validation import check_choice, check_int, check_n_jobs, resolve_seed
from ._context import audit_link, prepare
from ._figures import report_figures
from ._inputs import _plain
from ._portfolio import ReasonText
from ._report import AuditReport
from ._sections import (dependence_section, fairness_section, glass_box_section, importance_section, model_section,
                        performance_section, provenance_section, reasons_section, recourse_section, shapley_section,
                        typical_section)

__all__ = ["audit"]


def audit(model, X, y=None, *, sensitive=None, applicants=None, positive=None, favorable=None, background=None,
          decision=None, random_state=0, shapley="kernel", n_coalitions=None, n_background=8, n_explained=80,
          max_applicants=None, k=4, units=None, feature_groups=None, link="auto", n_repeats=5, top_features=3,
          n_bootstrap=200, n_recourse=10, n_counterfactuals=3, reasons_out=None, reason_text=None, title=None,
          provenance=None, n_jobs=None, progress=None):
    """Audit a binary classifier: performance, drivers, reasons per adverse decision, fairness.

    Parameters
    ----------
    model : estimator, Pipeline or callable
        A fitted binary classifier (its ``predict_proba`` is explained, its own ``predict`` makes the
        decisions: thresholds of ``FixedThresholdClassifier`` or ``TunedThresholdClassifierCV`` and a
        custom ``predict`` included) or a callable returning the two class probabilities (in the
        order of the sorted labels of ``y``).
    X : DataFrame of shape (n_rows, n_columns)
        The audited rows (held out from training), in the model's input format.
    y : array-like of shape (n_rows,), default=None
        True labels of ``X``: enables performance, permutation importance, TPR/FPR/precision by
        group and the glass-box baselines' accuracy. A Series is paired with ``X`` by index (as in
        permutation importance; labels that do not match are an error), an array by position.
    sensitive : list or dict, default=None
        Sensitive attributes: column names of ``X`` or ``{name: values}`` with one value per row
        (attributes the model does not see; a Series is paired with ``X`` by index). Numeric
        attributes with more than 8 values are cut into 4 bands. A Series named after a column of
        ``X`` counts as derived from it: the direct attribution reported is that column's (or its
        feature group's, and reasons citing that group are flagged as sensitive).
    applicants : list of index labels or boolean array, default=None
        Rows to give principal reasons for; default every row with an adverse decision.
    positive : label, default=None
        The class whose probability is explained and the positive label of the rates (ROC AUC,
        selection rate, TPR, FPR); default the model's second class.
    favorable : label, default=None
        The favourable decision (four-fifths rule); adverse decisions are the others. Default
        ``positive``.
    background : DataFrame, default=None
        Reference rows of the Shapley values; default a weighted summary of ``X`` in
        ``n_background`` rows.
    decision : callable or float, default=None
        For a callable model only: how it decides (see :func:`tabxai.as_model`): a callable returning
        labels, or a threshold on the probability of the second class. Default: the more probable
        class. Every count of decisions, adverse decision and recourse uses it.
    random_state : int, default=0
        The one seed of every random choice; recorded in the report.
    shapley : {"kernel", "permutation"}, default="kernel"
        ``KernelSHAP`` or ``PermutationShapley`` for the Shapley values.
    n_coalitions : int, default=None
        Most coalitions per applicant. Each applicant's Shapley values are sampled in rounds until its
        ``k`` principal reasons have statistically certain ranks, or none of the uncertain ones can
        settle within this budget (:func:`tabxai.report.reasons_settled`). Default 512 (more when
        the players need it). The global view's rows get a fixed 160 (or what the players need).
    n_background : int, default=8
        Rows of the background when ``background`` is None: a weighted summary of ``X``
        (:func:`tabxai.background_summary`: medoids of k-means clusters, weighted by their size).
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
    link : {"auto", None, "logit"}, default="auto"
        Scale of the Shapley values, reasons and partial dependence: probabilities (None), or log-odds
        (``"logit"``, the additive scale of a credit scorecard). ``"auto"``: log-odds when every
        probability the model gives on the audited rows lies strictly between 0 and 1 (gradient
        boosting, logistic regression, neural networks), probabilities otherwise (a random forest's
        0 and 1 have no log-odds). On the log-odds scale a boosted model's game is close to additive,
        so the same coalitions give smaller standard errors and more reasons with a certain rank
        (Adult: ``docs/benchmarks.md``, section portfolio).
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
    reasons_out : str or Path, default=None
        Write the reasons of every adverse decision to this ``.csv`` or ``.parquet`` file, chunk by
        chunk (bounded memory): one line per applicant with ``row`` (the index label),
        ``decision``, ``score`` (probability of the adverse class) and for i = 1..k ``reason_i``,
        ``contribution_i``, ``stderr_i``, ``certain_i`` (and ``statement_i`` with ``reason_text``).
        ``report.reasons`` reads it back; without a file it is kept in memory. The HTML shows a
        sample (the first and the riskiest applicants), the totals and how often each feature is
        cited, overall and by sensitive group, whatever the number of applicants.
    reason_text : dict or str, default=None
        A lender's wording of the reasons (or the path of a JSON file holding it):
        ``{feature: text}``, ``{feature: {"high": text, "low": text}}`` (numbers, split at the
        median of ``X``) or ``{feature: {category: text}}``; the generated condition otherwise.
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
    say = progress if callable(progress) else (lambda message: None)
    started = time.perf_counter()
    options = {
        "shapley": check_choice(shapley, "shapley", ("kernel", "permutation")),
        "link": check_choice(link, "link", ("auto", None, "logit")),
        "n_coalitions": check_int(n_coalitions, "n_coalitions", min_value=2, allowed=(None,)),
        "n_background": check_int(n_background, "n_background", min_value=1),
        "n_explained": check_int(n_explained, "n_explained", min_value=1),
        "max_applicants": check_int(max_applicants, "max_applicants", min_value=0, allowed=(None,)),
        "k": check_int(k, "k", min_value=1), "units": units, "feature_groups": feature_groups,
        "n_repeats": check_int(n_repeats, "n_repeats", min_value=1),
        "top_features": check_int(top_features, "top_features", min_value=0),
        "n_bootstrap": check_int(n_bootstrap, "n_bootstrap", min_value=0),
        "n_recourse": check_int(n_recourse, "n_recourse", min_value=0),
        "n_counterfactuals": check_int(n_counterfactuals, "n_counterfactuals", min_value=1),
        "n_jobs": check_n_jobs(n_jobs),
        "background": "given" if background is not None else "drawn from X",
        "applicants": "given" if applicants is not None else "adverse decisions",
        "decision": None if decision is None else repr(decision),
        "reasons_out": None if reasons_out is None else str(reasons_out), "reason_text": reason_text,
    }
    if units is not None and not isinstance(units, dict):
        raise TypeError(f"`units` must be a dict {{column: unit}}; got {type(units).__name__}")
    if reasons_out is not None and (Path(reasons_out).suffix.lower() not in (".csv", ".parquet") or
                                    not Path(reasons_out).parent.is_dir()):
        raise ValueError(f"`reasons_out` must be a .csv or .parquet file in an existing directory; got "
                         f"{str(reasons_out)!r}")
    if reason_text is not None:
        options["reason_text"] = ReasonText(reason_text, X if isinstance(X, pd.DataFrame) else pd.DataFrame()).mapping
    ctx = prepare(model, X, y, sensitive=sensitive, applicants=applicants, positive=positive, favorable=favorable,
                  background=background, decision=decision, seed=resolve_seed(random_state), options=options, say=say)
    options["link"], options["link_auto"] = audit_link(link, ctx.probabilities), link == "auto"
    ctx.timings["model"] = time.perf_counter() - started

    result = {"title": title or "Audit of a credit model", "random_state": ctx.seed, "model": model_section(ctx)}
    result["performance"] = ctx.timed("performance", performance_section)
    result["shapley"], attributions = ctx.timed("shapley", shapley_section)
    result["permutation_importance"], importance = ctx.timed("permutation_importance", importance_section)
    result["partial_dependence"], curves = ctx.timed("partial_dependence", dependence_section, attributions,
                                                     result["shapley"]["features"])
    result["reasons"], reasons, applicant_expl = ctx.timed("reasons", reasons_section)
    result["recourse"] = ctx.timed("recourse", recourse_section)
    result["typical"] = ctx.timed("typical", typical_section)
    result["fairness"], fairness_groups = ctx.timed("fairness", fairness_section, attributions)
    result["glass_box"] = ctx.timed("glass_box", glass_box_section)
    result["provenance"] = provenance_section(ctx, {"y": y, "extra": provenance})
    result = _plain(result)
    dependence = list(zip(curves, result["partial_dependence"]))
    figures = ctx.timed("figures", lambda c: report_figures(result, importance, dependence, ctx.positive,
                                                            attributions.of(ctx.global_positions), fairness_groups,
                                                            applicant_expl if applicant_expl is not None
                                                            else attributions.explanation[:0]))
    ctx.timings["total"] = time.perf_counter() - started
    result["timings"] = {key: round(value, 3) for key, value in ctx.timings.items()}
    return AuditReport(result, figures, reasons)

"""The report's figures as embedded PNG data: the one place that draws for the audit report.

Each function draws one figure with matplotlib's Agg canvas (no display, no global pyplot state)
and returns a ``data:image/png;base64,...`` URI for an ``<img>`` tag.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

from .._display import shorten

__all__ = [
    "report_figures",
    "attribution_bar",
    "beeswarm",
    "waterfall","calibration", "group_rates", "partial_dependence", "permutation_importance"]

_DPI = 80


def attribution_bar(explanation, max_display=15, cohorts=None):
    """``tx.plots.bar`` of the explained rows: mean |attribution| with CIs (one bar per cohort with ``cohorts``)."""
    from .. import plots

    figure, ax = _figure(6.5, 0.32 * max_display + 1.2 if cohorts is None else 0.5 * max_display + 1.5)
    plots.bar(explanation, ax=ax, max_display=max_display, cohorts=cohorts)
    return _data_uri(figure)


def beeswarm(explanation, max_display=12):
    """``tx.plots.beeswarm`` of the explained rows."""
    from .. import plots

    figure, ax = _figure(6.5, 0.35 * max_display + 1.2)
    plots.beeswarm(explanation, ax=ax, max_display=max_display)
    return _data_uri(figure)


def waterfall(explanation, max_display=10):
    """``tx.plots.waterfall`` of one explained row."""
    from .. import plots

    figure, ax = _figure(6.5, 0.4 * max_display + 1.2)
    plots.waterfall(explanation, ax=ax, max_display=max_display)
    return _data_uri(figure)


def _figure(width=6.0, height=3.2):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    return figure, figure.add_subplot()


def _data_uri(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def permutation_importance(result, max_features=12):
    """The permutation importance result's own box plot."""
    figure, ax = _figure(6.0, 0.3 * min(len(result.feature_names), max_features) + 1.2)
    result.plot(ax=ax, max_features=max_features)
    ax.set_yticks(ax.get_yticks(), [shorten(t.get_text(), 32) for t in ax.get_yticklabels()])
    return _data_uri(figure)


def partial_dependence(result, output):
    """A partial dependence result's own plot (average with ICE curves, or bars for categories)."""
    figure, ax = _figure(4.2, 3.0)
    result.plot(ax=ax, output=output, max_ice_lines=50, random_state=0)
    if result.categorical[0]:
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.set_xticks(ax.get_xticks(), [shorten(t.get_text(), 20) for t in ax.get_xticklabels()])
    return _data_uri(figure)


def calibration(mean_predicted, fraction_positive, positive):
    """Reliability diagram: observed share of ``positive`` against the mean predicted probability."""
    figure, ax = _figure(3.6, 3.2)
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle="--", label="perfectly calibrated")
    ax.plot(mean_predicted, fraction_positive, marker="o", color="#4a78a8", label="model")
    ax.set_xlabel(f"predicted P({shorten(positive, 16)})")
    ax.set_ylabel("observed share")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=7)
    return _data_uri(figure)


def group_rates(groups, rates, low, high, label):
    """Favourable-outcome rate per group with its bootstrap interval and the four-fifths line."""
    rates = np.asarray(rates, dtype=float)
    figure, ax = _figure(5.0, 0.35 * len(groups) + 1.0)
    positions = np.arange(len(groups))[::-1]
    errors = np.vstack([rates - np.asarray(low, float), np.asarray(high, float) - rates])
    ax.barh(positions, rates, xerr=np.where(np.isfinite(errors), np.maximum(errors, 0), 0), color="#6a9a58",
            capsize=2)
    if np.isfinite(rates).any():
        ax.axvline(0.8 * np.nanmax(rates), color="#b03030", linewidth=1, linestyle="--", label="4/5 of highest")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7, frameon=False)  # above the bars
    ax.set_yticks(positions, [shorten(g, 24) for g in groups])
    ax.set_xlabel(label)
    ax.set_xlim(0, 1)
    return _data_uri(figure)


def report_figures(result, importance, dependence, positive, global_expl, fairness_groups, first_applicant):
    """Every figure of the report, by section, as data URIs (None where a section has none)."""
    figures = {"permutation_importance": None, "calibration": None, "waterfall": None,
               "cohorts": [None] * len(fairness_groups)}
    figures["shapley"] = attribution_bar(global_expl)
    figures["beeswarm"] = beeswarm(global_expl)
    for i, groups in enumerate(fairness_groups):
        labels = pd.Series(np.asarray(groups, dtype=object)).fillna("missing").astype(str).to_numpy()
        if 1 < len(set(labels)) <= 8:  # tx.plots.bar draws at most 8 cohorts
            figures["cohorts"][i] = attribution_bar(global_expl, max_display=8, cohorts=labels)
    if len(first_applicant):
        figures["waterfall"] = waterfall(first_applicant[0])
    if importance is not None:
        figures["permutation_importance"] = permutation_importance(importance)
    if result["performance"] is not None:
        curve = result["performance"]["calibration"]
        figures["calibration"] = calibration(curve["mean_predicted"], curve["fraction_positive"], positive)
    figures["partial_dependence"] = [partial_dependence(curve, None) for curve, _ in dependence]
    figures["fairness"] = []
    for entry in result["fairness"]:
        table = entry["table"]
        low = table.get("impact_ratio_low")
        figures["fairness"].append(group_rates(
            entry["groups"], table["favorable_rate"],
            [np.nan] * len(entry["groups"]) if low is None else _favorable_bounds(table, "low"),
            [np.nan] * len(entry["groups"]) if low is None else _favorable_bounds(table, "high"),
            f"rate of '{result['model']['favorable']}' decisions"))
    return figures


def _favorable_bounds(table, side):
    """Bootstrap bounds of the favourable rate (of the selection rate, flipped when favourable is not positive)."""
    rates, favorable = table["selection_rate"], table["favorable_rate"]
    flipped = any(r is not None and f is not None and abs(r - f) > 1e-12 for r, f in zip(rates, favorable))
    if not flipped:
        return [np.nan if v is None else v for v in table[f"selection_rate_{side}"]]
    other = "high" if side == "low" else "low"
    return [np.nan if v is None else 1.0 - v for v in table[f"selection_rate_{other}"]]

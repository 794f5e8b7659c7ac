"""Plots: drawing time of a beeswarm of 10,000 rows x 20 players (target: under 2 s), beside shap.

Each job builds the plot on a new figure and renders it with the Agg backend
(``figure.canvas.draw()``, what a PNG export or a notebook costs), then closes the figure. The
attributions are synthetic (random values with a realistic spread, numeric and categorical data),
so only drawing is timed. shap's ``beeswarm``/``bar``/``waterfall`` draw the same data in the same
process, interleaved. The notebook display (``_repr_html_``) of the same explanation is timed too,
with its size.
"""

from __future__ import annotations

import os
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import tabxai as tx  # noqa: E402

from ._common import interleaved, markdown_table  # noqa: E402

TITLE = "Plots: beeswarm of 10,000 rows x 20 players, bar and waterfall, notebook display"

TARGET_SECONDS = 2.0


def _explanation(n_rows, n_players, seed=0):
    rng = np.random.default_rng(seed)
    columns = {}
    for j in range(n_players):
        if j % 4 == 3:
            columns[f"category_{j}"] = pd.Categorical(rng.choice(["low", "mid", "high", "none"], size=n_rows))
        else:
            columns[f"number_{j}"] = rng.normal(size=n_rows)
    data = pd.DataFrame(columns)
    scale = np.linspace(1.0, 0.05, n_players)
    values = rng.normal(size=(n_rows, n_players)) * scale
    stderr = np.abs(rng.normal(size=(n_rows, n_players))) * 0.02
    expl = tx.Explanation(values, np.full(n_rows, 0.3), data, list(data.columns), ["bad"], stderr=stderr,
                          params={"method": "synthetic", "response": "predict_proba"})
    return expl, data, values


def _draw(make):
    def job():
        ax = make()
        figure = ax.figure
        figure.canvas.draw()
        plt.close(figure)
    return job


def _shap(kind, data, values):
    import shap

    explanation = shap.Explanation(values=values, base_values=np.full(len(values), 0.3),
                                   data=data.apply(lambda c: c.cat.codes if hasattr(c, "cat") else c).to_numpy(),
                                   feature_names=list(data.columns))

    def make():
        figure = plt.figure()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "beeswarm":
                shap.plots.beeswarm(explanation, max_display=len(data.columns), show=False)
            elif kind == "bar":
                shap.plots.bar(explanation, max_display=len(data.columns), show=False)
            else:
                shap.plots.waterfall(explanation[0], show=False)
        return figure.axes[0] if figure.axes else plt.gcf().axes[0]
    return make


def run(quick=False):
    n_rows, n_players = (10_000, 20)
    expl, data, values = _explanation(n_rows, n_players)
    repeats = 2 if quick else 3
    jobs = {
        "tabxai beeswarm": _draw(lambda: tx.plots.beeswarm(expl, max_display=n_players)),
        "tabxai bar": _draw(lambda: tx.plots.bar(expl, max_display=n_players)),
        "tabxai waterfall": _draw(lambda: tx.plots.waterfall(expl[0])),
    }
    try:
        import shap  # noqa: F401

        jobs.update({f"shap {kind}": _draw(_shap(kind, data, values)) for kind in ("beeswarm", "bar", "waterfall")})
    except ImportError:
        pass
    _draw(lambda: tx.plots.beeswarm(expl))()  # warm up fonts and caches
    times, _ = interleaved(jobs, repeats=repeats)
    rows = []
    for kind in ("beeswarm", "bar", "waterfall"):
        ours = times[f"tabxai {kind}"]
        peer = times.get(f"shap {kind}")
        target = f"{ours / TARGET_SECONDS:.2f}" if kind == "beeswarm" else ""
        rows.append([kind, ours, "" if peer is None else peer, "" if peer is None else f"{ours / peer:.2f}", target])
    html_times, html = interleaved({"html": expl._repr_html_}, repeats=repeats)
    table = markdown_table(["plot (10,000 rows x 20 players)", "tabxai s", "shap s", "tabxai / shap",
                            f"tabxai / {TARGET_SECONDS:.0f} s target"], rows)
    return (f"{table}\n\nAll 20 players drawn (`max_display=20`) by both; the waterfall shows one row with 10 bars. "
            f"Drawing includes rendering with Agg (`figure.canvas.draw()`), median of {repeats} "
            f"interleaved runs. Notebook display `_repr_html_` of the same explanation: "
            f"{html_times['html'] * 1000:.1f} ms, {len(html['html']):,} characters (bounded: a summary, not the "
            f"rows). Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other jobs "
            f"slow both libraries alike).\n")


if __name__ == "__main__":
    print(run(quick=True))

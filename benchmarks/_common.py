"""Shared measuring tools: a row-counting model wrapper, the model floor, interleaved timing."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np


class CountingModel:
    """Wrap a predict function, count the rows passed to it and keep a sample of them.

    ``sample`` holds up to ``keep`` of the rows the explainer asked about (taken from its largest
    calls), so the model floor can be measured on the very rows an explainer produces: tree
    models predict faster on masked rows, which share most values with the background.
    """

    def __init__(self, function, keep=100_000):
        self.function = function
        self.keep = keep
        self.rows = 0
        self.calls = 0
        self.sample = None

    def __call__(self, data):
        self.rows += len(data)
        self.calls += 1
        if self.sample is None or len(self.sample) < min(len(data), self.keep):
            self.sample = data[: self.keep].copy()
        return self.function(data)


def model_floor(function, data, n_rows, *, batch=100_000, repeats=3):
    """Seconds ``function`` needs for ``n_rows`` rows in batches of ``batch`` (median of repeats).

    ``data`` is a representative input (DataFrame or array); it is tiled to the batch size.
    """
    if n_rows == 0:
        return 0.0
    size = min(batch, n_rows)
    take = np.resize(np.arange(len(data)), size)
    block = data.iloc[take] if hasattr(data, "iloc") else data[take]
    function(block[:10] if not hasattr(block, "iloc") else block.iloc[:10])  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(block)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * n_rows / size


def timed(function, repeats=3):
    """Median wall time of ``function()`` over ``repeats`` runs, and its last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def interleaved(functions, repeats=3):
    """Time several jobs interleaved (a, b, a, b, ...) so machine noise hits all alike.

    Returns a dict name -> median seconds, and name -> last result.
    """
    times = {name: [] for name in functions}
    results = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}, results


def markdown_table(header, rows):
    """A Markdown table from a header list and rows of cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, float):
        if value == 0 or 0.001 <= abs(value) < 10_000:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return f"{value:.2e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def job_b():
    """Job B of BENCHMARKS.md: (background 20 rows, 4 explained rows, HistGradientBoosting on 16 features)."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = make_classification(n_samples=5000, n_features=16, n_informative=10, random_state=1)
    model = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    return X[:20], X[100:104], model


def relative_error(values, truth):
    """``||phi_hat - phi|| / ||phi||`` per explained row, averaged over rows."""
    return float(np.mean(np.linalg.norm(values - truth, axis=1) / np.linalg.norm(truth, axis=1)))


_MEMORY_SCRIPT = """
import resource, sys, numpy as np, tabxai as tx
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
model = LogisticRegression(max_iter=1000).fit(X, y)
rows = np.resize(X, (int(sys.argv[1]), X.shape[1]))
{explainer}.explain(rows)
try:  # this process's own high-water mark: ru_maxrss keeps the parent's peak across fork and exec on Linux
    print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
except (OSError, StopIteration):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory_mib(explainer, n_rows):
    """Peak resident memory (MiB) of a fresh process explaining ``n_rows`` rows of job A.

    The peak is the child's own ``VmHWM`` (Linux): ``ru_maxrss`` of a child started by a large
    parent reports the parent's peak, since Linux carries it across fork and exec.

    ``explainer`` is Python source building the explainer from ``model`` and ``X`` (12 features),
    e.g. ``"tx.KernelSHAP(model, X[:500], output=1, random_state=0)"``.
    """
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT.format(explainer=explainer), str(n_rows)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def load_note(start_load):
    """A sentence on how loaded the machine was: 1-minute load average at the start and at the end."""
    import os

    return (f"Load average (1 min) {start_load:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, on "
            f"{os.cpu_count()} cores shared with other jobs: absolute times are noisy, ratios taken in the same "
            "run less so.")

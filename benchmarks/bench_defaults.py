"""Defaults: what a user gets without tuning, one line per target of the defaults table (issue 21).

Every model runs with one thread (threadpoolctl), floors included.

- KernelSHAP on Adult: 12 players (the Adult columns but ``fnlwgt`` and ``education``, which
  ``education_num`` codes), HistGradientBoosting on integer-coded categories, background 50 rows,
  4 explained rows, truth by enumerating all 4,096 coalitions. tabxai with its defaults (and with
  each ``adjustment`` forced) at two budgets; shap's KernelExplainer gets, per budget, the
  ``nsamples`` that takes the same wall time (timed, scaled, timed and scaled again, then measured),
  and the error ratio is taken at equal seconds. Relative error ``||phi_hat - phi|| / ||phi||``,
  mean over rows and seeds.
- The default's cost where the adjustment cannot pay: a cheap model whose game is a pure interaction of
  order seven, ``adjustment="auto"`` against ``None``, wall and CPU time.
- LIME on California housing (8 numeric columns; logistic regression of "above the median value"),
  5,000 samples per row, background 1,000 rows: tabxai's default sampler against lime's
  LimeTabularExplainer (its defaults, quartile discretizer), seconds per row, interleaved.
- Image LIME on a cheap network (64 x 64 x 3 float32 images, a NumPy two-layer network of about the
  cost of a small CNN), 1,000 samples, 64 grid segments: wall time over the model floor (the same
  network on as many images as tabxai asked for, counted, batches of 256), with fixed 8 MiB calls and
  with the previous defaults (float64 images, 64 MiB batches) beside it.
- Permutation importance on a logistic regression, 10,000 rows, 12 features, 5 repeats: wall time over
  the model floor, scikit-learn's beside it.
- ExactShapley on job A (logistic regression, background 100 rows, 5 rows): wall time over the floor.
- PermutationShapley's ``adjustment="auto"``: error and coverage against ``None`` on a game where the
  control variate pays, and its cost where it does not.

Every time is a median of interleaved repetitions with its floor, on a shared machine.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

import tabxai as tx

from ._common import CountingModel, interleaved, load_note, markdown_table, model_floor, relative_error

TITLE = "Defaults: accuracy and speed without tuning"


def _adult():
    """Adult as a float matrix (categories as integer codes, missing as NaN) and a fitted model on it."""
    X, y = tx.datasets.load_adult(split="train")
    X = X.drop(columns=["fnlwgt", "education"])
    categorical = [i for i, c in enumerate(X.columns) if not pd.api.types.is_numeric_dtype(X[c])]
    codes = np.column_stack([
        np.where(X[c].cat.codes.to_numpy() < 0, np.nan, X[c].cat.codes.to_numpy()) if i in categorical
        else X[c].to_numpy(dtype=float) for i, c in enumerate(X.columns)])
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=0)
    model.fit(codes, (y == ">50K").to_numpy())
    return codes, model


def _shap_kernel(predict, background, rows, nsamples, seed):
    import shap

    np.random.seed(seed)  # shap's KernelExplainer draws from NumPy's global generator
    explainer = shap.KernelExplainer(predict, background)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(explainer.shap_values(rows, nsamples=nsamples, silent=True))


def _seconds(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _kernel_adult(quick):
    codes, model = _adult()
    background, rows = codes[:50], codes[1000:1004]

    def predict(data):
        return model.predict_proba(data)[:, 1]

    truth = tx.ExactShapley(predict, background).explain(rows).values
    seeds = range(2 if quick else 4)
    budgets = ["auto"] if quick else [1024, "auto"]
    tx.KernelSHAP(predict, background, n_coalitions=512, random_state=0).explain(rows[:1])  # compile
    _shap_kernel(predict, background, rows[:1], 64, 0)  # import shap before timing it
    table = []
    for budget in budgets:
        errors, seconds, adjusted = {}, {}, {}
        for adjustment in ("auto", None, "trees"):
            runs = [_seconds(lambda s=seed: tx.KernelSHAP(predict, background, n_coalitions=budget,
                                                          adjustment=adjustment, random_state=s).explain(rows))
                    for seed in seeds]
            seconds[adjustment] = float(np.median([t for t, _ in runs]))
            errors[adjustment] = float(np.mean([relative_error(e.values, truth) for _, e in runs]))
            adjusted[adjustment] = float(np.mean([e.diagnostics["adjusted"].mean() for _, e in runs]))
            if adjustment == "auto":
                coverage = float(np.mean([np.abs(e.values - truth) <= 1.96 * e.stderr for _, e in runs]))
        cells = []
        for adjustment in ("auto", None, "trees"):
            nsamples = 256
            for _ in range(2):  # shap's time is not proportional to nsamples: two secant steps
                elapsed, _ = _seconds(lambda n=nsamples: _shap_kernel(predict, background, rows, n, 0))
                nsamples = int(np.clip(round(nsamples * seconds[adjustment] / elapsed), 2 * 12 + 2, 4094))
            shap_runs = [_seconds(lambda s=seed: _shap_kernel(predict, background, rows, nsamples, s))
                         for seed in seeds]
            shap_seconds = float(np.median([t for t, _ in shap_runs]))
            shap_error = float(np.mean([relative_error(v, truth) for _, v in shap_runs]))
            cells.append((errors[adjustment] / shap_error, shap_seconds / seconds[adjustment], nsamples))
        (auto, auto_time, auto_n), (plain, plain_time, _), (trees, trees_time, _) = cells
        table.append([str(budget), seconds["auto"], errors["auto"], f"{coverage:.3f}", f"{adjusted['auto']:.2f}",
                      auto_n, auto_time, auto, plain, trees, seconds["auto"] / seconds[None]])
    header = ["`n_coalitions`", "tabxai default: seconds", "error", "95% coverage", "rows adjusted",
              "shap nsamples at equal time",
              "shap time / tabxai time (measured)", "**default error / shap's** (target <= 0.1)",
              "`adjustment=None` / shap", "`adjustment=\"trees\"` / shap", "default time / plain time"]
    intro = ("KernelSHAP, `tx.KernelSHAP(model, background).explain(rows)`, against shap's KernelExplainer at equal "
             "wall time. Adult, 12 players (all columns but `fnlwgt` and `education`), HistGradientBoosting on "
             "integer-coded categories, background 50 rows, 4 explained rows, truth by enumerating all 4,096 "
             f"coalitions; error `||phi_hat - phi|| / ||phi||`, mean over rows and {len(seeds)} seeds. shap's "
             "`nsamples` is chosen for the same seconds as each tabxai variant (two steps of timing and scaling from "
             "256); the "
             "time ratio says how equal the seconds came out.\n\n")
    return intro + markdown_table(header, table)


def _floor_job(function, sample, n_rows, batch=100_000):
    """The model floor as a job to interleave with the others: ``n_rows`` rows of ``sample`` in large batches."""
    size = min(batch, n_rows)
    block = sample[np.resize(np.arange(len(sample)), size)]

    def run():
        for start in range(0, n_rows, size):
            function(block[: min(size, n_rows - start)])

    return run


def _parity(data):
    """The sign of a product of seven columns: an interaction of order seven that no tree of depth five holds."""
    return np.prod(np.sign(data[:, :7]), axis=1)


def _auto_cost(quick):
    """Time of the default against ``adjustment=None`` where the adjustment cannot pay, on a cheap model."""
    rng = np.random.default_rng(0)
    rows, background = np.abs(rng.normal(size=(8, 12))), -np.abs(rng.normal(size=(20, 12)))
    explainers = {str(a): tx.KernelSHAP(_parity, background, adjustment=a, random_state=0, n_jobs=1)
                  for a in ("auto", None)}
    for explainer in explainers.values():
        explainer.explain(rows[:1])
    wall, cpu = [], []
    for _ in range(5 if quick else 15):  # alternated; CPU time is less disturbed by other jobs on the machine
        spent = {}
        for name, explainer in explainers.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            result = explainer.explain(rows)
            spent[name] = (time.perf_counter() - start_wall, time.process_time() - start_cpu)
            if name == "auto":
                adjusted = result.diagnostics["adjusted"].mean()
        wall.append(spent["auto"][0] / spent["None"][0])
        cpu.append(spent["auto"][1] / spent["None"][1])
    return ("Where the adjustment cannot pay, the default costs its pilot only: a NumPy model (a product of signs, "
            "about as cheap as a model gets, so tabxai's own time dominates), `n_coalitions=\"auto\"`, median over "
            "alternated runs of the ratio; the values are the plain ones.\n\n"
            + markdown_table(["game", "rows adjusted by `auto`", "**`auto` / `None`, wall time** (target <= 1.1)",
                              "`auto` / `None`, CPU time"],
                             [["parity of 7 of 12 columns, 20 background rows, 8 rows", f"{adjusted:.2f}",
                               float(np.median(wall)), float(np.median(cpu))]]))


def _lime_california(quick):
    import lime.lime_tabular
    from sklearn.linear_model import LogisticRegression

    X, y = tx.datasets.load_california_housing()
    data = X.to_numpy(dtype=float)
    model = LogisticRegression(max_iter=2000).fit(data, (y > np.median(y)).to_numpy())
    background = data[:1000]
    lime_rows = data[5000:5002] if quick else data[5000:5006]  # lime's time per row does not depend on the rows

    def theirs():
        explainer = lime.lime_tabular.LimeTabularExplainer(background, mode="classification", random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for row in lime_rows:
                explainer.explain_instance(row, model.predict_proba, num_samples=5000, labels=(1,))

    table = []
    for n_rows in (1, 2) if quick else (1, 6, 100):
        rows = data[5000:5000 + n_rows]
        ours = tx.LimeTabular(model, background, n_samples=5000, output=True, random_state=0)
        ours.explain(rows[:1])
        counted = CountingModel(model.predict_proba)
        asking = tx.LimeTabular(counted, background, n_samples=5000, output=1, random_state=0)
        counted.rows, counted.sample = 0, None  # what explain asks for, not the background's base values
        asking.explain(rows)
        times, _ = interleaved({"tabxai": lambda: ours.explain(rows), "lime": theirs,
                                "floor": _floor_job(model.predict_proba, counted.sample, counted.rows)},
                               repeats=1 if quick else 5)
        ours_row, lime_row = times["tabxai"] / n_rows, times["lime"] / len(lime_rows)
        table.append([f"{n_rows:,}", ours_row * 1000, lime_row * 1000, lime_row / ours_row, counted.rows / n_rows,
                      times["tabxai"] / times["floor"]])
    header = ["explained rows", "tabxai ms / row", "lime ms / row", "**lime time / tabxai time** (target >= 30)",
              "tabxai model rows / row", "tabxai / model floor"]
    intro = ("LIME: California housing (8 numeric columns), LogisticRegression of `price > median`, background "
             "1,000 rows, 5,000 samples per row, both libraries with their default sampler (quartile bins, truncated "
             "normal inside a bin); median of interleaved runs (lime timed on 6 rows; its time per row does not depend "
             "on how many). tabxai's rows share one set of samples (lime's samples do not depend on the row), so the "
             "model sees 4,999 samples + 500 held-out ones + the rows themselves per call; one row costs what lime's "
             "design costs per row.\n\n")
    return intro + markdown_table(header, table)


class _Network:
    """A cheap float32 image network: flatten, 256 tanh units, 10 softmax outputs (about a small CNN's cost)."""

    def __init__(self, side=64):
        rng = np.random.default_rng(0)
        self.hidden = (rng.normal(size=(side * side * 3, 256)) / side).astype(np.float32)
        self.out = rng.normal(size=(256, 10)).astype(np.float32)

    def __call__(self, batch):
        x = np.asarray(batch, dtype=np.float32).reshape(len(batch), -1)
        z = np.tanh(x @ self.hidden) @ self.out
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


def _image_lime(quick):
    network = _Network()
    image = np.random.default_rng(1).random((64, 64, 3)).astype(np.float32)
    segments = tx.image.segment(image, "grid", grid=(8, 8))
    n_samples = 1000

    def ours(picture, model=network, **options):
        return lambda: tx.image.explain(model, picture, method="lime", segments=segments, n_samples=n_samples,
                                        random_state=0, output=0, **options)

    channel_first = np.ascontiguousarray(image.transpose(2, 0, 1))  # the network flattens: any layout is its input
    jobs = {"default (float32 image, calls from 8 MiB growing to the size the model likes)": {},
            "fixed calls of 8 MiB (170 images), float32": {"max_rows": 170},
            "fixed calls of 256 images (the floor's batch), float32": {"max_rows": 256},
            "default, channel-first image (layout=\"NCHW\", torch's)": {"picture": channel_first, "layout": "NCHW"},
            "previous defaults (float64 image, 64 MiB batches)": {"picture": image.astype(np.float64), "max_rows": 682}}
    jobs = {name: ours(options.pop("picture", image), **options) for name, options in jobs.items()}
    counted = CountingModel(network)
    tx.image.explain(counted, image, method="lime", segments=segments, n_samples=n_samples, random_state=0, output=0)
    for job in jobs.values():
        job()
    floor = _floor_job(network, np.resize(image[None], (256, 64, 64, 3)), counted.rows, batch=256)
    ratios = {name: [] for name in jobs}
    cpu_ratios = {name: [] for name in jobs}
    seconds = {name: [] for name in jobs}
    for _ in range(3 if quick else 9):  # each job right after a floor run: the noise hits both alike
        for name, job in jobs.items():
            floor_time, floor_cpu = _seconds_and_cpu(floor)
            elapsed, cpu = _seconds_and_cpu(job)
            ratios[name].append(elapsed / floor_time)
            cpu_ratios[name].append(cpu / floor_cpu)
            seconds[name].append(floor_time / counted.rows)
    parts = []  # the default's time in model calls and in filling, against the floor run just before
    for _ in range(3 if quick else 9):
        timed = _TimedModel(network)
        floor_time, _ = _seconds_and_cpu(floor)
        with _timed_filling() as filling:
            elapsed, _ = _seconds_and_cpu(ours(image, model=timed))
        parts.append((timed.seconds / floor_time, filling[0] / floor_time,
                      (elapsed - timed.seconds - filling[0]) / floor_time))
    table = [[name, float(np.median(seconds[name])) * 1e6, float(np.median(ratios[name])),
              float(np.median(cpu_ratios[name]))] for name in jobs]
    header = ["`tx.image.explain(method=\"lime\")`", "floor: us per image",
              "**wall time / model floor** (target <= 1.3)", "CPU time / floor CPU time"]
    in_calls, in_filling, rest = np.median(parts, axis=0)
    intro = ("Image LIME: a 64 x 64 x 3 float32 image, 64 grid segments, 1,000 samples, a cheap float32 network "
             "(flatten, 256 tanh units, softmax; one thread); model floor = the network on as many images as tabxai "
             f"asked for ({counted.rows:,}: 999 samples, 100 fresh ones for the held-out R^2, the image and the fill "
             "image, each asked once), in batches of 256. Median over runs of the ratio of each run to the floor run "
             "just before it; CPU time beside wall time, as other jobs share the machine. Earlier figures of this "
             "line (1.55, 2.15) took 1,001 images as the floor, and until the third round the image was asked three "
             "times (1,103 images).\n\n")
    profile = (f"\n\nWhere the default's time goes (timed separately, median over runs, as a share of the floor run "
               f"before each): model calls {in_calls:.3f}, writing the masked images {in_filling:.3f}, the rest "
               f"(LIME's sampling and fit, set-up) {rest:.3f}.")
    return intro + markdown_table(header, table) + profile


@contextlib.contextmanager
def _timed_filling():
    """Seconds spent in ``ImageMasker.fill`` (the masked images' kernel) while the context is open."""
    from tabxai.image.masker import ImageMasker

    spent, original = [0.0], ImageMasker.fill

    def fill(self, *args):
        start = time.perf_counter()
        try:
            return original(self, *args)
        finally:
            spent[0] += time.perf_counter() - start

    ImageMasker.fill = fill
    try:
        yield spent
    finally:
        ImageMasker.fill = original


class _TimedModel:
    """The network, with the seconds spent in its calls added up."""

    def __init__(self, function):
        self.function, self.seconds = function, 0.0

    def __call__(self, batch):
        start = time.perf_counter()
        try:
            return self.function(batch)
        finally:
            self.seconds += time.perf_counter() - start


def _seconds_and_cpu(function):
    start, start_cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - start_cpu


def _permutation_importance(quick):
    from sklearn.datasets import make_classification
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=10_000, n_features=12, n_informative=8, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    counted = CountingModel(model.predict)
    tx.permutation_importance(counted, X, y, n_repeats=5, random_state=0, n_jobs=1)
    times, _ = interleaved({
        "tabxai": lambda: tx.permutation_importance(model, X, y, n_repeats=5, random_state=0, n_jobs=1),
        "tabxai, max_rows=32768": lambda: tx.permutation_importance(model, X, y, n_repeats=5, random_state=0,
                                                                    n_jobs=1, max_rows=32_768),
        "sklearn": lambda: permutation_importance(model, X, y, n_repeats=5, random_state=0),
        "floor": _floor_job(model.predict, X, counted.rows)}, repeats=3 if quick else 9)
    table = [["LogisticRegression, 10,000 rows, 12 features, 5 repeats", counted.rows,
              times["tabxai"] / times["floor"], times["tabxai, max_rows=32768"] / times["floor"],
              times["sklearn"] / times["floor"]]]
    header = ["job", "model rows", "**tabxai / model floor** (target <= 2)", "tabxai with calls of 32,768 rows / floor",
              "sklearn / model floor"]
    return ("Permutation importance (accuracy), median of interleaved runs; the floor is `predict` on as many rows "
            "in calls of 100,000 (with scikit-learn's input checks, which tabxai's calls skip on data without "
            "missing values). tabxai's default calls hold whole (feature, repeat) tasks, up to 8 MiB of rows "
            "(80,000 here).\n\n" + markdown_table(header, table))


def _exact_job_a(quick):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    background, rows = X[:100], X[1000:1005]
    explainer = tx.ExactShapley(model, background, output=1)
    explainer.explain(rows[:1])
    counted = CountingModel(model.predict_proba)
    tx.ExactShapley(counted, background, output=1).explain(rows)
    times, _ = interleaved({"tabxai": lambda: explainer.explain(rows),
                            "floor": _floor_job(model.predict_proba, counted.sample, counted.rows)},
                           repeats=3 if quick else 9)
    table = [["ExactShapley, job A, LogisticRegression", counted.rows, times["tabxai"] / times["floor"]]]
    header = ["job", "model rows", "**tabxai / model floor** (target <= 1.6)"]
    return "ExactShapley on job A, median of interleaved runs.\n\n" + markdown_table(header, table)


def _interactions(data):
    """Interactions of order three and four, which antithetic pairs do not make exact and trees represent."""
    return data[:, 0] * data[:, 1] * data[:, 2] + data[:, 3] * data[:, 4] * data[:, 5] * data[:, 6] \
        - data[:, 7] * data[:, 8] * data[:, 1]


def _permutation_auto(quick):
    """PermutationShapley's ``adjustment="auto"`` against ``None``: error and coverage where it pays, cost where not."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    rows, background = rng.uniform(2, 3, size=(4, 10)), rng.normal(scale=0.1, size=(12, 10))
    truth = tx.ExactShapley(_interactions, background).explain(rows).values
    seeds = range(5 if quick else 20)
    accuracy = []
    for adjustment in ("auto", None):
        runs = [tx.PermutationShapley(_interactions, background, n_permutations=16, adjustment=adjustment,
                                      random_state=seed, n_jobs=1).explain(rows) for seed in seeds]
        accuracy.append((float(np.mean([relative_error(e.values, truth) for e in runs])),
                         float(np.mean([np.abs(e.values - truth) <= 1.96 * e.stderr for e in runs])),
                         float(np.mean([e.diagnostics["adjusted"].mean() for e in runs]))))
    (auto_error, auto_coverage, auto_adjusted), (plain_error, plain_coverage, _) = accuracy
    X, y = make_classification(n_samples=5000, n_features=12, n_informative=8, random_state=0)
    logistic = LogisticRegression(max_iter=1000).fit(X, y)
    cheap = np.random.default_rng(0)
    costs = {"logistic regression, job A (100 background rows, 5 rows)": (logistic, X[:100], X[1000:1005], 1),
             "parity of 7 of 12 columns (NumPy), 20 background rows, 8 rows":
                 (_parity, -np.abs(cheap.normal(size=(20, 12))), np.abs(cheap.normal(size=(8, 12))), None)}
    cost_rows = []
    for name, (model, reference, explained, output) in costs.items():
        explainers = {str(a): tx.PermutationShapley(model, reference, adjustment=a, output=output, random_state=0,
                                                    n_jobs=1) for a in ("auto", None)}
        for explainer in explainers.values():
            explainer.explain(explained[:1])
        wall, cpu = [], []
        for _ in range(5 if quick else 15):
            spent = {}
            for key, explainer in explainers.items():
                elapsed, used = _seconds_and_cpu(lambda e=explainer: e.explain(explained))
                spent[key] = (elapsed, used)
            wall.append(spent["auto"][0] / spent["None"][0])
            cpu.append(spent["auto"][1] / spent["None"][1])
        adjusted = explainers["auto"].explain(explained).diagnostics["adjusted"].mean()
        cost_rows.append([name, f"{adjusted:.2f}", float(np.median(wall)), float(np.median(cpu))])
    intro = ("PermutationShapley's `adjustment=\"auto\"` (the default: a cross-fitted tree control variate on the rows "
             "where KernelSHAP's pilot says it pays). Where it pays: interactions of order three and four, 10 players, "
             "explained rows far from a tight background (12 rows), 16 pairs per background row, truth by "
             f"enumeration, mean over 4 rows and {len(seeds)} seeds.\n\n")
    table = markdown_table(["game", "rows adjusted", "**error `auto` / `None`**", "error (`auto`)",
                            "95% coverage (`auto`)", "95% coverage (`None`)"],
                           [["order-3 and order-4 interactions", f"{auto_adjusted:.2f}", auto_error / plain_error,
                             auto_error, f"{auto_coverage:.3f}", f"{plain_coverage:.3f}"]])
    cost = markdown_table(["where it cannot pay (`n_permutations=\"auto\"`)", "rows adjusted",
                           "**`auto` / `None`, wall time** (target <= 1.1)", "`auto` / `None`, CPU time"], cost_rows)
    return (intro + table + "\n\nWhere it does not pay, the default costs its pilot, median over alternated runs:\n\n"
            + cost)


def run(quick=False):
    start_load = os.getloadavg()[0]
    with threadpool_limits(limits=1):
        body = "\n\n".join([_kernel_adult(quick), _auto_cost(quick), _lime_california(quick), _image_lime(quick),
                             _permutation_importance(quick), _exact_job_a(quick), _permutation_auto(quick)])
    return body + "\n\n" + load_note(start_load) + \
        "\n\nReproduce: `python -m benchmarks.run defaults`."

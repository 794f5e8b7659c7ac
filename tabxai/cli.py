"""The ``tabxai`` command: ``tabxai audit`` (an HTML audit report) and ``tabxai explain`` (values to a file).

Bad input (missing files, columns that do not match the model, unknown labels, a file that holds
no model) ends with a one-line message on stderr and exit code 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]

_DESCRIPTION = """\
Explain and audit tabular models from the shell.

  tabxai audit                      audit a reference model of the bundled German credit data -> audit.html
  tabxai audit --model m.joblib --data d.csv --target y --sensitive sex,age --positive bad --out r.html
  tabxai explain --model m.joblib --data d.csv --method kernel-shap --out values.csv

Run `tabxai audit --help` or `tabxai explain --help` for every option.
"""

_AUDIT_HELP = """\
Write one self-contained HTML audit report of a binary classifier: performance, what drives the
model (permutation importance, Shapley values, partial dependence), the principal reasons of every
adverse decision, what the first declined applicants could change (counterfactuals), outcome rates
by sensitive group (four-fifths rule, fairlearn metrics), glass-box baselines and the provenance of
every number.

Without --model and --data it audits a reference model (gradient boosting, fitted on 70% of the
bundled German credit data) on the held-out 30%, with sex (from personal_status_sex), age band and
foreign_worker as sensitive attributes.
"""

_EXPLAIN_HELP = """\
Compute attributions of every row of --data and write them in long form (row, output, feature,
value, stderr, base_value) to CSV, Parquet or JSON, chosen by the extension of --out. The
provenance (method, parameters, seed, versions, SHA-256 of the files) goes into the JSON file, the
Parquet metadata, or next to a CSV file as <out>.provenance.json.
"""


class InputError(Exception):
    """Bad input from the command line: reported in one line, exit code 2."""


def _parser():
    parser = argparse.ArgumentParser(prog="tabxai", description=_DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tabxai {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    audit = commands.add_parser("audit", help="write an HTML audit report of a credit model",
                                description=_AUDIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _model_options(audit, required=False)
    audit.add_argument("--target", metavar="COLUMN", help="column of --data with the true labels (enables "
                       "performance, permutation importance and error rates by group)")
    audit.add_argument("--sensitive", metavar="A,B", help="comma-separated sensitive columns of --data (numeric "
                       "ones such as age are cut into bands); they need not be model inputs")
    audit.add_argument("--positive", metavar="LABEL", help="class whose probability is explained and the positive "
                       "label of the rates (default: the model's second class; 'bad' for the reference model)")
    audit.add_argument("--favorable", metavar="LABEL", help="the favourable decision compared by the four-fifths "
                       "rule; the others are adverse (default: --positive; 'good' for the reference model)")
    audit.add_argument("--out", metavar="PATH", default="audit.html", help="HTML report to write (default: %(default)s)")
    audit.add_argument("--json", metavar="PATH", help="also write every number of the report as JSON")
    audit.add_argument("--title", help="title of the report")
    audit.add_argument("--reasons", metavar="K", type=_positive_int, default=4,
                       help="most reasons per adverse decision (default: %(default)s)")
    audit.add_argument("--max-applicants", metavar="N", type=_positive_int,
                       help="give reasons for at most N adverse decisions (default: all)")
    audit.add_argument("--coalitions", metavar="N", type=_positive_int, default=None,
                       help="most KernelSHAP coalitions per applicant; each is sampled until its reasons settle "
                            "(default: 384, or what the features need)")
    audit.add_argument("--reasons-out", metavar="PATH", help="write the reasons of every adverse decision to this "
                       ".csv or .parquet file (one line per applicant, written in chunks)")
    audit.add_argument("--reason-text", metavar="JSON", help="a JSON file mapping features to the lender's wording "
                       "of a reason: {feature: text} or {feature: {\"high\": text, \"low\": text}} or "
                       "{feature: {category: text}}")
    audit.add_argument("--scheduler", metavar="ADDRESS", help="run the per-applicant work on this Dask scheduler "
                       "(e.g. tcp://host:8786; needs the 'distributed' extra); results are identical")
    audit.add_argument("--background", metavar="N", type=_positive_int, default=8,
                       help="rows of the weighted background summary of the Shapley values (default: %(default)s)")
    audit.add_argument("--explained", metavar="N", type=_positive_int, default=80,
                       help="rows explained for the global view (default: %(default)s)")
    audit.add_argument("--repeats", metavar="N", type=_positive_int, default=5,
                       help="permutation importance repeats (default: %(default)s)")
    audit.add_argument("--scale", choices=("auto", "probability", "log-odds"), default="auto",
                       help="scale of the Shapley values, reasons and partial dependence; auto: log-odds when every "
                            "probability the model gives is strictly between 0 and 1, else probability "
                            "(default: %(default)s)")
    audit.add_argument("--log-odds", action="store_true", help="the same as --scale log-odds")
    audit.add_argument("--bootstrap", metavar="N", type=_non_negative_int, default=200,
                       help="bootstrap resamples of the fairness intervals (default: %(default)s)")
    audit.add_argument("--recourse", metavar="N", type=_non_negative_int, default=10,
                       help="counterfactuals (what could change the decision) for the first N declined "
                            "applicants; 0 leaves the section out (default: %(default)s)")
    _common_options(audit)

    explain = commands.add_parser("explain", help="write attributions of every row to CSV, Parquet or JSON",
                                  description=_EXPLAIN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _model_options(explain, required=True)
    explain.add_argument("--method", choices=("kernel-shap", "exact", "permutation", "lime"), default="kernel-shap",
                         help="kernel-shap: KernelSHAP, Shapley values by weighted regression (the default); "
                              "exact: Shapley values over every coalition (up to about 15 features); "
                              "permutation: Shapley values by sampled permutations; "
                              "lime: LIME's local linear surrogate (its coefficients, not Shapley values)")
    explain.add_argument("--target", metavar="COLUMN", help="column of --data to leave out (the labels)")
    explain.add_argument("--output", metavar="LABEL", help="model output to explain (default: the second class "
                         "of a binary classifier, every output otherwise)")
    explain.add_argument("--out", metavar="PATH", required=True, help="values.csv, values.parquet or values.json")
    explain.add_argument("--background", metavar="N", type=_positive_int, default=50,
                         help="background rows drawn from --data (default: %(default)s)")
    explain.add_argument("--rows", metavar="N", type=_positive_int, help="explain only the first N rows")
    explain.add_argument("--coalitions", metavar="N", type=_positive_int, default=None,
                         help="KernelSHAP coalitions per row (default: auto)")
    explain.add_argument("--permutations", metavar="N", type=_positive_int, default=None,
                         help="PermutationShapley antithetic pairs per background row (default: auto)")
    _common_options(explain)
    return parser


def _model_options(parser, required):
    parser.add_argument("--model", metavar="PATH", required=required,
                        help="fitted model saved with joblib or pickle (loading runs code from the file: "
                             "use files you trust)")
    parser.add_argument("--data", metavar="PATH", required=required,
                        help="rows in the model's input format: .csv or .parquet")


def _common_options(parser):
    parser.add_argument("--seed", metavar="N", type=_non_negative_int, default=0,
                        help="seed of every random choice (default: %(default)s)")
    parser.add_argument("--jobs", metavar="N", type=int, default=None, help="parallel jobs (default: 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def _whole_number(minimum):
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}; got {text!r}")
        return value

    return parse


_positive_int = _whole_number(1)
_non_negative_int = _whole_number(0)


# reading input ---------------------------------------------------------------------------------
def load_model(path, say):
    """A model from a joblib or pickle file (with a warning: unpickling runs code from the file)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--model {str(path)!r}: no such file")
    print(f"tabxai: warning: loading {path.name} runs code stored in the file (pickle); "
          "load only files you trust", file=sys.stderr)
    import joblib

    try:
        model = joblib.load(path)
    except Exception as error:  # noqa: BLE001 - any failure to unpickle is bad input
        raise InputError(f"--model {str(path)!r} is not a joblib or pickle file of a model "
                         f"({type(error).__name__}: {error})") from None
    if not (hasattr(model, "predict_proba") or hasattr(model, "predict") or callable(model)):
        raise InputError(f"--model {str(path)!r} holds a {type(model).__name__}, not a model "
                         "(expected an estimator with predict_proba or predict, or a callable)")
    say(f"loaded {type(model).__name__} from {path.name}")
    return model


def load_data(path):
    path = Path(path)
    if not path.is_file():
        raise InputError(f"--data {str(path)!r}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except ImportError as error:
        raise InputError(f"--data {str(path)!r}: reading Parquet needs pyarrow ({error})") from None
    except Exception as error:  # noqa: BLE001 - unreadable file is bad input
        raise InputError(f"--data {str(path)!r} could not be read ({type(error).__name__}: {error})") from None
    raise InputError(f"--data {str(path)!r}: expected a .csv or .parquet file")


def _model_columns(model, data, target):
    """The model's input columns of ``data``: ``feature_names_in_`` when the model has it."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        owner = getattr(model, "__self__", None)
        names = getattr(owner, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in data.columns]
        if missing:
            raise InputError(f"--data lacks columns the model was fitted on: {missing[:8]}"
                             f"{' ...' if len(missing) > 8 else ''}; its columns are {list(data.columns)[:12]}")
        return data[names]
    drop = [target] if target is not None and target in data.columns else []
    return data.drop(columns=drop)


def _match_label(text, classes, option):
    """The class whose text is ``text`` (command-line labels are strings; classes may be numbers)."""
    if text is None:
        return None
    for label in classes:
        if str(label) == text:
            return label
    raise InputError(f"{option} {text!r} is not one of the model's classes {[str(c) for c in classes]}")


def _classes(model, X):
    from .data import TabularSchema
    from .model import as_model

    bound = as_model(model).bind(TabularSchema.from_data(X.iloc[:1], what="data"))
    return list(bound.output_names or ())


# the reference audit -----------------------------------------------------------------------------
def reference_audit(seed=0):
    """Model, held-out rows, labels, sensitive attributes and units of the default ``tabxai audit``.

    A histogram gradient boosting classifier (native categorical support) fitted on a stratified 70%
    of the bundled German credit data; the audited rows are the other 30%. ``tabxai audit`` fits and
    runs it with one OpenMP thread: its model calls are small batches, where OpenMP threads cost more
    than they give, and many times more on a busy machine (measured: 4x faster on a loaded 2-core box).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    from .datasets import load_german_credit

    X, y = load_german_credit()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features="from_dtype", random_state=seed)
    model.fit(X_train, y_train)
    status = X_test["personal_status_sex"].astype(str)
    sex = status.str.split(":").str[0].rename("personal_status_sex")
    age = pd.cut(X_test["age"], [0, 25, 35, 50, np.inf], right=False, labels=["< 25", "25-34", "35-49", "50+"])
    sensitive = {"sex": sex, "age band": age.rename("age"), "foreign_worker": None}
    units = {"duration": "months", "amount": "DM", "age": "years"}
    return model, X_test, y_test, sensitive, units


# commands ---------------------------------------------------------------------------------------
def _audit(args, say):
    from .report import audit
    from ._provenance import file_sha256

    out = Path(args.out)
    _check_writable(out, "--out")
    if args.json:
        _check_writable(Path(args.json), "--json")
    reasons_out = None if args.reasons_out is None else Path(args.reasons_out)
    if reasons_out is not None:
        _check_writable(reasons_out, "--reasons-out")
        if reasons_out.suffix.lower() not in (".csv", ".parquet"):
            raise InputError(f"--reasons-out {str(reasons_out)!r} must end in .csv or .parquet")
    reason_text = None
    if args.reason_text is not None:
        from .report._portfolio import ReasonText

        try:
            reason_text = ReasonText.read(args.reason_text)
            ReasonText(reason_text, pd.DataFrame())
        except (ValueError, TypeError) as error:
            raise InputError(f"--reason-text: {error}") from None
    backend = _dask_backend(args.scheduler, say) if args.scheduler else None
    if (args.model is None) != (args.data is None):
        raise InputError("give both --model and --data, or neither (to audit the bundled German credit data)")
    from threadpoolctl import threadpool_limits

    provenance = {"command_line": args.command_line}
    threads = None
    if args.model is None:
        for option in ("target", "sensitive", "positive", "favorable"):
            if getattr(args, option) is not None:
                raise InputError(f"--{option} needs --model and --data (the reference audit fixes it)")
        say("fitting the reference model on 70% of the bundled German credit data")
        threads = threadpool_limits(limits=1, user_api="openmp")  # see reference_audit
        model, X, y, sensitive, units = reference_audit(args.seed)
        positive, favorable = "bad", "good"
        provenance["data"] = "bundled German credit (tx.datasets.load_german_credit), held-out 30%"
        provenance["model"] = "reference: HistGradientBoostingClassifier(max_iter=100, " \
                              f"categorical_features='from_dtype', random_state={args.seed}) on the other 70%"
        title = args.title or "Audit of a reference credit model on German credit data"
    else:
        model = load_model(args.model, say)
        data = load_data(args.data)
        say(f"read {len(data):,} rows x {data.shape[1]} columns from {Path(args.data).name}")
        if args.target is not None and args.target not in data.columns:
            raise InputError(f"--target {args.target!r} is not a column of --data; its columns are "
                             f"{list(data.columns)[:12]}")
        names = [s.strip() for s in (args.sensitive or "").split(",") if s.strip()]
        unknown = [n for n in names if n not in data.columns]
        if unknown:
            raise InputError(f"--sensitive names {unknown}, not columns of --data; its columns are "
                             f"{list(data.columns)[:12]}")
        X = _model_columns(model, data, args.target)
        if args.target is not None and args.target in X.columns:
            X = X.drop(columns=[args.target])
        y = None if args.target is None else data[args.target]
        classes = _checked_classes(model, X)
        positive = _match_label(args.positive, classes, "--positive")
        favorable = _match_label(args.favorable, classes, "--favorable")
        sensitive = {n: (None if n in X.columns else data[n]) for n in names}
        units = None
        title = args.title
        provenance["model_file"] = str(args.model)
        provenance["model_file_sha256"] = file_sha256(args.model)
        provenance["data_file"] = str(args.data)
        provenance["data_file_sha256"] = file_sha256(args.data)
        if y is not None and y.isna().any():
            raise InputError(f"--target {args.target!r} has {int(y.isna().sum())} missing labels")
    if backend is not None:
        provenance["scheduler"] = args.scheduler
    import joblib

    try:
        with joblib.parallel_config(backend="dask") if backend is not None else contextlib.nullcontext():
            report = audit(model, X, y, sensitive=sensitive, positive=positive, favorable=favorable,
                           random_state=args.seed, n_coalitions=args.coalitions, n_background=args.background,
                           n_explained=args.explained, max_applicants=args.max_applicants, k=args.reasons,
                           units=units, link=_LINKS["log-odds" if args.log_odds else args.scale], n_repeats=args.repeats,
                           n_bootstrap=args.bootstrap, n_recourse=args.recourse, reasons_out=reasons_out,
                           reason_text=reason_text, title=title, provenance=provenance,
                           n_jobs=args.jobs if backend is None or args.jobs is not None else -1, progress=say)
    except (ValueError, TypeError) as error:
        if reasons_out is not None and reasons_out.exists():
            reasons_out.unlink()  # nothing is left behind by a failed audit
        raise InputError(str(error)) from None
    finally:
        if threads is not None:
            threads.restore_original_limits()
        if backend is not None:
            backend.close()
    document = report.to_html()
    out.write_text(document, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(report.to_json(indent=1), encoding="utf-8")
    summary = report.to_dict()
    say(f"wrote {out} ({len(document.encode()) / 1e6:.2f} MB) in {summary['timings']['total']:.0f} s: "
        f"{summary['model']['n_adverse']} adverse decisions explained"
        + (f", their reasons in {reasons_out}" if reasons_out is not None else ""))
    return 0


def _dask_backend(address, say):
    """A client of the Dask scheduler at ``address`` (joblib's dask backend then uses it), or an input error."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed scheduler: pip install 'tabxai[distributed]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"--scheduler {address!r}: cannot reach a Dask scheduler there ({error})") from None
    say(f"running on the Dask scheduler at {address} ({len(client.scheduler_info().get('workers', {}))} workers)")
    return client


def _checked_classes(model, X):
    try:
        return _classes(model, X)
    except (ValueError, TypeError) as error:
        raise InputError(f"the model does not accept --data: {error}") from None


def _explain(args, say):
    import tabxai as tx

    from ._provenance import package_versions
    from ._provenance import file_sha256, utc_now

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq", ".json"):
        raise InputError(f"--out {str(out)!r}: expected a .csv, .parquet or .json file")
    _check_writable(out, "--out")
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing Parquet needs pyarrow (pip install pyarrow); or use .csv or .json") from None
    model = load_model(args.model, say)
    data = load_data(args.data)
    if args.target is not None and args.target not in data.columns:
        raise InputError(f"--target {args.target!r} is not a column of --data; its columns are {list(data.columns)[:12]}")
    X = _model_columns(model, data, args.target)
    if args.target is not None and args.target in X.columns:
        X = X.drop(columns=[args.target])
    classes = _checked_classes(model, X)
    output = None
    if args.output is not None:
        output = _match_label(args.output, classes, "--output")
    elif len(classes) == 2:
        output = classes[1]
    rows = X if args.rows is None else X.iloc[:args.rows]
    background = X.sample(min(args.background, len(X)), random_state=args.seed)
    say(f"{args.method}: {len(rows):,} rows, {X.shape[1]} features, {len(background)} background rows")
    try:
        if args.method == "kernel-shap":
            explainer = tx.KernelSHAP(model, background, n_coalitions=args.coalitions or "auto",
                                      random_state=args.seed, output=output, n_jobs=args.jobs)
        elif args.method == "exact":
            if X.shape[1] > 20:
                raise InputError(f"--method exact enumerates 2**{X.shape[1]} coalitions; use kernel-shap for "
                                 "more than 20 features")
            explainer = tx.ExactShapley(model, background, output=output, n_jobs=args.jobs)
        elif args.method == "permutation":
            explainer = tx.PermutationShapley(model, background, n_permutations=args.permutations or "auto",
                                              random_state=args.seed, output=output, n_jobs=args.jobs)
        else:
            explainer = tx.LimeTabular(model, background, random_state=args.seed, output=output)
        start = time.perf_counter()
        explanation = explainer.explain(rows)
    except (ValueError, TypeError) as error:
        raise InputError(str(error)) from None
    frame = explanation.to_frame(long=True)
    if "stderr" not in frame.columns:
        frame["stderr"] = np.nan
    base = np.asarray(explanation.base_values, dtype=float).reshape(len(rows), -1)
    # the long frame holds row by row, output by output, one line per feature: pair by position, not label
    frame["base_value"] = np.repeat(base.reshape(-1), len(explanation.feature_names))
    provenance = {"method": explanation.params.get("method"), "parameters": explanation.params.get("parameters"),
                  "random_state": explanation.params.get("random_state"), "model_rows":
                  explanation.params.get("model_rows"), "versions": package_versions(), "time": utc_now(),
                  "command_line": args.command_line, "model_file": str(args.model),
                  "model_file_sha256": file_sha256(args.model), "data_file": str(args.data),
                  "data_file_sha256": file_sha256(args.data), "background_seed": args.seed}
    provenance = json.loads(json.dumps(provenance, default=str))
    if suffix == ".csv":
        frame.to_csv(out, index=False)
        sidecar = Path(str(out) + ".provenance.json")
        sidecar.write_text(json.dumps(provenance, indent=1), encoding="utf-8")
    elif suffix == ".json":
        records = json.loads(frame.to_json(orient="records"))
        out.write_text(json.dumps({"provenance": provenance, "values": records}, indent=1), encoding="utf-8")
    else:
        frame.attrs["tabxai_provenance"] = provenance
        frame.to_parquet(out, index=False)
    say(f"wrote {len(frame):,} values to {out} in {time.perf_counter() - start:.1f} s")
    return 0


def _check_writable(path, option):
    if path.exists() and path.is_dir():
        raise InputError(f"{option} {str(path)!r} is a directory; give a file name")
    if not path.parent.exists():
        raise InputError(f"{option} {str(path)!r}: the directory {str(path.parent)!r} does not exist")


_LINKS = {"auto": "auto", "probability": None, "log-odds": "logit"}


def main(argv=None):
    """Run the ``tabxai`` command; returns the exit code (0, or 2 for bad input)."""
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["tabxai", *argv])
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    quiet = args.quiet

    def say(message):
        if not quiet:
            print(f"tabxai: {message}", file=sys.stderr, flush=True)

    try:
        return _audit(args, say) if args.command == "audit" else _explain(args, say)
    except InputError as error:
        print(f"tabxai {args.command}: error: {error}", file=sys.stderr)
        return 2

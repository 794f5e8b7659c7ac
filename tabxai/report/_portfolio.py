"""Reasons for every adverse decision of a portfolio, streamed in chunks with bounded memory.

:func:`explain_applicants` runs KernelSHAP with the :func:`~tabxai.report.reasons_settled` stopping rule
over chunks of applicants (each chunk's seed is derived from the audit's seed and the chunk's first
position, so results are the same whatever ``n_jobs`` or joblib backend), turns each chunk into one
wide line per applicant (``row, decision, score, cited_certain, reason_i, contribution_i, stderr_i, certain_i``, and
``statement_i`` with a lender's wording), writes it to CSV or Parquet, and keeps only what the HTML
needs: totals, a sample of applicants (the first ones and the riskiest) and the reason-frequency table
overall and by sensitive group.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..shapley import KernelSHAP
from ._context import same
from ._inputs import _plain
from ._ranks import reasons_settled
from .reason_codes import reason_codes

__all__ = ["CHUNK", "ReasonText", "ReasonsFile", "explain_applicants", "wilson_interval"]

CHUNK = 2048  # applicants per chunk: bounds memory, sets the progress messages and the per-chunk seeds
SAMPLE = 25  # applicants shown in the HTML: the first ones and as many of the riskiest


class ReasonText:
    """A lender's wording of reasons: ``{feature: text}`` or ``{feature: {"high": text, "low": text}}`` (numbers,
    split at the audited data's median) or ``{feature: {category: text}}``; the generated condition otherwise."""

    def __init__(self, mapping, frame):
        if mapping is None:
            mapping = {}
        if isinstance(mapping, (str, Path)):
            mapping = self.read(mapping)
        if not isinstance(mapping, dict):
            raise TypeError(f"`reason_text` must be a dict {{feature: text}} or the path of a JSON file; got "
                            f"{type(mapping).__name__}")
        for feature, text in mapping.items():
            if not isinstance(text, (str, dict)) or (isinstance(text, dict) and not all(
                    isinstance(v, str) for v in text.values())):
                raise ValueError(f"`reason_text[{feature!r}]` must be a text or a dict of texts "
                                 f"({{'high': ..., 'low': ...}} or {{category: ...}}); got {text!r}")
        self.mapping = mapping
        self.medians = {}
        for feature, text in mapping.items():
            if isinstance(text, dict) and {"high", "low"} & set(text) and feature in frame.columns and \
                    pd.api.types.is_numeric_dtype(frame[feature]):
                self.medians[feature] = float(pd.to_numeric(frame[feature], errors="coerce").median())

    @staticmethod
    def read(path):
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except OSError as error:
            raise ValueError(f"cannot read the reason texts {str(path)!r}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"the reason texts {str(path)!r} are not valid JSON: {error}") from None

    def __bool__(self):
        return bool(self.mapping)

    def statement(self, feature, condition, row):
        text = self.mapping.get(feature)
        if text is None:
            return condition
        if isinstance(text, str):
            return text
        if feature in self.medians:
            value = row.get(feature) if hasattr(row, "get") else None
            if value is not None and not pd.isna(value):
                side = "high" if float(value) > self.medians[feature] else "low"
                return text.get(side, condition)
            return condition
        value = row.get(feature) if hasattr(row, "get") else None
        return next((t for category, t in text.items() if same(category, value) or same(category, str(value))),
                    condition)


class ReasonsFile:
    """Writes the reasons table chunk by chunk to ``.csv`` or ``.parquet``; ``None`` keeps it in memory."""

    def __init__(self, path):
        self.path = None if path is None else Path(path)
        self.frames = []
        self._writer = None
        self._first = True
        if self.path is not None:
            if self.path.suffix.lower() not in (".csv", ".parquet"):
                raise ValueError(f"`reasons_out` must end in .csv or .parquet; got {str(self.path)!r}")
            try:
                with open(self.path, "w", encoding="utf-8"):
                    pass
            except OSError as error:
                raise ValueError(f"cannot write the reasons file {str(self.path)!r}: {error.strerror}") from None

    def write(self, frame):
        if self.path is None:
            self.frames.append(frame)
        elif self.path.suffix.lower() == ".csv":
            frame.to_csv(self.path, mode="w" if self._first else "a", header=self._first, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
        self._first = False

    def close(self, columns):
        if self._writer is not None:
            self._writer.close()
        elif self.path is not None and self._first:  # no applicant: a file with the header only
            empty = pd.DataFrame(columns=columns)
            if self.path.suffix.lower() == ".csv":
                empty.to_csv(self.path, index=False)
            else:
                empty.astype({c: "object" for c in columns}).to_parquet(self.path, index=False)

    def table(self, columns):
        if self.path is None:
            return pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame(columns=columns)
        return pd.read_csv(self.path) if self.path.suffix.lower() == ".csv" else pd.read_parquet(self.path)


def wilson_interval(successes, trials, z=1.959964):
    """Wilson score interval of a proportion (vectorised); NaN where there are no trials."""
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / trials
        centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
        half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)  # no "-0.0%" from rounding


def explain_applicants(ctx, masker, budget, reason_text):
    """Reasons of every applicant of ``ctx``, streamed; returns the section's data, the table and the first
    applicant's explanation (for the report's waterfall)."""
    options = ctx.options
    k = options["k"]
    direction = "positive" if same(ctx.adverse, ctx.positive) else "negative"
    sign = 1.0 if direction == "positive" else -1.0
    rule = reasons_settled(k, direction)
    sink = ReasonsFile(options["reasons_out"])
    columns = ["row", "decision", "score", "cited_certain"] + [f"{name}_{i}" for i in range(1, k + 1) for name in
                                              (("reason", "contribution", "stderr", "certain") +
                                               (("statement",) if reason_text else ()))]
    tally, sample = _Tally(ctx), _Sample()
    first_explanation = None
    started = time.perf_counter()
    positions = ctx.applicants
    for start in range(0, len(positions), CHUNK):
        chunk = positions[start:start + CHUNK]
        seed = int(np.random.SeedSequence([ctx.seed, int(start)]).generate_state(1)[0])
        explainer = KernelSHAP(ctx.adapter, masker, n_coalitions=budget, stop=rule, adjustment=None, random_state=seed,
                               output=ctx.output_key, feature_groups=options["feature_groups"], link=options["link"],
                               n_jobs=options["n_jobs"], progress=False)
        explanation = explainer.explain(ctx.frame.iloc[chunk])
        if first_explanation is None:
            first_explanation = explanation[:1]
        codes = reason_codes(explanation, k=k, direction=direction, units=options["units"])
        sink.write(_wide(ctx, chunk, codes, sign, k, reason_text, columns))
        tally.add(chunk, explanation, codes)
        sample.add(chunk, _applicant_lines(ctx, chunk, codes, sign, tally.sensitive))
        done = start + len(chunk)
        rate = done / max(time.perf_counter() - started, 1e-9)
        ctx.say(f"reasons: {done:,} of {len(positions):,} applicants ({rate:,.0f} a second, "
                f"about {(len(positions) - done) / rate:,.0f} s left)")
    sink.close(columns)
    n = len(positions)
    shown, top = sample.lines()
    data = {
        "k": k, "direction": direction, "explained_output": _plain(ctx.positive),
        "applicants": shown + top, "n_first": len(shown), "n_riskiest": len(top), "n_applicants": n,
        "n_reasons": tally.reasons, "n_uncertain": tally.reasons - tally.certain,
        "certain_share": tally.certain / tally.reasons if tally.reasons else None,
        "n_with_reasons": tally.with_reasons, "n_cited_certain": tally.cited_certain,
        "cited_certain_share": tally.cited_certain / tally.with_reasons if tally.with_reasons else None,
        "n_sensitive": tally.cite_sensitive, "model_rows": tally.model_rows,
        "model_rows_per_applicant": tally.model_rows / n if n else None, "stopped_by": dict(tally.stopped),
        "max_coalitions": budget, "n_background": len(masker.weights), "chunk": CHUNK,
        "file": None if sink.path is None else str(sink.path), "columns": columns,
        "frequency": tally.frequency(n),
    }
    return data, sink, first_explanation


class _Tally:
    """What the HTML keeps of every chunk: totals, and how often each feature is cited, overall and by group."""

    def __init__(self, ctx):
        self.sensitive = ctx.sensitive_players
        self.groups = {name: values.astype(object).where(values.notna(), "missing").to_numpy()
                       for name, (values, _) in ctx.sensitive_groups.items()}
        self.orders = {name: list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else None
                       for name, (values, _) in ctx.sensitive_groups.items()}
        self.counts = Counter()  # feature -> applicants citing it
        self.by_group = {name: Counter() for name in self.groups}  # name -> (group, feature) -> applicants
        self.sizes = {name: Counter() for name in self.groups}  # name -> group -> applicants
        self.stopped = Counter()
        self.reasons = self.certain = self.cite_sensitive = self.model_rows = 0
        self.with_reasons = self.cited_certain = 0  # applicants with a reason; those whose cited set is certain

    def add(self, chunk, explanation, codes):
        self.model_rows += int(explanation.params["model_rows"])
        self.stopped.update(str(r) for r in explanation.diagnostics.get("stopped_by", ()))
        self.reasons += len(codes)
        self.certain += int(codes["certain"].sum())
        firsts = codes[codes["rank"] == 1]
        self.with_reasons += len(firsts)
        self.cited_certain += int(firsts["cited_certain"].sum())
        self.cite_sensitive += int(codes["feature"].isin(self.sensitive).sum())
        cited = codes[["row", "feature"]].drop_duplicates()  # rows of the explanation are context positions
        self.counts.update(cited["feature"])
        rows = cited["row"].to_numpy(dtype=np.int64)
        for name, values in self.groups.items():
            self.sizes[name].update(values[chunk])
            self.by_group[name].update(zip(values[rows], cited["feature"]))

    def frequency(self, n):
        return _frequency(self.counts, n, self.by_group, self.sizes, self.orders)


class _Sample:
    """The applicants the HTML shows: the first ``SAMPLE`` and the ``SAMPLE`` riskiest (a bounded heap)."""

    def __init__(self):
        self.first, self.riskiest = [], []

    def add(self, chunk, lines):
        for p, line in zip(chunk, lines):
            if len(self.first) < SAMPLE:
                self.first.append(line)
            item = (line["probability_adverse"], -int(p), line)
            if len(self.riskiest) < SAMPLE:
                heapq.heappush(self.riskiest, item)
            elif item[:2] > self.riskiest[0][:2]:
                heapq.heapreplace(self.riskiest, item)

    def lines(self):
        shown = {line["position"] for line in self.first}
        top = [line for _, _, line in sorted(self.riskiest, key=lambda item: item[:2], reverse=True)
               if line["position"] not in shown]
        return self.first, top


def _wide(ctx, chunk, codes, sign, k, reason_text, columns):
    """One line per applicant: its label, decision, score and its reasons side by side."""
    frame = pd.DataFrame({"row": ctx.labels[chunk],
                          "decision": [ctx.decisions[p] for p in chunk],
                          "score": ctx.probabilities[chunk, ctx.adverse_index]})
    cited = [None] * len(chunk)
    slot = {int(p): i for i, p in enumerate(chunk)}
    blank = {"reason": None, "contribution": np.nan, "stderr": np.nan, "certain": None, "statement": None}
    table = {f"{name}_{i}": [blank[name]] * len(chunk) for i in range(1, k + 1) for name in blank}
    for line in codes.itertuples(index=False):
        i, r = slot[int(line.row)], int(line.rank)
        table[f"reason_{r}"][i] = line.condition
        table[f"contribution_{r}"][i] = float(sign * line.contribution)
        table[f"stderr_{r}"][i] = float(line.stderr)
        table[f"certain_{r}"][i] = bool(line.certain)
        cited[i] = bool(line.cited_certain)
        if reason_text:
            table[f"statement_{r}"][i] = reason_text.statement(line.feature, line.condition,
                                                               ctx.frame.iloc[int(line.row)])
    frame["cited_certain"] = pd.array(cited, dtype="boolean")
    for name in columns[4:]:
        frame[name] = table[name]
    for r in range(1, k + 1):
        frame[f"certain_{r}"] = frame[f"certain_{r}"].astype("boolean")
    return frame


def _applicant_lines(ctx, chunk, codes, sign, sensitive):
    by_position = {}
    for line in codes.itertuples(index=False):
        by_position.setdefault(int(line.row), []).append(line)
    return [{"row": _plain(ctx.labels[p]), "position": int(p), "decision": _plain(ctx.decisions[p]),
             "probability_adverse": float(ctx.probabilities[p, ctx.adverse_index]),
             "reasons": [{"rank": int(r.rank), "feature": _plain(r.feature), "condition": r.condition,
                          "contribution": float(sign * r.contribution),
                          "stderr": None if np.isnan(r.stderr) else float(r.stderr), "certain": bool(r.certain),
                          "sensitive": r.feature in sensitive}
                         for r in by_position.get(int(p), [])]}
            for p in chunk]


def _frequency(counts, n, by_group, group_sizes, orders, top=12):
    """How often each feature is cited as a principal reason, overall and by sensitive group, with 95% Wilson
    intervals."""
    features = sorted(counts, key=lambda f: (-counts[f], str(f)))[:top]
    cited = np.array([counts[f] for f in features], dtype=np.float64)
    low, high = wilson_interval(cited, np.full(len(features), n))
    out = {"n_applicants": n, "features": [_plain(f) for f in features],
           "share": (cited / n).tolist() if n else [], "low": low.tolist(), "high": high.tolist(), "by_group": []}
    for name, table in by_group.items():
        sizes = group_sizes[name]
        order = orders.get(name) or []
        labels = sorted(sizes, key=lambda g: (order.index(g) if g in order else len(order), str(type(g)), str(g)))
        shares, lows, highs = [], [], []
        for feature in features:
            hits = np.array([table.get((g, feature), 0) for g in labels], dtype=np.float64)
            trials = np.array([sizes[g] for g in labels], dtype=np.float64)
            lo, hi = wilson_interval(hits, trials)
            shares.append((hits / trials).tolist())
            lows.append(lo.tolist())
            highs.append(hi.tolist())
        out["by_group"].append({"attribute": _plain(name), "groups": [_plain(g) for g in labels],
                                "counts": [int(sizes[g]) for g in labels], "share": shares, "low": lows,
                                "high": highs})
    return out

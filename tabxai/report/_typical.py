"""The audit's section "typical and unusual applicants": prototypes, criticisms and similar cases.

One function of plain inputs (the model, the applicants, which of them are declined) returning
JSON-ready data; the template fragment ``templates/_typical.html.j2`` renders it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._display import value_text
from .._validation import check_int, resolve_seed, row_generator
from ..examples import Prototypes, neighbours

__all__ = ["typical_applicants"]

APPROVED, DECLINED = "approved", "declined"


def typical_applicants(model, X, declined, *, random_state=0, output=None, n_prototypes=4, n_criticisms=5,
                       n_declined=5, n_similar=3, max_columns=8, max_rows=20_000):
    """Prototypes of approved and declined applicants, criticisms, and similar approved cases of declined ones.

    Parameters
    ----------
    model : estimator, pipeline or callable
        Asked for ``output`` on the similar approved applicants (None: no scores).
    X : DataFrame
        The applicants, as the model takes them.
    declined : bool array of shape (n_rows,)
        The model's adverse decisions.
    random_state : int, default=0
    output : label, default=None
        The model output shown for similar cases (the favourable class's probability).
    n_prototypes, n_criticisms : int
        Prototypes per decision, and criticisms (applicants unlike every prototype).
    n_declined, n_similar : int
        The first ``n_declined`` declined applicants get their ``n_similar`` most similar approved ones.
    max_columns : int
        Columns shown: those in which the prototypes differ most.
    max_rows : int
        At most this many applicants, drawn at random, are searched (memory stays flat).

    Returns
    -------
    dict or None
        JSON-ready data; None when there are fewer than 2 applicants.
    """
    declined = np.asarray(declined, dtype=np.bool_)
    if declined.shape != (len(X),):
        raise ValueError(f"`declined` must have one entry per row of X ({len(X)}); got shape {declined.shape}")
    for name, value in (("n_prototypes", n_prototypes), ("n_criticisms", n_criticisms), ("n_declined", n_declined),
                        ("n_similar", n_similar), ("max_columns", max_columns)):
        check_int(value, name, min_value=0 if name in ("n_criticisms", "n_declined") else 1)
    seed = resolve_seed(random_state)
    positions = np.arange(len(X))
    if len(X) > max_rows:
        positions = np.sort(row_generator(seed, 0).choice(len(X), max_rows, replace=False))
    if positions.size < 2:
        return None
    rows = X.iloc[positions]
    decision = np.where(declined[positions], DECLINED, APPROVED)
    p = Prototypes(n_prototypes=min(n_prototypes, positions.size), n_criticisms=min(n_criticisms, positions.size),
                   by_class=True, random_state=seed).fit(rows, decision)
    columns = p.telling_columns(max_columns)

    def cells(frame_row):
        return [value_text(frame_row[c], 30) for c in columns]

    groups = []
    for k, name in enumerate(p.classes_):
        mine = np.flatnonzero(p.prototype_labels_ == name)
        groups.append({"decision": str(name), "n_rows": int((decision == name).sum()), "mmd2": float(p.mmd2_[k]),
                       "prototypes": [{"row": _label(rows.index[p.prototype_indices_[i]]),
                                       "weight": float(p.weights_[i]),
                                       "cells": cells(rows.iloc[p.prototype_indices_[i]])} for i in mine]})
    criticisms = [{"row": _label(rows.index[i]), "decision": str(decision[i]), "distance": float(np.sqrt(d)),
                   "cells": cells(rows.iloc[i])} for i, d in zip(p.criticism_indices_, p.criticism_distances_)]
    similar = []
    approved_rows = rows[decision == APPROVED]
    first_declined = rows[decision == DECLINED].iloc[:n_declined]
    if len(approved_rows) and len(first_declined):
        found = neighbours(approved_rows, first_declined, k=min(n_similar, len(approved_rows)),
                           model=model if output is not None else None, output=output)
        score_column = found.columns[4] if output is not None else None
        for label, applicant in first_declined.iterrows():
            part = found[found["row"] == label]
            similar.append({"row": _label(label), "cells": cells(applicant), "neighbours": [
                {"row": _label(line["neighbour"]), "distance": float(line["distance"]),
                 "score": None if score_column is None else float(line[score_column]),
                 "cells": cells(line)} for _, line in part.iterrows()]})
    return {"columns": [str(c) for c in columns], "groups": groups, "criticisms": criticisms, "similar": similar,
            "n_searched": int(positions.size), "n_rows": int(len(X)), "random_state": seed,
            "gamma": float(p.gamma_), "output": None if output is None else _label(output),
            "n_prototypes": n_prototypes, "n_criticisms": n_criticisms, "n_similar": n_similar}


def _label(value):
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)

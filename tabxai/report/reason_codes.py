"""Principal reasons for a decision: the largest attributions of a row, as readable conditions.

Regulation B (12 CFR 1002.9) asks a lender to state the specific principal reasons for an adverse
decision, reasons that relate to the factors actually scored; its commentary notes that more than
four reasons are unlikely to help the applicant. A reason here is a feature (or feature group) with
one of the ``k`` largest attributions towards the adverse outcome, written as the applicant's value
(``duration = 48 months``, ``savings is missing``), with its contribution and a flag when the
standard errors do not settle its rank.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .._display import is_missing, plain, player_members, row_conditions, value_text
from .._validation import check_choice, check_int, check_real
from ._ranks import principal_reasons

__all__ = ["format_condition", "format_value", "reason_codes"]


def format_value(value):
    """A data value as people read it, exactly (:func:`tabxai._display.value_text`): integers
    without decimals, thousands separated from 10,000 on, ``yes``/``no``; None when missing."""
    if is_missing(value):
        return None
    large = isinstance(value, numbers.Real) and not isinstance(value, bool) and abs(value) >= 10_000
    return value_text(value, None, grouping=large, booleans=("no", "yes"))


def format_condition(feature, value, unit=None):
    """``feature = value unit``, or ``feature is missing`` when the value is missing.

    Examples
    --------
    >>> format_condition("duration", 48, "months")
    'duration = 48 months'
    >>> format_condition("savings", float("nan"))
    'savings is missing'
    """
    text = format_value(value)
    if text is None:
        return f"{feature} is missing"
    return f"{feature} = {text}" + (f" {unit}" if unit else "")


def _members(explanation, data):
    """Columns of each player (a group's members, or the column itself): the results' one rule."""
    names = list(explanation.feature_names)
    members = player_members(names, data, explanation.params, getattr(explanation, "groups", None))
    return {name: list(columns) for name, columns in zip(names, members)}


def _condition(name, members, row, units):
    if not members:
        return str(name)
    parts = [format_condition(column, row[column], units.get(column)) for column in members]
    if len(members) == 1 and members[0] == name:
        return parts[0]
    return f"{name}: " + ", ".join(parts)


def reason_codes(explanation, k=4, direction="positive", *, output=None, units=None, level=0.95):
    """The ``k`` principal reasons of each explained row: its largest attributions in one direction.

    Reasons are the features (or feature groups) whose attributions push the output the most in
    ``direction``; only attributions strictly in that direction count, so a row may have fewer than
    ``k`` reasons. Each reason is written as the row's value (``duration = 48 months``, ``savings
    is missing``; a group lists its columns). A reason's rank is *certain* when its attribution
    differs from those of the cited reasons ranked just above and just below it by more than the
    standard errors allow at ``level`` (two-sided normal test on the difference); ``cited_certain``
    says whether the row's cited reasons are certainly its largest ones (the last of them differs
    in the same way from the first attribution left out). An exact method's ties are uncertain,
    its other ranks certain.

    Parameters
    ----------
    explanation : Explanation
        Attributions of rows, or of one row (``expl[0]``), with one output (or several, with
        ``output`` chosen: an error asks for it otherwise).
    k : int, default=4
        Most reasons per row (Regulation B's commentary: more than four do not help).
    direction : {"positive", "negative"}, default="positive"
        ``"positive"``: reasons for a high output (e.g. the probability of the adverse outcome);
        ``"negative"``: reasons for a low one.
    output : class label or int, default=None
        Output to use when the explanation has several.
    units : dict, default=None
        ``{column: unit}`` written after the value, e.g. ``{"duration": "months"}``.
    level : float, default=0.95
        Confidence level of the rank test, in (0, 1).

    Returns
    -------
    DataFrame
        One line per reason: ``row`` (the row's index label), ``rank`` (1 = principal reason),
        ``feature``, ``condition``, ``contribution`` (the attribution), ``stderr`` (NaN for exact
        methods), ``certain`` (whether its rank among the cited reasons is statistically settled)
        and ``cited_certain`` (the same for every reason of a row: whether they are certainly the
        row's largest attributions).

    Examples
    --------
    >>> import pandas as pd
    >>> from tabxai import Explanation
    >>> data = pd.DataFrame({"duration": [48], "amount": [9000.0], "savings": [None]})
    >>> expl = Explanation([[0.20, -0.05, 0.08]], [0.3], data, ["duration", "amount", "savings"], ["bad"],
    ...                    stderr=[[0.01, 0.01, 0.01]])
    >>> codes = reason_codes(expl, k=2, units={"duration": "months"})
    >>> codes["condition"].tolist(), codes["certain"].tolist()
    (['duration = 48 months', 'savings is missing'], [True, True])
    """
    k = check_int(k, "k", min_value=1)
    direction = check_choice(direction, "direction", ("positive", "negative"))
    level = check_real(level, "level", min_value=0.0, max_value=1.0, min_inclusive=False)
    if level >= 1.0:
        raise ValueError(f"`level` must be a number in (0, 1); got {level}")
    if units is not None and not isinstance(units, dict):
        raise TypeError(f"`units` must be a dict {{column: unit}}; got {type(units).__name__}")
    units = units or {}
    explanation = _one_output(explanation, output)
    values, stderr, frame, conditions = _rows_by_players(explanation)
    exact = stderr is None
    stderr = np.zeros_like(values) if exact else stderr
    members = _members(explanation, frame)
    names = list(explanation.feature_names)
    index = list(frame.index)
    order, listed, certain, _, cited = principal_reasons(values, None if exact else stderr, k, direction, level)
    lines = []
    for i in range(values.shape[0]):
        row = frame.iloc[i]
        given = row_conditions(conditions, i, len(names))
        for rank in np.flatnonzero(listed[i]):
            j = order[i, rank]
            lines.append({
                "row": index[i], "rank": rank + 1, "feature": names[j],
                "condition": given[j] if given is not None and given[j] is not None else
                _condition(names[j], members.get(names[j], []), row, units),
                "contribution": float(values[i, j]),
                "stderr": np.nan if exact else float(stderr[i, j]),
                "certain": bool(certain[i, rank]), "cited_certain": bool(cited[i]),
            })
    columns = ["row", "rank", "feature", "condition", "contribution", "stderr", "certain", "cited_certain"]
    result = pd.DataFrame(lines, columns=columns)
    result["rank"] = result["rank"].astype(np.int64)
    result["certain"] = result["certain"].astype(bool)
    result["cited_certain"] = result["cited_certain"].astype(bool)
    return result


def _one_output(explanation, output):
    """The explanation of one output: ``output`` chosen when it has several (an error asks for one)."""
    names = explanation.output_names
    if isinstance(names, tuple):  # the outputs axis is there, whatever the number of rows
        if output is None:
            if len(names) != 1:
                raise ValueError(f"the explanation has {len(names)} outputs {[plain(n) for n in names]}; "
                                 "choose one with `output`")
            output = 0
        return explanation[..., output]
    if output is not None and not _same(output, names) and not (isinstance(output, int) and output in (0, -1)):
        raise ValueError(f"unknown output {output!r}; the output is {names!r}")
    return explanation


def _rows_by_players(explanation):
    """Values and standard errors as (rows, players), the rows as a DataFrame, conditions (rows, players).

    One explained row (``expl[0]``) becomes a table of one row, its label kept.
    """
    values = np.asarray(explanation.values, dtype=np.float64)
    if not isinstance(explanation.feature_names, tuple):
        raise TypeError("reason_codes needs an Explanation of rows by features; got one feature "
                        f"({explanation.feature_names!r}) (use expl[:, [name]] to keep the features axis)")
    try:
        len(explanation)
        single = False
    except TypeError:  # the rows axis was indexed away
        single = True
    data = explanation.data
    conditions = explanation.conditions
    if single:
        values = values[None, :]
        if isinstance(data, pd.Series):
            frame = data.to_frame().T
        else:
            frame = pd.DataFrame([np.asarray(data, dtype=object)], columns=None)
        conditions = None if conditions is None else np.asarray(conditions, dtype=object)[None, :]
    else:
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
    if values.ndim != 2 or values.shape[1] != len(explanation.feature_names):
        raise TypeError("reason_codes needs an Explanation of rows by features; got values of shape "
                        f"{np.shape(explanation.values)}")
    stderr = explanation.stderr
    if stderr is not None:
        stderr = np.asarray(stderr, dtype=np.float64).reshape(values.shape)
    return values, stderr, frame, conditions


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False

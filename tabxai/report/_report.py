"""AuditReport: the computed audit as data (``to_dict``) and as one self-contained HTML file."""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

from .._display import number_text
from .reason_codes import format_value

__all__ = ["AuditReport"]


class AuditReport:
    """The result of :func:`tabxai.audit`: every number of the report, and the report itself.

    Attributes
    ----------
    title : str

    Examples
    --------
    >>> report = tx.audit(model, X, y)          # doctest: +SKIP
    >>> report.save("audit.html")                # doctest: +SKIP
    >>> report.to_dict()["performance"]["roc_auc"]  # doctest: +SKIP
    """

    def __init__(self, result, figures, reasons=None):
        self._result = result
        self._figures = figures
        self._reasons = reasons
        self.title = result.get("title", "Audit")

    @property
    def reasons(self):
        """The reasons of every adverse decision as a DataFrame (read back from ``reasons_out`` when the audit
        wrote them to a file): ``row, decision, score, reason_i, contribution_i, stderr_i, certain_i``."""
        if self._reasons is None:
            return None
        return self._reasons.table(self._result["reasons"]["columns"])

    def to_dict(self):
        """Every number of the report as plain, JSON-serialisable Python data (a deep copy)."""
        return copy.deepcopy(self._result)

    def to_json(self, indent=None):
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self._result, indent=indent, allow_nan=False)

    def to_html(self):
        """The report as one HTML document: figures embedded, no scripts, no external requests."""
        from jinja2 import Environment, PackageLoader, StrictUndefined

        environment = Environment(loader=PackageLoader("tabxai.report", "templates"), autoescape=True,
                                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        environment.filters["num"] = _number
        environment.filters["pct"] = _percent
        environment.filters["value"] = lambda value: "n/a" if value is None else format_value(value)
        template = environment.get_template("audit.html.j2")
        return template.render(r=self._result, fig=self._figures)

    def save(self, path):
        """Write the HTML report to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def _repr_html_(self):
        document = self.to_html()
        return (f'<iframe srcdoc="{html.escape(document, quote=True)}" title="{html.escape(self.title)}" '
                'style="width:100%;height:640px;border:1px solid #ccc"></iframe>')

    def __repr__(self):
        model = self._result["model"]
        performance = self._result.get("performance")
        auc = "" if not performance or performance.get("roc_auc") is None else f", ROC AUC {performance['roc_auc']:.3f}"
        return (f"<tabxai.AuditReport: {model['type']} on {model['n_rows']} rows, {model['n_adverse']} adverse "
                f"decisions ('{model['adverse']}'){auc}, {len(self._result['fairness'])} sensitive attributes>")


def _number(value, digits=3):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return number_text(value, decimals=None if isinstance(value, int) else digits, grouping=True)


def _percent(value, digits=1):
    if value is None:
        return "n/a"
    return f"{100 * value:.{digits}f}%"

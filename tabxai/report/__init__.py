"""The audit report (presentation layer): ``tx.audit``, principal reasons, fairness by group."""

from ._report import AuditReport
from .audit import audit
from .fairness import group_fairness, numeric_bands
from ._ranks import principal_reasons, reasons_settled
from .reason_codes import format_condition, reason_codes

__all__ = ["AuditReport", "audit", "format_condition", "group_fairness", "numeric_bands", "principal_reasons", "reason_codes",
           "reasons_settled"]

"""Glass-box baselines: OneR and ordered rule lists, as classifiers or as surrogates of a black box."""

from ._base import Condition, Rule
from .oner import OneR
from .rule_list import RuleListClassifier
from .surrogate import Surrogate, fit_surrogate

__all__ = ["Condition", "OneR", "Rule", "RuleListClassifier", "Surrogate", "fit_surrogate"]

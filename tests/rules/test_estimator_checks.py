"""The whole scikit-learn estimator contract, for both rule learners."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from tabxai.rules import OneR, RuleListClassifier


@parametrize_with_checks([OneR(), RuleListClassifier()])
def test_sklearn_contract(estimator, check):
    check(estimator)

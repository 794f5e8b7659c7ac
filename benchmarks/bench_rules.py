"""Glass-box baselines: tabxai's RuleListClassifier and OneR against rule-learning peers.

Peers: wittgenstein RIPPER, imodels GreedyRuleListClassifier and OneRClassifier, and a depth-3
scikit-learn DecisionTreeClassifier, each with its default parameters, fitted in the same process,
interleaved, on German credit (a fixed stratified 70/30 split, random_state=0) and Adult (its own
train/test split), with the majority class as the baseline every learner must beat. On German credit
a 300-row held-out set leaves an accuracy a standard error of about 0.026, so a stratified 5-fold
cross-validated accuracy over all 1,000 rows is given beside it. tabxai's learners take the raw DataFrames; RIPPER takes them with missing
categories as "?"; imodels and the tree take one-hot columns. Times are reported as ratios to
RuleListClassifier's fit time in the same run, after one warm-up fit that loads tabxai's Numba
kernels.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.tree import DecisionTreeClassifier

import tabxai as tx

from ._common import interleaved, load_note, markdown_table

TITLE = "Glass-box baselines: rule lists and OneR against RIPPER, imodels and a depth-3 tree"

RULE_PEERS = ("wittgenstein RIPPER", "imodels GreedyRuleListClassifier", "imodels OneRClassifier")


BASELINE = "majority class (baseline)"


def _datasets(quick):
    X, y = tx.datasets.load_german_credit()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    yield "German credit", X_train, X_test, y_train, y_test, "bad", (X, y)
    X_train, y_train = tx.datasets.load_adult("train")
    X_test, y_test = tx.datasets.load_adult("test")
    if quick:
        X_train, y_train = X_train.iloc[:4000], y_train.iloc[:4000]
    yield "Adult", X_train, X_test, y_train, y_test, ">50K", None


def _one_hot(X_train, X_test):
    both = pd.get_dummies(pd.concat([X_train, X_test]), dummy_na=False).astype(np.float64)
    return both.iloc[:len(X_train)].to_numpy(), both.iloc[len(X_train):].to_numpy()


def _for_ripper(X):
    X = X.copy()
    for name in X.columns:
        if isinstance(X[name].dtype, pd.CategoricalDtype):
            X[name] = X[name].astype(object).where(X[name].notna(), "?").astype(str)
    return X


def _learners(X_train, X_test, y_train, positive):
    """name -> (fit() returning a fitted model, predict(model) -> labels, conditions(model))."""
    import wittgenstein
    from imodels import GreedyRuleListClassifier, OneRClassifier

    labels = np.asarray(y_train.astype(str))
    negative = [c for c in np.unique(labels) if c != positive][0]
    binary = (labels == positive).astype(int)
    hot_train, hot_test = _one_hot(X_train, X_test)
    rip_train, rip_test = _for_ripper(X_train), _for_ripper(X_test)

    def from_binary(predictions):
        return np.where(np.asarray(predictions).astype(bool), positive, negative)

    def imodels_conditions(model):
        return sum("col" in rule for rule in model.rules_)

    def fit_ripper():
        model = wittgenstein.RIPPER(random_state=0)
        model.fit(rip_train, labels == positive, pos_class=True)  # returns None
        return model

    def tabxai_conditions(model):
        return sum(rule.n_conditions for rule in model.rules_)

    return {
        "tabxai RuleListClassifier": (lambda: tx.RuleListClassifier().fit(X_train, labels),
                                      lambda m: m.predict(X_test), tabxai_conditions),
        "tabxai OneR": (lambda: tx.OneR().fit(X_train, labels), lambda m: m.predict(X_test), tabxai_conditions),
        "wittgenstein RIPPER": (
            fit_ripper,
            lambda m: from_binary(m.predict(rip_test)),
            lambda m: sum(len(rule.conds) for rule in m.ruleset_.rules)),
        "imodels GreedyRuleListClassifier": (lambda: GreedyRuleListClassifier().fit(hot_train, binary),
                                             lambda m: from_binary(m.predict(hot_test)), imodels_conditions),
        "imodels OneRClassifier": (lambda: OneRClassifier().fit(hot_train, binary),
                                   lambda m: from_binary(m.predict(hot_test)), imodels_conditions),
        "sklearn DecisionTree (depth 3)": (
            lambda: DecisionTreeClassifier(max_depth=3, random_state=0).fit(hot_train, labels),
            lambda m: m.predict(hot_test), lambda m: int((m.tree_.feature >= 0).sum())),
        BASELINE: (lambda: DummyClassifier(strategy="most_frequent").fit(hot_train, labels),
                   lambda m: m.predict(hot_test), lambda m: 0),
    }


def _cross_validated(X, y, positive, n_splits=5):
    """Stratified ``n_splits``-fold accuracy of every learner: name -> (mean, standard error over folds)."""
    scores = {}
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    for train, test in folds.split(X, y):
        X_train, X_test, y_train = X.iloc[train], X.iloc[test], y.iloc[train]
        truth = np.asarray(y.iloc[test].astype(str))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for key, (fit, predict, _) in _learners(X_train, X_test, y_train, positive).items():
                scores.setdefault(key, []).append(accuracy_score(truth, predict(fit())))
    return {key: (float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(len(v)))) for key, v in scores.items()}


def _target_line(name, rows):
    ours = rows["tabxai RuleListClassifier"]
    peer = max(RULE_PEERS, key=lambda p: (rows[p]["accuracy"], -rows[p]["conditions"]))
    best = rows[peer]
    met = (ours["accuracy"] >= best["accuracy"] - 0.005 and ours["conditions"] <= best["conditions"]
           and ours["seconds"] <= best["seconds"])
    return (f"- {name}: best rule-based peer {peer} (accuracy {best['accuracy']:.3f}, "
            f"{best['conditions']} conditions); RuleListClassifier {ours['accuracy']:.3f} "
            f"({100 * (ours['accuracy'] - best['accuracy']):+.1f} points), {ours['conditions']} conditions, "
            f"fits {best['seconds'] / ours['seconds']:.1f}x faster. Target {'met' if met else 'NOT met'}.")


def _warm_up():
    """Load tabxai's Numba kernels (compiled once, then read from the on-disk cache) before timing."""
    X = pd.DataFrame({"x": np.arange(20.0), "c": ["a", "b"] * 10})
    y = np.arange(20) % 3
    tx.RuleListClassifier().fit(X, y)
    tx.OneR().fit(X, y)


def _one_r_line(name, rows, model, train_accuracy, cv):
    ours, base = rows["tabxai OneR"], rows[BASELINE]
    line = (f"- {name}: OneR tests `{model.feature_}` in {len(model.rules_) - 1} intervals (Holte's 1R, "
            f"min_bucket_size={model.min_bucket_size}); training accuracy {train_accuracy:.3f}, held out "
            f"{ours['accuracy']:.3f} against the majority class's {base['accuracy']:.3f} "
            f"({100 * (ours['accuracy'] - base['accuracy']):+.1f} points)")
    if cv is not None:
        line += (f"; 5-fold cross-validated {cv['tabxai OneR'][0]:.3f} ± {cv['tabxai OneR'][1]:.3f} against "
                 f"{cv[BASELINE][0]:.3f} ± {cv[BASELINE][1]:.3f}")
    verdict = "above" if ours["accuracy"] > base["accuracy"] else "at or below"
    return line + f": {verdict} the baseline held out."


def _cv_line(name, cv):
    base = cv[BASELINE][0]
    ahead = [f"{key} ({100 * (mean - base):+.1f} points, s.e. {100 * se:.1f})" for key, (mean, se) in cv.items()
             if key != BASELINE and mean - base > 2 * se]
    level = [key for key, (mean, se) in cv.items() if key != BASELINE and abs(mean - base) <= 2 * se]
    behind = [key for key, (mean, se) in cv.items() if key != BASELINE and base - mean > 2 * se]
    return (f"- {name}, 5-fold cross-validated: more than two standard errors above the majority class: "
            f"{', '.join(ahead) or 'none'}; within two: {', '.join(level) or 'none'}; below: "
            f"{', '.join(behind) or 'none'}. The single 300-row split flatters or penalises a learner by a "
            "few points; read the held-out column with that in mind.")


def run(quick=False):
    start_load = os.getloadavg()[0]
    repeats = 1 if quick else 3
    tables, targets, one_r = [], [], []
    _warm_up()
    for name, X_train, X_test, y_train, y_test, positive, whole in _datasets(quick):
        truth = np.asarray(y_test.astype(str))
        learners = _learners(X_train, X_test, y_train, positive)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            times, fitted = interleaved({key: fit for key, (fit, _, _) in learners.items()}, repeats=repeats)
            rows = {}
            for key, (_, predict, conditions) in learners.items():
                predicted = predict(fitted[key])
                rows[key] = {"accuracy": accuracy_score(truth, predicted),
                             "balanced": balanced_accuracy_score(truth, predicted),
                             "conditions": conditions(fitted[key]), "seconds": times[key]}
        cv = _cross_validated(*whole, positive) if whole is not None else None
        reference = rows["tabxai RuleListClassifier"]["seconds"]
        baseline = rows[BASELINE]["accuracy"]
        header = ["learner", "held-out accuracy", "minus majority class", "balanced accuracy", "conditions",
                  "fit time / RuleListClassifier"]
        if cv is not None:
            header.insert(3, "5-fold CV accuracy (± s.e.)")
        table = []
        for key, row in rows.items():
            line = [key, row["accuracy"], f"{100 * (row['accuracy'] - baseline):+.1f} points", row["balanced"],
                    row["conditions"], row["seconds"] / reference]
            if cv is not None:
                line.insert(3, f"{cv[key][0]:.3f} ± {cv[key][1]:.3f}")
            table.append(line)
        tables.append(f"### {name} ({len(X_train):,} training rows, {len(X_test):,} held-out rows)\n\n" +
                      markdown_table(header, table))
        targets.append(_target_line(name, rows))
        model = fitted["tabxai RuleListClassifier"]
        tables.append(f"RuleListClassifier on {name}:\n\n```\n{model}\n```")
        one_r_model = fitted["tabxai OneR"]
        train_accuracy = float(np.mean(np.asarray(one_r_model.predict(X_train)).astype(str)
                                       == np.asarray(y_train.astype(str))))
        one_r.append(_one_r_line(name, rows, one_r_model, train_accuracy, cv))
        if name == "German credit":
            tables.append(f"OneR on {name}:\n\n```\n{one_r_model}\n```")
        if cv is not None:
            one_r.append(_cv_line(name, cv))
    notes = (
        "Conditions: tests a reader must check; for RIPPER the conditions of all its rules, for imodels the "
        "split rules of the list, for the tree its split nodes (a root-to-leaf path reads 3 of them), for "
        f"tabxai the conditions of all rules. Median of {repeats} interleaved fits, after a warm-up fit "
        "that loads tabxai's Numba kernels. \"minus majority class\": held-out accuracy minus that of always "
        "predicting the most frequent training class (German credit: good, 70%; Adult: <=50K, 76%). The "
        "held-out accuracy's standard error is about 0.026 on German credit's 300 rows and 0.003 on Adult's "
        "16,281.\n\n"
        "OneR against the majority class. Holte's 1R picks the one feature whose rule makes the fewest "
        "training errors; on a numeric feature its intervals hold at least `min_bucket_size` (6) training "
        "rows of their majority class, and on 700 rows a skewed numeric column such as `amount` can be cut "
        "into many small intervals that fit the training set and not new rows. That is the method, not a "
        "bug; raise `min_bucket_size` for fewer, sturdier intervals. Measured:\n\n" + "\n".join(one_r) + "\n\n"
        "Target (issue #5): RuleListClassifier at least as accurate as the best rule-based peer (within 0.5 "
        "points) with no more conditions, fitting no slower.\n\n" + "\n".join(targets)
    )
    return "\n\n".join(tables) + "\n\n" + notes + "\n\n" + load_note(start_load)

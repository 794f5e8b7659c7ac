"""One picture of each plot for a credit model on raw German credit data.

A scikit-learn pipeline (one-hot encoding inside, a logistic regression) predicts the probability
of "bad" credit risk. KernelSHAP explains 200 applicants (with standard errors); partial
dependence, ALE and permutation importance describe the model globally. Every plot is written
as a PNG into the output directory (default: docs/images), nothing is shown on screen.

Run:  python examples/plot_german_credit.py [output directory]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import tabxai as tx  # noqa: E402


def main(out=Path("docs/images")):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y = tx.datasets.load_german_credit()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    categorical = list(X.select_dtypes("category").columns)
    numeric = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), numeric)),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)

    background = X_train.sample(50, random_state=0)
    explainer = tx.KernelSHAP(model, background, output="bad", n_coalitions=400, random_state=0)
    expl = explainer.explain(X_test.iloc[:200])
    groups = {"loan": ["duration", "amount", "installment_rate"], "home": ["housing", "property", "present_residence"],
              "record": ["credit_history", "number_credits", "other_installment_plans"],
              "people": ["personal_status_sex", "people_liable", "age"],
              "work": ["employment_duration", "job", "telephone"]}
    grouped = tx.ExactShapley(model, background, output="bad", feature_groups=groups).explain(X_test.iloc[:1])

    written = []

    def save(axes_or_figure, name):
        figure = getattr(axes_or_figure, "figure", axes_or_figure)
        path = out / f"{name}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)

    save(tx.plots.waterfall(expl[0]), "waterfall")
    save(tx.plots.waterfall(grouped[0]), "waterfall_groups")
    save(tx.plots.bar(expl), "bar")
    sex = X_test.iloc[:200]["personal_status_sex"].astype(str).str.split(":").str[0]
    save(tx.plots.bar(expl, cohorts=sex, max_display=8), "bar_cohorts")
    save(tx.plots.beeswarm(expl), "beeswarm")
    save(tx.plots.scatter(expl, "duration", color="status"), "scatter")
    save(tx.plots.heatmap(expl), "heatmap")

    dependence = tx.partial_dependences(model, X, ["duration", "age", "purpose"], kind="both", output="bad")
    save(tx.plots.partial_dependence(dependence, max_ice_lines=50, random_state=0), "partial_dependence")
    save(tx.plots.accumulated_local_effects(tx.accumulated_local_effects(model, X, "amount", output="bad")), "ale")
    importance = tx.permutation_importance(model, X_test, y_test, scoring="roc_auc", n_repeats=5, random_state=0)
    save(tx.plots.permutation_importance(importance, max_features=12), "permutation_importance")
    return written


if __name__ == "__main__":
    for path in main(*sys.argv[1:]):
        print(path)

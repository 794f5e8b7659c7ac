"""Train a credit model on raw German credit data and explain one applicant's decision.

The model is an ordinary scikit-learn pipeline on the raw table (categorical columns with readable
labels, one-hot encoded inside the pipeline). tabxai explains its predicted probability of "bad"
credit risk for one applicant with exact Shapley values: every coalition of the applicant's
attributes is evaluated against a background sample of 50 other applicants. Related columns are
grouped so that an attribution goes to a meaningful unit ("loan terms", "home").

Run:  python examples/explain_german_credit.py
"""

import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

import tabxai as tx


def main():
    X, y = tx.datasets.load_german_credit()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    categorical = list(X.select_dtypes("category").columns)
    preprocess = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
        remainder="passthrough",
    )
    model = make_pipeline(preprocess, HistGradientBoostingClassifier(max_iter=100, random_state=0))
    model.fit(X_train, y_train)
    print(f"held-out accuracy: {model.score(X_test, y_test):.3f} on {len(X_test)} applicants\n")

    groups = {
        "loan terms": ["duration", "amount", "installment_rate"],
        "home": ["housing", "property", "present_residence"],
        "credit record": ["credit_history", "number_credits", "other_installment_plans"],
        "household": ["personal_status_sex", "people_liable"],
        "work": ["employment_duration", "job", "telephone"],
    }
    background = X_train.sample(50, random_state=0)
    explainer = tx.ExactShapley(model, background, output="bad", feature_groups=groups)
    applicant = X_test.iloc[[0]]
    start = time.perf_counter()
    explanation = explainer.explain(applicant)
    seconds = time.perf_counter() - start

    print(explanation)
    rows = explanation.params["model_rows"]
    print(f"\n{len(explanation.feature_names)} players, {rows:,} model rows in {seconds:.1f} s")
    predicted = model.predict_proba(applicant)[0, list(model.classes_).index("bad")]
    total = explanation.base_values[0] + explanation.values[0].sum()
    print(f"P(bad) from the model: {predicted:.4f}; base value + attributions: {total:.4f}")
    assert np.isclose(predicted, total, atol=1e-10)

    reasons = explanation.to_frame().iloc[0].sort_values(ascending=False).head(3)
    print("\nstrongest reasons towards 'bad':")
    for name, value in reasons.items():
        print(f"  {name:<25} {value:+.3f}")


if __name__ == "__main__":
    main()

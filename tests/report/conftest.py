"""A small credit model and a small audit of it, made once (small settings: seconds, not minutes)."""

import numpy as np
import pytest

SMALL = dict(n_background=8, n_coalitions=40, n_explained=30, n_repeats=2, n_bootstrap=30, max_applicants=12,
             top_features=2)


@pytest.fixture(scope="session")
def credit():
    """German credit, 9 columns (missing savings and amount added), a one-hot + logistic pipeline on 600 rows,
    the other 400 rows audited."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    import tabxai as tx

    X, y = tx.datasets.load_german_credit()
    X = X[["status", "duration", "credit_history", "amount", "savings", "personal_status_sex", "age",
           "housing", "foreign_worker"]].copy()
    rng = np.random.default_rng(0)
    X.loc[rng.random(len(X)) < 0.08, "savings"] = np.nan
    X.loc[rng.random(len(X)) < 0.05, "amount"] = np.nan
    categorical = list(X.select_dtypes("category").columns)
    numeric = [c for c in X.columns if c not in categorical]
    encode = ColumnTransformer([
        ("categories", OneHotEncoder(handle_unknown="ignore"), categorical),
        ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numeric)])
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(X.iloc[:600], y.iloc[:600])
    return model, X.iloc[600:], y.iloc[600:]


@pytest.fixture(scope="session")
def small_audit(credit):
    import tabxai as tx

    model, X, y = credit
    sex = X["personal_status_sex"].astype(str).str.split(":").str[0]
    sensitive = {"sex": sex, "age": None, "foreign_worker": None}
    report = tx.audit(model, X, y, sensitive=sensitive, positive="bad", favorable="good", random_state=3,
                      units={"duration": "months"}, **SMALL)
    return report, sensitive

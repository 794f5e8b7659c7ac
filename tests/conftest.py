"""Shared fixtures: small real models and data, made once per session."""

import os
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# `from naive import ...` finds tests/naive.py while tabxai itself comes from the installed package
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def german_small():
    """German credit, six columns (two numeric, four categorical) with missing values added, 300 rows."""
    from tabxai.datasets import load_german_credit

    X, y = load_german_credit()
    columns = ["duration", "amount", "status", "credit_history", "purpose", "housing"]
    X = X[columns].iloc[:300].copy()
    rng = np.random.default_rng(0)
    X.loc[rng.random(len(X)) < 0.1, "amount"] = np.nan
    X.loc[rng.random(len(X)) < 0.1, "purpose"] = np.nan
    return X, y.iloc[:300]


@pytest.fixture(scope="session")
def german_pipeline(german_small):
    """A real preprocessing + classifier pipeline fitted on the raw frame (strings, categories, NaN)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = german_small
    numeric = ["duration", "amount"]
    categorical = ["status", "credit_history", "purpose", "housing"]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         categorical),
    ])
    return make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture(scope="session")
def regression_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] - 2 * X[:, 1] + X[:, 2] * X[:, 3] + 0.1 * rng.normal(size=200)
    return X, y


@pytest.fixture(scope="session")
def frame_data(regression_data):
    X, y = regression_data
    return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]), y

"""Value-level tests for the bundled datasets and their loaders."""

import re

import numpy as np
import pandas as pd
import pytest

from tabxai.datasets import load_adult, load_california_housing, load_german_credit

GERMAN_CATEGORICAL = [
    "status",
    "credit_history",
    "purpose",
    "savings",
    "employment_duration",
    "personal_status_sex",
    "other_debtors",
    "property",
    "other_installment_plans",
    "housing",
    "job",
    "telephone",
    "foreign_worker",
]
GERMAN_NUMERIC = [
    "duration",
    "amount",
    "installment_rate",
    "present_residence",
    "age",
    "number_credits",
    "people_liable",
]
GERMAN_COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "amount",
    "savings",
    "employment_duration",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "present_residence",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "number_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
]
ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
]
ADULT_NUMERIC = [
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
]
ADULT_CATEGORICAL = [c for c in ADULT_COLUMNS if c not in ADULT_NUMERIC]
CALIFORNIA_FEATURES = [
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
]


@pytest.fixture(scope="module")
def german():
    return load_german_credit()


@pytest.fixture(scope="module")
def adult_train():
    return load_adult("train")


@pytest.fixture(scope="module")
def adult_test():
    return load_adult("test")


@pytest.fixture(scope="module")
def california():
    return load_california_housing()


# --------------------------------------------------------------------------
# German credit
# --------------------------------------------------------------------------


def test_german_shape_columns_dtypes(german):
    X, y = german
    assert X.shape == (1000, 20)
    assert list(X.columns) == GERMAN_COLUMNS
    assert isinstance(X.index, pd.RangeIndex)
    for column in GERMAN_NUMERIC:
        assert X[column].dtype == np.int64, column
    for column in GERMAN_CATEGORICAL:
        assert isinstance(X[column].dtype, pd.CategoricalDtype), column
        assert not X[column].cat.ordered
        assert X[column].notna().all(), column
    assert y.name == "credit_risk"
    assert len(y) == 1000
    assert isinstance(y.dtype, pd.CategoricalDtype)
    assert list(y.cat.categories) == ["bad", "good"]


def test_german_class_counts(german):
    _, y = german
    assert y.value_counts().to_dict() == {"good": 700, "bad": 300}
    # Raw rows 0 and 1 have codes 1 (good) and 2 (bad).
    assert y.iloc[:2].tolist() == ["good", "bad"]


def test_german_no_raw_codes_left(german):
    X, _ = german
    code = re.compile(r"\bA\d{2,3}\b")
    for column in GERMAN_CATEGORICAL:
        for label in X[column].cat.categories:
            assert not code.search(label), (column, label)
            assert label == " ".join(label.split()), (column, label)
            assert label and not label.startswith("."), (column, label)


def test_german_categories_in_codebook_order(german):
    X, _ = german
    assert list(X["status"].cat.categories) == [
        "< 0 DM",
        "0 <= ... < 200 DM",
        ">= 200 DM / salary assignments for at least 1 year",
        "no checking account",
    ]
    assert list(X["savings"].cat.categories) == [
        "< 100 DM",
        "100 <= ... < 500 DM",
        "500 <= ... < 1000 DM",
        ">= 1000 DM",
        "unknown / no savings account",
    ]
    assert list(X["housing"].cat.categories) == ["rent", "own", "for free"]
    assert list(X["foreign_worker"].cat.categories) == ["yes", "no"]
    expected_sizes = {
        "status": 4,
        "credit_history": 5,
        "purpose": 11,
        "savings": 5,
        "employment_duration": 5,
        "personal_status_sex": 5,
        "other_debtors": 3,
        "property": 4,
        "other_installment_plans": 3,
        "housing": 3,
        "job": 4,
        "telephone": 2,
        "foreign_worker": 2,
    }
    assert {c: len(X[c].cat.categories) for c in GERMAN_CATEGORICAL} == expected_sizes


def test_german_codes_that_never_occur_are_kept(german):
    X, _ = german
    purpose = X["purpose"].value_counts()
    assert list(X["purpose"].cat.categories)[7].startswith("vacation")  # A47
    assert purpose[X["purpose"].cat.categories[7]] == 0
    assert X["purpose"].cat.categories[10] == "others"  # A410 after A49
    personal = X["personal_status_sex"]
    assert personal.cat.categories[4] == "female: single"  # A95
    assert (personal == "female: single").sum() == 0


def test_german_known_rows_and_counts(german):
    X, _ = german
    row = X.iloc[0]
    assert row["status"] == "< 0 DM"
    assert row["duration"] == 6
    assert row["credit_history"].startswith("critical account")
    assert row["purpose"] == "radio/television"
    assert row["amount"] == 1169
    assert row["savings"] == "unknown / no savings account"
    assert row["employment_duration"] == ">= 7 years"
    assert row["personal_status_sex"] == "male: single"
    assert row["property"] == "real estate"
    assert row["age"] == 67
    assert row["job"] == "skilled employee / official"
    assert row["telephone"].startswith("yes")
    row = X.iloc[-1]  # A12 45 A34 A41 4576 ... A123 27 ...
    assert row["status"] == "0 <= ... < 200 DM"
    assert (row["duration"], row["amount"], row["age"]) == (45, 4576, 27)
    assert row["purpose"] == "car (used)"
    assert row["employment_duration"] == "unemployed"
    assert row["property"].startswith("car or other")
    assert X["status"].value_counts()["no checking account"] == 394
    assert X["foreign_worker"].value_counts().to_dict() == {"yes": 963, "no": 37}
    assert X["duration"].agg(["min", "max"]).tolist() == [4, 72]
    assert X["amount"].agg(["min", "max"]).tolist() == [250, 18424]
    assert X["age"].agg(["min", "max"]).tolist() == [19, 75]


# --------------------------------------------------------------------------
# Adult
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "split, n_rows, n_high",
    [("train", 32561, 7841), ("test", 16281, 3846)],
)
def test_adult_shape_and_class_counts(split, n_rows, n_high, adult_train, adult_test):
    X, y = adult_train if split == "train" else adult_test
    assert X.shape == (n_rows, 14)
    assert list(X.columns) == ADULT_COLUMNS
    assert isinstance(X.index, pd.RangeIndex)
    assert y.name == "income"
    assert isinstance(y.dtype, pd.CategoricalDtype)
    assert list(y.cat.categories) == ["<=50K", ">50K"]
    assert y.notna().all()
    assert y.value_counts().to_dict() == {"<=50K": n_rows - n_high, ">50K": n_high}
    assert not any(label.endswith(".") for label in y.cat.categories)
    assert not y.astype(str).str.endswith(".").any()


@pytest.mark.parametrize(
    "split, missing",
    [
        ("train", {"workclass": 1836, "occupation": 1843, "native_country": 583}),
        ("test", {"workclass": 963, "occupation": 966, "native_country": 274}),
    ],
)
def test_adult_missing_values(split, missing, adult_train, adult_test):
    X, _ = adult_train if split == "train" else adult_test
    counts = X.isna().sum()
    assert counts[counts > 0].to_dict() == missing
    for column in ADULT_CATEGORICAL:
        assert "?" not in X[column].cat.categories, column


def test_adult_dtypes_and_shared_categories(adult_train, adult_test):
    X_train, _ = adult_train
    X_test, _ = adult_test
    for column in ADULT_NUMERIC:
        assert X_train[column].dtype == np.int64, column
        assert X_test[column].dtype == np.int64, column
    for column in ADULT_CATEGORICAL:
        train_dtype, test_dtype = X_train[column].dtype, X_test[column].dtype
        assert isinstance(train_dtype, pd.CategoricalDtype), column
        assert train_dtype == test_dtype, column
        categories = list(train_dtype.categories)
        assert categories == sorted(categories), column
        assert all(c == c.strip() and c for c in categories), column
    n_categories = {c: len(X_train[c].cat.categories) for c in ADULT_CATEGORICAL}
    assert n_categories == {
        "workclass": 8,
        "education": 16,
        "marital_status": 7,
        "occupation": 14,
        "relationship": 6,
        "race": 5,
        "sex": 2,
        "native_country": 41,
    }
    # Only in the train file, but part of the test split's categories too.
    assert (X_train["native_country"] == "Holand-Netherlands").sum() == 1
    assert (X_test["native_country"] == "Holand-Netherlands").sum() == 0
    assert "Holand-Netherlands" in X_test["native_country"].cat.categories


def test_adult_pipeline_fitted_on_train_accepts_test(adult_train, adult_test):
    from sklearn.preprocessing import OrdinalEncoder

    X_train, _ = adult_train
    X_test, _ = adult_test
    encoder = OrdinalEncoder(handle_unknown="error", encoded_missing_value=-1)
    encoder.fit(X_train[ADULT_CATEGORICAL])
    encoded = encoder.transform(X_test[ADULT_CATEGORICAL])
    assert encoded.shape == (16281, 8)
    assert (encoded == -1).sum() == 963 + 966 + 274


def test_adult_known_rows(adult_train, adult_test):
    X, y = adult_train
    first = X.iloc[0]
    assert first["age"] == 39
    assert first["workclass"] == "State-gov"
    assert first["fnlwgt"] == 77516
    assert first["education"] == "Bachelors"
    assert first["education_num"] == 13
    assert first["capital_gain"] == 2174
    assert first["native_country"] == "United-States"
    assert y.iloc[0] == "<=50K"
    assert y.iloc[-1] == ">50K"
    assert X.iloc[-1]["capital_gain"] == 15024

    X, y = adult_test
    # The junk line "|1x3 Cross validator" is skipped: row 0 is the first record.
    first = X.iloc[0]
    assert (first["age"], first["fnlwgt"], first["education"]) == (25, 226802, "11th")
    assert first["race"] == "Black"
    assert y.iloc[0] == "<=50K"
    assert y.iloc[-1] == ">50K"
    assert X.iloc[-1]["fnlwgt"] == 182148


@pytest.mark.parametrize("split", ["validation", "Train", "", None, 0])
def test_adult_invalid_split(split):
    expected = r"'test', 'train'.*got " + re.escape(repr(split))
    with pytest.raises(ValueError, match=expected):
        load_adult(split)


def test_adult_default_split_is_train():
    X, _ = load_adult()
    assert X.shape == (32561, 14)


# --------------------------------------------------------------------------
# California housing
# --------------------------------------------------------------------------


def test_california(california):
    X, y = california
    assert X.shape == (20640, 8)
    assert list(X.columns) == CALIFORNIA_FEATURES
    assert (X.dtypes == np.float64).all()
    assert not X.isna().any().any()
    assert y.name == "median_house_value"
    assert y.dtype == np.float64
    assert len(y) == 20640
    np.testing.assert_array_equal(
        X.iloc[0].to_numpy(),
        [-122.23, 37.88, 41.0, 880.0, 129.0, 322.0, 126.0, 8.3252],
    )
    assert y.iloc[0] == 452600.0
    assert y.max() == 500001.0
    assert (y == 500001.0).sum() == 965
    assert y.min() == 14999.0
    assert X["total_bedrooms"].notna().all()


# --------------------------------------------------------------------------
# Fresh objects on every call
# --------------------------------------------------------------------------


def test_german_returns_fresh_objects():
    X1, y1 = load_german_credit()
    X1.loc[0, "duration"] = -1
    X1["status"] = X1["status"].cat.rename_categories({"< 0 DM": "changed"})
    del X1["age"]
    y1[:] = "bad"
    X2, y2 = load_german_credit()
    assert X2 is not X1 and y2 is not y1
    assert X2.loc[0, "duration"] == 6
    assert X2.loc[0, "status"] == "< 0 DM"
    assert "age" in X2.columns
    assert y2.value_counts()["good"] == 700


def test_adult_returns_fresh_objects():
    X1, y1 = load_adult("test")
    X1.loc[0, "age"] = 0
    X1["workclass"] = X1["workclass"].cat.add_categories(["new-category"])
    y1[:] = ">50K"
    X2, y2 = load_adult("test")
    assert X2.loc[0, "age"] == 25
    assert "new-category" not in X2["workclass"].cat.categories
    assert y2.value_counts()[">50K"] == 3846


def test_california_returns_fresh_objects():
    X1, y1 = load_california_housing()
    X1.iloc[0, 0] = 0.0
    y1.iloc[0] = 0.0
    X2, y2 = load_california_housing()
    assert X2.iloc[0, 0] == -122.23
    assert y2.iloc[0] == 452600.0

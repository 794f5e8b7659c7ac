"""Loaders for the datasets bundled in ``tabxai.datasets._files``.

The raw files are shipped unchanged apart from gzip compression (see
``datasets/README.md`` in the source tree). Every loader parses the files
anew on each call and returns fresh objects, so a caller may mutate the
result without affecting later calls. The only cached values are immutable
tuples (the parsed German credit code book and the Adult category union).
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

import pandas as pd

__all__ = ["load_german_credit", "load_adult", "load_california_housing"]

_PACKAGE = "tabxai.datasets._files"


def _open(name: str):
    """Open a bundled file in binary mode (works from a wheel or a zip)."""
    return files(_PACKAGE).joinpath(name).open("rb")


def _read_text(name: str) -> str:
    return files(_PACKAGE).joinpath(name).read_text(encoding="ascii")


# ---------------------------------------------------------------------------
# German credit (Statlog)
# ---------------------------------------------------------------------------

#: Column names in file order (attributes 1 to 20 of german.doc).
_GERMAN_COLUMNS = (
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
)

# "Attribute 1:  (qualitative)"; the code book spells attribute 6 "Attibute".
_ATTRIBUTE_RE = re.compile(r"^\s*Att\w*bute\s+(\d+)\s*:\s*\((\w+)\)")
# Numbered top-level section such as "8.  Cost Matrix".
_SECTION_RE = re.compile(r"^\d+\.\s+\S")
# "A11 :      ... <    0 DM"
_CODE_RE = re.compile(r"^\s*(A\d+)\s*:(.*)$")
# "if not A121/A122 : " qualifier that refers to other codes of the attribute.
_IF_NOT_RE = re.compile(r"^if not A\d+(?:\s*/\s*A\d+)*\s*:\s*")


def _clean_label(text: str) -> str:
    """Turn a raw code-book meaning into a readable category label."""
    label = " ".join(text.split())
    # Open-ended ranges "... < 0 DM" / ".. >= 7 years" -> "< 0 DM" / ">= 7 years".
    label = re.sub(r"^\.{2,}\s*", "", label)
    # Closed ranges "0 <= ... < 200 DM" keep their dots, with single spaces.
    label = re.sub(r"\s*\.{2,}\s*", " ... ", label)
    # Drop the "if not A121 :" precedence qualifier (documented in the loader).
    label = _IF_NOT_RE.sub("", label)
    # "(vacation - does not exist?)" -> "vacation - does not exist?"
    if label.startswith("(") and label.endswith(")"):
        label = label[1:-1].strip()
    # "male   : single" -> "male: single"
    label = re.sub(r"\s+:\s*", ": ", label)
    # Slashes at a line break or with spaces around them: " / ";
    # tight slashes ("divorced/separated") stay as they are.
    label = re.sub(r"\s+/\s*|\s*/\s+", " / ", label)
    return label.strip()


@functools.lru_cache(maxsize=None)
def _german_codebook() -> tuple[tuple[int, tuple[tuple[str, str], ...]], ...]:
    """Parse ``german.doc`` into ``((attribute, ((code, label), ...)), ...)``.

    Only qualitative attributes are returned, in code-book order. The result
    is made of tuples, so caching it cannot leak mutable state to callers.
    """
    lines = _read_text("german.doc").splitlines()
    # Only section "7. Attribute description for german" defines codes; it
    # ends at the next numbered section ("8.  Cost Matrix").
    start = next(i for i, line in enumerate(lines) if "Attribute description" in line)
    attributes: dict[int, list[list[str]]] = {}
    entries: list[list[str]] | None = None
    for line in lines[start + 1 :]:
        if _SECTION_RE.match(line):
            break
        header = _ATTRIBUTE_RE.match(line)
        if header:
            entries = None
            if header.group(2) == "qualitative":
                entries = attributes.setdefault(int(header.group(1)), [])
            continue
        if not line.strip():
            entries = None  # a blank line closes the attribute block
            continue
        if entries is None:
            continue
        code = _CODE_RE.match(line)
        if code:
            entries.append([code.group(1), code.group(2)])
        elif entries:
            # Continuation of the previous code's meaning.
            entries[-1][1] += " " + line
        # Otherwise it is the attribute title line before the first code.

    column_of = {i + 1: name for i, name in enumerate(_GERMAN_COLUMNS)}
    result = []
    for number, raw in attributes.items():
        labels = []
        for code, meaning in raw:
            label = _clean_label(meaning)
            # "not in attribute 6" -> "not in savings"
            label = re.sub(
                r"\battribute (\d+)\b",
                lambda m: column_of[int(m.group(1))],
                label,
            )
            labels.append((code, label))
        result.append((number, tuple(labels)))
    return tuple(result)


def load_german_credit() -> tuple[pd.DataFrame, pd.Series]:
    """Load the Statlog German Credit data with readable category labels.

    1000 loan applicants described by 20 attributes; the task is to predict
    whether the credit risk is good (700) or bad (300).

    The 13 qualitative attributes are coded ``A11`` ... ``A202`` in the raw
    file. They are converted to pandas ``category`` columns whose categories
    are the meanings given in the code book ``german.doc`` (parsed on the
    first call), listed in code-book order and including codes that
    never occur in the data (``purpose`` "vacation - does not exist?" (A47)
    and ``personal_status_sex`` "female: single" (A95)). Whitespace is
    normalised and open ranges are written without dots, e.g. status
    ``A11`` -> ``"< 0 DM"``, ``A12`` -> ``"0 <= ... < 200 DM"``,
    ``A14`` -> ``"no checking account"``. For ``property`` the code book's
    "if not A121 :" qualifiers are dropped: an applicant is assigned the
    first applicable category in the listed order (real estate, then
    building society savings agreement / life insurance, then car or other).

    Returns
    -------
    X : pandas.DataFrame of shape (1000, 20)
        Columns ``status``, ``duration``, ``credit_history``, ``purpose``,
        ``amount``, ``savings``, ``employment_duration``,
        ``installment_rate``, ``personal_status_sex``, ``other_debtors``,
        ``present_residence``, ``property``, ``age``,
        ``other_installment_plans``, ``housing``, ``number_credits``,
        ``job``, ``people_liable``, ``telephone``, ``foreign_worker``.
        The 7 numeric columns (``duration`` in months, ``amount`` in DM,
        ``installment_rate``, ``present_residence``, ``age`` in years,
        ``number_credits``, ``people_liable``) are ``int64``; the other 13
        are unordered ``category``.
    y : pandas.Series of shape (1000,)
        Named ``credit_risk``, ``category`` dtype with categories
        ``["bad", "good"]`` (raw code 1 = good, 2 = bad).

    Notes
    -----
    The code book specifies a cost matrix: predicting "good" for a bad
    customer costs 5, predicting "bad" for a good customer costs 1.
    Attribute ``personal_status_sex`` mixes sex and marital status. The
    original code table has known errors, corrected in the separate South
    German Credit data set (Groemping, 2019); this loader keeps the Statlog
    version as published.

    Source: Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine
    Learning Repository. https://doi.org/10.24432/C5NC77

    Licence: Creative Commons Attribution 4.0 International (CC BY 4.0).

    Examples
    --------
    >>> from tabxai.datasets import load_german_credit
    >>> X, y = load_german_credit()
    >>> X.shape
    (1000, 20)
    >>> X.loc[0, "status"]
    '< 0 DM'
    >>> X.loc[0, ["duration", "amount", "age"]].tolist()
    [6, 1169, 67]
    >>> list(X["housing"].cat.categories)
    ['rent', 'own', 'for free']
    >>> y.value_counts().to_dict()
    {'good': 700, 'bad': 300}
    """
    with _open("german.data.gz") as fh:
        raw = pd.read_csv(
            fh,
            compression="gzip",
            sep=" ",
            header=None,
            names=[*_GERMAN_COLUMNS, "credit_risk"],
            dtype=str,
            keep_default_na=False,
            na_values=[],
        )

    X = pd.DataFrame(index=raw.index)
    codebook = dict(_german_codebook())
    if len(codebook) != 13:
        raise RuntimeError(
            f"expected 13 qualitative attributes in german.doc, got {len(codebook)}"
        )
    for number, name in enumerate(_GERMAN_COLUMNS, start=1):
        column = raw[name]
        if number in codebook:
            codes, labels = zip(*codebook[number])
            if len(set(labels)) != len(labels):
                raise RuntimeError(f"duplicate labels for {name!r}: {labels}")
            unknown = set(column) - set(codes)
            if unknown:
                raise RuntimeError(
                    f"codes {sorted(unknown)} in column {name!r} are not in german.doc"
                )
            cat = pd.Categorical(column, categories=list(codes))
            X[name] = cat.rename_categories(list(labels))
        else:
            X[name] = column.astype("int64")

    target = raw["credit_risk"].map({"1": "good", "2": "bad"})
    if target.isna().any():
        raise RuntimeError("unexpected credit_risk code in german.data")
    y = pd.Series(
        pd.Categorical(target, categories=["bad", "good"]),
        index=raw.index,
        name="credit_risk",
    )
    return X, y


# ---------------------------------------------------------------------------
# Adult (Census Income)
# ---------------------------------------------------------------------------

_ADULT_COLUMNS = (
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
)
_ADULT_NUMERIC = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_ADULT_CATEGORICAL = tuple(c for c in _ADULT_COLUMNS if c not in _ADULT_NUMERIC)
_ADULT_LABELS = ("<=50K", ">50K")
_ADULT_FILES = {"train": "adult.data.gz", "test": "adult.test.gz"}


def _read_adult_raw(split: str, usecols=None) -> pd.DataFrame:
    with _open(_ADULT_FILES[split]) as fh:
        frame = pd.read_csv(
            fh,
            compression="gzip",
            header=None,
            names=[*_ADULT_COLUMNS, "income"],
            usecols=usecols,
            sep=",",
            skipinitialspace=True,
            # adult.test starts with the junk line "|1x3 Cross validator".
            skiprows=1 if split == "test" else 0,
            skip_blank_lines=True,  # both files end with a blank line
            na_values=["?"],
            keep_default_na=False,
            dtype={**{c: str for c in _ADULT_CATEGORICAL}, "income": str},
        )
    return frame


@functools.lru_cache(maxsize=None)
def _adult_categories() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Sorted union of the categories over both splits (immutable)."""
    seen: dict[str, set[str]] = {c: set() for c in _ADULT_CATEGORICAL}
    for split in _ADULT_FILES:
        frame = _read_adult_raw(split, usecols=list(_ADULT_CATEGORICAL))
        for column in _ADULT_CATEGORICAL:
            seen[column].update(frame[column].dropna())
    return tuple((c, tuple(sorted(seen[c]))) for c in _ADULT_CATEGORICAL)


def load_adult(split: str = "train") -> tuple[pd.DataFrame, pd.Series]:
    """Load the Adult (Census Income) data set.

    Predict whether a person's yearly income exceeds 50K dollars from 1994
    US census attributes. The original train/test split is kept.

    Cleaning applied to the raw files: the separator ``", "`` is read with
    ``skipinitialspace``, the junk first line of ``adult.test`` and the
    trailing blank lines are skipped, the trailing ``.`` of the test labels
    is removed and ``?`` becomes a missing value (NaN in the categorical
    column; present in ``workclass``, ``occupation`` and ``native_country``).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        ``"train"`` reads ``adult.data`` (32,561 rows), ``"test"`` reads
        ``adult.test`` (16,281 rows).

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, 14)
        Columns ``age``, ``workclass``, ``fnlwgt``, ``education``,
        ``education_num``, ``marital_status``, ``occupation``,
        ``relationship``, ``race``, ``sex``, ``capital_gain``,
        ``capital_loss``, ``hours_per_week``, ``native_country``. Numeric
        columns are ``int64``; the 8 categorical columns are unordered
        ``category`` with the same sorted categories in both splits (the
        union over train and test), so a pipeline fitted on the train split
        accepts the test split.
    y : pandas.Series of shape (n_samples,)
        Named ``income``, ``category`` dtype with categories
        ``["<=50K", ">50K"]``.

    Raises
    ------
    ValueError
        If ``split`` is not ``"train"`` or ``"test"``.

    Notes
    -----
    ``fnlwgt`` is a census sampling weight rather than a property of the
    person; ``education`` and ``education_num`` carry the same information.
    ``sex``, ``race``, ``age``, ``marital_status`` and ``native_country`` are
    sensitive attributes. ``capital_gain`` is top-coded at 99999.

    Source: Becker, B. & Kohavi, R. (1996). Adult. UCI Machine Learning
    Repository. https://doi.org/10.24432/C5XW20

    Licence: Creative Commons Attribution 4.0 International (CC BY 4.0).

    Examples
    --------
    >>> from tabxai.datasets import load_adult
    >>> X, y = load_adult("test")
    >>> X.shape
    (16281, 14)
    >>> y.value_counts().to_dict()
    {'<=50K': 12435, '>50K': 3846}
    >>> int(X["workclass"].isna().sum())
    963
    """
    if not isinstance(split, str) or split not in _ADULT_FILES:
        raise ValueError(
            f"split must be one of {sorted(_ADULT_FILES)!r}, got {split!r}"
        )
    raw = _read_adult_raw(split)

    X = pd.DataFrame(index=raw.index)
    categories = dict(_adult_categories())
    for column in _ADULT_COLUMNS:
        if column in _ADULT_NUMERIC:
            X[column] = raw[column].astype("int64")
        else:
            dtype = pd.CategoricalDtype(list(categories[column]))
            X[column] = raw[column].astype(dtype)

    labels = raw["income"].str.rstrip(".")
    unexpected = set(labels.dropna()) - set(_ADULT_LABELS)
    if labels.isna().any() or unexpected:
        raise RuntimeError(f"unexpected income labels in {split}: {unexpected}")
    y = pd.Series(
        pd.Categorical(labels, categories=list(_ADULT_LABELS)),
        index=raw.index,
        name="income",
    )
    return X, y


# ---------------------------------------------------------------------------
# California housing
# ---------------------------------------------------------------------------

_CALIFORNIA_FEATURES = (
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
)


def load_california_housing() -> tuple[pd.DataFrame, pd.Series]:
    """Load the California housing regression data (original StatLib values).

    20,640 census block groups from the 1990 California census; the target is
    the median house value of the block group.

    Returns
    -------
    X : pandas.DataFrame of shape (20640, 8)
        ``float64`` columns ``longitude``, ``latitude``,
        ``housing_median_age``, ``total_rooms``, ``total_bedrooms``,
        ``population``, ``households``, ``median_income``. The room,
        bedroom, population and household columns are block-group totals
        (not per-household averages); ``median_income`` is in tens of
        thousands of dollars.
    y : pandas.Series of shape (20640,)
        Named ``median_house_value``, ``float64``, in dollars. The values are
        top-coded: 965 block groups have the censored value 500,001, which
        means "500,000 or more".

    Notes
    -----
    Other columns are capped as well: ``housing_median_age`` at 52 and
    ``median_income`` at 15.0001. Unlike the widely circulated
    ``housing.csv`` variant, no value is missing and there is no
    ``ocean_proximity`` column.

    Source: Pace, R. K. & Barry, R. (1997). Sparse Spatial Autoregressions.
    Statistics & Probability Letters 33(3), 291-297. Data distributed
    through the StatLib archive.

    Licence: no explicit licence; the data are widely redistributed from
    StatLib.

    Examples
    --------
    >>> from tabxai.datasets import load_california_housing
    >>> X, y = load_california_housing()
    >>> X.shape
    (20640, 8)
    >>> float(y.max())
    500001.0
    """
    with _open("cal_housing.csv.gz") as fh:
        frame = pd.read_csv(
            fh,
            compression="gzip",
            header=0,
            dtype="float64",
        )
    expected = [*_CALIFORNIA_FEATURES, "median_house_value"]
    if list(frame.columns) != expected:
        raise RuntimeError(
            f"unexpected columns in cal_housing.csv.gz: {list(frame.columns)}"
        )
    y = frame.pop("median_house_value")
    return frame, y

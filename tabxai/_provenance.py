"""Provenance recorded with every result and report: versions, fingerprints (SHA-256) of data, models and
files, the time and the command line."""

from __future__ import annotations

import datetime
import hashlib
import pickle
import platform
import shlex
import sys
from functools import lru_cache
from importlib import metadata

import numpy as np
import pandas as pd

__all__ = ["command_line", "data_sha256", "file_sha256", "model_sha256", "package_versions", "report_versions",
           "utc_now"]

_PACKAGES = ("numpy", "pandas", "scikit-learn", "numba", "joblib")
_REPORT_PACKAGES = ("scipy", "fairlearn", "matplotlib", "jinja2")


def package_versions():
    """Versions of Python, tabxai and its core dependencies, as a dict of strings."""
    return dict(_versions())


@lru_cache(maxsize=1)
def _versions():
    from . import __version__

    versions = {"python": platform.python_version(), "tabxai": __version__}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def data_sha256(X, y=None):
    """SHA-256 of a table's content: column names, dtypes, index and values (and of ``y``)."""
    digest = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        digest.update(repr([(str(c), str(t)) for c, t in X.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(X, index=True).to_numpy().tobytes())
    else:
        array = np.ascontiguousarray(np.asarray(X))
        digest.update(repr((array.shape, str(array.dtype))).encode())
        digest.update(array.tobytes() if array.dtype != object else pickle.dumps(array, protocol=4))
    if y is not None:
        series = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
        digest.update(pd.util.hash_pandas_object(series, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def model_sha256(model):
    """SHA-256 of the pickled model, or None when it cannot be pickled (a lambda, a closure)."""
    try:
        return hashlib.sha256(pickle.dumps(model, protocol=4)).hexdigest()
    except Exception:  # noqa: BLE001 - any pickling failure means: no fingerprint
        return None


def file_sha256(path):
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report_versions():
    """Versions of Python, tabxai, its core dependencies and what the report uses."""
    versions = package_versions()
    for name in _REPORT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def utc_now():
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def command_line():
    """The command line of this process, quoted as a shell would need it."""
    return shlex.join([sys.executable] + sys.argv) if sys.argv and sys.argv[0] else sys.executable

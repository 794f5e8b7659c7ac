"""Provenance recorded with every result: the versions of tabxai and what it runs on."""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib import metadata

__all__ = ["package_versions"]

_PACKAGES = ("numpy", "pandas", "scikit-learn", "numba", "joblib")


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

"""What a wheel ships: every subpackage, the bundled datasets, the public names."""

import pytest
from pathlib import Path

import tabxai as tx

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_for_the_wheel():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tabxai").rglob("__init__.py")}
    assert on_disk <= listed, f"add to pyproject.toml packages: {sorted(on_disk - listed)}"


def test_public_names_are_exported_and_documented():
    for name in tx.__all__:
        obj = getattr(tx, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__) > 40, name


def test_installed_package_ships_the_datasets():
    X, y = tx.datasets.load_german_credit()
    assert X.shape == (1000, 20) and len(y) == 1000

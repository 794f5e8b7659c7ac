"""Every docstring example in the package runs and prints what it says."""

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import tabxai

matplotlib.use("Agg")

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(tabxai.__path__, "tabxai.")
                 if "._kernels" not in name and ".datasets._files" not in name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra that is not installed
        pytest.skip(f"{name} needs an optional dependency: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={**module.__dict__}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"


def test_every_public_name_has_a_real_docstring():
    """numpydoc: a summary line, and for callables a Parameters (or Attributes) and an Examples section."""
    for name in tabxai.__all__:
        obj = getattr(tabxai, name)
        if not callable(obj) or isinstance(obj, type(tabxai)):
            continue
        doc = obj.__doc__ or ""
        summary = doc.strip().splitlines()[0] if doc.strip() else ""
        assert summary.endswith(".") and len(summary) > 15, f"{name}: no one-line summary"
        if name in ("ModelError",):
            continue
        assert "Parameters" in doc or "Attributes" in doc, f"{name}: no Parameters or Attributes section"

"""The README's example runs and gives what it says."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    expl = namespace["expl"]
    assert expl.values.shape == (2, 13)
    proba = namespace["model"].predict_proba(namespace["X"].iloc[:2])[:, 0]  # classes_ = ['bad', 'good']
    np.testing.assert_allclose(expl.base_values + expl.values.sum(axis=1), proba, atol=1e-10)

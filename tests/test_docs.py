"""The user guide's examples run as written, in order, in one namespace."""

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide.md"


@pytest.mark.slow
def test_guide_examples_run():
    pytest.importorskip("distributed")
    namespace = {}
    for number, block in enumerate(re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)):
        exec(compile(block, f"docs/guide.md block {number}", "exec"), namespace)
    assert namespace["kernel"].values.shape == (3, 20)
    assert namespace["exact"].values.shape == (3, 10)
    assert 0.5 < namespace["surrogate"].fidelity <= 1.0

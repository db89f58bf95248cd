"""Every ``>>>`` example in perflab's docstrings runs, and shows what it says.

The examples are documentation a learner copies; a stale one teaches the wrong call.
Each module with an example is one case, run with ``doctest`` in this interpreter.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(
    _module_name(path)
    for path in (ROOT / "perflab").rglob("*.py")
    if ">>> " in path.read_text(encoding="utf-8")
)


def test_there_are_examples_to_run() -> None:
    """The collection finds the docstring examples (an empty list would pass silently)."""
    assert len(MODULES) >= 20 and "perflab.clock" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """The module's ``>>>`` examples print exactly what their docstrings show."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has '>>> ' text but no example doctest can run"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"

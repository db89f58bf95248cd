"""Exercise checks: the functions check cells call, and the runner behind ``perflab check``.

Check cells import the check functions from here::

    from perflab.grading import check_close, check_true

The runner, the results and the authoring tools are in submodules
(``perflab.grading.runner``, ``.results``, ``.authoring``) and are loaded on first use,
so a notebook's import stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from perflab.grading.checks import (
    MIME_TYPE,
    capture,
    check_close,
    check_equal,
    check_prediction,
    check_true,
)

_LAZY = {
    "CheckOptions": "perflab.grading.runner",
    "ExerciseResult": "perflab.grading.results",
    "NotebookReport": "perflab.grading.results",
    "Status": "perflab.grading.results",
    "check_notebook": "perflab.grading.runner",
    "check_paths": "perflab.grading.runner",
    "make_exercise": "perflab.grading.authoring",
    "sync": "perflab.grading.authoring",
}

__all__ = sorted([
    "MIME_TYPE",
    "capture",
    "check_close",
    "check_equal",
    "check_prediction",
    "check_true",
    *_LAZY,
])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perflab.grading' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

"""Exercise checks: the functions check cells call, and the runner behind ``perflab check``.

Check cells import the check functions from here::

    from perflab.grading import check_close, check_compare, check_equal, check_relation

Each of them sends the learner's answer out of the kernel as plain data; the grader
compares it, never the kernel. ``check_true``'s condition is decided in the kernel, so no
shipped exercise uses it (docs/authoring.md, "What the grader trusts").

The runner, the results and the authoring tools are in submodules
(``perflab.grading.runner``, ``.results``, ``.authoring``) and are loaded on first use,
so a notebook's import stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from perflab.grading.checks import MIME_TYPE as MIME_TYPE
from perflab.grading.checks import capture as capture
from perflab.grading.checks import check_close as check_close
from perflab.grading.checks import check_compare as check_compare
from perflab.grading.checks import check_equal as check_equal
from perflab.grading.checks import check_prediction as check_prediction
from perflab.grading.checks import check_relation as check_relation
from perflab.grading.checks import check_true as check_true

_LAZY = {
    "CheckOptions": "perflab.grading.runner",
    "ExerciseResult": "perflab.grading.results",
    "NotebookReport": "perflab.grading.results",
    "Status": "perflab.grading.results",
    "check_my_work": "perflab.grading.self_check",
    "check_notebook": "perflab.grading.runner",
    "check_paths": "perflab.grading.runner",
    "make_exercise": "perflab.grading.authoring",
    "sync": "perflab.grading.authoring",
}

__all__ = [
    "MIME_TYPE",
    "CheckOptions",
    "ExerciseResult",
    "NotebookReport",
    "Status",
    "capture",
    "check_close",
    "check_compare",
    "check_equal",
    "check_my_work",
    "check_notebook",
    "check_paths",
    "check_prediction",
    "check_relation",
    "check_true",
    "make_exercise",
    "sync",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perflab.grading' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

"""Start-up costs of a grading run, and how to cut them without sharing a process.

Every run of ``perflab check`` starts two fresh processes: a worker that imports papermill
and drives the notebook, and the kernel the notebook runs in. Measured with
``benchmarks/grading.py``, most of a short exercise's time is spent before its first cell:
one second of it is one import that grading never needs (see ``skip_slow_imports``).
"""

from __future__ import annotations

import sys

__all__ = ["SLOW_UNUSED_MODULES", "skip_slow_imports"]

SLOW_UNUSED_MODULES = ("rfc3987_syntax",)
"""Modules a grading process never needs but would import, with their cost.

``rfc3987_syntax``: ``import nbformat`` imports jsonschema, whose format checkers import
this package (when installed, as jupyter_events pulls it in) to check IRIs. Importing it
compiles a grammar: about one second of CPU, in every worker process. Notebook
validation uses no IRI format, so without it nothing is checked less.
"""


def skip_slow_imports() -> list[str]:
    """Make ``SLOW_UNUSED_MODULES`` unimportable in this process, before anything imports them.

    Marks each as ``None`` in ``sys.modules``, so ``import`` raises ``ImportError`` and
    libraries that treat the module as optional (jsonschema does) go on without it. A
    module that is already imported is left alone.

    Returns:
        The names that were blocked.
    """
    blocked = []
    for name in SLOW_UNUSED_MODULES:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
            blocked.append(name)
    return blocked

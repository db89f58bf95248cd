"""Imports a grading process never needs: blocked before anything pulls them in.

A leaf module (standard library only), so the worker, the fork server and the CLI can all
use it without importing each other.
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

"""Deprecated name of ``perflab.formulas`` (the guide's math); everything is re-exported.

``from perflab import models`` and ``from perflab.models import amdahl_speedup`` keep
working for the notebooks that use them; new code imports ``perflab.formulas``
(CHANGELOG.md).
"""

from __future__ import annotations

from perflab.formulas import *
from perflab.formulas import __all__ as _names

__all__ = list(_names)

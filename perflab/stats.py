"""Deprecated name of ``perflab.intervals`` (confidence intervals); everything is re-exported.

``from perflab.stats import mean_ci`` keeps working for the notebooks that use it; new
code imports ``perflab.intervals`` (CHANGELOG.md).
"""

from __future__ import annotations

from perflab.intervals import *
from perflab.intervals import __all__ as _names

__all__ = list(_names)

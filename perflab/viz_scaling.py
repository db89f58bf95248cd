"""Old home of :func:`perflab.viz.scaling_timeline`, kept so old imports keep working."""

from __future__ import annotations

from perflab.viz import scaling_timeline

__all__ = ["scaling_timeline"]

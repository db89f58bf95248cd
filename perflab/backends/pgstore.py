"""Deprecated name of ``perflab.backends.factory`` (``open_pg_store``), re-exported."""

from __future__ import annotations

from perflab.backends.factory import INDEX_KINDS, open_pg_store

__all__ = ["INDEX_KINDS", "open_pg_store"]

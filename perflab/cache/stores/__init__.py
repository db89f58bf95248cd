"""Concrete vector stores: in memory and in a SQLite file."""

from __future__ import annotations

from perflab.cache.stores.memory import MemoryStore
from perflab.cache.stores.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["SCHEMA_VERSION", "MemoryStore", "SQLiteStore"]

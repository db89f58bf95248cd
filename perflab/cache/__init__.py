"""Semantic cache (being built)."""

from __future__ import annotations

from perflab.cache._store import Entry, Neighbour, NewEntry, VectorIndex, VectorStore
from perflab.cache.stores import MemoryStore, SQLiteStore

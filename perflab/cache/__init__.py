"""The semantic (RAG) cache, its vector stores, and the exact LRU cache for embeddings.

>>> from perflab.cache import MemoryStore, SemanticCache
>>> from perflab.clock import FakeClock
>>> from perflab.embedders import HashingEmbedder
>>> cache = SemanticCache(HashingEmbedder(), MemoryStore(), threshold=0.8, clock=FakeClock())
>>> cache.get_or_compute("python list sort", lambda: "use sorted()")
'use sorted()'
>>> cache.lookup("Python list sort!").hit
True

Opening the cache the settings describe is composition, not cache code:
``perflab.compose.open_cache``. ``calibrate_threshold`` lives in
``perflab.cache.calibration`` (it uses more maths and is imported on demand);
``perflab.cache.replay`` re-decides the lookup log at another threshold;
``perflab.cache.warm`` feeds simulated traffic through a cache. Writing a store of
your own: ``perflab.cache.store`` (``StoreBase``, ``BufferedStore``, docs/cache.md).
"""

from __future__ import annotations

from perflab.cache._index import IndexStats, IVFParams, VectorIndex
from perflab.cache.lru import EmbeddingCache, EmbeddingCacheStats
from perflab.cache.semantic import CacheStats, Lookup, SemanticCache
from perflab.cache.store import (
    BufferedStore,
    CounterBuffer,
    Entry,
    LoggedLookup,
    LookupLog,
    Neighbour,
    NewEntry,
    StoreBase,
    VectorStore,
    as_vector,
    check_entries,
)
from perflab.cache.stores import SCHEMA_VERSION, MemoryStore, SQLiteStore
from perflab.clock import WallClock  # re-exported: its home is perflab.clock

__all__ = [
    "SCHEMA_VERSION",
    "BufferedStore",
    "CacheStats",
    "CounterBuffer",
    "EmbeddingCache",
    "EmbeddingCacheStats",
    "Entry",
    "IVFParams",
    "IndexStats",
    "LoggedLookup",
    "Lookup",
    "LookupLog",
    "MemoryStore",
    "Neighbour",
    "NewEntry",
    "SQLiteStore",
    "SemanticCache",
    "StoreBase",
    "VectorIndex",
    "VectorStore",
    "WallClock",
    "as_vector",
    "check_entries",
]

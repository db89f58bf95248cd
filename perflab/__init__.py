"""perflab: learn performance tuning by measuring.

The engine the curriculum's notebooks import. Names are loaded on first use, so
``import perflab`` stays fast and needs only the standard library and numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

from perflab.errors import (
    BackendUnavailable,
    CacheFileError,
    CircuitOpen,
    ConfigError,
    GradingError,
    PerflabError,
    PoolClosed,
    PoolTimeout,
    RateLimited,
    ServiceError,
    SimulationError,
)

# name -> module that defines it; imported on first attribute access.
_LAZY = {
    # time
    "Clock": "perflab.clock",
    "FakeClock": "perflab.clock",
    "LoopClock": "perflab.clock",
    "MonotonicClock": "perflab.clock",
    # measurement
    "Counters": "perflab.metrics",
    "LatencyRecorder": "perflab.metrics",
    "LatencySummary": "perflab.metrics",
    "Spans": "perflab.metrics",
    "ResourceMonitor": "perflab.monitor",
    "AlertRule": "perflab.alerts",
    "evaluate_alerts": "perflab.alerts",
    # caching
    "EmbeddingCache": "perflab.cache",
    "MemoryStore": "perflab.cache",
    "SQLiteStore": "perflab.cache",
    "SemanticCache": "perflab.cache",
    "open_cache": "perflab.compose",
    "HashingEmbedder": "perflab.embedders",
    "WordLlamaEmbedder": "perflab.embedders",
    "get_embedder": "perflab.embedders",
    # resilience and throughput
    "AdaptiveBatcher": "perflab.batcher",
    "BreakerState": "perflab.breaker",
    "CircuitBreaker": "perflab.breaker",
    "ConcurrencyLimiter": "perflab.limits",
    "ConnectionPool": "perflab.pool",
    "Retry": "perflab.retry",
    "TokenBucket": "perflab.limits",
    "WorkerScaler": "perflab.scaling",
    "chunk_text": "perflab.chunking",
    # settings
    "Settings": "perflab.config",
    "load_settings": "perflab.config",
}
# Names whose attribute in the defining module differs from the exported one.
_RENAMED = {"evaluate_alerts": "evaluate"}

# Kept sorted (a test checks); every lazy name and every error class.
__all__ = [
    "AdaptiveBatcher",
    "AlertRule",
    "BackendUnavailable",
    "BreakerState",
    "CacheFileError",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "ConcurrencyLimiter",
    "ConfigError",
    "ConnectionPool",
    "Counters",
    "EmbeddingCache",
    "FakeClock",
    "GradingError",
    "HashingEmbedder",
    "LatencyRecorder",
    "LatencySummary",
    "LoopClock",
    "MemoryStore",
    "MonotonicClock",
    "PerflabError",
    "PoolClosed",
    "PoolTimeout",
    "RateLimited",
    "ResourceMonitor",
    "Retry",
    "SQLiteStore",
    "SemanticCache",
    "ServiceError",
    "Settings",
    "SimulationError",
    "Spans",
    "TokenBucket",
    "WordLlamaEmbedder",
    "WorkerScaler",
    "__version__",
    "chunk_text",
    "evaluate_alerts",
    "get_embedder",
    "load_settings",
    "open_cache",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # importlib.metadata is slow to import; only pay for it when asked.
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("perflab")
        except PackageNotFoundError:  # a checkout that was never installed
            value = "0+unknown"
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perflab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

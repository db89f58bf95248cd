"""perflab: learn performance tuning by measuring.

The engine the curriculum's notebooks import. Names are loaded on first use, so
``import perflab`` stays fast and needs only the standard library and numpy.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from perflab.errors import (
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

try:
    __version__ = version("perflab")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

# name -> module that defines it; imported on first attribute access.
_LAZY = {
    "FakeClock": "perflab.clock",
    "LoopClock": "perflab.clock",
    "MonotonicClock": "perflab.clock",
}

__all__ = sorted(
    [
        "CacheFileError",
        "CircuitOpen",
        "ConfigError",
        "GradingError",
        "PerflabError",
        "PoolClosed",
        "PoolTimeout",
        "RateLimited",
        "ServiceError",
        "SimulationError",
        "__version__",
        *_LAZY,
    ]
)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perflab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

"""Errors: one base class, and a subclass named for each situation.

Messages are lowercase, say what happened with the values involved and, where there
is one, the fix. Every class shows as ``perflab.X`` in tracebacks.
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
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
]


class PerflabError(Exception):
    """Base class of every error perflab raises on purpose."""


class ConfigError(PerflabError, ValueError):
    """A setting has a value that is not allowed.

    The message names the variable, the value given and what is allowed.
    """


class PoolTimeout(PerflabError):
    """No connection became free within the acquire timeout."""


class PoolClosed(PerflabError):
    """The pool was used after ``close()``."""


class CircuitOpen(PerflabError):
    """The circuit breaker is open and refused the call without trying it.

    Attributes:
        remaining: seconds until the breaker lets a trial call through.
    """

    def __init__(self, message: str, remaining: float = 0.0) -> None:
        super().__init__(message)
        self.remaining = remaining


class RateLimited(PerflabError):
    """A service (or our own limiter) refused a call: too many requests (HTTP 429).

    Attributes:
        retry_after: seconds the service asked us to wait, if it said.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceError(PerflabError):
    """A remote service (real or simulated) failed: a 5xx, a timeout, a refused connection.

    Attributes:
        status: the HTTP-like status code when there is one.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CacheFileError(PerflabError):
    """A cache file is corrupted, foreign or of an unknown schema; it was left untouched."""


class SimulationError(PerflabError, ValueError):
    """A simulation was asked for something impossible (bad rate, unknown profile...)."""


class BackendUnavailable(PerflabError):
    """A real backend cannot be used here (no server running, no wheel for this Python).

    The message says what is missing and what to set instead (usually DATABASE_URL).
    """


class GradingError(PerflabError):
    """The grader could not run at all (no kernel, not a notebook)."""


for _cls in (
    PerflabError,
    ConfigError,
    PoolTimeout,
    PoolClosed,
    CircuitOpen,
    RateLimited,
    ServiceError,
    CacheFileError,
    SimulationError,
    GradingError,
    BackendUnavailable,
):
    _cls.__module__ = "perflab"
del _cls

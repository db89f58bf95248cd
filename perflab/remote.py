"""``RemoteCaller``: one remote call through the resilience pieces, each switchable.

From the outside in: ``Retry`` (full jitter, honours Retry-After), then the
``CircuitBreaker``, then a client-side ``TokenBucket`` and the ``ConcurrencyLimiter``
(PARALLEL_WORKERS) right around the call. Any piece can be ``None``. The simulator's
pipeline calls every service through one of these, simulated or real alike.

>>> import asyncio
>>> from perflab.limits import ConcurrencyLimiter
>>> caller = RemoteCaller("llm", limiter=ConcurrencyLimiter(3), bucket=None, breaker=None, retry=None)
>>> async def call() -> str:
...     return "an article"
>>> asyncio.run(caller.call(call))
('an article', 0)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from perflab.breaker import CircuitBreaker
from perflab.limits import ConcurrencyLimiter, TokenBucket
from perflab.retry import Retry

__all__ = ["RemoteCaller"]

T = TypeVar("T")


class RemoteCaller:
    """Calls one remote service through the resilience pieces that are switched on.

    Args:
        name: the service's name (for messages).
        limiter: shared concurrency limit on remote calls, or ``None``.
        bucket: client-side rate limiter (requests per second), or ``None``.
        breaker: this service's circuit breaker, or ``None``.
        retry: this service's retry policy, or ``None``.
    """

    def __init__(
        self,
        name: str,
        *,
        limiter: ConcurrencyLimiter | None,
        bucket: TokenBucket | None,
        breaker: CircuitBreaker | None,
        retry: Retry | None,
    ) -> None:
        self.name = name
        self.limiter, self.bucket, self.breaker, self.retry = limiter, bucket, breaker, retry

    async def call(self, fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        """Await ``fn()`` through the policies; return (result, retries it took)."""
        tries = 0

        async def once() -> T:
            nonlocal tries
            tries += 1
            if self.breaker is not None:
                return await self.breaker.acall(self._limited, fn)
            return await self._limited(fn)

        if self.retry is None:
            return await once(), 0
        try:
            return await self.retry.acall(once), tries - 1
        except Exception as exc:
            exc.retries = tries - 1  # type: ignore[attr-defined]  # for the request record
            raise

    async def _limited(self, fn: Callable[[], Awaitable[T]]) -> T:
        if self.bucket is not None:
            await self.bucket.acquire()
        if self.limiter is None:
            return await fn()
        async with self.limiter:
            return await fn()

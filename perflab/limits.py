"""Limits: how many at once, how many per second.

* ``ConcurrencyLimiter``: at most ``limit`` calls in flight (the guide's PARALLEL_WORKERS=3).
* ``TokenBucket``: at most ``rate`` calls per second on average, with bursts of ``burst``.

Both queue their waiters first in, first out, so nobody starves.

``Bucket`` is the token bucket's pure arithmetic (the time is passed in); the
``TokenBucket`` reads its clock and asks a ``Bucket``, and so do the simulated APIs.

What to do on failure (``Retry``) lives in ``perflab.retry``, and how many workers to
run (``WorkerScaler``, ``scale_workers``) in ``perflab.scaling``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from perflab.clock import Clock, default_clock

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "Bucket",
    "ConcurrencyLimiter",
    "LimiterStats",
    "TokenBucket",
    "TokenBucketStats",
]


# -- concurrency -----------------------------------------------------------------
@dataclass(frozen=True)
class LimiterStats:
    """Counters of a ``ConcurrencyLimiter`` (see docs/resilience.md)."""

    limit: int
    in_flight: int
    max_in_flight: int
    entered: int
    waits: int
    waiting: int


class ConcurrencyLimiter:
    """At most ``limit`` holders at once; the rest wait in line (an async context manager).

    Like ``asyncio.Semaphore``, plus stats and strict first-in, first-out hand-over:
    a freed slot goes straight to the longest waiter, never to a newcomer.

    Args:
        limit: how many may be inside at once (the guide's PARALLEL_WORKERS, 3).

    >>> limiter = ConcurrencyLimiter(3)
    >>> # async with limiter: await fetch(url)
    """

    def __init__(self, limit: int = 3) -> None:
        if limit < 1:
            raise ValueError(f"limit ({limit}) must be >= 1")
        self.limit = limit
        self._in_flight = 0
        self._max_in_flight = 0
        self._entered = 0
        self._waits = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        """Wait for a slot and take it."""
        if self._in_flight < self.limit and not self._waiters:
            self._take()
            return
        self._waits += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # release() hands its slot to us: in_flight is already counted
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # handed a slot just as we were cancelled: pass it on
            raise
        finally:
            if not fut.done() or fut.cancelled():
                self._discard(fut)
        self._entered += 1

    def _take(self) -> None:
        self._in_flight += 1
        self._entered += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _discard(self, fut: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(fut)
        except ValueError:
            pass

    def release(self) -> None:
        """Give a slot back: to the longest waiter if there is one."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot changes hands; in_flight stays the same
                return
        if self._in_flight <= 0:
            raise RuntimeError("release() called more times than acquire()")
        self._in_flight -= 1

    async def __aenter__(self) -> Self:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def stats(self) -> LimiterStats:
        """A snapshot of the counters."""
        return LimiterStats(
            self.limit,
            self._in_flight,
            self._max_in_flight,
            self._entered,
            self._waits,
            len(self._waiters),
        )

    def __repr__(self) -> str:
        return f"<ConcurrencyLimiter [in flight {self._in_flight}/{self.limit}, waiting {len(self._waiters)}]>"


# -- rate ------------------------------------------------------------------------
class Bucket:
    """The arithmetic of a token bucket, with the time passed in: no clock, no waiting.

    ``level`` tokens, at most ``capacity``, dripping back at ``rate`` per second since
    ``at``. ``take(amount, now)`` takes them and returns 0.0, or returns how long to
    wait until they are there (``inf`` if they never can be). ``TokenBucket`` (the
    engine's limiter, which reads its clock) and the simulated APIs' per-minute limits
    (``perflab.sim.services.Window``) are both this object.

    >>> bucket = Bucket(rate=2.0, capacity=2.0)
    >>> bucket.take(2.0, now=0.0), bucket.take(1.0, now=0.0), bucket.take(1.0, now=0.5)
    (0.0, 0.5, 0.0)

    Args:
        rate: tokens added per second (> 0).
        capacity: the most tokens it holds; it starts full.
        at: the time of the start (seconds, on whatever clock the caller uses).
    """

    __slots__ = ("at", "capacity", "level", "rate")

    def __init__(self, rate: float, capacity: float, at: float = 0.0) -> None:
        self.rate = float(rate)
        self.capacity = float(capacity)
        self.level = float(capacity)
        self.at = float(at)

    def refill(self, now: float) -> None:
        """Add the tokens dripped in since the last reading (time never runs backwards)."""
        if now > self.at:
            self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
            self.at = now

    def take(self, amount: float, now: float) -> float:
        """Take ``amount`` at ``now`` and return 0.0, else the seconds until it is there.

        Returns ``inf`` for more than ``capacity``: it could never fit.
        """
        self.refill(now)
        if amount > self.capacity:
            return math.inf
        if self.level >= amount:
            self.level -= amount
            return 0.0
        return (amount - self.level) / self.rate

    def __repr__(self) -> str:
        return f"<Bucket {self.level:g}/{self.capacity:g} tokens, +{self.rate:g}/s>"


@dataclass(frozen=True)
class TokenBucketStats:
    """Counters of a ``TokenBucket`` (see docs/resilience.md)."""

    rate: float
    burst: float
    tokens: float
    admitted: float
    granted: int
    refused: int
    waits: int
    waited_s: float


class TokenBucket:
    """A token-bucket rate limiter: ``rate`` tokens per second, holding at most ``burst``.

    The bucket starts full. Each call takes tokens; they drip back at ``rate`` per
    second. So over any stretch of time ``t`` from the start, at most
    ``rate * t + burst`` tokens are ever handed out: short bursts are allowed, the
    long-run average is capped. Refill is computed from the clock when asked, never
    by a background task: the arithmetic is a ``Bucket``, given the clock's time.

    Args:
        rate: tokens added per second (> 0).
        burst: bucket capacity in tokens (> 0); a call asking for more than ``burst``
            tokens is refused, since it could never be granted.
        clock: where time is read and how ``acquire`` waits (default: monotonic).
    """

    def __init__(self, rate: float, burst: float, clock: Clock | None = None) -> None:
        if not rate > 0:
            raise ValueError(f"rate ({rate}) must be > 0 tokens per second")
        if not burst > 0:
            raise ValueError(f"burst ({burst}) must be > 0 tokens")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = default_clock(clock)
        self._bucket = Bucket(self.rate, self.burst, self._clock.now())
        self._admitted = 0.0
        self._granted = self._refused = self._waits = 0
        self._waited = 0.0
        self._queue: asyncio.Lock | None = None  # FIFO line for acquire(), made on first use
        self._waiting = 0

    def _check(self, tokens: float) -> None:
        if not 0 < tokens <= self.burst:
            raise ValueError(
                f"tokens ({tokens}) must be > 0 and <= burst ({self.burst}), or it can never be granted"
            )

    def _take(self, tokens: float) -> float:
        """Take ``tokens`` now: 0.0 when granted, else the seconds until they are there."""
        wait = self._bucket.take(tokens, self._clock.now())
        if not wait:
            self._admitted += tokens
            self._granted += 1
        return wait

    @property
    def tokens(self) -> float:
        """Tokens in the bucket now."""
        self._bucket.refill(self._clock.now())
        return self._bucket.level

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` now if they are there; never waits.

        Returns ``False`` while anyone is waiting in ``acquire``, so a caller that
        polls cannot jump the queue.
        """
        self._check(tokens)
        if self._waiting == 0 and not self._take(tokens):
            return True
        self._refused += 1
        return False

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until ``tokens`` are available, then take them (first come, first served)."""
        self._check(tokens)
        if self._waiting == 0 and not self._take(tokens):
            return
        if self._queue is None:
            self._queue = asyncio.Lock()
        self._waiting += 1
        self._waits += 1
        start = self._clock.now()
        try:
            async with self._queue:  # asyncio.Lock is FIFO: one waiter sleeps at a time
                while wait := self._take(tokens):
                    # At least a nanosecond, so float rounding can never stall the clock.
                    await self._clock.sleep(max(wait, 1e-9))
        finally:
            self._waiting -= 1
            self._waited += self._clock.now() - start

    def stats(self) -> TokenBucketStats:
        """A snapshot of the counters."""
        return TokenBucketStats(
            self.rate,
            self.burst,
            self.tokens,
            self._admitted,
            self._granted,
            self._refused,
            self._waits,
            self._waited,
        )

    def __repr__(self) -> str:
        return f"<TokenBucket [{self.tokens:.2f}/{self.burst:g} tokens, {self.rate:g}/s, waiting {self._waiting}]>"

"""Limits: how many at once, how many per second, what to do on failure, how many workers.

* ``ConcurrencyLimiter``: at most ``limit`` calls in flight (the guide's PARALLEL_WORKERS=3).
* ``TokenBucket``: at most ``rate`` calls per second on average, with bursts of ``burst``.
* ``Retry``: try again with exponential backoff and full jitter, honouring a
  ``RateLimited.retry_after`` hint. The policy (``Retry.delay``) is a pure function;
  the waiting is done by the clock.
* ``WorkerScaler``: the guide's load-based scaling rule (CPU < 50 % -> one more worker,
  > 80 % -> one fewer), with the load reading injectable.

The limiter and the bucket queue their waiters first in, first out, so nobody starves.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from perflab.clock import Clock, default_clock
from perflab.errors import RateLimited, ServiceError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ConcurrencyLimiter",
    "LimiterStats",
    "Retry",
    "RetryAttempt",
    "RetryStats",
    "ScalerStats",
    "TokenBucket",
    "TokenBucketStats",
    "WorkerScaler",
    "scale_workers",
]

T = TypeVar("T")


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
    by a background task.

    Args:
        rate: tokens added per second (> 0).
        burst: bucket capacity (>= 1 call's worth, > 0).
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
        self._tokens = self.burst
        self._last = self._clock.now()
        self._admitted = 0.0
        self._granted = self._refused = self._waits = 0
        self._waited = 0.0
        self._queue: asyncio.Lock | None = None  # FIFO line for acquire(), made on first use
        self._waiting = 0

    def _refill(self) -> float:
        now = self._clock.now()
        if now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
        return now

    def _check(self, tokens: float) -> None:
        if not 0 < tokens <= self.burst:
            raise ValueError(
                f"tokens ({tokens}) must be > 0 and <= burst ({self.burst}), or it can never be granted"
            )

    def _take(self, tokens: float) -> bool:
        self._refill()
        if self._tokens >= tokens:
            self._tokens -= tokens
            self._admitted += tokens
            self._granted += 1
            return True
        return False

    @property
    def tokens(self) -> float:
        """Tokens in the bucket now."""
        self._refill()
        return self._tokens

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` now if they are there; never waits.

        Returns ``False`` while anyone is waiting in ``acquire``, so a caller that
        polls cannot jump the queue.
        """
        self._check(tokens)
        if self._waiting == 0 and self._take(tokens):
            return True
        self._refused += 1
        return False

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until ``tokens`` are available, then take them (first come, first served)."""
        self._check(tokens)
        if self._waiting == 0 and self._take(tokens):
            return
        if self._queue is None:
            self._queue = asyncio.Lock()
        self._waiting += 1
        self._waits += 1
        start = self._clock.now()
        try:
            async with self._queue:  # asyncio.Lock is FIFO: one waiter sleeps at a time
                while not self._take(tokens):
                    # At least a nanosecond, so float rounding can never stall the clock.
                    await self._clock.sleep(max((tokens - self._tokens) / self.rate, 1e-9))
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


# -- retry -----------------------------------------------------------------------
@dataclass(frozen=True)
class RetryAttempt:
    """One failed attempt: which call and try, what went wrong, how long we waited after."""

    call: int
    attempt: int
    error: str
    delay_s: float
    at: float


@dataclass(frozen=True)
class RetryStats:
    """Counters of a ``Retry`` (see docs/resilience.md)."""

    calls: int
    attempts: int
    retries: int
    successes: int
    gave_up: int
    waited_s: float


DEFAULT_RETRY_ON: tuple[type[BaseException], ...] = (
    ServiceError,
    RateLimited,
    TimeoutError,
    asyncio.TimeoutError,  # the same class from Python 3.11 on
    ConnectionError,
)


class Retry:
    """Retry with exponential backoff and full jitter.

    After the ``n``-th failure (``n`` from 0) the wait is drawn uniformly from
    ``[0, min(wait_max, wait_initial * multiplier**n)]``: "full jitter", so a crowd
    of clients that failed together does not come back together. When the error is
    a ``RateLimited`` with a ``retry_after`` hint, the wait is at least that long.
    Only exceptions in ``retry_on`` are retried; others, and the last failure, are
    raised unchanged.

    Args:
        attempts: total tries, the first included (>= 1).
        wait_initial: the backoff cap after the first failure, in seconds.
        wait_max: the largest backoff cap, in seconds.
        multiplier: how much the cap grows per failure (>= 1).
        retry_on: exception types worth retrying.
        clock: where time is read, and how ``acall`` waits.
        rng: a ``random.Random`` for the jitter (seed it for reproducible waits).
        sleep: how the sync ``call`` waits; by default ``clock.advance`` on a clock
            that has one (``FakeClock``), else ``time.sleep``.
        history: how many failed attempts to keep in ``attempts_log``.
    """

    def __init__(
        self,
        attempts: int = 3,
        wait_initial: float = 0.5,
        wait_max: float = 30.0,
        multiplier: float = 2.0,
        *,
        retry_on: tuple[type[BaseException], ...] = DEFAULT_RETRY_ON,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = None,
        history: int = 1000,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts ({attempts}) must be >= 1 (1 means no retries)")
        if wait_initial < 0 or wait_max < 0:
            raise ValueError(
                f"wait_initial ({wait_initial}) and wait_max ({wait_max}) must be >= 0"
            )
        if multiplier < 1:
            raise ValueError(f"multiplier ({multiplier}) must be >= 1")
        self.attempts = attempts
        self.wait_initial = float(wait_initial)
        self.wait_max = float(wait_max)
        self.multiplier = float(multiplier)
        self.retry_on = retry_on
        self._clock = default_clock(clock)
        self._rng = rng if rng is not None else random.Random()
        advance = getattr(self._clock, "advance", None)
        self._sleep: Callable[[float], None] = sleep or (
            advance if callable(advance) else time.sleep
        )
        self.attempts_log: deque[RetryAttempt] = deque(maxlen=history)
        self._calls = self._tries = self._successes = self._gave_up = 0
        self._waited = 0.0

    def cap(self, n: int) -> float:
        """The backoff cap after failure ``n`` (from 0): ``min(wait_max, wait_initial * multiplier**n)``."""
        try:
            return min(self.wait_max, self.wait_initial * self.multiplier**n)
        except OverflowError:
            return self.wait_max

    def delay(self, n: int, error: BaseException | None = None) -> float:
        """The wait after failure ``n`` (from 0): full jitter, at least any Retry-After hint.

        This is the whole policy, with no waiting in it, so it can be plotted and tested.
        """
        wait = self._rng.uniform(0.0, self.cap(n))
        hint = getattr(error, "retry_after", None) if isinstance(error, RateLimited) else None
        if hint is not None and hint > wait:
            wait = float(hint)
        return wait

    def _failed(self, exc: BaseException, call: int, n: int) -> float | None:
        """Book a failed try; return how long to wait, or None to give up."""
        if not isinstance(exc, self.retry_on) or n + 1 >= self.attempts:
            self._gave_up += 1
            return None
        wait = self.delay(n, exc)
        self.attempts_log.append(
            RetryAttempt(call, n + 1, f"{type(exc).__name__}: {exc}", wait, self._clock.now())
        )
        self._waited += wait
        return wait

    def call(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> T:
        """Call ``fn(*args, **kwargs)``, retrying as the policy says; return its result."""
        self._calls += 1
        call = self._calls
        for n in range(self.attempts):
            self._tries += 1
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                wait = self._failed(exc, call, n)
                if wait is None:
                    raise
                self._sleep(wait)
                continue
            self._successes += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    async def acall(self, fn: Callable[..., Awaitable[T]], /, *args: object, **kwargs: object) -> T:
        """Await ``fn(*args, **kwargs)``, retrying as the policy says; waits on the clock."""
        self._calls += 1
        call = self._calls
        for n in range(self.attempts):
            self._tries += 1
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:
                wait = self._failed(exc, call, n)
                if wait is None:
                    raise
                await self._clock.sleep(wait)
                continue
            self._successes += 1
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def stats(self) -> RetryStats:
        """A snapshot of the counters."""
        return RetryStats(
            self._calls,
            self._tries,
            self._tries - self._calls,
            self._successes,
            self._gave_up,
            self._waited,
        )

    def __repr__(self) -> str:
        return (
            f"<Retry [attempts {self.attempts}, wait {self.wait_initial:g}..{self.wait_max:g} s "
            f"x{self.multiplier:g}, full jitter]>"
        )


# -- scaling ---------------------------------------------------------------------
def scale_workers(
    workers: int,
    load: float,
    *,
    max_workers: int,
    min_workers: int = 1,
    low: float = 50.0,
    high: float = 80.0,
) -> int:
    """The guide's load rule: below ``low`` % add a worker, above ``high`` % remove one.

    >>> scale_workers(3, 30.0, max_workers=8), scale_workers(3, 95.0, max_workers=8)
    (4, 2)
    """
    if load < low:
        return min(workers + 1, max_workers)
    if load > high:
        return max(workers - 1, min_workers)
    return workers


@dataclass(frozen=True)
class ScalerStats:
    """Counters of a ``WorkerScaler`` (see docs/resilience.md)."""

    workers: int
    steps: int
    ups: int
    downs: int
    last_load: float | None


def _cpu_percent() -> float:
    import psutil  # imported here so `import perflab` stays light

    return float(psutil.cpu_percent(interval=None))


class WorkerScaler:
    """Adjust a worker count from a load reading (the guide's "load-based scaling").

    Each ``step()`` reads the load (CPU % by default, via ``psutil.cpu_percent``; note
    that psutil's very first reading is a meaningless 0.0) and applies
    ``scale_workers``. Between ``low`` and ``high`` nothing changes: that dead band
    keeps the count from flapping.

    Args:
        min_workers: never go below this (the guide uses 1).
        max_workers: never go above this.
        low: below this load (%) add a worker.
        high: above this load (%) remove one.
        read_load: returns the load in percent; injectable for tests and simulations.
        workers: the starting count (default ``min_workers``).
    """

    def __init__(
        self,
        min_workers: int = 1,
        max_workers: int = 8,
        low: float = 50.0,
        high: float = 80.0,
        read_load: Callable[[], float] | None = None,
        *,
        workers: int | None = None,
    ) -> None:
        if not 1 <= min_workers <= max_workers:
            raise ValueError(
                f"need 1 <= min_workers ({min_workers}) <= max_workers ({max_workers})"
            )
        if not low <= high:
            raise ValueError(f"low ({low}) must be <= high ({high})")
        start = min_workers if workers is None else workers
        if not min_workers <= start <= max_workers:
            raise ValueError(f"workers ({start}) must lie in [{min_workers}, {max_workers}]")
        self.min_workers, self.max_workers = min_workers, max_workers
        self.low, self.high = low, high
        self._read_load = read_load or _cpu_percent
        self.workers = start
        self._steps = self._ups = self._downs = 0
        self._last: float | None = None

    def step(self, load: float | None = None) -> int:
        """Read the load (or use ``load``), apply the rule, return the new worker count."""
        value = self._read_load() if load is None else load
        if math.isnan(value):
            raise ValueError("load reading is NaN")
        new = scale_workers(
            self.workers,
            value,
            max_workers=self.max_workers,
            min_workers=self.min_workers,
            low=self.low,
            high=self.high,
        )
        self._steps += 1
        self._ups += new > self.workers
        self._downs += new < self.workers
        self.workers, self._last = new, value
        return new

    def stats(self) -> ScalerStats:
        """A snapshot of the counters."""
        return ScalerStats(self.workers, self._steps, self._ups, self._downs, self._last)

    def __repr__(self) -> str:
        return f"<WorkerScaler [workers {self.workers} in {self.min_workers}..{self.max_workers}]>"

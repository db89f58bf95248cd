"""Retry: try again with exponential backoff and full jitter.

``Retry`` retries a failed call after a random wait whose cap doubles each time,
honouring a ``RateLimited.retry_after`` hint. The policy (``Retry.delay``) is a pure
function; the waiting is done by the clock, so the same object runs in real time and
in a simulation's virtual time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from perflab.clock import Clock, default_clock
from perflab.errors import RateLimited, ServiceError

__all__ = ["DEFAULT_RETRY_ON", "Retry", "RetryAttempt", "RetryStats"]

T = TypeVar("T")


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

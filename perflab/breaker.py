"""Circuit breaker: stop calling a service that keeps failing, and try again later.

A breaker sits in front of a remote call and watches its outcomes. It has three
states (``BreakerState``):

* **closed**: calls go through. Each failure bumps a counter and each success resets
  it; after ``failure_threshold`` *consecutive* failures the breaker opens.
* **open**: calls are refused at once with ``CircuitOpen``, without touching the
  service. A failing service gets room to recover, and callers fail in microseconds
  instead of waiting for a timeout. After ``recovery_timeout`` seconds the breaker
  becomes half-open.
* **half-open**: up to ``half_open_max_calls`` trial calls go through. A trial that
  succeeds closes the breaker; one that fails opens it again for another
  ``recovery_timeout``. Calls beyond the trial budget are refused.

This is the guide's Pattern 2, completed: the guide's version never closes again.

Unlike pybreaker, no lock is held while the guarded call runs, so concurrent calls
never queue behind each other. Bookkeeping happens before and after the call. A call
carries the breaker's *generation* (bumped at every state change), so a slow call
that started before a change cannot flip the state afterwards: a late success from
the closed era does not close a breaker that has opened meanwhile.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from perflab.clock import Clock, default_clock
from perflab.errors import CircuitOpen

__all__ = ["BreakerState", "BreakerStats", "CircuitBreaker", "Transition"]

T = TypeVar("T")

Listener = Callable[["BreakerState", "BreakerState", float], object]
FailurePredicate = Callable[[BaseException], bool]


class BreakerState(enum.Enum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(frozen=True)
class Transition:
    """One state change: from ``old`` to ``new`` at clock time ``at``."""

    old: BreakerState
    new: BreakerState
    at: float


@dataclass(frozen=True)
class BreakerStats:
    """A snapshot of a breaker's counters (see docs/resilience.md).

    Attributes:
        state: the state now.
        calls: calls let through to the guarded function.
        successes: calls that returned normally.
        failures: calls that raised an exception counted as a failure.
        ignored: calls that raised an exception *not* counted as a failure (or were
            cancelled); they neither trip nor reset the breaker.
        rejections: calls refused with ``CircuitOpen`` without being tried.
        consecutive_failures: the current run of failures (closed state).
        opened: how many times the breaker has opened.
    """

    state: BreakerState
    calls: int
    successes: int
    failures: int
    ignored: int
    rejections: int
    consecutive_failures: int
    opened: int


_CLOSED = BreakerState.CLOSED
_OPEN = BreakerState.OPEN
_HALF_OPEN = BreakerState.HALF_OPEN


class CircuitBreaker:
    """Closed -> open after repeated failures, half-open after a pause, closed on success.

    Args:
        failure_threshold: consecutive failures that open the breaker.
        recovery_timeout: seconds the breaker stays open before allowing a trial.
        half_open_max_calls: trial calls allowed at once while half-open.
        failure_on: which exceptions count as failures: a tuple of exception types
            (default: every ``Exception``) or a predicate ``exc -> bool``. Other
            exceptions pass through and count as ``ignored``.
        clock: where time is read (default: monotonic). Only read when the breaker
            is open or changes state, so the closed path costs no clock read.
        history: how many transitions to keep in ``transitions``.

    Raises:
        ValueError: for a threshold or trial budget below 1, or a negative timeout.

    >>> from perflab.clock import FakeClock
    >>> breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=10, clock=FakeClock())
    >>> breaker.call(lambda: 42)
    42
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        *,
        failure_on: tuple[type[BaseException], ...] | FailurePredicate = (Exception,),
        clock: Clock | None = None,
        history: int = 1000,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold ({failure_threshold}) must be >= 1")
        if recovery_timeout < 0:
            raise ValueError(f"recovery_timeout ({recovery_timeout}) must be >= 0 seconds")
        if half_open_max_calls < 1:
            raise ValueError(f"half_open_max_calls ({half_open_max_calls}) must be >= 1")
        self.failure_threshold = failure_threshold
        self.recovery_timeout = float(recovery_timeout)
        self.half_open_max_calls = half_open_max_calls
        self._failure_on = failure_on
        self._clock = default_clock(clock)
        self._state = _CLOSED
        self._generation = 0
        self._opened_at = 0.0
        self._trials = 0  # trial calls in flight while half-open
        self._consecutive = 0
        self._calls = self._successes = self._failures = 0
        self._ignored = self._rejections = self._opened = 0
        self._transitions: deque[Transition] = deque(maxlen=history)
        self._listeners: list[Listener] = []

    # -- state --------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose timeout has passed reads half-open)."""
        if self._state is _OPEN:
            self._maybe_half_open()
        return self._state

    @property
    def transitions(self) -> list[Transition]:
        """State changes so far, oldest first (at most ``history`` of them)."""
        return list(self._transitions)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(old, new, at)`` after every state change.

        Listeners run inside the breaker's bookkeeping, right after the call that
        caused the change: keep them quick, and do not let them raise (an exception
        from a listener would replace the guarded call's own result or error).
        """
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def reset(self) -> None:
        """Close the breaker by hand and forget the current run of failures."""
        self._consecutive = 0
        if self._state is not _CLOSED:
            self._move(_CLOSED, self._clock.now())

    def _move(self, new: BreakerState, at: float) -> None:
        old = self._state
        self._state = new
        self._generation += 1
        self._trials = 0
        if new is _OPEN:
            self._opened_at = at
            self._opened += 1
        elif new is _CLOSED:
            self._consecutive = 0
        self._transitions.append(Transition(old, new, at))
        for listener in list(self._listeners):
            listener(old, new, at)

    def _maybe_half_open(self) -> None:
        due = self._opened_at + self.recovery_timeout
        if self._clock.now() >= due:
            # Recorded at the moment the timeout ran out, whoever noticed it later.
            self._move(_HALF_OPEN, due)

    # -- the guarded call -------------------------------------------------------------
    def _admit(self) -> int:
        """Let a call through (returning its generation) or raise ``CircuitOpen``."""
        if self._state is _CLOSED:
            self._calls += 1
            return self._generation
        if self._state is _OPEN:
            self._maybe_half_open()
            if self._state is _OPEN:
                self._rejections += 1
                remaining = self._opened_at + self.recovery_timeout - self._clock.now()
                raise CircuitOpen(
                    f"circuit open after {self.failure_threshold} consecutive failures; "
                    f"next trial call in {remaining:.2f} sec",
                    remaining=remaining,
                )
        if self._trials >= self.half_open_max_calls:
            self._rejections += 1
            raise CircuitOpen(
                f"circuit half-open and its {self.half_open_max_calls} trial call(s) are "
                "in flight; retry when they finish",
                remaining=0.0,
            )
        self._trials += 1
        self._calls += 1
        return self._generation

    def _on_success(self, generation: int) -> None:
        self._successes += 1
        if generation != self._generation:
            return  # started under another state: its outcome is stale
        if self._state is _CLOSED:
            self._consecutive = 0
        else:  # a half-open trial worked: the service is back
            self._move(_CLOSED, self._clock.now())

    def _on_error(self, exc: BaseException, generation: int) -> None:
        if not self._counts(exc):
            self._ignored += 1
            if generation == self._generation and self._state is _HALF_OPEN:
                self._trials -= 1  # no verdict: free the trial slot for another caller
            return
        self._failures += 1
        if generation != self._generation:
            return
        if self._state is _CLOSED:
            self._consecutive += 1
            if self._consecutive >= self.failure_threshold:
                self._move(_OPEN, self._clock.now())
        else:  # a half-open trial failed: back to open for another recovery_timeout
            self._move(_OPEN, self._clock.now())

    def _counts(self, exc: BaseException) -> bool:
        if not isinstance(exc, Exception):
            return False  # cancellation, KeyboardInterrupt: not the service's fault
        failure_on = self._failure_on
        if isinstance(failure_on, tuple):
            return isinstance(exc, failure_on)
        return bool(failure_on(exc))

    def call(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> T:
        """Call ``fn(*args, **kwargs)`` through the breaker.

        Returns:
            What ``fn`` returns.

        Raises:
            CircuitOpen: the breaker refused the call (``.remaining`` says how long
                until a trial is allowed).
            Exception: whatever ``fn`` raised, unchanged.
        """
        generation = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc, generation)
            raise
        self._on_success(generation)
        return result

    async def acall(self, fn: Callable[..., Awaitable[T]], /, *args: object, **kwargs: object) -> T:
        """Await ``fn(*args, **kwargs)`` through the breaker (see ``call``)."""
        generation = self._admit()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(exc, generation)
            raise
        self._on_success(generation)
        return result

    # -- stats ---------------------------------------------------------------------
    def stats(self) -> BreakerStats:
        """A snapshot of the counters."""
        return BreakerStats(
            state=self.state,
            calls=self._calls,
            successes=self._successes,
            failures=self._failures,
            ignored=self._ignored,
            rejections=self._rejections,
            consecutive_failures=self._consecutive,
            opened=self._opened,
        )

    def pop_stats(self) -> BreakerStats:
        """Return the counters and set them back to zero (the state is kept)."""
        snapshot = self.stats()
        self._calls = self._successes = self._failures = 0
        self._ignored = self._rejections = self._opened = 0
        return snapshot

    def __repr__(self) -> str:
        return (
            f"<CircuitBreaker [{self.state.value}, failures {self._consecutive}"
            f"/{self.failure_threshold}]>"
        )

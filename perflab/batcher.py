"""Adaptive batching: grow the batch while calls succeed, halve it when one fails.

This is the guide's Pattern 3, additive increase and multiplicative decrease (AIMD,
the rule TCP uses for its congestion window): start at 10 items, add 5 after each
successful batch up to 100, halve after a failure but never below 5. The batch size
climbs slowly towards what the service can take and backs off fast when it says no,
so it hovers just under the service's limit without anyone having to know the limit.

``AdaptiveBatcher`` is the pure rule (no clock, no I/O); ``run_adaptive_batches`` and
``run_adaptive_batches_sync`` drive a function over a list of items with it and record
what happened to every batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from perflab.clock import Clock, default_clock

__all__ = [
    "AdaptiveBatcher",
    "BatchRecord",
    "BatcherStats",
    "run_adaptive_batches",
    "run_adaptive_batches_sync",
]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class BatcherStats:
    """Counters of an ``AdaptiveBatcher`` (see docs/resilience.md)."""

    batch_size: int
    successes: int
    failures: int
    largest: int
    smallest: int


class AdaptiveBatcher:
    """The guide's batch-size rule: +``step`` after a success, halve after a failure.

    On success: if below ``max_size``, ``size = min(size + step, max_size)``.
    On failure: if above ``min_size``, ``size = max(min_size, size // 2)``.

    Args:
        initial: the starting batch size (the guide's 10).
        step: how much a success adds (5).
        max_size: the ceiling (100).
        min_size: the floor (5).

    Raises:
        ValueError: unless ``1 <= min_size <= initial <= max_size`` and ``step >= 1``.

    >>> b = AdaptiveBatcher()
    >>> b.record(True), b.record(True), b.record(False)
    (15, 20, 10)
    """

    def __init__(
        self, initial: int = 10, step: int = 5, max_size: int = 100, min_size: int = 5
    ) -> None:
        if not 1 <= min_size <= initial <= max_size:
            raise ValueError(
                f"need 1 <= min_size ({min_size}) <= initial ({initial}) <= max_size ({max_size})"
            )
        if step < 1:
            raise ValueError(f"step ({step}) must be >= 1")
        self.initial, self.step = initial, step
        self.max_size, self.min_size = max_size, min_size
        self.batch_size = initial
        self._successes = self._failures = 0
        self._largest = self._smallest = initial

    def record(self, success: bool) -> int:
        """Apply the rule for one batch's outcome; return the next batch size."""
        if success:
            self._successes += 1
            if self.batch_size < self.max_size:
                self.batch_size = min(self.batch_size + self.step, self.max_size)
        else:
            self._failures += 1
            if self.batch_size > self.min_size:
                self.batch_size = max(self.min_size, self.batch_size // 2)
        self._largest = max(self._largest, self.batch_size)
        self._smallest = min(self._smallest, self.batch_size)
        return self.batch_size

    def reset(self) -> None:
        """Back to the initial size (the counters are kept)."""
        self.batch_size = self.initial

    def stats(self) -> BatcherStats:
        """A snapshot of the counters."""
        return BatcherStats(
            self.batch_size, self._successes, self._failures, self._largest, self._smallest
        )

    def __repr__(self) -> str:
        return f"<AdaptiveBatcher [size {self.batch_size} in {self.min_size}..{self.max_size}, +{self.step}/halve]>"


@dataclass(frozen=True)
class BatchRecord(Generic[R]):
    """What happened to one batch.

    Attributes:
        start: index of the batch's first item in the input.
        size: items in the batch.
        latency_s: how long the call took, on the clock given.
        ok: whether it succeeded.
        attempt: 1 for a first try, 2+ when these items were retried after a failure.
        error: ``"Type: message"`` of the failure, or ``None``.
        result: what the function returned (``None`` for a failed batch).
    """

    start: int
    size: int
    latency_s: float
    ok: bool
    attempt: int = 1
    error: str | None = None
    result: R | None = field(default=None, repr=False)


def _check(max_attempts: int) -> None:
    if max_attempts < 1:
        raise ValueError(f"max_attempts ({max_attempts}) must be >= 1")


async def run_adaptive_batches(
    items: Sequence[T],
    fn: Callable[[list[T]], Awaitable[R]],
    batcher: AdaptiveBatcher | None = None,
    clock: Clock | None = None,
    *,
    max_attempts: int = 5,
    failure_on: tuple[type[BaseException], ...] = (Exception,),
) -> list[BatchRecord[R]]:
    """Run ``items`` through ``await fn(batch)`` in batches sized by ``batcher``.

    Items go in order. After each batch the batcher learns the outcome. A failed
    batch is not skipped: the *same* items are tried again from the same position at
    the new, halved size (so the retry is the first half of what failed), and the
    rest follow. If the batch starting at one position fails ``max_attempts`` times
    in a row, the last error is raised; records so far are lost with it, so pass a
    generous ``max_attempts`` when the service is merely flaky.

    Args:
        items: what to process.
        fn: called with a list of consecutive items; its return value is kept in
            the record.
        batcher: the sizing rule (default: ``AdaptiveBatcher()``, the guide's numbers).
        clock: where latency is measured (default: monotonic).
        max_attempts: tries per starting position before giving up.
        failure_on: exceptions that count as a failed batch; others propagate at once.

    Returns:
        One ``BatchRecord`` per call, in order, failures included.
    """
    _check(max_attempts)
    batcher = batcher if batcher is not None else AdaptiveBatcher()
    clock = default_clock(clock)
    records: list[BatchRecord[R]] = []
    position, attempt = 0, 1
    while position < len(items):
        batch = list(items[position : position + batcher.batch_size])
        began = clock.now()
        try:
            result = await fn(batch)
        except failure_on as exc:
            _failed(
                records, batcher, position, batch, clock.now() - began, attempt, exc, max_attempts
            )
            attempt += 1
            continue
        records.append(
            BatchRecord(position, len(batch), clock.now() - began, True, attempt, None, result)
        )
        batcher.record(True)
        position, attempt = position + len(batch), 1
    return records


def run_adaptive_batches_sync(
    items: Sequence[T],
    fn: Callable[[list[T]], R],
    batcher: AdaptiveBatcher | None = None,
    clock: Clock | None = None,
    *,
    max_attempts: int = 5,
    failure_on: tuple[type[BaseException], ...] = (Exception,),
) -> list[BatchRecord[R]]:
    """The same as ``run_adaptive_batches`` for a plain (sync) ``fn(batch)``."""
    _check(max_attempts)
    batcher = batcher if batcher is not None else AdaptiveBatcher()
    clock = default_clock(clock)
    records: list[BatchRecord[R]] = []
    position, attempt = 0, 1
    while position < len(items):
        batch = list(items[position : position + batcher.batch_size])
        began = clock.now()
        try:
            result = fn(batch)
        except failure_on as exc:
            _failed(
                records, batcher, position, batch, clock.now() - began, attempt, exc, max_attempts
            )
            attempt += 1
            continue
        records.append(
            BatchRecord(position, len(batch), clock.now() - began, True, attempt, None, result)
        )
        batcher.record(True)
        position, attempt = position + len(batch), 1
    return records


def _failed(
    records: list[BatchRecord[Any]],
    batcher: AdaptiveBatcher,
    position: int,
    batch: list[Any],
    latency: float,
    attempt: int,
    exc: BaseException,
    max_attempts: int,
) -> None:
    records.append(
        BatchRecord(position, len(batch), latency, False, attempt, f"{type(exc).__name__}: {exc}")
    )
    batcher.record(False)
    if attempt >= max_attempts:
        raise exc

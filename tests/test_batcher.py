"""Tests for perflab.batcher: the guide's adaptive batch-size rule and the batch runner."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.batcher import AdaptiveBatcher, run_adaptive_batches, run_adaptive_batches_sync
from perflab.clock import FakeClock


def guide_rule(size: int, success: bool) -> int:
    """The guide's adjust_batch_size, verbatim."""
    if success and size < 100:
        size += 5
    elif not success and size > 5:
        size = max(5, size // 2)
    return size


def test_starts_at_ten_and_grows_by_five() -> None:
    """Successes add 5 from 10 up to exactly 100, then stay."""
    batcher = AdaptiveBatcher()
    sizes = [batcher.record(True) for _ in range(20)]
    assert sizes[:3] == [15, 20, 25]
    assert sizes[-1] == 100
    assert max(sizes) == 100


def test_failure_halves_down_to_the_floor() -> None:
    """Failures halve the size (integer division) but never go below 5."""
    batcher = AdaptiveBatcher(initial=100)
    assert [batcher.record(False) for _ in range(6)] == [50, 25, 12, 6, 5, 5]


@given(st.lists(st.booleans(), max_size=200))
def test_matches_the_guide_exactly(outcomes: list[bool]) -> None:
    """Any run of outcomes gives the same sizes as the guide's code."""
    batcher = AdaptiveBatcher()
    size = 10
    for success in outcomes:
        size = guide_rule(size, success)
        assert batcher.record(success) == size


def test_ceiling_is_respected_with_an_odd_step() -> None:
    """A step that does not divide the range stops at max_size, not past it."""
    batcher = AdaptiveBatcher(initial=10, step=7, max_size=30, min_size=2)
    assert [batcher.record(True) for _ in range(4)] == [17, 24, 30, 30]


def test_stats_and_repr() -> None:
    """stats() counts outcomes and the sizes reached; repr shows the size and bounds."""
    batcher = AdaptiveBatcher()
    batcher.record(True)
    batcher.record(False)
    stats = batcher.stats()
    assert (stats.successes, stats.failures, stats.largest, stats.smallest) == (1, 1, 15, 7)
    assert repr(batcher) == "<AdaptiveBatcher [size 7 in 5..100, +5/halve]>"
    batcher.reset()
    assert batcher.batch_size == 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 3},
        {"initial": 200},
        {"min_size": 0, "initial": 1},
        {"step": 0},
        {"min_size": 50, "max_size": 40},
    ],
)
def test_rejects_bad_bounds(kwargs: dict[str, Any]) -> None:
    """Bounds that contradict each other are refused."""
    with pytest.raises(ValueError):
        AdaptiveBatcher(**kwargs)


class Service:
    """Accepts batches up to `limit` items, taking 0.01 s per item on the fake clock."""

    def __init__(self, clock: FakeClock, limit: int) -> None:
        self.clock = clock
        self.limit = limit
        self.seen: list[int] = []

    def __call__(self, batch: list[int]) -> int:
        self.clock.advance(0.01 * len(batch))
        if len(batch) > self.limit:
            raise RuntimeError(f"batch of {len(batch)} too large")
        self.seen.extend(batch)
        return sum(batch)

    async def acall(self, batch: list[int]) -> int:
        return self(batch)


def test_sync_runner_processes_every_item_once_in_order(clock: FakeClock) -> None:
    """Every item is processed exactly once, in order, even with failed batches retried."""
    service = Service(clock, limit=32)
    records = run_adaptive_batches_sync(list(range(500)), service, clock=clock)
    assert service.seen == list(range(500))
    assert sum(r.result or 0 for r in records if r.ok) == sum(range(500))
    failed = [r for r in records if not r.ok]
    assert failed and all(r.size > 32 for r in failed)
    assert all(r.size <= 32 for r in records if r.ok)


def test_failed_batch_is_retried_at_the_smaller_size(clock: FakeClock) -> None:
    """After a failure the same start position is retried with half the items."""
    service = Service(clock, limit=12)
    records = run_adaptive_batches_sync(list(range(40)), service, clock=clock)
    assert [(r.start, r.size, r.ok, r.attempt) for r in records[:3]] == [
        (0, 10, True, 1),
        (10, 15, False, 1),
        (10, 7, True, 2),
    ]
    assert records[0].latency_s == pytest.approx(0.1)
    assert records[1].error == "RuntimeError: batch of 15 too large"


def test_async_runner_records_latency_on_the_clock(clock: FakeClock) -> None:
    """The async runner awaits fn and measures each batch on the given clock."""
    service = Service(clock, limit=1000)
    records = asyncio.run(run_adaptive_batches(list(range(100)), service.acall, clock=clock))
    assert [r.size for r in records] == [10, 15, 20, 25, 30]
    assert [r.latency_s for r in records] == pytest.approx([0.1, 0.15, 0.2, 0.25, 0.3])


def test_gives_up_after_max_attempts(clock: FakeClock) -> None:
    """A position that keeps failing raises the last error after max_attempts tries."""
    service = Service(clock, limit=0)
    with pytest.raises(RuntimeError, match="too large"):
        run_adaptive_batches_sync(list(range(10)), service, clock=clock, max_attempts=3)


def test_errors_outside_failure_on_propagate(clock: FakeClock) -> None:
    """An exception not listed in failure_on is raised at once, without a retry."""
    calls = []

    def broken(batch: list[int]) -> None:
        calls.append(batch)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_adaptive_batches_sync([1, 2, 3], broken, clock=clock, failure_on=(RuntimeError,))
    assert len(calls) == 1


def test_empty_input_makes_no_calls(clock: FakeClock) -> None:
    """No items, no batches."""
    assert run_adaptive_batches_sync([], Service(clock, 5), clock=clock) == []

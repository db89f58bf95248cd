"""Tests for perflab.limits: concurrency limiter and token bucket."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perflab.limits
from perflab.clock import FakeClock, LoopClock
from perflab.limits import ConcurrencyLimiter, TokenBucket
from perflab.sim import run_virtual as run

# -- ConcurrencyLimiter ----------------------------------------------------------


def test_limiter_caps_in_flight() -> None:
    """No more than `limit` tasks are ever inside at once, and all of them finish."""
    limiter = ConcurrencyLimiter(3)
    inside = 0
    peak = 0

    async def work(i: int) -> int:
        nonlocal inside, peak
        async with limiter:
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.1 * (i % 4))
            inside -= 1
        return i

    async def main() -> list[int]:
        return await asyncio.gather(*(work(i) for i in range(20)))

    assert run(main()) == list(range(20))
    stats = limiter.stats()
    assert peak == 3 == stats.max_in_flight
    assert (stats.in_flight, stats.waiting, stats.entered) == (0, 0, 20)
    assert stats.waits == 17


def test_limiter_serves_waiters_in_order() -> None:
    """A freed slot goes to the longest waiter (first in, first out)."""
    limiter = ConcurrencyLimiter(1)
    order: list[int] = []

    async def work(i: int) -> None:
        async with limiter:
            order.append(i)
            await asyncio.sleep(1)

    async def main() -> None:
        tasks = []
        for i in range(5):
            tasks.append(asyncio.create_task(work(i)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

    run(main())
    assert order == [0, 1, 2, 3, 4]


def test_limiter_cancelled_waiter_leaks_no_slot() -> None:
    """A waiter cancelled while queued, or just after being handed a slot, leaves nothing behind."""
    limiter = ConcurrencyLimiter(1)

    async def main() -> None:
        await limiter.acquire()
        queued = asyncio.create_task(limiter.acquire())
        handed = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        queued.cancel()
        await asyncio.sleep(0)
        limiter.release()  # hands the slot to `handed`...
        handed.cancel()  # ...which is cancelled before it runs: it must pass the slot on
        await asyncio.gather(queued, handed, return_exceptions=True)
        assert limiter.stats().in_flight == 0
        async with limiter:
            assert repr(limiter) == "<ConcurrencyLimiter [in flight 1/1, waiting 0]>"

    run(main())


def test_limiter_rejects_bad_limit_and_extra_release() -> None:
    """limit < 1 is refused, and so is a release without an acquire."""
    with pytest.raises(ValueError, match="limit"):
        ConcurrencyLimiter(0)
    with pytest.raises(RuntimeError):
        ConcurrencyLimiter(1).release()


# -- TokenBucket -----------------------------------------------------------------


def test_bucket_allows_a_burst_then_refills(clock: FakeClock) -> None:
    """A full bucket grants `burst` calls at once, then one per 1/rate seconds."""
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    stats = bucket.stats()
    assert (stats.granted, stats.refused) == (4, 2)


def test_bucket_acquire_waits_for_tokens(clock: FakeClock) -> None:
    """acquire() sleeps on the clock exactly as long as the deficit needs."""
    bucket = TokenBucket(rate=10.0, burst=1, clock=clock)

    async def main() -> None:
        for _ in range(11):
            await bucket.acquire()

    asyncio.run(main())
    assert clock.now() == pytest.approx(1.0)
    assert bucket.stats().waits == 10


def test_bucket_waiters_are_served_in_order_and_block_polling() -> None:
    """Waiters queue first come, first served, and try_acquire cannot jump the queue."""

    async def main() -> list[tuple[int, float]]:
        bucket = TokenBucket(rate=1.0, burst=1, clock=LoopClock())
        served: list[tuple[int, float]] = []

        async def take(i: int) -> None:
            await bucket.acquire()
            served.append((i, asyncio.get_running_loop().time()))

        tasks = [asyncio.create_task(take(i)) for i in range(4)]
        await asyncio.sleep(0.5)
        assert not bucket.try_acquire()
        await asyncio.gather(*tasks)
        return served

    assert run(main()) == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)]


@pytest.mark.parametrize(
    ("rate", "burst", "message"), [(0, 1, "rate"), (1, 0, "burst"), (-1, 1, "rate")]
)
def test_bucket_rejects_bad_arguments(rate: float, burst: float, message: str) -> None:
    """A rate or burst that is not positive is refused."""
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, burst)


def test_bucket_refuses_more_tokens_than_burst(clock: FakeClock) -> None:
    """Asking for more tokens than the bucket holds is an error, not an endless wait."""
    with pytest.raises(ValueError, match="can never be granted"):
        TokenBucket(1.0, 2.0, clock=clock).try_acquire(3.0)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.1, 100.0),
    burst=st.floats(1.0, 20.0),
    steps=st.lists(st.tuples(st.floats(0.0, 2.0), st.floats(0.1, 1.0), st.booleans()), max_size=60),
)
def test_bucket_never_admits_more_than_rate_t_plus_burst(
    rate: float, burst: float, steps: list[tuple[float, float, bool]]
) -> None:
    """Over any time t since the start, granted tokens never exceed rate * t + burst."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)

    async def main() -> None:
        for dt, tokens, wait in steps:
            clock.advance(dt)
            if wait:
                await bucket.acquire(tokens)
            else:
                bucket.try_acquire(tokens)
            assert bucket.stats().admitted <= rate * clock.now() + burst + 1e-9

    asyncio.run(main())


# -- what moved out --------------------------------------------------------------


def test_retry_and_scaler_live_in_their_own_modules_only() -> None:
    """The deprecated re-exports are gone (CHANGELOG.md): one import path for each."""
    for name in ("Retry", "RetryAttempt", "RetryStats", "WorkerScaler", "scale_workers"):
        assert not hasattr(perflab.limits, name), name


def test_bucket_is_the_pure_core_of_both_token_buckets() -> None:
    """Bucket.take answers 0 or the wait, with time passed in; TokenBucket and Window are built on it."""
    from perflab.limits import Bucket
    from perflab.sim.services import Window

    b = Bucket(rate=1.0, capacity=2.0, at=10.0)
    assert [b.take(1.0, 10.0), b.take(1.0, 10.0), b.take(1.0, 10.0)] == [0.0, 0.0, 1.0]
    assert b.take(1.0, 11.0) == 0.0 and math.isinf(b.take(3.0, 11.0))
    assert isinstance(Window(60), Bucket) and Window(60).rate == 1.0
    assert isinstance(TokenBucket(1.0, 2.0)._bucket, Bucket)

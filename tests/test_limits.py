"""Tests for perflab.limits: concurrency limiter, token bucket, retry, worker scaler."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from _vloop import run
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.clock import FakeClock, LoopClock
from perflab.errors import RateLimited, ServiceError
from perflab.limits import ConcurrencyLimiter, Retry, TokenBucket, WorkerScaler, scale_workers

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


# -- Retry -----------------------------------------------------------------------


class Flaky:
    """Fails `failures` times with `error`, then returns "done"."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or ServiceError("503", status=503)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"

    async def acall(self) -> str:
        return self()


def test_retry_succeeds_after_failures(clock: FakeClock) -> None:
    """Retries until success, waiting on the clock, and counts the attempts."""
    retry = Retry(attempts=3, clock=clock, rng=random.Random(1))
    assert retry.call(Flaky(2)) == "done"
    stats = retry.stats()
    assert (stats.calls, stats.attempts, stats.retries, stats.successes) == (1, 3, 2, 1)
    assert clock.now() == pytest.approx(stats.waited_s)
    assert [a.attempt for a in retry.attempts_log] == [1, 2]


def test_retry_gives_up_and_reraises(clock: FakeClock) -> None:
    """After `attempts` failures the last error is raised unchanged."""
    retry = Retry(attempts=2, clock=clock)
    flaky = Flaky(5)
    with pytest.raises(ServiceError, match="503"):
        retry.call(flaky)
    assert flaky.calls == 2
    assert retry.stats().gave_up == 1


def test_retry_does_not_retry_other_errors(clock: FakeClock) -> None:
    """An exception outside retry_on is raised at once."""
    flaky = Flaky(1, KeyError("bug"))
    with pytest.raises(KeyError):
        Retry(clock=clock).call(flaky)
    assert flaky.calls == 1


@pytest.mark.parametrize(("n", "cap"), [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (5000, 30.0)])
def test_retry_cap_grows_exponentially_to_wait_max(n: int, cap: float) -> None:
    """The backoff cap is min(wait_max, wait_initial * multiplier**n), even for huge n."""
    assert Retry().cap(n) == cap


def test_retry_delay_is_full_jitter() -> None:
    """Delays are spread uniformly over [0, cap]: same seed, same delays."""
    delays = [Retry(rng=random.Random(7)).delay(2) for _ in range(1)]
    expected = random.Random(7).uniform(0, 2.0)
    assert delays == [expected]
    spread = [Retry(rng=random.Random(s)).delay(3) for s in range(500)]
    assert min(spread) >= 0 and max(spread) <= 4.0
    assert 1.6 < sum(spread) / len(spread) < 2.4


def test_retry_honours_retry_after(clock: FakeClock) -> None:
    """A RateLimited hint makes the wait at least retry_after seconds."""
    retry = Retry(attempts=2, wait_initial=0.1, clock=clock, rng=random.Random(0))
    assert retry.delay(0, RateLimited("429", retry_after=7.0)) == 7.0
    retry.call(Flaky(1, RateLimited("429", retry_after=7.0)))
    assert clock.now() == 7.0


def test_retry_acall_waits_on_the_clock() -> None:
    """acall awaits the clock's sleep between tries, so it runs in virtual time."""

    async def main() -> float:
        retry = Retry(attempts=4, wait_initial=10, clock=LoopClock(), rng=random.Random(3))
        assert await retry.acall(Flaky(3).acall) == "done"
        assert asyncio.get_running_loop().time() == pytest.approx(retry.stats().waited_s)
        return retry.stats().waited_s

    assert run(main()) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attempts": 0}, "attempts"),
        ({"wait_initial": -1}, "wait_initial"),
        ({"multiplier": 0.5}, "multiplier"),
    ],
)
def test_retry_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    """Impossible retry settings are refused with a message naming them."""
    with pytest.raises(ValueError, match=message):
        Retry(**kwargs)


# -- WorkerScaler ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("workers", "load", "expected"),
    [(3, 49.9, 4), (8, 10.0, 8), (3, 50.0, 3), (3, 80.0, 3), (3, 80.1, 2), (1, 99.0, 1)],
)
def test_scale_workers_follows_the_guide(workers: int, load: float, expected: int) -> None:
    """load < 50 adds one up to max, load > 80 removes one down to 1, otherwise no change."""
    assert scale_workers(workers, load, max_workers=8) == expected


def test_scaler_reads_injected_load() -> None:
    """step() uses the injected reading and keeps stats of its moves."""
    readings = iter([10.0, 10.0, 90.0, 60.0])
    scaler = WorkerScaler(min_workers=1, max_workers=3, read_load=lambda: next(readings))
    assert [scaler.step() for _ in range(4)] == [2, 3, 2, 2]
    stats = scaler.stats()
    assert (stats.workers, stats.steps, stats.ups, stats.downs, stats.last_load) == (
        2,
        4,
        2,
        1,
        60.0,
    )
    assert repr(scaler) == "<WorkerScaler [workers 2 in 1..3]>"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_workers": 0},
        {"min_workers": 5, "max_workers": 2},
        {"low": 90, "high": 80},
        {"workers": 99},
    ],
)
def test_scaler_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Inconsistent bounds are refused."""
    with pytest.raises(ValueError):
        WorkerScaler(**kwargs)

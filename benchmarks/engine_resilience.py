"""Engine benchmark rows: circuit breaker, retry, token bucket and concurrency limiter
against pybreaker, tenacity, aiolimiter and asyncio.Semaphore (``benchmarks/engine.py``)."""

from __future__ import annotations

from harness import add, have, per_call, per_call_async  # first

# isort: split
import asyncio
import threading
import time
from collections.abc import Callable


def ok() -> int:
    return 1


# ----------------------------------------------------------------------- breaker


def bench_breaker(n: int, repeat: int) -> None:
    from perflab.breaker import CircuitBreaker

    print("circuit breaker (success path)")
    bare = per_call(ok, n, repeat)
    add("circuit breaker", "bare call", "per call", bare)
    ours = CircuitBreaker()
    t = per_call(lambda: ours.call(ok), n, repeat)
    add("circuit breaker", "perflab CircuitBreaker.call", "overhead per call", t - bare)
    if have("pybreaker"):
        import pybreaker

        theirs = pybreaker.CircuitBreaker()
        t = per_call(lambda: theirs.call(ok), n, repeat)
        add("circuit breaker", "pybreaker CircuitBreaker.call", "overhead per call", t - bare)
    else:
        add("circuit breaker", "pybreaker", "overhead per call", None)

    # Four threads each make five 20 ms calls through one breaker. A lock held during
    # the call serialises them (~400 ms); without one they overlap (~100 ms).
    def wall(call: Callable[[Callable[[], object]], object]) -> float:
        def work() -> None:
            for _ in range(5):
                call(lambda: time.sleep(0.02))

        threads = [threading.Thread(target=work) for _ in range(4)]
        t0 = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return time.perf_counter() - t0

    note = "4 threads x 5 calls of 20 ms"
    add(
        "circuit breaker",
        "perflab CircuitBreaker.call",
        "concurrent wall time",
        wall(ours.call),
        note,
    )
    if have("pybreaker"):
        add(
            "circuit breaker",
            "pybreaker CircuitBreaker.call",
            "concurrent wall time",
            wall(theirs.call),
            note,
        )


# ------------------------------------------------------------------------- retry


def bench_retry(n: int, repeat: int) -> None:
    from perflab.retry import Retry

    print("retry (first attempt succeeds)")
    bare = per_call(ok, n, repeat)
    ours = Retry(attempts=3, wait_initial=0.5, wait_max=30.0)
    t = per_call(lambda: ours.call(ok), n, repeat)
    add("retry", "perflab Retry.call", "overhead per call", t - bare)
    if have("tenacity"):
        import tenacity

        wrapped = tenacity.retry(
            stop=tenacity.stop_after_attempt(3),
            wait=tenacity.wait_random_exponential(multiplier=0.5, max=30),
        )(ok)
        t = per_call(wrapped, n, repeat)
        add("retry", "tenacity @retry", "overhead per call", t - bare)
    else:
        add("retry", "tenacity", "overhead per call", None)


# ------------------------------------------------------------------------ limits


def bench_limits(n: int, repeat: int) -> None:
    from perflab.limits import ConcurrencyLimiter, TokenBucket

    print("limiters (no waiting)")

    async def empty(k: int) -> None:
        for _ in range(k):
            pass

    base = per_call_async(empty, n, repeat)
    bucket = TokenBucket(rate=1e12, burst=1e12)
    add(
        "token bucket",
        "perflab TokenBucket.try_acquire",
        "per call (sync)",
        per_call(bucket.try_acquire, n, repeat),
    )

    async def ours_bucket(k: int) -> None:
        for _ in range(k):
            await bucket.acquire()

    add(
        "token bucket",
        "perflab await TokenBucket.acquire",
        "overhead per call",
        per_call_async(ours_bucket, n, repeat) - base,
    )
    if have("aiolimiter"):
        from aiolimiter import AsyncLimiter

        async def theirs_bucket(k: int) -> None:
            limiter = AsyncLimiter(max_rate=1e12, time_period=1)
            for _ in range(k):
                async with limiter:
                    pass

        add(
            "token bucket",
            "aiolimiter async with AsyncLimiter",
            "overhead per call",
            per_call_async(theirs_bucket, n, repeat) - base,
        )
    else:
        add("token bucket", "aiolimiter", "overhead per call", None)

    async def ours_limit(k: int) -> None:
        limiter = ConcurrencyLimiter(3)
        for _ in range(k):
            async with limiter:
                pass

    async def semaphore(k: int) -> None:
        sem = asyncio.Semaphore(3)
        for _ in range(k):
            async with sem:
                pass

    add(
        "concurrency limiter",
        "perflab async with ConcurrencyLimiter",
        "overhead per call",
        per_call_async(ours_limit, n, repeat) - base,
    )
    add(
        "concurrency limiter",
        "async with asyncio.Semaphore",
        "overhead per call",
        per_call_async(semaphore, n, repeat) - base,
    )

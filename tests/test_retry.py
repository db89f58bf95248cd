"""Tests for perflab.retry: backoff with full jitter, Retry-After, stats."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from perflab.clock import FakeClock, LoopClock
from perflab.errors import RateLimited, ServiceError
from perflab.retry import Retry
from perflab.sim import run_virtual as run


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

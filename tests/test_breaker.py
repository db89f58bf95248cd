"""Tests for perflab.breaker: the circuit breaker state machine."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from perflab.breaker import BreakerState, CircuitBreaker, Transition
from perflab.clock import FakeClock
from perflab.errors import CircuitOpen


class Boom(Exception):
    """A failure of the guarded service."""


def ok() -> str:
    return "ok"


def fail() -> None:
    raise Boom("down")


def trip(breaker: CircuitBreaker, n: int) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            breaker.call(fail)


def test_passes_results_through_when_closed(clock: FakeClock) -> None:
    """A closed breaker returns the function's result and counts a success."""
    breaker = CircuitBreaker(clock=clock)
    assert breaker.call(lambda x, y=0: x + y, 2, y=3) == 5
    stats = breaker.stats()
    assert (stats.calls, stats.successes, stats.state) == (1, 1, BreakerState.CLOSED)


def test_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    """Opens after failure_threshold consecutive failures, not before."""
    breaker = CircuitBreaker(failure_threshold=5, clock=clock)
    trip(breaker, 4)
    assert breaker.state is BreakerState.CLOSED
    trip(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_success_resets_the_failure_run(clock: FakeClock) -> None:
    """A success in between failures starts the count again."""
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    trip(breaker, 2)
    breaker.call(ok)
    trip(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.stats().consecutive_failures == 2


def test_open_rejects_with_remaining_time(clock: FakeClock) -> None:
    """An open breaker refuses calls and says how long until the next trial."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=30, clock=clock)
    trip(breaker, 1)
    clock.advance(12)
    called = []
    with pytest.raises(CircuitOpen, match=r"next trial call in 18\.00 sec") as info:
        breaker.call(lambda: called.append(1))
    assert info.value.remaining == pytest.approx(18.0)
    assert called == []
    assert breaker.stats().rejections == 1


def test_half_open_after_recovery_timeout(clock: FakeClock) -> None:
    """The breaker reads half-open once recovery_timeout has passed."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=30, clock=clock)
    trip(breaker, 1)
    clock.advance(29.9)
    assert breaker.state is BreakerState.OPEN
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_success_closes(clock: FakeClock) -> None:
    """A successful trial call closes the breaker."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    trip(breaker, 1)
    clock.advance(5)
    assert breaker.call(ok) == "ok"
    assert breaker.state is BreakerState.CLOSED


def test_half_open_failure_reopens_for_another_timeout(clock: FakeClock) -> None:
    """A failed trial call opens the breaker again for a full recovery_timeout."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=5, clock=clock)
    trip(breaker, 1)
    clock.advance(6)
    trip(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as info:
        breaker.call(ok)
    assert info.value.remaining == pytest.approx(5.0)


def test_transitions_are_recorded_with_timestamps(clock: FakeClock) -> None:
    """Each state change is kept with its time; half-open is stamped when it fell due."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=10, clock=clock)
    clock.advance(1)
    trip(breaker, 1)
    clock.advance(25)
    breaker.call(ok)
    assert breaker.transitions == [
        Transition(BreakerState.CLOSED, BreakerState.OPEN, 1.0),
        Transition(BreakerState.OPEN, BreakerState.HALF_OPEN, 11.0),
        Transition(BreakerState.HALF_OPEN, BreakerState.CLOSED, 26.0),
    ]


def test_listeners_hear_every_change(clock: FakeClock) -> None:
    """A listener is called with (old, new, at); a removed one is not."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    heard: list[tuple[BreakerState, BreakerState, float]] = []
    silent: list[object] = []
    breaker.add_listener(lambda old, new, at: heard.append((old, new, at)))
    breaker.add_listener(silent.append)
    breaker.remove_listener(silent.append)
    trip(breaker, 1)
    assert heard == [(BreakerState.CLOSED, BreakerState.OPEN, 0.0)]
    assert silent == []


def test_half_open_limits_trial_calls(clock: FakeClock) -> None:
    """Only half_open_max_calls trials run at once; others are refused meanwhile."""
    breaker = CircuitBreaker(
        failure_threshold=1, recovery_timeout=1, half_open_max_calls=2, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    gates = [Gate(), Gate()]
    coros = [breaker.acall(gate.wait) for gate in gates]
    for coro in coros:
        coro.send(None)  # both trials now in flight
    with pytest.raises(CircuitOpen, match="trial call"):
        breaker.call(ok)
    gates[0].result = "fine"
    with pytest.raises(StopIteration):
        coros[0].send(None)
    assert breaker.state is BreakerState.CLOSED
    # The second trial finishes after the breaker closed: its failure is stale.
    gates[1].error = Boom("late")
    with pytest.raises(Boom):
        coros[1].send(None)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.stats().consecutive_failures == 0


def test_failure_predicate_decides_what_counts(clock: FakeClock) -> None:
    """Exceptions outside failure_on pass through without tripping the breaker."""
    breaker = CircuitBreaker(failure_threshold=1, failure_on=(Boom,), clock=clock)
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert breaker.state is BreakerState.CLOSED
    assert breaker.stats().ignored == 1
    by_predicate = CircuitBreaker(
        failure_threshold=1, failure_on=lambda e: "fatal" in str(e), clock=clock
    )
    with pytest.raises(Boom):
        by_predicate.call(fail)
    assert by_predicate.state is BreakerState.CLOSED


def test_acall_works_on_an_event_loop(clock: FakeClock) -> None:
    """acall awaits async functions and trips on their failures."""
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)

    async def good() -> int:
        return 7

    async def bad() -> None:
        raise Boom("no")

    async def main() -> None:
        assert await breaker.acall(good) == 7
        for _ in range(2):
            with pytest.raises(Boom):
                await breaker.acall(bad)
        with pytest.raises(CircuitOpen):
            await breaker.acall(good)

    asyncio.run(main())
    assert breaker.state is BreakerState.OPEN


def test_cancelled_trial_frees_its_slot(clock: FakeClock) -> None:
    """A cancelled half-open trial gives its slot back without a verdict."""
    breaker = CircuitBreaker(failure_threshold=1, recovery_timeout=1, clock=clock)
    trip(breaker, 1)
    clock.advance(1)
    coro = breaker.acall(Gate().wait)
    coro.send(None)
    with pytest.raises(asyncio.CancelledError):
        coro.throw(asyncio.CancelledError())
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.call(ok) == "ok"
    assert breaker.state is BreakerState.CLOSED


def test_reset_pop_stats_and_repr(clock: FakeClock) -> None:
    """reset() closes by hand, pop_stats() zeroes the counters, repr shows the state."""
    breaker = CircuitBreaker(failure_threshold=2, clock=clock)
    trip(breaker, 2)
    assert repr(breaker) == "<CircuitBreaker [open, failures 2/2]>"
    breaker.reset()
    assert repr(breaker) == "<CircuitBreaker [closed, failures 0/2]>"
    assert breaker.pop_stats().failures == 2
    assert breaker.stats().failures == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"recovery_timeout": -1}, "recovery_timeout"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
    ],
)
def test_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    """Impossible settings are refused with a message naming them."""
    with pytest.raises(ValueError, match=message):
        CircuitBreaker(**kwargs)


class Gate:
    """An awaitable the test resolves by hand, so coroutines can be stepped without a loop."""

    def __init__(self) -> None:
        self.result: object = None
        self.error: BaseException | None = None

    def __await__(self) -> Generator[None, None, object]:
        yield None
        if self.error is not None:
            raise self.error
        return self.result

    async def wait(self) -> object:
        return await self


class BreakerMachine(RuleBasedStateMachine):
    """The breaker against a plain model of the state machine, with overlapping calls."""

    THRESHOLD, TIMEOUT, TRIALS = 3, 10.0, 2

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker = CircuitBreaker(self.THRESHOLD, self.TIMEOUT, self.TRIALS, clock=self.clock)
        self.state = BreakerState.CLOSED
        self.run = 0
        self.opened_at = 0.0
        self.era = 0  # bumps at every model state change
        self.trials = 0
        self.pending: list[tuple[Any, Gate, int]] = []
        self.rejections = 0

    def _observe(self) -> None:
        if self.state is BreakerState.OPEN and self.clock.now() >= self.opened_at + self.TIMEOUT:
            self._move(BreakerState.HALF_OPEN)

    def _move(self, new: BreakerState) -> None:
        self.state, self.era, self.trials = new, self.era + 1, 0
        if new is BreakerState.OPEN:
            self.opened_at = self.clock.now()
        self.run = 0

    def _admitted(self) -> bool:
        self._observe()
        if self.state is BreakerState.OPEN:
            return False
        if self.state is BreakerState.HALF_OPEN:
            if self.trials >= self.TRIALS:
                return False
            self.trials += 1
        return True

    def _outcome(self, era: int, success: bool) -> None:
        if era != self.era:
            return
        if self.state is BreakerState.CLOSED:
            self.run = 0 if success else self.run + 1
            if self.run >= self.THRESHOLD:
                self._move(BreakerState.OPEN)
        else:
            self._move(BreakerState.CLOSED if success else BreakerState.OPEN)

    @rule(dt=st.sampled_from([0.0, 1.0, 5.0, 9.99, 10.0, 25.0]))
    def advance(self, dt: float) -> None:
        self.clock.advance(dt)

    @rule(success=st.booleans())
    def sync_call(self, success: bool) -> None:
        admitted = self._admitted()
        era = self.era
        if not admitted:
            self.rejections += 1
            with pytest.raises(CircuitOpen):
                self.breaker.call(ok)
            return
        if success:
            self.breaker.call(ok)
        else:
            with pytest.raises(Boom):
                self.breaker.call(fail)
        self._outcome(era, success)

    @rule()
    def start_call(self) -> None:
        admitted = self._admitted()
        gate = Gate()
        coro = self.breaker.acall(gate.wait)
        if not admitted:
            self.rejections += 1
            with pytest.raises(CircuitOpen):
                coro.send(None)
            return
        coro.send(None)
        self.pending.append((coro, gate, self.era))

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data(), success=st.booleans())
    def finish_call(self, data: st.DataObject, success: bool) -> None:
        index = data.draw(st.integers(0, len(self.pending) - 1))
        coro, gate, era = self.pending.pop(index)
        if not success:
            gate.error = Boom("late failure")
        with pytest.raises(StopIteration if success else Boom):
            coro.send(None)
        self._outcome(era, success)

    @invariant()
    def state_matches_model(self) -> None:
        self._observe()
        assert self.breaker.state is self.state
        stats = self.breaker.stats()
        assert stats.rejections == self.rejections
        assert stats.calls == stats.successes + stats.failures + len(self.pending)
        if self.state is BreakerState.CLOSED:
            assert stats.consecutive_failures == self.run

    def teardown(self) -> None:
        for coro, _, _ in self.pending:
            coro.close()


BreakerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_breaker_matches_model = BreakerMachine.TestCase

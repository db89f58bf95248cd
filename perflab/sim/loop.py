"""Virtual time for asyncio: an event loop whose clock jumps instead of waiting.

A discrete-event simulation needs exactly one thing that asyncio already has: a
priority queue of timers. The only change is *how the loop waits*. A normal loop asks
its selector "anything ready within ``timeout`` seconds?" and blocks. Here, when
nothing is ready, the selector moves the virtual clock forward by ``timeout`` and
returns at once, so the next timer is due. ``asyncio.sleep(30)`` takes no wall time,
timers fire in exactly the order they would on a real loop, and a run is identical,
event for event, on every machine.

Engine code reads this time through ``perflab.clock.LoopClock`` (``loop.time()``), so
the same pool, breaker and limiter run unchanged in a simulation.

``run_virtual(coro)`` works from plain Python and from inside Jupyter, where an event
loop is already running (the simulation then runs on its own loop in a worker thread
and the call blocks until it is done). ``speed=`` turns on real-time mode: virtual
seconds pass at ``speed`` times wall-clock seconds, so a learner can watch a run
unfold (simpy's ``RealtimeEnvironment`` idea).
"""

from __future__ import annotations

import asyncio
import functools
import selectors
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from perflab.aio import in_running_loop, run_blocking
from perflab.errors import SimulationError

__all__ = ["VirtualClock", "VirtualTimeLoop", "in_running_loop", "run_virtual"]

T = TypeVar("T")

#: Wall seconds a stalled virtual loop waits for a thread (``to_thread``) before it
#: calls the run a deadlock.
DEADLOCK_AFTER_S = 30.0


class VirtualClock:
    """The simulation's time: a float that only moves forward when told.

    It satisfies ``perflab.clock.Clock``: ``now()`` reads it and ``sleep`` waits on
    the loop it drives, so an engine piece given this clock (or ``LoopClock``, which
    reads the same time through the running loop) runs unchanged in a simulation.
    Only its loop's selector moves it (``advance_to``).

    Args:
        start: the virtual time at which the run begins (seconds).
        speed: ``None`` for as-fast-as-possible; else virtual seconds per wall second.
    """

    def __init__(self, start: float = 0.0, speed: float | None = None) -> None:
        if speed is not None and not speed > 0:
            raise SimulationError(f"speed ({speed}) must be > 0, or None for as fast as possible")
        self._now = float(start)
        self.speed = speed
        self._wall0 = time.perf_counter()  # real-time mode only: where both clocks met
        self._virtual0 = self._now

    def now(self) -> float:
        """The virtual time, in seconds."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of virtual time (on the virtual loop: no wall time passes)."""
        await asyncio.sleep(max(0.0, seconds))

    def advance_to(self, when: float) -> None:
        """Move the clock to ``when`` (never backwards)."""
        self._now = max(self._now, when)

    def wall_deadline(self, virtual: float) -> float:
        """The ``perf_counter()`` reading at which real-time mode reaches ``virtual``."""
        assert self.speed is not None
        return self._wall0 + (virtual - self._virtual0) / self.speed

    def virtual_at(self, wall: float) -> float:
        """The virtual time real-time mode shows at the ``perf_counter()`` reading ``wall``."""
        assert self.speed is not None
        return self._virtual0 + (wall - self._wall0) * self.speed

    def __repr__(self) -> str:
        mode = "as fast as possible" if self.speed is None else f"x{self.speed:g} real time"
        return f"<VirtualClock now={self._now:.6f} ({mode})>"


class _VirtualSelector(selectors.DefaultSelector):
    """A real selector that, when nothing is ready, moves the virtual clock instead.

    It skips the system call whenever it can: while the loop is busy
    (``timeout == 0``), and when the only file watched is the loop's own wake-up pipe
    (callbacks from other threads land on the ready queue without it). That keeps one
    simulated event at a few microseconds.
    """

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout == 0:
            return []
        if timeout is None:  # no timers at all: only another thread can help now
            events = super().select(DEADLOCK_AFTER_S)
            if not events:
                raise SimulationError(
                    "the simulation is stuck: every task waits and no timer is pending "
                    "(a future nobody completes, or a lock never released)"
                )
            return events
        if self.clock.speed is not None:  # real time: wait on the wall clock, stay wakeable
            target = self.clock.now() + timeout
            wait = self.clock.wall_deadline(target) - time.perf_counter()
            events = super().select(max(0.0, wait))
            if events:  # woken early (by a thread): virtual time follows the wall clock
                now = self.clock.virtual_at(time.perf_counter())
                self.clock.advance_to(min(target, now))
                return events
            self.clock.advance_to(target)
            return []
        # Poll only when something besides the loop's own wake-up pipe is watched
        # (a socket): a thread's callback lands on the ready queue without a poll.
        if len(self.get_map()) > 1:
            events = super().select(0)
            if events:
                return events
        self.clock.advance_to(self.clock.now() + timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is virtual and advances only when idle.

    Args:
        start: the virtual time at the start (seconds).
        speed: ``None`` (default) runs as fast as possible; a number runs in real time
            scaled by it (``speed=60``: a simulated minute per wall second).
    """

    def __init__(self, start: float = 0.0, speed: float | None = None) -> None:
        self.clock = VirtualClock(start, speed)
        super().__init__(_VirtualSelector(self.clock))
        # Timers within this of "now" are run together; a virtual clock has no jitter.
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self.clock.now()

    def __repr__(self) -> str:
        return f"<VirtualTimeLoop now={self.clock.now():.6f} running={self.is_running()}>"


def _run_here(coro: Coroutine[Any, Any, T], start: float, speed: float | None) -> T:
    loop = VirtualTimeLoop(start, speed)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            _cancel_leftovers(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel tasks the run left behind (as ``asyncio.run`` does) and let them finish."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def run_virtual(
    coro: Coroutine[Any, Any, T],
    *,
    speed: float | None = None,
    start: float = 0.0,
) -> T:
    """Run ``coro`` to completion on a fresh virtual-time loop and return its result.

    From plain Python the loop runs in this thread. Inside a running loop (a Jupyter
    cell, an ``async def`` test) it runs in a worker thread and this call blocks until
    the simulation ends; it has its own loop and touches nothing of the caller's.

    Args:
        coro: the simulation's main coroutine.
        speed: ``None`` for as fast as possible; else virtual seconds per wall second.
        start: virtual time at the start (seconds).

    Raises:
        SimulationError: for a bad ``speed``, or a run where every task waits forever.
    """
    if speed is not None and not speed > 0:
        coro.close()
        raise SimulationError(f"speed ({speed}) must be > 0, or None for as fast as possible")
    return run_blocking(functools.partial(_run_here, coro, start, speed), thread_name="perflab-sim")

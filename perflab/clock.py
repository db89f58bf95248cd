"""Clocks: where the engine reads the time and how it waits.

One protocol, ``Clock`` (``now()`` and an awaitable ``sleep``), and one clock object
per kind of time. Every time-aware piece of perflab takes ``clock: Clock | None =
None``, so the same pool, breaker, limiter and cache code runs on any of them:

==================  =========================================  ==========================
clock               its time                                   used for
==================  =========================================  ==========================
``MonotonicClock``  ``time.monotonic()``: real, never jumps     the default: durations
``WallClock``       ``time.time()``: seconds since 1970        the cache's stored expiry
``LoopClock``       the running loop's ``loop.time()``         engine code on any loop
``FakeClock``       moves only by ``advance``/``sleep``        tests and worked examples
``VirtualClock``    the simulator's virtual time               ``perflab.sim``'s loop
==================  =========================================  ==========================

Real versus virtual time is a different clock object, never a flag threaded through
the code. Inside ``perflab.sim`` the loop itself runs on a ``VirtualClock``, so
``LoopClock`` there reads virtual time. docs/engine-reference.md ("Clocks") tells the
whole story. Durations are float seconds everywhere.

>>> isinstance(FakeClock(), Clock) and isinstance(WallClock(), Clock)
True
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "FakeClock",
    "LoopClock",
    "MonotonicClock",
    "WallClock",
    "default_clock",
]


@runtime_checkable
class Clock(Protocol):
    """What the engine needs from time: a reading, and a way to wait."""

    def now(self) -> float:
        """Seconds on a monotonic scale; only differences are meaningful."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (asyncio pieces only)."""
        ...


class MonotonicClock:
    """Real time: ``time.monotonic()`` and ``asyncio.sleep``.

    The default for every engine piece. Monotonic, so a wall-clock adjustment (NTP,
    daylight saving) never makes a measured duration negative.
    """

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "<MonotonicClock>"


class WallClock:
    """Wall time: seconds since the Unix epoch (``time.time()``), and ``asyncio.sleep``.

    The semantic cache's default, because its entries outlive the process: TTLs are
    days, and entries sit in a file many processes open over weeks, so
    ``created_at``/``expires_at`` must be on a scale every process shares. The
    monotonic clock restarts at boot and would make a stored expiry meaningless. Use it
    for timestamps that are stored, never for measuring a duration.
    """

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "<WallClock>"


class LoopClock:
    """The running event loop's clock: ``loop.time()`` and ``asyncio.sleep``.

    On a normal loop this is real monotonic time. On the simulator's virtual-time
    loop it is simulated time, so engine code reading this clock runs unchanged in
    a simulation that takes milliseconds of wall time.
    """

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "<LoopClock>"


class FakeClock:
    """A clock that moves only when told: for tests and worked examples.

    ``advance(dt)`` moves it by hand. ``sleep(dt)`` moves it too, then yields to the
    event loop once, so a single coroutine under test never waits for real.

    >>> clock = FakeClock()
    >>> clock.advance(1.5)
    >>> clock.now()
    1.5
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance({seconds}))")
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"<FakeClock now={self._now:.6f}>"


def default_clock(clock: Clock | None) -> Clock:
    """Return ``clock``, or a ``MonotonicClock`` when it is ``None``."""
    return clock if clock is not None else MonotonicClock()

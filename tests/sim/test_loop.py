"""The virtual-time loop: timers in order, no wall time, and runs inside a running loop."""

from __future__ import annotations

import asyncio

import pytest

from perflab.clock import LoopClock
from perflab.errors import SimulationError
from perflab.sim.loop import VirtualTimeLoop, in_running_loop, run_virtual


async def _sleepers() -> list[tuple[float, str]]:
    clock = LoopClock()
    seen: list[tuple[float, str]] = []

    async def sleeper(name: str, delay: float) -> None:
        await clock.sleep(delay)
        seen.append((clock.now(), name))

    await asyncio.gather(sleeper("slow", 3600.0), sleeper("fast", 0.5), sleeper("mid", 60.0))
    return seen


def test_timers_fire_in_order_at_their_virtual_times() -> None:
    """Sleeps of an hour complete at once, in order, at exactly their virtual times."""
    assert run_virtual(_sleepers()) == [(0.5, "fast"), (60.0, "mid"), (3600.0, "slow")]


def test_start_offsets_the_clock() -> None:
    """``start=`` sets the virtual time the run begins at."""

    async def now() -> float:
        return asyncio.get_running_loop().time()

    assert run_virtual(now(), start=100.0) == 100.0


def test_wait_for_times_out_in_virtual_time() -> None:
    """``asyncio.wait_for`` times out on the virtual clock, after exactly its timeout."""

    async def main() -> float:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(10.0), timeout=2.0)
        return loop.time()

    assert run_virtual(main()) == pytest.approx(2.0)


def test_runs_from_inside_a_running_loop() -> None:
    """Called from a running loop (a Jupyter cell), it runs the simulation on its own loop."""

    async def notebook_cell() -> tuple[bool, list[tuple[float, str]], float]:
        outer = asyncio.get_running_loop()
        before = outer.time()
        result = run_virtual(_sleepers())
        return in_running_loop(), result, outer.time() - before

    inside, result, outer_elapsed = asyncio.run(notebook_cell())
    assert inside
    assert result == [(0.5, "fast"), (60.0, "mid"), (3600.0, "slow")]
    assert outer_elapsed < 60.0  # the caller's real clock did not wait an hour


def test_deadlock_is_reported_not_hung(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run where every task waits forever raises SimulationError instead of hanging."""
    monkeypatch.setattr("perflab.sim.loop.DEADLOCK_AFTER_S", 0.01)

    async def stuck() -> None:
        await asyncio.get_running_loop().create_future()

    with pytest.raises(SimulationError, match="stuck"):
        run_virtual(stuck())


def test_real_time_mode_keeps_virtual_times() -> None:
    """With a speed factor the virtual times are the same as in fast mode."""
    assert run_virtual(_sleepers(), speed=1e6) == run_virtual(_sleepers())


@pytest.mark.parametrize("speed", [0.0, -2.0])
def test_bad_speed_is_refused(speed: float) -> None:
    """A speed factor must be > 0; the message names it."""
    with pytest.raises(SimulationError, match="speed"):
        run_virtual(asyncio.sleep(1.0), speed=speed)


def test_repr_shows_the_virtual_time() -> None:
    """The loop's repr shows its virtual time."""
    loop = VirtualTimeLoop(start=5.0)
    try:
        assert "now=5.000000" in repr(loop)
    finally:
        loop.close()


def test_virtual_clock_is_a_clock() -> None:
    """VirtualClock satisfies perflab.clock.Clock, and its now() is the loop's time."""
    from perflab.clock import Clock
    from perflab.sim.loop import VirtualClock

    assert isinstance(VirtualClock(), Clock)

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualTimeLoop)
        await loop.clock.sleep(12.5)
        return loop.clock.now(), loop.time()

    assert run_virtual(main()) == (12.5, 12.5)


def test_wall_clock_is_one_of_the_engine_clocks() -> None:
    """WallClock lives in perflab.clock (perflab.cache re-exports the same class)."""
    from perflab.cache import WallClock as FromCache
    from perflab.clock import Clock, WallClock

    assert FromCache is WallClock and isinstance(WallClock(), Clock)

"""The cache's default clock: wall time, because entries outlive the process.

TTLs are days and entries sit in a file that many processes open over weeks, so
``created_at``/``expires_at`` must be on a scale every process shares: seconds since
the Unix epoch. The monotonic clock restarts at boot and would make a stored expiry
meaningless. This is the one place the cache reads the wall clock; tests and the
simulator pass a ``FakeClock`` or the simulation's clock instead.
"""

from __future__ import annotations

import asyncio
import time

__all__ = ["WallClock"]


class WallClock:
    """Seconds since the Unix epoch (``time.time()``), and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "<WallClock>"

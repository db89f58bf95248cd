"""A tiny virtual-time event loop for tests: timers fire at once, in order.

``loop.time()`` returns a virtual clock. When the loop would block in
``selector.select(timeout)`` waiting for the next timer, the selector polls without
blocking and moves the virtual clock forward by ``timeout`` instead. So
``asyncio.sleep(30)``, ``loop.call_later`` and ``asyncio.wait_for`` take no real time,
and their order is exactly as on a real loop. Use ``perflab.clock.LoopClock`` to read
the same time from engine code.

Kept in tests/ until perflab.sim ships its own; prefer that one once it exists.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = super().select(0)
        if not events:
            if timeout is None:
                raise RuntimeError(
                    "virtual-time loop deadlocked: nothing ready and no timer pending"
                )
            self.now += max(0.0, timeout)
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is virtual and advances only when idle."""

    def __init__(self) -> None:
        self._vselector = _VirtualSelector()
        super().__init__(self._vselector)

    def time(self) -> float:
        return self._vselector.now


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

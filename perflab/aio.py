"""Running a coroutine to the end from synchronous code, in Jupyter too.

A Jupyter cell already runs inside an event loop, so ``asyncio.run`` refuses to start
another one there. ``run_blocking(fn)`` calls ``fn()`` in this thread when no loop is
running, and otherwise in a worker thread (where it may start its own loop), blocking
until it returns. The simulator (``perflab.sim.run_virtual``) and the
real-clock pipeline (``perflab.live.run_live``) both start their loops through it.

>>> import asyncio, functools
>>> async def answer() -> int:
...     return 42
>>> run_blocking(functools.partial(asyncio.run, answer()))
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

__all__ = ["in_running_loop", "run_blocking"]

T = TypeVar("T")


def in_running_loop() -> bool:
    """Whether this thread is inside a running event loop (as in a Jupyter cell)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_blocking(fn: Callable[[], T], *, thread_name: str = "perflab") -> T:
    """``fn()`` here, or in a worker thread if this thread's event loop is running.

    Args:
        fn: runs an event loop to the end (``functools.partial(asyncio.run, coro)``...).
        thread_name: the worker thread's name prefix (shown in tracebacks).

    Returns:
        What ``fn`` returned; what it raised is raised here.
    """
    if not in_running_loop():
        return fn()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=thread_name) as pool:
        return pool.submit(fn).result()

"""Lesson 12b's closed system: N workers that share one lock, with a cost per peer.

Each of ``n`` workers repeats a job for ``run_s`` virtual seconds:

1. **parallel** work (exponential, mean ``parallel_ms``): the workers overlap freely;
2. a **serial** step under one shared lock (exponential, mean ``serial_ms``), plus a
   **coherency** cost: while it holds the lock a worker spends ``sync_ms_per_peer`` for
   every *other* worker (keeping ``n - 1`` peers in step).

Its answer is known from the mechanism, not from a curve: the lock serves at most one job
per ``serial_ms``, so throughput can never exceed ``1000 / serial_ms`` jobs per second
(``LockSystem.lock_cap_per_s``), and less as ``n`` grows. The data is therefore a fair
test of a Universal Scalability Law fit (``perflab.formulas.usl_fit``): the points were
not generated from the law.

Example::

    points = measure(LockSystem(), [1, 2, 4, 8, 16])
    print([round(p.throughput, 1) for p in points])
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from perflab.sim import run_virtual

__all__ = ["LOCK_SYSTEM", "LockPoint", "LockSystem", "closed_system", "measure", "run_point"]


@dataclass(frozen=True)
class LockSystem:
    """The workers' job: its parallel part, its serial part and the per-peer sync cost."""

    parallel_ms: float = 10.0
    serial_ms: float = 2.0
    sync_ms_per_peer: float = 0.05
    run_s: float = 60.0
    seed: int = 3

    def __post_init__(self) -> None:
        if self.serial_ms <= 0 or self.parallel_ms < 0 or self.sync_ms_per_peer < 0:
            raise ValueError("serial_ms must be > 0, parallel_ms and sync_ms_per_peer >= 0")

    @property
    def lock_cap_per_s(self) -> float:
        """The most jobs per second the lock can ever pass: ``1000 / serial_ms``."""
        return 1000.0 / self.serial_ms

    @property
    def serial_share(self) -> float:
        """The serial part's share of one worker's job: ``serial / (parallel + serial)``."""
        return self.serial_ms / (self.parallel_ms + self.serial_ms)

    def params(self) -> dict[str, Any]:
        """The parameters to print beside a simulated figure."""
        return {
            "parallel_ms": self.parallel_ms,
            "serial_ms": self.serial_ms,
            "sync_ms_per_peer": self.sync_ms_per_peer,
            "run_s": self.run_s,
            "seed": self.seed,
        }


#: The system lesson 12b simulates.
LOCK_SYSTEM = LockSystem()


@dataclass(frozen=True)
class LockPoint:
    """One worker count's result: jobs per second and the mean seconds per job."""

    workers: int
    throughput: float
    mean_job_s: float


async def closed_system(n: int, system: LockSystem = LOCK_SYSTEM) -> LockPoint:
    """Run ``n`` workers for ``system.run_s`` virtual seconds on the running loop."""
    if n < 1:
        raise ValueError(f"n ({n}) must be >= 1")
    loop = asyncio.get_running_loop()
    rng = np.random.default_rng(system.seed)
    lock = asyncio.Lock()
    finished: list[float] = []
    held_ms = system.serial_ms + system.sync_ms_per_peer * (n - 1)

    async def worker() -> None:
        while True:
            start = loop.time()
            await asyncio.sleep(rng.exponential(system.parallel_ms / 1000))
            async with lock:  # one worker at a time
                await asyncio.sleep(rng.exponential(held_ms / 1000))
            if loop.time() > system.run_s:
                return
            finished.append(loop.time() - start)

    await asyncio.gather(*(worker() for _ in range(n)))
    return LockPoint(n, len(finished) / system.run_s, float(np.mean(finished)))


def run_point(n: int, system: LockSystem = LOCK_SYSTEM) -> LockPoint:
    """One worker count on a fresh virtual loop."""
    return run_virtual(closed_system(n, system))


def measure(system: LockSystem, workers: Sequence[int]) -> list[LockPoint]:
    """Throughput at each worker count, the way a load test would measure it."""
    return [run_point(int(n), system) for n in workers]

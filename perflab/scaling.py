"""Scaling: how many workers, from a load reading.

``WorkerScaler`` applies the guide's load-based scaling rule (CPU < 50 % -> one more
worker, > 80 % -> one fewer), with the load reading injectable; ``scale_workers`` is
the rule itself, a pure function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ScalerStats", "WorkerScaler", "scale_workers"]


def scale_workers(
    workers: int,
    load: float,
    *,
    max_workers: int,
    min_workers: int = 1,
    low: float = 50.0,
    high: float = 80.0,
) -> int:
    """The guide's load rule: below ``low`` % add a worker, above ``high`` % remove one.

    >>> scale_workers(3, 30.0, max_workers=8), scale_workers(3, 95.0, max_workers=8)
    (4, 2)
    """
    if load < low:
        return min(workers + 1, max_workers)
    if load > high:
        return max(workers - 1, min_workers)
    return workers


@dataclass(frozen=True)
class ScalerStats:
    """Counters of a ``WorkerScaler`` (see docs/resilience.md)."""

    workers: int
    steps: int
    ups: int
    downs: int
    last_load: float | None


def _cpu_percent() -> float:
    import psutil  # imported here so `import perflab` stays light

    return float(psutil.cpu_percent(interval=None))


class WorkerScaler:
    """Adjust a worker count from a load reading (the guide's "load-based scaling").

    Each ``step()`` reads the load (CPU % by default, via ``psutil.cpu_percent``; note
    that psutil's very first reading is a meaningless 0.0) and applies
    ``scale_workers``. Between ``low`` and ``high`` nothing changes: that dead band
    keeps the count from flapping.

    Args:
        min_workers: never go below this (the guide uses 1).
        max_workers: never go above this.
        low: below this load (%) add a worker.
        high: above this load (%) remove one.
        read_load: returns the load in percent; injectable for tests and simulations.
        workers: the starting count (default ``min_workers``).
    """

    def __init__(
        self,
        min_workers: int = 1,
        max_workers: int = 8,
        low: float = 50.0,
        high: float = 80.0,
        read_load: Callable[[], float] | None = None,
        *,
        workers: int | None = None,
    ) -> None:
        if not 1 <= min_workers <= max_workers:
            raise ValueError(
                f"need 1 <= min_workers ({min_workers}) <= max_workers ({max_workers})"
            )
        if not low <= high:
            raise ValueError(f"low ({low}) must be <= high ({high})")
        start = min_workers if workers is None else workers
        if not min_workers <= start <= max_workers:
            raise ValueError(f"workers ({start}) must lie in [{min_workers}, {max_workers}]")
        self.min_workers, self.max_workers = min_workers, max_workers
        self.low, self.high = low, high
        self._read_load = read_load or _cpu_percent
        self.workers = start
        self._steps = self._ups = self._downs = 0
        self._last: float | None = None

    def step(self, load: float | None = None) -> int:
        """Read the load (or use ``load``), apply the rule, return the new worker count."""
        value = self._read_load() if load is None else load
        if math.isnan(value):
            raise ValueError("load reading is NaN")
        new = scale_workers(
            self.workers,
            value,
            max_workers=self.max_workers,
            min_workers=self.min_workers,
            low=self.low,
            high=self.high,
        )
        self._steps += 1
        self._ups += new > self.workers
        self._downs += new < self.workers
        self.workers, self._last = new, value
        return new

    def stats(self) -> ScalerStats:
        """A snapshot of the counters."""
        return ScalerStats(self.workers, self._steps, self._ups, self._downs, self._last)

    def __repr__(self) -> str:
        return f"<WorkerScaler [workers {self.workers} in {self.min_workers}..{self.max_workers}]>"

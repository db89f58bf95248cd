"""Scheduled faults, and each simulated service's own random stream.

A simulated service (``perflab.sim.base.SimService``) has parameters (a frozen
dataclass), its own random stream (``service_rng``: changing one service never shifts
another's draws, common random numbers), a list of scheduled faults, and call and cost
accounting. Faults are windows of virtual time:

* ``OUTAGE``: every call fails at once with a 503.
* ``SLOWDOWN``: latencies are multiplied by ``factor``.
* ``ERROR_BURST``: calls fail with probability ``error_rate`` (on top of the usual).
"""

from __future__ import annotations

import enum
import math
import zlib
from dataclasses import dataclass

import numpy as np

from perflab.errors import SimulationError
from perflab.services import ServiceStats, check_positive, check_rate

# ServiceStats, check_positive and check_rate live in perflab.services (the service
# contract both the simulator and the real clients share); they are re-exported here.
__all__ = [
    "Fault",
    "FaultKind",
    "ServiceStats",
    "check_positive",
    "check_rate",
    "service_rng",
]


class FaultKind(enum.Enum):
    """What a scheduled fault does to a service."""

    OUTAGE = "outage"
    SLOWDOWN = "slowdown"
    ERROR_BURST = "error_burst"


@dataclass(frozen=True)
class Fault:
    """A fault over the virtual-time window ``[start_s, end_s)``.

    Args:
        kind: outage, slowdown or error burst.
        start_s: when it starts (virtual seconds from the start of the run), >= 0.
        end_s: when it ends, > start_s.
        factor: latency multiplier of a slowdown (> 0).
        error_rate: failure probability during an error burst (0..1).
    """

    kind: FaultKind
    start_s: float
    end_s: float
    factor: float = 5.0
    error_rate: float = 0.5

    def __post_init__(self) -> None:
        if not isinstance(self.kind, FaultKind):
            allowed = ", ".join(k.value for k in FaultKind)
            raise SimulationError(f"fault kind ({self.kind!r}) must be a FaultKind: {allowed}")
        if not (self.start_s >= 0 and math.isfinite(self.start_s)):
            raise SimulationError(f"fault start_s ({self.start_s}) must be a finite time >= 0")
        if not self.end_s > self.start_s:
            raise SimulationError(f"fault end_s ({self.end_s}) must be > start_s ({self.start_s})")
        if not self.factor > 0:
            raise SimulationError(f"fault factor ({self.factor}) must be > 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise SimulationError(f"fault error_rate ({self.error_rate}) must be within 0..1")

    def active(self, now: float) -> bool:
        """Whether the fault is on at virtual time ``now``."""
        return self.start_s <= now < self.end_s


def service_rng(seed: int, name: str) -> np.random.Generator:
    """The random stream of service ``name`` in a run seeded ``seed``.

    Keyed by the name, not by creation order, so adding or changing a service leaves
    every other service's draws untouched (common random numbers across scenarios).
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode())])

"""Scheduled faults and the base every simulated service shares.

A simulated service has parameters (a frozen dataclass), its own random stream (so
changing one service never shifts another's draws: common random numbers), a list of
scheduled faults, and call and cost accounting. Faults are windows of virtual time:

* ``OUTAGE``: every call fails at once with a 503.
* ``SLOWDOWN``: latencies are multiplied by ``factor``.
* ``ERROR_BURST``: calls fail with probability ``error_rate`` (on top of the usual).
"""

from __future__ import annotations

import asyncio
import enum
import math
import zlib
from dataclasses import dataclass

import numpy as np

from perflab.errors import ServiceError, SimulationError
from perflab.services import ServiceAccount, ServiceStats, check_positive, check_rate

# ServiceStats, check_positive and check_rate live in perflab.services (the service
# contract both the simulator and the real clients share); they are re-exported here.
__all__ = [
    "Fault",
    "FaultKind",
    "ServiceStats",
    "SimService",
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


class SimService:
    """What every simulated service shares: faults, failures, waiting and accounting.

    Args:
        name: the service's name (also keys its random stream).
        error_rate: the usual probability that a call fails with a 500.
        faults: scheduled faults.
        rng: the service's own random stream.
    """

    def __init__(
        self, name: str, error_rate: float, faults: tuple[Fault, ...], rng: np.random.Generator
    ) -> None:
        check_rate(name, error_rate=error_rate)
        self.name = name
        self.error_rate = error_rate
        self.faults = tuple(faults)
        self.rng = rng
        self.account = ServiceAccount(name)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _conditions(self, now: float) -> tuple[bool, float, float]:
        """(outage?, latency factor, extra error probability) at ``now``."""
        outage, factor, extra = False, 1.0, 0.0
        for fault in self.faults:
            if fault.active(now):
                if fault.kind is FaultKind.OUTAGE:
                    outage = True
                elif fault.kind is FaultKind.SLOWDOWN:
                    factor *= fault.factor
                else:
                    extra = max(extra, fault.error_rate)
        return outage, factor, extra

    async def _serve(self, latency_s: float, what: str) -> None:
        """Spend ``latency_s`` (scaled by any slowdown), failing as the faults and error rate say.

        Raises:
            ServiceError: a 503 during an outage (after a short connect time), or a 500.
        """
        account = self.account
        account.count_call()
        now = self._now()
        outage, factor, extra = self._conditions(now) if self.faults else (False, 1.0, 0.0)
        if outage:
            account.count_error()
            await asyncio.sleep(0.05)
            account.add_busy(0.05)
            raise ServiceError(f"{self.name}: service unavailable during {what} (outage)", 503)
        latency = latency_s * factor
        failed = self.rng.random() < self.error_rate + extra - self.error_rate * extra
        if failed:  # a failure usually comes back sooner than a success
            latency *= 0.5
        await asyncio.sleep(latency)
        account.add_busy(latency)
        if failed:
            account.count_error()
            raise ServiceError(f"{self.name}: internal error during {what}", 500)
        account.count_ok()

    def _refuse(self) -> None:
        """Book a call refused by a rate limit."""
        self.account.count_refused()

    def _charge(self, cost_usd: float, units: float) -> None:
        self.account.charge(cost_usd, units)

    def stats(self) -> ServiceStats:
        """A snapshot of the accounting."""
        return self.account.stats()

    def __repr__(self) -> str:
        a = self.account
        return (
            f"<{type(self).__name__} {self.name} [calls {a.calls}, errors {a.errors}, "
            f"429s {a.rate_limited}, ${a.cost_usd:.4f}]>"
        )

"""``SimService``: what every simulated service shares.

Faults (``perflab.sim.faults``), failures at the usual error rate, waiting on the
(virtual) clock, and the accounting every service, real or simulated, keeps
(``perflab.services.ServiceAccount``). ``SimSearch``, ``SimLLM``, ``SimEmbeddingsAPI``
and ``SimDatabase`` (``perflab.sim.services``) are built on it.
"""

from __future__ import annotations

import asyncio

import numpy as np

from perflab.errors import ServiceError
from perflab.services import ServiceAccount, ServiceStats, check_rate
from perflab.sim.faults import Fault, FaultKind

__all__ = ["SimService"]


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

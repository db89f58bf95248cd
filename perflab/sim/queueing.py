"""An M/M/c queue on the virtual-time loop, to check the simulator against Erlang C.

Customers arrive as a Poisson stream (rate ``arrival_rate``), wait in one FIFO line,
and are served by ``servers`` identical servers with exponential service times (rate
``service_rate`` each). Erlang C (``perflab.formulas.erlang_c``) gives the exact mean
wait; a simulation gives an estimate with noise. Comparing the two the honest way
means *replications*: run the simulation with several seeds and check that the
formula lies inside the confidence interval of the mean (``perflab.intervals.replicate``).

How it runs. Each server is one chain of ``loop.call_at`` callbacks: when a server
becomes free it takes the next customer in line (customers are served in arrival
order), starts at ``max(now, arrival)``, and schedules its own next "free" moment.
That is one timer per customer and no task per customer, so 10^5 customers take a
fraction of a second. The queue starts in its *stationary* state (a number in the
system drawn from the M/M/c steady-state distribution, those already present being
served before any newcomer): every recorded customer then sees the long-run queue,
and no warm-up has to be thrown away (PASTA: Poisson arrivals see time averages).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from perflab.arrays import Float64Array
from perflab.errors import SimulationError
from perflab.sim.loop import run_virtual

__all__ = ["MMcResult", "simulate_mmc", "stationary_in_system"]

FloatArray = Float64Array  # float64 samples (perflab.arrays)


@dataclass(frozen=True)
class MMcResult:
    """What one M/M/c run measured.

    Attributes:
        customers: customers whose wait was recorded (the newcomers).
        mean_wait_s: mean time in the queue before service (Erlang C's ``mean_wait_s``).
        mean_response_s: mean time in the system (wait + service).
        prob_wait: share of customers who had to wait at all (Erlang C's ``prob_wait``).
        utilisation: busy server-seconds / (servers x simulated time).
        sim_time_s: virtual seconds simulated.
        initial_in_system: customers present at time 0 (drawn from the steady state).
    """

    customers: int
    mean_wait_s: float
    mean_response_s: float
    prob_wait: float
    utilisation: float
    sim_time_s: float
    initial_in_system: int

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


def _check(arrival_rate: float, service_rate: float, servers: int, customers: int) -> None:
    if not arrival_rate > 0 or not math.isfinite(arrival_rate):
        raise SimulationError(f"arrival_rate ({arrival_rate}) must be a finite number > 0")
    if not service_rate > 0 or not math.isfinite(service_rate):
        raise SimulationError(f"service_rate ({service_rate}) must be a finite number > 0")
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise SimulationError(f"servers ({servers!r}) must be an integer >= 1")
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
        raise SimulationError(f"customers ({customers!r}) must be an integer >= 1")
    load = arrival_rate / (servers * service_rate)
    if load >= 1:
        raise SimulationError(
            f"arrival_rate / (servers * service_rate) = {load:.3f} must be < 1: the queue "
            "would grow without end; add servers or lower arrival_rate"
        )


def stationary_in_system(
    arrival_rate: float, service_rate: float, servers: int, rng: np.random.Generator
) -> int:
    """Draw the number in an M/M/c system from its steady-state distribution.

    p(n) is proportional to a^n / n! for n < c and to a^c / c! * rho^(n-c) for n >= c,
    with a = arrival_rate / service_rate and rho = a / c.
    """
    a = arrival_rate / service_rate
    rho = a / servers
    weights = np.empty(servers, dtype=np.float64)
    term = 1.0
    for n in range(servers):  # a^n / n!, built by products so nothing overflows early
        weights[n] = term
        term *= a / (n + 1)
    tail = term / (1.0 - rho)  # sum over n >= c of a^c / c! * rho^(n-c)
    total = weights.sum() + tail
    if rng.random() * total < tail:
        return servers + int(rng.geometric(1.0 - rho)) - 1
    return int(rng.choice(servers, p=weights / weights.sum()))


async def _run(
    arrivals: FloatArray, services: FloatArray, initial: FloatArray, servers: int
) -> tuple[FloatArray, float, float]:
    """Serve every customer; return (waits of newcomers, busy server-seconds, end time)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    n_initial = len(initial)
    total = n_initial + len(arrivals)
    waits = np.empty(len(arrivals), dtype=np.float64)
    arr: list[float] = arrivals.tolist()
    svc: list[float] = services.tolist()
    init: list[float] = initial.tolist()
    busy0 = min(n_initial, servers)  # servers busy at time 0, finishing a residual service
    next_customer = busy0
    busy_s = float(sum(init[:busy0]))
    active = servers
    call_at, now_ = loop.call_at, loop.time

    def free() -> None:
        """This server is free now: take the next customer in line, if there is one."""
        nonlocal next_customer, busy_s, active
        i = next_customer
        if i >= total:
            active -= 1
            if active == 0:
                done.set_result(None)
            return
        next_customer = i + 1
        now = now_()
        if i < n_initial:  # someone already waiting at time 0
            start, service = now, init[i]
        else:
            j = i - n_initial
            arrival = arr[j]
            start = max(now, arrival)  # idle until the customer walks in
            waits[j] = start - arrival
            service = svc[j]
        busy_s += service
        call_at(start + service, free)

    for k in range(servers):  # residual service is exponential again: memoryless
        call_at(init[k] if k < busy0 else 0.0, free)
    await done
    return waits, busy_s, now_()


def simulate_mmc(
    arrival_rate: float,
    service_rate: float,
    servers: int,
    customers: int,
    seed: int = 0,
) -> MMcResult:
    """Simulate ``customers`` arrivals at an M/M/c queue on the virtual-time loop.

    Args:
        arrival_rate: customers per second (lambda), > 0.
        service_rate: customers per second one server finishes (mu), > 0.
        servers: number of servers (c), >= 1.
        customers: newcomers whose waits are recorded, >= 1.
        seed: seeds the one numpy ``Generator`` every draw comes from.

    Returns:
        The measured means (``mean_wait_s`` is the one Erlang C predicts).

    Raises:
        SimulationError: for rates <= 0, servers < 1, customers < 1 or a load >= 1.
    """
    _check(arrival_rate, service_rate, servers, customers)
    rng = np.random.default_rng(seed)
    n0 = stationary_in_system(arrival_rate, service_rate, servers, rng)
    initial = rng.exponential(1.0 / service_rate, n0)
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, customers))
    services = rng.exponential(1.0 / service_rate, customers)
    waits, busy, end = run_virtual(_run(arrivals, services, initial, servers))
    queued = np.count_nonzero(waits > 0.0)
    return MMcResult(
        customers=customers,
        mean_wait_s=float(waits.mean()),
        mean_response_s=float(waits.mean() + services.mean()),
        prob_wait=int(queued) / customers,
        utilisation=busy / (servers * end) if end > 0 else 0.0,
        sim_time_s=end,
        initial_in_system=n0,
    )

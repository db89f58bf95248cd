"""Lesson 12b's load balancer: N servers, one queue each, and a policy that picks one.

Requests arrive as a Poisson stream; each server handles one request at a time, in arrival
order, with exponential service times. For every request the balancer picks a server:

* ``"random"``: any server, uniformly;
* ``"round-robin"``: the next server in turn;
* ``"power of two choices"``: two servers at random, the one with the shorter queue;
* ``"join the shortest queue"``: the shortest of all the queues.

A policy can also be a function ``choose(queue_lengths, first, second, i) -> server``:
``queue_lengths`` counts each server's requests (waiting and in service), ``first`` and
``second`` are two different servers drawn at random for request ``i``. Every policy sees
the same arrivals, service times and random draws (common random numbers), so differences
between policies are the policy's alone.

The run also integrates the number of requests in the system over time, so Little's law
(``L = lambda W``) can be checked against it.

Example::

    run = run_balance("power of two choices", Cluster(utilisation=0.9))
    print(run.p99_s, run.in_system)
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perflab.sim import run_virtual

__all__ = [
    "CLUSTER",
    "POLICIES",
    "BalanceRun",
    "Choose",
    "Cluster",
    "balance",
    "format_balance",
    "run_balance",
]

#: ``choose(queue_lengths, first, second, i) -> the server for request i``.
Choose = Callable[[Sequence[int], int, int, int], int]


def _random(q: Sequence[int], first: int, second: int, i: int) -> int:
    return first


def _round_robin(q: Sequence[int], first: int, second: int, i: int) -> int:
    return i % len(q)


def _two_choices(q: Sequence[int], first: int, second: int, i: int) -> int:
    return first if q[first] <= q[second] else second


def _shortest(q: Sequence[int], first: int, second: int, i: int) -> int:
    return min(range(len(q)), key=q.__getitem__)


#: The named policies, in the lesson's order.
POLICIES: dict[str, Choose] = {
    "random": _random,
    "round-robin": _round_robin,
    "power of two choices": _two_choices,
    "join the shortest queue": _shortest,
}


@dataclass(frozen=True)
class Cluster:
    """The servers and their load.

    Attributes:
        servers: how many servers.
        service_mean_s: mean service time (exponential); one server serves
            ``1 / service_mean_s`` requests per second.
        utilisation: arrivals as a share of the servers' total capacity.
        requests: how many requests arrive.
        seed: seeds arrivals, service times and the balancer's random draws.
    """

    servers: int = 10
    service_mean_s: float = 0.100
    utilisation: float = 0.9
    requests: int = 20_000
    seed: int = 2

    def __post_init__(self) -> None:
        if self.servers < 2:
            raise ValueError(f"servers ({self.servers}) must be >= 2: two choices need two")
        if not 0 < self.utilisation < 1:
            raise ValueError(f"utilisation ({self.utilisation}) must be in (0, 1)")

    @property
    def arrival_rate(self) -> float:
        """Requests per second: ``utilisation * servers / service_mean_s``."""
        return self.utilisation * self.servers / self.service_mean_s

    def params(self) -> dict[str, Any]:
        """The parameters to print beside a simulated figure."""
        return {
            "servers": self.servers,
            "service_mean_ms": self.service_mean_s * 1000,
            "utilisation": self.utilisation,
            "arrivals_per_s": self.arrival_rate,
            "requests": self.requests,
            "seed": self.seed,
        }


#: The cluster lesson 12b simulates: 10 servers at 90 % load.
CLUSTER = Cluster()


@dataclass(frozen=True)
class BalanceRun:
    """One policy's run.

    Attributes:
        response_s: each request's time from arrival to done, in arrival order.
        in_system: the time-averaged number of requests in the system (``L``).
        max_queue: the longest queue any server had.
        elapsed_s: from time 0 to the last departure.
    """

    response_s: npt.NDArray[np.float64]
    in_system: float
    max_queue: int
    elapsed_s: float

    @property
    def mean_s(self) -> float:
        return float(self.response_s.mean())

    @property
    def p50_s(self) -> float:
        return float(np.percentile(self.response_s, 50))

    @property
    def p99_s(self) -> float:
        return float(np.percentile(self.response_s, 99))


async def balance(policy: str | Choose, cluster: Cluster = CLUSTER) -> BalanceRun:
    """Simulate the cluster under ``policy`` on the running (virtual) event loop."""
    choose = POLICIES[policy] if isinstance(policy, str) else policy
    loop = asyncio.get_running_loop()
    n, servers = cluster.requests, cluster.servers
    rng = np.random.default_rng(cluster.seed)
    arrivals = np.cumsum(rng.exponential(1.0 / cluster.arrival_rate, n))
    services = rng.exponential(cluster.service_mean_s, n)
    first = rng.integers(servers, size=n)  # the same draws for every policy
    second = (first + 1 + rng.integers(servers - 1, size=n)) % servers
    queues: list[deque[int]] = [deque() for _ in range(servers)]  # waiting + in service
    lengths = [0] * servers
    response = np.empty(n)
    track = {"in_system": 0, "since": 0.0, "area": 0.0, "done": 0, "max_queue": 0}
    finished: asyncio.Future[None] = loop.create_future()

    def count(delta: int) -> None:  # integrate the number in the system (for Little's law)
        now = loop.time()
        track["area"] += track["in_system"] * (now - track["since"])
        track["since"], track["in_system"] = now, track["in_system"] + delta

    def arrive(i: int) -> None:
        s = int(choose(tuple(lengths), int(first[i]), int(second[i]), i))
        count(+1)
        queues[s].append(i)
        lengths[s] += 1
        track["max_queue"] = max(track["max_queue"], lengths[s])
        if lengths[s] == 1:
            loop.call_later(services[i], finish, s)

    def finish(s: int) -> None:
        i = queues[s].popleft()
        lengths[s] -= 1
        count(-1)
        response[i] = loop.time() - arrivals[i]
        if queues[s]:
            loop.call_later(services[queues[s][0]], finish, s)
        track["done"] += 1
        if track["done"] == n:
            finished.set_result(None)

    for i, t in enumerate(arrivals):
        loop.call_at(float(t), arrive, i)
    await finished
    return BalanceRun(response, track["area"] / loop.time(), int(track["max_queue"]), loop.time())


def run_balance(policy: str | Choose, cluster: Cluster = CLUSTER) -> BalanceRun:
    """Simulate the cluster under ``policy`` on a fresh virtual loop."""
    return run_virtual(balance(policy, cluster))


def format_balance(runs: Mapping[str, BalanceRun]) -> str:
    """The lesson's table: mean, P50, P99 (ms), average in system, longest queue."""
    header = (
        f"{'policy':24s} {'mean ms':>8s} {'P50 ms':>7s} {'P99 ms':>8s} "
        f"{'avg in system':>13s} {'max queue':>9s}"
    )
    lines = [header]
    for name, r in runs.items():
        lines.append(
            f"{name:24s} {r.mean_s * 1000:8.1f} {r.p50_s * 1000:7.1f} {r.p99_s * 1000:8.1f} "
            f"{r.in_system:13.2f} {r.max_queue:9d}"
        )
    return "\n".join(lines)

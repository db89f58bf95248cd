"""Lesson 12's simulated day: a worker pool on a few cores, sized by a scaling policy.

The model, all on the virtual clock (``perflab.sim.run_virtual``):

* a machine with ``cores`` cores; other programs use a **background** share of the CPU
  (15 %, and 35 % while a batch job runs from 1200 s to 1500 s);
* jobs arrive as a Poisson stream whose rate follows a load curve (a quiet base with a
  peak in the middle of the day), drawn by thinning; each job needs an exponential
  amount of CPU time and runs on one core;
* at most ``workers`` jobs run at once, the rest wait in a queue;
* every ``step_s`` seconds a **policy** reads the CPU % of the last interval (the jobs'
  busy cores plus the background) and the queue length, and returns the new worker count.

A policy is any function ``policy(workers, cpu_percent, queue_length) -> workers``:
``guide_rule()`` is the guide's load rule (``perflab.scaling.WorkerScaler``),
``fixed(n)`` never changes. Lesson 12 writes a third, that scales on the queue.

Example::

    run = run_day(guide_rule(), cores=3)
    print(run.summary().changes, run.summary().p50_s)
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from perflab.metrics import LatencyRecorder
from perflab.scaling import WorkerScaler
from perflab.sim import run_virtual

__all__ = [
    "DAY",
    "Day",
    "DayRun",
    "DaySummary",
    "Policy",
    "count_changes",
    "fixed",
    "format_days",
    "guide_rule",
    "run_day",
    "simulate_day",
]

#: ``policy(workers, cpu_percent, queue_length) -> new worker count``.
Policy = Callable[[int, float, int], int]


@dataclass(frozen=True)
class Day:
    """The simulated day's load: arrivals, job sizes and the other programs' CPU.

    Attributes:
        seed: seeds the arrivals and the job sizes.
        duration_s: length of the day, in simulated seconds.
        job_cpu_s: mean CPU seconds per job (exponential).
        peak_jobs_per_s: arrival rate at the peak.
        base_jobs_per_s: arrival rate away from the peak.
        peak_at_s: when the peak is highest.
        peak_width_s: how wide the (Gaussian-shaped) peak is.
        background_pct: CPU % other programs use all day.
        batch_pct: extra CPU % of the batch job, from ``batch_from_s`` to ``batch_until_s``.
    """

    seed: int = 12
    duration_s: float = 1800.0
    job_cpu_s: float = 0.2
    peak_jobs_per_s: float = 14.0
    base_jobs_per_s: float = 2.0
    peak_at_s: float = 900.0
    peak_width_s: float = 350.0
    background_pct: float = 15.0
    batch_pct: float = 20.0
    batch_from_s: float = 1200.0
    batch_until_s: float = 1500.0

    def arrival_rate(self, t: float) -> float:
        """Jobs per second at time ``t``: the quiet base plus the peak."""
        bump = math.exp(-(((t - self.peak_at_s) / self.peak_width_s) ** 2))
        return self.base_jobs_per_s + (self.peak_jobs_per_s - self.base_jobs_per_s) * bump

    def background_cpu(self, t: float) -> float:
        """CPU % used by other programs at time ``t``."""
        batch = self.batch_from_s < t < self.batch_until_s
        return self.background_pct + self.batch_pct * batch

    def params(self, *, cores: int = 4, step_s: float = 5.0) -> dict[str, Any]:
        """The parameters to print beside a simulated figure."""
        busy = self.background_pct + self.batch_pct
        return {
            "seed": self.seed,
            "cores": cores,
            "job_cpu_mean_s": self.job_cpu_s,
            "peak_jobs_per_s": self.peak_jobs_per_s,
            "base_jobs_per_s": self.base_jobs_per_s,
            "step_s": step_s,
            "background_cpu": f"{self.background_pct:g}%, {busy:g}% at "
            f"{self.batch_from_s:g}-{self.batch_until_s:g} s",
        }


#: The day lesson 12 simulates.
DAY = Day()


@dataclass(frozen=True)
class DaySummary:
    """One policy's day in numbers (a row of the lesson's tables)."""

    jobs: int
    p50_s: float
    p99_s: float
    max_queue: int
    changes: int
    reversals: int
    mean_workers: float


@dataclass
class DayRun:
    """What a simulated day recorded.

    Attributes:
        latencies: every finished job's time from arrival to done.
        timeline: one ``(time_s, cpu_percent, workers, queue_length)`` per policy step.
    """

    latencies: LatencyRecorder
    timeline: list[tuple[float, float, int, int]] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [row[0] for row in self.timeline]

    @property
    def cpu(self) -> list[float]:
        return [row[1] for row in self.timeline]

    @property
    def workers(self) -> list[int]:
        return [row[2] for row in self.timeline]

    @property
    def queue(self) -> list[int]:
        return [row[3] for row in self.timeline]

    def summary(self) -> DaySummary:
        """Jobs, P50/P99, the longest queue, how often the count moved and turned."""
        changes, reversals = count_changes(self.workers)
        s = self.latencies.summary()
        return DaySummary(
            jobs=s.count,
            p50_s=s.p50_s,
            p99_s=s.p99_s,
            max_queue=max(self.queue),
            changes=changes,
            reversals=reversals,
            mean_workers=float(np.mean(self.workers)),
        )


def count_changes(workers: Sequence[int]) -> tuple[int, int]:
    """How often a worker count changed, and how often a change reversed the last one.

    >>> count_changes([4, 5, 5, 6, 5, 6])
    (4, 2)
    """
    steps = np.diff(np.asarray(workers, dtype=int))
    moves = steps[steps != 0]
    return len(moves), int(np.sum(moves[1:] * moves[:-1] < 0))


async def simulate_day(
    policy: Policy, *, cores: int = 4, step_s: float = 5.0, day: Day = DAY, workers: int = 4
) -> DayRun:
    """Run the day on the running (virtual) event loop; see the module docstring."""
    loop = asyncio.get_running_loop()
    rng = np.random.default_rng(day.seed)
    core_slots = asyncio.Semaphore(cores)
    pending: deque[tuple[float, float]] = deque()
    state: dict[str, Any] = {"running": 0, "workers": workers, "busy": 0, "since": 0.0, "area": 0.0}
    run = DayRun(LatencyRecorder())

    def busy(delta: int) -> None:  # integrate busy cores over time, for the CPU reading
        now = loop.time()
        state["area"] += state["busy"] * (now - state["since"])
        state["since"], state["busy"] = now, state["busy"] + delta

    async def job(arrived: float, cpu_s: float) -> None:
        async with core_slots:
            busy(+1)
            await asyncio.sleep(cpu_s)
            busy(-1)
        run.latencies.record(loop.time() - arrived)
        state["running"] -= 1
        dispatch()

    def dispatch() -> None:  # start queued jobs while fewer than `workers` run
        while pending and state["running"] < state["workers"]:
            state["running"] += 1
            loop.create_task(job(*pending.popleft()))

    async def arrivals() -> None:  # a Poisson stream with a varying rate (thinning)
        t = 0.0
        while True:
            t += rng.exponential(1.0 / day.peak_jobs_per_s)
            if t > day.duration_s:
                return
            if rng.random() < day.arrival_rate(t) / day.peak_jobs_per_s:
                await asyncio.sleep(max(0.0, t - loop.time()))
                pending.append((loop.time(), float(rng.exponential(day.job_cpu_s))))
                dispatch()

    feeder = loop.create_task(arrivals())
    last_area = 0.0
    while loop.time() < day.duration_s:
        await asyncio.sleep(step_s)
        busy(0)
        jobs_pct = 100.0 * (state["area"] - last_area) / (cores * step_s)
        cpu = min(100.0, jobs_pct + day.background_cpu(loop.time()))
        last_area = state["area"]
        state["workers"] = int(policy(state["workers"], cpu, len(pending)))
        dispatch()
        run.timeline.append((loop.time(), cpu, state["workers"], len(pending)))
    await feeder
    return run


def run_day(
    policy: Policy,
    *,
    cores: int = 4,
    step_s: float = 5.0,
    seed: int | None = None,
    day: Day = DAY,
    workers: int = 4,
) -> DayRun:
    """Simulate the day under ``policy`` on a fresh virtual loop (``seed`` overrides ``day.seed``)."""
    if seed is not None:
        day = replace(day, seed=seed)
    return run_virtual(simulate_day(policy, cores=cores, step_s=step_s, day=day, workers=workers))


def guide_rule(
    low: float = 50.0, high: float = 80.0, *, max_workers: int = 8, workers: int = 4
) -> Policy:
    """The guide's rule as a policy: a ``WorkerScaler`` fed the simulated CPU reading."""
    scaler = WorkerScaler(
        min_workers=1, max_workers=max_workers, low=low, high=high, workers=workers
    )
    return lambda current, cpu, queue: scaler.step(cpu)


def fixed(n: int) -> Policy:
    """A pool that always has ``n`` workers."""
    return lambda current, cpu, queue: n


def format_days(rows: Mapping[str, DaySummary]) -> str:
    """The lesson's table: one line per policy (or machine), P50/P99 in seconds."""
    header = (
        f"{'policy':26s} {'jobs':>6s} {'P50 s':>7s} {'P99 s':>8s} {'max queue':>9s} "
        f"{'changes':>7s} {'reversals':>9s} {'mean workers':>12s}"
    )
    lines = [header]
    for name, r in rows.items():
        lines.append(
            f"{name:26s} {r.jobs:6d} {r.p50_s:7.2f} {r.p99_s:8.2f} {r.max_queue:9d} "
            f"{r.changes:7d} {r.reversals:9d} {r.mean_workers:12.2f}"
        )
    return "\n".join(lines)

"""Lesson 09's simulations: a day of an article service, its dashboard, and two load generators.

Lesson 09 (monitoring and alerting) measures three things, and this module holds the
plumbing so the lesson shows the calls and what they mean:

* :func:`simulate_day`: a simulated day of a service (a cache in front of a search API and an
  LLM), with Poisson arrivals and two incidents built in (a slow LLM, a failing search API);
  :func:`dashboard` turns its requests into per-window P50/P95/P99, hit rate and error rate;
* :func:`run_alerts` feeds the dashboard to a :class:`perflab.alerts.AlertTracker`, with an
  optional "for N windows" duration condition, and :func:`detection` measures how long an
  alert took to fire and to resolve;
* :func:`closed_loop` and :func:`open_loop`: two load generators against a server that stalls
  (:func:`make_server`), to show *coordinated omission*: the closed loop waits for the server,
  so it sends the stalled requests late and times each from its late send.

Everything runs on a virtual clock (call the coroutines through ``perflab.sim.run_virtual``),
so a day takes seconds and every number is identical on every run. The parameters are plain
dicts (:data:`DAY`, :data:`CO`) so a lesson prints them, and changes one of them to rerun.

Example::

    rows = run_virtual(simulate_day(DAY))
    dash = dashboard(rows, window_s=300)
    naive, corrected, trace = run_virtual(closed_loop(CO))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perflab.alerts import AlertEvent, AlertRule, AlertTracker, EventKind
from perflab.clock import FakeClock
from perflab.limits import ConcurrencyLimiter
from perflab.metrics import LatencyRecorder

__all__ = [
    "CO",
    "DAY",
    "Dashboard",
    "closed_loop",
    "dashboard",
    "detection",
    "hhmm",
    "hit_probability",
    "make_server",
    "open_loop",
    "run_alerts",
    "simulate_day",
]

#: The simulated day: Poisson arrivals at ``rate_per_s``, at most ``workers`` cache misses served
#: at once, lognormal latencies (medians ``hit_median_s``/``miss_median_s``, spread ``sigma``),
#: the LLM ``slow_factor`` times slower during ``slow_llm_h`` and the search API failing
#: ``error_p`` of its calls during ``search_errors_h`` (hours of the day).
DAY: dict[str, Any] = {
    "seed": 9,
    "rate_per_s": 0.5,
    "workers": 3,
    "hit_median_s": 0.15,
    "miss_median_s": 2.0,
    "sigma": 0.4,
    "slow_llm_h": (10, 10.75),
    "slow_factor": 3.0,
    "search_errors_h": (14, 14.5),
    "error_p": 0.3,
}

#: The coordinated-omission experiment: a server answering in ``service_median_ms`` (lognormal,
#: spread ``sigma``), one request at a time, frozen for ``stall_s`` seconds from ``stall_at_s``;
#: the load generators intend ``rate_per_s`` requests per second for ``duration_s`` seconds.
CO: dict[str, Any] = {
    "seed": 3,
    "duration_s": 300,
    "rate_per_s": 100,
    "service_median_ms": 5.0,
    "sigma": 0.3,
    "stall_at_s": 100,
    "stall_s": 20,
}

SECONDS_PER_DAY = 86_400


def hit_probability(hour: float | npt.NDArray[np.float64]) -> Any:
    """The chance a request hits the cache at ``hour``: it warms up from 30% to 75% over the morning."""
    return 0.75 - 0.45 * np.exp(-np.asarray(hour) / 3)


async def simulate_day(p: Mapping[str, Any] = DAY) -> npt.NDArray[np.float64]:
    """Simulate one day; return one row per request: (arrival s, latency s, hit 0/1, error 0/1).

    A hit sleeps a short lognormal time. A miss waits for one of ``p["workers"]`` slots, then
    takes a longer one (``slow_factor`` times longer in the slow-LLM hours); in the error hours
    a share ``error_p`` of the misses fail fast (0.8 s median) instead. Run it with
    ``perflab.sim.run_virtual``: the sleeps are virtual.
    """
    rng = np.random.default_rng(p["seed"])
    gaps = rng.exponential(1 / p["rate_per_s"], int(p["rate_per_s"] * SECONDS_PER_DAY * 1.1))
    arrivals = np.cumsum(gaps)
    arrivals = arrivals[arrivals < SECONDS_PER_DAY]
    n = len(arrivals)
    u_hit, u_err, z = rng.random(n), rng.random(n), rng.normal(0, p["sigma"], n)
    workers = ConcurrencyLimiter(p["workers"])
    loop = asyncio.get_running_loop()
    rows = np.zeros((n, 4))

    async def request(i: int) -> None:
        start = loop.time()
        hour = start / 3600
        hit = bool(u_hit[i] < hit_probability(hour))
        error = False
        if hit:
            await asyncio.sleep(p["hit_median_s"] * np.exp(z[i]))
        else:
            async with workers:  # waits in line when all workers are busy
                seconds = p["miss_median_s"] * np.exp(z[i])
                if p["slow_llm_h"][0] <= hour < p["slow_llm_h"][1]:
                    seconds *= p["slow_factor"]
                if (
                    p["search_errors_h"][0] <= hour < p["search_errors_h"][1]
                    and u_err[i] < p["error_p"]
                ):
                    error, seconds = True, 0.8 * np.exp(z[i])  # the search call fails fast
                await asyncio.sleep(seconds)
        rows[i] = (start, loop.time() - start, hit, error)

    tasks = []
    for i, at in enumerate(arrivals):
        await asyncio.sleep(at - loop.time())
        tasks.append(asyncio.ensure_future(request(i)))
    await asyncio.gather(*tasks)
    return rows


@dataclass(frozen=True)
class Dashboard:
    """Per-window series of a simulated day (one entry per window).

    Attributes:
        hours: the hour of day at which each window ends (a window is reported when it ends).
        series: ``p50_s``, ``p95_s``, ``p99_s``, ``hit_rate``, ``error_rate`` and ``requests``,
            each an array with one value per window.
        window_s: the window length in seconds.
    """

    hours: npt.NDArray[np.float64]
    series: dict[str, npt.NDArray[Any]]
    window_s: int

    def __getitem__(self, key: str) -> npt.NDArray[Any]:
        return self.series[key]


def dashboard(rows: npt.NDArray[np.float64], window_s: int = 300) -> Dashboard:
    """Group a day's requests (rows of :func:`simulate_day`) into windows of ``window_s`` seconds.

    Each window's percentiles are exact (``LatencyRecorder`` over that window's latencies).
    """
    arrival, latency, hit, error = rows.T
    window = (arrival // window_s).astype(int)
    n_windows = SECONDS_PER_DAY // window_s
    keys = ["p50_s", "p95_s", "p99_s", "hit_rate", "error_rate", "requests"]
    out: dict[str, list[float]] = {k: [] for k in keys}
    for w in range(n_windows):
        in_w = window == w
        rec = LatencyRecorder()
        rec.record_many(latency[in_w])
        s = rec.summary()
        out["p50_s"].append(s.p50_s)
        out["p95_s"].append(s.p95_s)
        out["p99_s"].append(s.p99_s)
        out["hit_rate"].append(float(hit[in_w].mean()))
        out["error_rate"].append(float(error[in_w].mean()))
        out["requests"].append(int(in_w.sum()))
    series = {k: np.array(v) for k, v in out.items()}
    hours = (np.arange(n_windows) + 1) * window_s / 3600
    return Dashboard(hours=hours, series=series, window_s=window_s)


def hhmm(hour: float) -> str:
    """``10.5`` -> ``"10:30"``."""
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def run_alerts(
    rules: Sequence[AlertRule], dash: Dashboard, *, for_windows: int = 1
) -> AlertTracker:
    """Feed one snapshot per window to an ``AlertTracker``; a rule must break ``for_windows`` in a row.

    The tracker's clock is a ``FakeClock`` moved to each window's end. A breach that has not
    yet lasted ``for_windows`` windows is passed on as the rule's threshold itself, which does
    not fire, so the tracker only sees breaches that held (Prometheus's ``for:``).
    """
    clock = FakeClock()
    tracker = AlertTracker(list(rules), clock=clock)
    for i, hour in enumerate(dash.hours):
        clock.advance(hour * 3600 - clock.now())
        snap = {}
        for rule in rules:
            recent = dash[rule.metric][max(0, i - for_windows + 1) : i + 1]
            held = len(recent) == for_windows and all(rule.fires(v) for v in recent)
            snap[rule.metric] = recent[-1] if held or not rule.fires(recent[-1]) else rule.threshold
        tracker.update(snap)
    return tracker


def detection(
    history: Sequence[AlertEvent], name: str, span_h: tuple[float, float]
) -> tuple[float, float]:
    """Minutes from an incident's start to alert ``name``'s first firing, and from its end to the resolve."""
    fired_at = min(
        e.at
        for e in history
        if e.alert.name == name and e.kind is EventKind.FIRED and e.at >= span_h[0] * 3600
    )
    resolved_at = min(
        e.at
        for e in history
        if e.alert.name == name and e.kind is EventKind.RESOLVED and e.at >= fired_at
    )
    return (fired_at - span_h[0] * 3600) / 60, (resolved_at - span_h[1] * 3600) / 60


def make_server(p: Mapping[str, Any] = CO) -> Callable[[], Awaitable[None]]:
    """A server that handles one request at a time, ~``service_median_ms`` each, frozen during the stall."""
    rng = np.random.default_rng(p["seed"])
    one_at_a_time = ConcurrencyLimiter(1)
    stall_start, stall_end = p["stall_at_s"], p["stall_at_s"] + p["stall_s"]

    async def call() -> None:
        loop = asyncio.get_running_loop()
        async with one_at_a_time:
            if stall_start <= loop.time() < stall_end:
                await asyncio.sleep(stall_end - loop.time())
            await asyncio.sleep(p["service_median_ms"] / 1000 * rng.lognormal(0, p["sigma"]))

    return call


async def closed_loop(
    p: Mapping[str, Any] = CO,
) -> tuple[LatencyRecorder, LatencyRecorder, list[tuple[float, float]]]:
    """One client that waits for each answer before it sends the next request.

    Request ``i`` is scheduled at ``i / rate_per_s``; the client sends it then, or at once when
    it is already late. Returns the *naive* latencies (answer - actual send), the *corrected*
    ones (answer - scheduled send, as wrk2 and HdrHistogram correct), and a trace of
    (scheduled send, naive latency) per request.
    """
    call, loop, period = make_server(p), asyncio.get_running_loop(), 1 / p["rate_per_s"]
    naive, corrected, trace = LatencyRecorder(), LatencyRecorder(), []
    i = 0
    while i * period < p["duration_s"]:
        intended = i * period
        if loop.time() < intended:
            await asyncio.sleep(intended - loop.time())
        sent = loop.time()
        await call()  # the next request waits for this answer
        done = loop.time()
        naive.record(done - sent)
        corrected.record(done - intended)
        trace.append((intended, done - sent))
        i += 1
    return naive, corrected, trace


async def open_loop(p: Mapping[str, Any] = CO) -> tuple[LatencyRecorder, list[tuple[float, float]]]:
    """Requests sent on schedule whether or not earlier ones came back; latency = answer - send.

    Returns the latencies and a trace of (send time, latency), sorted by send time.
    """
    call, loop, period = make_server(p), asyncio.get_running_loop(), 1 / p["rate_per_s"]
    rec, trace = LatencyRecorder(), []

    async def one(sent: float) -> None:
        await call()
        rec.record(loop.time() - sent)
        trace.append((sent, loop.time() - sent))

    tasks = []
    for i in range(int(p["duration_s"] * p["rate_per_s"])):
        await asyncio.sleep(i * period - loop.time())
        tasks.append(asyncio.ensure_future(one(i * period)))  # sent on schedule, never held back
    await asyncio.gather(*tasks)
    return rec, sorted(trace)

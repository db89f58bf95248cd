"""Formulas: the guide's math, as functions a learner can check against a measurement.

(This module was ``perflab.models``; "models" reads as ML or LLM models in this
project. ``perflab.models`` still imports everything from here.)

Each function states its formula in its docstring and refuses impossible inputs with
a ``ValueError`` that names the parameter, the value and the allowed range. Nothing
here reads a clock or touches I/O; numbers in, numbers out.

* Amdahl's law: how much a faster part speeds up the whole.
* Cache economics: cost and time per request, cost per day, return on investment.
* Little's law: items in a system = arrival rate x time in the system.
* Erlang C: how long requests queue in front of ``c`` identical servers (M/M/c).
* The Universal Scalability Law (USL): throughput versus concurrency, fitted to points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from perflab.arrays import Float64Array

__all__ = [
    "ErlangC",
    "USLFit",
    "amdahl_speedup",
    "cache_cost_per_request",
    "cache_time_per_request",
    "daily_cost",
    "erlang_c",
    "erlang_c_servers_for",
    "littles_law",
    "littles_law_arrival_rate",
    "littles_law_items",
    "littles_law_time",
    "roi",
    "usl_fit",
]


def _fraction(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return value


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


# --------------------------------------------------------------------------- Amdahl


def amdahl_speedup(p: float, s: float) -> float:
    """Overall speedup when a fraction ``p`` of the time is made ``s`` times faster.

    ``Speedup = 1 / ((1 - p) + p / s)``

    The untouched part ``1 - p`` caps the result at ``1 / (1 - p)`` however large
    ``s`` grows, which is why the guide says: optimise the bottleneck first.

    >>> round(amdahl_speedup(0.9, 10), 3)
    5.263

    Args:
        p: fraction of the original time the improvement affects, in [0, 1].
        s: speedup of that part, > 0 (``s < 1`` is a slowdown).

    Returns:
        The speedup of the whole (original time / new time).

    Raises:
        ValueError: ``p`` outside [0, 1] or ``s`` not > 0.
    """
    p = _fraction("p", p)
    s = _positive("s", s)
    return 1.0 / ((1.0 - p) + p / s)


# ------------------------------------------------------------------ cache economics


def cache_cost_per_request(hit_rate: float, api_cost: float) -> float:
    """Average API cost of a request when a cache answers ``hit_rate`` of them.

    ``Cost per request = (1 - hit_rate) x api_cost``

    The guide's example: $0.04 per call becomes $0.012 at a 70% hit rate and $0.004
    at 90%. (A semantic cache also pays an embedding call on every lookup; add it
    separately when it is not negligible.)

    Args:
        hit_rate: fraction of requests the cache answers, in [0, 1].
        api_cost: cost of one API call (any currency), >= 0.

    Returns:
        The expected API cost per request.

    Raises:
        ValueError: ``hit_rate`` outside [0, 1] or ``api_cost`` negative.
    """
    return (1.0 - _fraction("hit_rate", hit_rate)) * _non_negative("api_cost", api_cost)


def cache_time_per_request(hit_rate: float, cache_time: float, api_time: float) -> float:
    """Average time of a request when a cache answers ``hit_rate`` of them.

    ``Time per request = hit_rate x cache_time + (1 - hit_rate) x api_time``

    This is a *mean*. Percentiles behave differently: at a 90% hit rate the P95 is
    still an API call.

    Args:
        hit_rate: fraction of requests the cache answers, in [0, 1].
        cache_time: seconds a hit takes, >= 0.
        api_time: seconds a miss takes (including the failed lookup), >= 0.

    Returns:
        The expected seconds per request.

    Raises:
        ValueError: ``hit_rate`` outside [0, 1] or a negative time.
    """
    h = _fraction("hit_rate", hit_rate)
    return h * _non_negative("cache_time", cache_time) + (1.0 - h) * _non_negative(
        "api_time", api_time
    )


def daily_cost(
    requests: float, hit_rate: float, api_cost: float, storage_cost: float = 0.0
) -> float:
    """API plus storage cost of one day's traffic.

    ``Daily cost = requests x (1 - hit_rate) x api_cost + storage_cost``

    The guide's example, 100 requests a day at $0.04: $4.00 with no cache, $1.20 at a
    70% hit rate, $0.40 at 90%.

    Args:
        requests: requests per day, >= 0.
        hit_rate: fraction answered by the cache, in [0, 1].
        api_cost: cost of one API call, >= 0.
        storage_cost: cost of the cache's storage per day, >= 0.

    Returns:
        The cost per day.

    Raises:
        ValueError: a negative count or cost, or ``hit_rate`` outside [0, 1].
    """
    return _non_negative("requests", requests) * cache_cost_per_request(
        hit_rate, api_cost
    ) + _non_negative("storage_cost", storage_cost)


def roi(savings: float, infra_cost: float) -> float:
    """Return on investment of the cache, as a fraction (2.6 means 260%).

    ``ROI = (savings - infra_cost) / infra_cost``

    The guide's example: $90 a month saved for $25 a month of infrastructure gives
    ``(90 - 25) / 25 = 2.6``, i.e. 260%. Below 0 the cache costs more than it saves.

    Args:
        savings: money the cache saves over a period, >= 0.
        infra_cost: what the cache's infrastructure costs over the same period, > 0.

    Returns:
        The ROI as a fraction; multiply by 100 for percent.

    Raises:
        ValueError: negative savings or ``infra_cost`` not > 0.
    """
    savings = _non_negative("savings", savings)
    infra_cost = _positive("infra_cost", infra_cost)
    return (savings - infra_cost) / infra_cost


# ------------------------------------------------------------------- Little's law


def littles_law_items(arrival_rate: float, time_s: float) -> float:
    """Mean number of items in a stable system: ``L = lambda x W``.

    Six requests a second that each take 0.5 s keep 3 requests in flight, which is
    why ``PARALLEL_WORKERS=3`` can carry about 6 requests per second of 0.5 s calls.

    Args:
        arrival_rate: arrivals per second (lambda), >= 0.
        time_s: mean seconds each item spends in the system (W), >= 0.

    Raises:
        ValueError: a negative or non-finite argument.
    """
    return _non_negative("arrival_rate", arrival_rate) * _non_negative("time_s", time_s)


def littles_law_arrival_rate(items: float, time_s: float) -> float:
    """Throughput a system can sustain: ``lambda = L / W``.

    Args:
        items: mean number of items in the system (L), e.g. a concurrency limit, >= 0.
        time_s: mean seconds each item spends in the system (W), > 0.

    Raises:
        ValueError: ``items`` negative or ``time_s`` not > 0.
    """
    return _non_negative("items", items) / _positive("time_s", time_s)


def littles_law_time(items: float, arrival_rate: float) -> float:
    """Mean time in the system: ``W = L / lambda``.

    Args:
        items: mean number of items in the system (L), >= 0.
        arrival_rate: arrivals per second (lambda), > 0.

    Raises:
        ValueError: ``items`` negative or ``arrival_rate`` not > 0.
    """
    return _non_negative("items", items) / _positive("arrival_rate", arrival_rate)


def littles_law(
    *,
    items: float | None = None,
    arrival_rate: float | None = None,
    time_s: float | None = None,
) -> float:
    """Solve ``L = lambda x W`` for whichever of the three is left out.

    >>> littles_law(arrival_rate=6.0, time_s=0.5)
    3.0
    >>> littles_law(items=3, time_s=0.5)
    6.0

    Args:
        items: L, the mean number in the system.
        arrival_rate: lambda, arrivals per second.
        time_s: W, mean seconds in the system.

    Returns:
        The missing quantity.

    Raises:
        ValueError: not exactly two of the three given, or a value out of range.
    """
    given = [
        name
        for name, v in (("items", items), ("arrival_rate", arrival_rate), ("time_s", time_s))
        if v is not None
    ]
    if len(given) != 2:
        raise ValueError(
            f"give exactly two of items, arrival_rate, time_s (got {', '.join(given) or 'none'})"
        )
    if items is None:
        assert arrival_rate is not None and time_s is not None
        return littles_law_items(arrival_rate, time_s)
    if arrival_rate is None:
        assert time_s is not None
        return littles_law_arrival_rate(items, time_s)
    return littles_law_time(items, arrival_rate)


# ----------------------------------------------------------------------- Erlang C


@dataclass(frozen=True)
class ErlangC:
    """Steady state of an M/M/c queue (Poisson arrivals, exponential service, c servers).

    Attributes:
        prob_wait: probability that an arriving request has to queue (Erlang C).
        mean_wait_s: mean seconds spent queueing, over all requests (Wq).
        mean_response_s: mean seconds in the system, queueing plus service (W).
        utilisation: fraction of server capacity in use, ``lambda / (c x mu)``.
        servers: c.
        arrival_rate: lambda, requests per second.
        service_rate: mu, requests per second one server completes.
        offered_load: ``lambda / mu`` in erlangs: how many servers the work keeps busy.

    When ``utilisation >= 1`` the queue grows without bound: ``prob_wait`` is 1 and the
    waits are infinite (``is_stable`` is False).
    """

    prob_wait: float
    mean_wait_s: float
    mean_response_s: float
    utilisation: float
    servers: int
    arrival_rate: float
    service_rate: float
    offered_load: float

    @property
    def is_stable(self) -> bool:
        """True when the servers keep up (utilisation < 1)."""
        return self.utilisation < 1.0

    @property
    def mean_queue_length(self) -> float:
        """Mean number of requests waiting (Lq = lambda x Wq, by Little's law)."""
        return self.arrival_rate * self.mean_wait_s

    def prob_wait_longer_than(self, t: float) -> float:
        """Probability that a request queues for more than ``t`` seconds.

        ``P(Wq > t) = C x exp(-(c x mu - lambda) x t)``
        """
        t = _non_negative("t", t)
        if not self.is_stable:
            return 1.0
        decay = self.servers * self.service_rate - self.arrival_rate
        return self.prob_wait * math.exp(-decay * t)


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> ErlangC:
    """Queueing in front of ``servers`` identical workers (the M/M/c model).

    With offered load ``a = lambda / mu`` and ``c`` servers, the Erlang B blocking
    probability follows the recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``,
    and then

    ``C = c B / (c - a (1 - B))``  (probability of waiting)
    ``Wq = C / (c mu - lambda)``   (mean wait)    ``W = Wq + 1 / mu``

    The recursion never forms ``a^c / c!``, so it stays exact for thousands of
    servers where the textbook formula overflows.

    Args:
        arrival_rate: lambda, requests per second, >= 0.
        service_rate: mu, requests per second one server completes (1 / mean
            service time), > 0.
        servers: c, an integer >= 1.

    Returns:
        An ``ErlangC``; for ``utilisation >= 1`` its waits are ``math.inf``.

    Raises:
        ValueError: a negative rate, ``service_rate`` not > 0, or ``servers`` < 1.
    """
    lam = _non_negative("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    if isinstance(servers, bool) or int(servers) != servers or servers < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    c = int(servers)
    a = lam / mu
    rho = a / c
    if rho >= 1.0:
        return ErlangC(1.0, math.inf, math.inf, rho, c, lam, mu, a)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    prob_wait = c * b / (c - a * (1.0 - b))
    wq = prob_wait / (c * mu - lam)
    return ErlangC(prob_wait, wq, wq + 1.0 / mu, rho, c, lam, mu, a)


def erlang_c_servers_for(
    arrival_rate: float, service_rate: float, *, max_mean_wait_s: float, max_servers: int = 10_000
) -> int:
    """The fewest servers that keep the mean queueing time at or under a target.

    Args:
        arrival_rate: lambda, requests per second, >= 0.
        service_rate: mu, requests per second per server, > 0.
        max_mean_wait_s: the target mean wait (Wq) in seconds, >= 0.
        max_servers: give up above this many servers.

    Raises:
        ValueError: invalid rates, or no count up to ``max_servers`` meets the target.
    """
    target = _non_negative("max_mean_wait_s", max_mean_wait_s)
    lam = _non_negative("arrival_rate", arrival_rate)
    mu = _positive("service_rate", service_rate)
    c = max(1, math.floor(lam / mu) + 1)
    while c <= max_servers:
        if erlang_c(lam, mu, c).mean_wait_s <= target:
            return c
        c += 1
    raise ValueError(f"no server count up to max_servers={max_servers} meets {target} s")


# ---------------------------------------------------------- Universal Scalability Law

FloatArray = Float64Array  # float64 samples (perflab.arrays)


@dataclass(frozen=True)
class USLFit:
    """Gunther's Universal Scalability Law, fitted to measured points.

    ``X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))``

    Attributes:
        lambda_: throughput of one worker (the ideal slope), per second.
        sigma: contention, in [0, 1]: the serial fraction (Amdahl's ``1 - p``).
        kappa: coherency, >= 0: the cost of workers keeping each other in step. Any
            kappa > 0 makes throughput *fall* past a peak.
        peak_concurrency: ``N* = sqrt((1 - sigma) / kappa)``, where throughput peaks
            (``math.inf`` when kappa is 0).
        r_squared: how much of the throughput's variance the fit explains.
    """

    lambda_: float
    sigma: float
    kappa: float
    peak_concurrency: float
    r_squared: float

    @property
    def peak_throughput(self) -> float:
        """Throughput at ``peak_concurrency`` (the ceiling ``lambda / sigma`` if kappa is 0)."""
        if math.isinf(self.peak_concurrency):
            return self.lambda_ / self.sigma if self.sigma > 0 else math.inf
        return float(self.predict(self.peak_concurrency))

    @overload
    def predict(self, n: float) -> float: ...
    @overload
    def predict(self, n: Sequence[float] | FloatArray) -> FloatArray: ...

    def predict(self, n: float | Sequence[float] | FloatArray) -> float | FloatArray:
        """Throughput the model predicts at concurrency ``n`` (a number or an array)."""
        x = np.asarray(n, dtype=float)
        y = _usl(x, self.lambda_, self.sigma, self.kappa)
        return float(y) if y.ndim == 0 else y


def _usl(n: FloatArray, lam: float, sigma: float, kappa: float) -> FloatArray:
    return np.asarray(lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)), dtype=float)


def _fit_linear(n: FloatArray, x: FloatArray, free: tuple[bool, bool]) -> tuple[float, ...] | None:
    """Least squares on ``N / X = a0 + a1 (N - 1) + a2 N (N - 1)`` with some terms fixed at 0.

    Rows are weighted by ``X^2 / N`` so residuals are roughly in throughput units
    (``d(N/X) = -N/X^2 dX``) and high-throughput points are not drowned out.
    """
    columns = [np.ones_like(n)]
    if free[0]:
        columns.append(n - 1.0)
    if free[1]:
        columns.append(n * (n - 1.0))
    a = np.column_stack(columns)
    w = x * x / n
    coef, *_ = np.linalg.lstsq(a * w[:, None], (n / x) * w, rcond=None)
    a0 = float(coef[0])
    if a0 <= 0:
        return None
    rest = iter(coef[1:].tolist())
    a1 = next(rest) if free[0] else 0.0
    a2 = next(rest) if free[1] else 0.0
    if a1 < 0 or a2 < 0:
        return None
    return 1.0 / a0, a1 / a0, a2 / a0


def _sse(n: FloatArray, x: FloatArray, params: tuple[float, ...]) -> float:
    return float(np.sum((x - _usl(n, *params)) ** 2))


def _refine(n: FloatArray, x: FloatArray, start: tuple[float, ...]) -> tuple[float, ...]:
    """Damped Gauss-Newton (Levenberg-Marquardt) on throughput residuals, kept in bounds."""
    p = np.array(start, dtype=float)
    best = _sse(n, x, tuple(p))
    damping = 1e-3
    for _ in range(100):
        lam, sigma, kappa = p
        d = 1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)
        model = lam * n / d
        jac = np.column_stack([n / d, -model * (n - 1.0) / d, -model * n * (n - 1.0) / d])
        r = x - model
        jtj = jac.T @ jac
        step = np.linalg.solve(jtj + damping * np.diag(np.diag(jtj) + 1e-12), jac.T @ r)
        cand = np.maximum(p + step, [1e-300, 0.0, 0.0])
        cand[1] = min(cand[1], 1.0)
        sse = _sse(n, x, tuple(cand))
        if sse < best:
            improvement = (best - sse) / max(best, 1e-300)
            p, best, damping = cand, sse, damping / 3
            if improvement < 1e-12:
                break
        else:
            damping *= 4
            if damping > 1e12:
                break
    return tuple(float(v) for v in p)


def usl_fit(concurrency: Sequence[float], throughput: Sequence[float]) -> USLFit:
    """Fit the Universal Scalability Law to (concurrency, throughput) measurements.

    ``X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1))``

    The model is linear in ``(1/lambda, sigma/lambda, kappa/lambda)`` after writing
    it as ``N / X``, so a weighted linear least-squares fit (numpy only) gives a
    start, with sigma and kappa kept >= 0 by trying each subset of them; a damped
    Gauss-Newton refinement then minimises the squared throughput error itself.

    Args:
        concurrency: concurrency levels N, each > 0 (at least 3 distinct levels).
        throughput: measured throughput at each level, each > 0.

    Returns:
        A ``USLFit`` with the parameters, the peak and ``predict(n)``.

    Raises:
        ValueError: mismatched lengths, fewer than 3 distinct levels, or values <= 0.
    """
    n = np.asarray(concurrency, dtype=float).ravel()
    x = np.asarray(throughput, dtype=float).ravel()
    if n.shape != x.shape:
        raise ValueError(
            f"concurrency and throughput must have the same length ({n.size} != {x.size})"
        )
    if np.unique(n).size < 3:
        raise ValueError(f"concurrency needs at least 3 distinct levels, got {np.unique(n).size}")
    if not (np.all(n > 0) and np.all(np.isfinite(n))):
        raise ValueError("concurrency values must be finite and > 0")
    if not (np.all(x > 0) and np.all(np.isfinite(x))):
        raise ValueError("throughput values must be finite and > 0")
    candidates = [
        fit
        for free in ((True, True), (True, False), (False, True), (False, False))
        if (fit := _fit_linear(n, x, free)) is not None
    ]
    start = min(candidates, key=lambda p: _sse(n, x, p))  # (False, False) always fits
    lam, sigma, kappa = _refine(n, x, start)
    peak = math.sqrt((1.0 - sigma) / kappa) if kappa > 0 else math.inf
    total = float(np.sum((x - x.mean()) ** 2))
    r2 = 1.0 - _sse(n, x, (lam, sigma, kappa)) / total if total > 0 else 1.0
    return USLFit(lam, sigma, kappa, peak, r2)

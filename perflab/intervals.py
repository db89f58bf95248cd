"""Confidence intervals for honest measurement, from repeated runs.

(This module was ``perflab.stats``, a name that reads as the engine's ``stats()``
snapshots. ``perflab.stats`` still imports everything from here.)

One run of a benchmark or a simulation is one draw from a distribution. Reporting it
alone hides how much the next run would differ. ``mean_ci`` turns a handful of runs
into "mean +/- half-width at 99% confidence", and ``replicate`` runs a seeded
function once per seed and does the same, so a notebook can say whether a change
made a difference or only moved the noise.

Comparing two configurations run on the same seeds (common random numbers), use
``paired_ci``: the interval of the per-seed differences. It is narrower than the
unpaired ``diff_ci`` whenever the two runs of a seed move together (a lucky seed is
lucky for both), and never assumes they are independent.

A quantity that cannot be negative (a latency, a rate, a cost, a count) is declared
with ``nonnegative=True``: its interval's lower bound is then clipped at 0 rather than
printed below zero, and the result says so (``clipped`` is True, ``str()`` and
``bracket()`` show "0 (clipped)"). The mean and the half-width are unchanged, so
``high`` is exactly what the t interval gives; only the impossible part is cut off.
Differences (``diff_ci``, ``paired_ci``) can be negative and are never clipped.

The Student t quantile is computed here (bisection on the regularised incomplete
beta function, evaluated by its continued fraction), so scipy is not needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["MeanCI", "diff_ci", "mean_ci", "paired_ci", "replicate", "t_cdf", "t_quantile"]


# ------------------------------------------------------------------ the t distribution


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 3e-16:
            break
    return h


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta ``I_x(a, b)``; ``y = 1 - x`` is passed to keep precision."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, y) / b


def _t_upper_tail(t: float, df: float) -> float:
    """``P(T > t)`` for ``t >= 0``: ``0.5 I_{df/(df+t^2)}(df/2, 1/2)``."""
    t2 = t * t
    return 0.5 * _betainc(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function of Student's t with ``df`` degrees of freedom.

    Args:
        t: the point.
        df: degrees of freedom, > 0 (need not be an integer).

    Raises:
        ValueError: ``df`` not > 0.
    """
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}")
    tail = _t_upper_tail(abs(t), df)
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Inverse of ``t_cdf``: the ``t`` with ``P(T <= t) = p``.

    Found by bisection on the upper tail, to about 1e-12 relative; e.g.
    ``t_quantile(0.995, 9) = 3.2498`` and ``t_quantile(0.975, 29) = 2.0452``.

    Args:
        p: probability, strictly between 0 and 1.
        df: degrees of freedom, > 0.

    Raises:
        ValueError: ``p`` outside (0, 1) or ``df`` not > 0.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p!r}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    tail = 1.0 - p
    lo, hi = 0.0, 1.0
    while _t_upper_tail(hi, df) > tail:  # grow the bracket: the tail shrinks as t grows
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_upper_tail(mid, df) > tail:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


# ------------------------------------------------------------ confidence intervals


@dataclass(frozen=True)
class MeanCI:
    """A sample mean with its Student t confidence interval.

    Attributes:
        mean: the sample mean.
        low: lower end of the interval (``mean - half_width``, or 0 when that is
            negative and the quantity was declared non-negative: see ``clipped``).
        high: upper end (``mean + half_width``).
        half_width: ``t(1 - alpha/2, n - 1) x s / sqrt(n)``.
        n: number of samples.
        confidence: the confidence level, e.g. 0.99.
        std: the sample standard deviation (``n - 1`` in the denominator).
        clipped: True when ``low`` was raised to 0 because the quantity cannot be
            negative (``mean_ci(..., nonnegative=True)``); ``mean - half_width`` was < 0.
    """

    mean: float
    low: float
    high: float
    half_width: float
    n: int
    confidence: float = 0.99
    std: float = 0.0
    clipped: bool = False

    @property
    def relative_half_width(self) -> float:
        """Half-width as a fraction of the mean (``inf`` when the mean is 0)."""
        return self.half_width / abs(self.mean) if self.mean else math.inf

    def contains(self, value: float) -> bool:
        """True when ``value`` lies inside the interval."""
        return self.low <= value <= self.high

    def overlaps(self, other: MeanCI) -> bool:
        """True when the two intervals share any point (not a significance test)."""
        return self.low <= other.high and other.low <= self.high

    def bracket(self, spec: str = ".4g") -> str:
        """The interval as ``"[low, high]"``, each end formatted with ``spec``.

        A clipped lower bound reads ``0 (clipped)``, so a reader sees that the t interval
        reached below zero and was cut at the quantity's floor:

        >>> mean_ci([0.0, 0.0, 0.03], nonnegative=True).bracket()
        '[0 (clipped), 0.1092]'
        """
        low = "0 (clipped)" if self.clipped else format(self.low, spec)
        return f"[{low}, {format(self.high, spec)}]"

    def __str__(self) -> str:
        text = f"{self.mean:.6g} ± {self.half_width:.3g} ({self.confidence:.0%} CI, n={self.n}"
        if self.clipped:
            return f"{text}; lower bound clipped at 0)"
        return f"{text})"


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def _mean_var(samples: Sequence[float] | Iterable[float], name: str) -> tuple[float, float, int]:
    values = [float(v) for v in samples]
    n = len(values)
    if n < 2:
        raise ValueError(f"{name} needs at least 2 values for an interval, got {n}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} contains NaN or infinite values")
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, var, n


def mean_ci(
    samples: Iterable[float], confidence: float = 0.99, *, nonnegative: bool = False
) -> MeanCI:
    """Mean of ``samples`` with a two-sided Student t confidence interval.

    ``half_width = t(1 - (1 - confidence) / 2, n - 1) x s / sqrt(n)``

    With ``nonnegative=True`` (rates, latencies, costs, counts) a lower bound below 0
    is clipped to 0 and the result's ``clipped`` is True; the mean, ``half_width`` and
    ``high`` are unchanged. A negative sample is then an error (it cannot be such a
    quantity). A clipped interval is a sign of few samples of a skewed quantity (mostly
    zeros, an occasional spike): more replications help more than the clip does.

    >>> ci = mean_ci([0.0, 0.0, 0.03], nonnegative=True)
    >>> ci.low, ci.clipped, round(ci.high, 4)
    (0.0, True, 0.1092)

    The t interval assumes the samples are independent and their *mean* is roughly
    normal, which holds for means of repeated runs (each a mean over many requests).
    It does not hold for raw per-request latencies; use percentiles for those.

    Args:
        samples: at least two finite numbers.
        confidence: the confidence level, in (0, 1); 0.99 by default.

    Returns:
        A ``MeanCI``.

        nonnegative: the quantity cannot be negative: clip the lower bound at 0.

    Raises:
        ValueError: fewer than 2 samples, a NaN/inf sample, a bad ``confidence``, or a
            negative sample with ``nonnegative=True``.
    """
    confidence = _check_confidence(confidence)
    values = [float(v) for v in samples]
    if nonnegative and any(v < 0 for v in values):
        raise ValueError(f"nonnegative=True but a sample is negative: {min(values)!r}")
    mean, var, n = _mean_var(values, "samples")
    std = math.sqrt(var)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * std / math.sqrt(n)
    low = mean - half
    clipped = nonnegative and low < 0.0
    return MeanCI(mean, 0.0 if clipped else low, mean + half, half, n, confidence, std, clipped)


def diff_ci(a: Iterable[float], b: Iterable[float], confidence: float = 0.99) -> MeanCI:
    """Welch interval for ``mean(a) - mean(b)``: did a change really move the mean?

    If the interval excludes 0, the difference is significant at that confidence.
    The degrees of freedom come from the Welch-Satterthwaite formula; ``n`` in the
    result is ``len(a) + len(b)`` and ``std`` is the difference's standard error.

    Raises:
        ValueError: either side has fewer than 2 values, or a bad ``confidence``.
    """
    confidence = _check_confidence(confidence)
    ma, va, na = _mean_var(a, "a")
    mb, vb, nb = _mean_var(b, "b")
    sa, sb = va / na, vb / nb
    se = math.sqrt(sa + sb)
    diff = ma - mb
    if se == 0.0:
        return MeanCI(diff, diff, diff, 0.0, na + nb, confidence, 0.0)
    df = (sa + sb) ** 2 / (sa * sa / (na - 1) + sb * sb / (nb - 1))
    half = t_quantile(0.5 + confidence / 2.0, df) * se
    return MeanCI(diff, diff - half, diff + half, half, na + nb, confidence, se)


def paired_ci(a: Iterable[float], b: Iterable[float], confidence: float = 0.99) -> MeanCI:
    """Interval for ``mean(a - b)`` from paired samples: ``a[i]`` and ``b[i]`` share seed ``i``.

    Under common random numbers, run ``a`` and ``b`` on the same seeds; the per-seed
    differences ``a[i] - b[i]`` keep what the change did and cancel much of what the
    seed did, so their t interval (``n - 1`` degrees of freedom, ``n`` pairs) is narrower
    than the unpaired ``diff_ci`` of the same numbers when the two runs of a seed are
    positively correlated. If the two are unrelated, pairing buys nothing and costs
    degrees of freedom (``n - 1`` instead of about ``2n - 2``).

    >>> base = [10.0, 12.0, 11.0, 13.0]
    >>> tuned = [9.5, 11.4, 10.6, 12.5]  # each seed 0.4-0.6 better
    >>> paired_ci(tuned, base).high < 0 < diff_ci(tuned, base).high
    True

    ``n`` in the result is the number of pairs, ``std`` the differences' standard
    deviation. A difference can be negative: it is never clipped.

    Raises:
        ValueError: ``a`` and ``b`` of different lengths, fewer than 2 pairs, a
            non-finite value, or a bad ``confidence``.
    """
    xs, ys = [float(v) for v in a], [float(v) for v in b]
    if len(xs) != len(ys):
        raise ValueError(f"paired samples need the same length, got {len(xs)} and {len(ys)}")
    return mean_ci([x - y for x, y in zip(xs, ys)], confidence)


def replicate(
    fn: Callable[[int], float],
    seeds: Iterable[int],
    confidence: float = 0.99,
    *,
    nonnegative: bool = False,
) -> MeanCI:
    """Run ``fn(seed)`` once per seed and return the mean's confidence interval.

    >>> import random
    >>> ci = replicate(lambda s: random.Random(s).gauss(10, 1), range(30))
    >>> ci.n, ci.contains(10.0)
    (30, True)

    Args:
        fn: a function of a seed returning one number (e.g. a simulated P95).
        seeds: the seeds, at least two.
        confidence: the confidence level, in (0, 1).
        nonnegative: the result cannot be negative (a latency, a rate): clip the lower
            bound at 0 (see ``mean_ci``).

    Raises:
        ValueError: fewer than two seeds, a non-finite result, or a bad ``confidence``.
    """
    return mean_ci([float(fn(seed)) for seed in seeds], confidence, nonnegative=nonnegative)

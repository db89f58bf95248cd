"""Metrics: latency percentiles, per-stage spans and counters.

``LatencyRecorder`` keeps every sample (8 bytes each, in an ``array('d')``), so its
percentiles are exact, not bucketed. Recording is an append (well under a
microsecond); the sort happens on the first query after new samples and is cached,
and samples added since the last query are merged in without re-sorting the rest.
A million samples is 8 MB.

``Spans`` times the stages of a pipeline (``with spans.span("search"):``) on an
injectable clock, so the same code measures real time or simulated time, and
``Counters`` counts things (hits, misses, errors). ``Metrics`` bundles the three and
flattens them into one ``snapshot()`` dict, the input ``perflab.alerts.evaluate``
expects.

None of these is thread-safe: use one per thread, or guard it with a lock.
"""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from perflab.arrays import Float64Array
from perflab.clock import Clock, default_clock

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Self

__all__ = [
    "Counters",
    "LatencyRecorder",
    "LatencySummary",
    "Metrics",
    "Spans",
    "Timer",
    "format_duration",
    "hit_rate",
    "renamed",
]

FloatArray = Float64Array  # float64 samples (perflab.arrays)


@dataclass(frozen=True)
class LatencySummary:
    """Count, mean and tail of a set of latencies, in seconds.

    Attributes:
        count: number of samples.
        mean_s: arithmetic mean (pulled up by the slow tail; compare with P50).
        p50_s: median, the typical request.
        p95_s: 95th percentile: one request in twenty is slower.
        p99_s: 99th percentile: the worst case most users will meet.
        max_s: the slowest sample.

    With no samples every time is NaN.
    """

    count: int
    mean_s: float
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float

    @classmethod
    def of(cls, values: npt.ArrayLike) -> LatencySummary:
        """The summary of ``values`` (seconds), with ``numpy.percentile``'s default method.

        >>> LatencySummary.of([0.1, 0.2, 0.3, 0.4]).p50_s
        0.25
        """
        a = np.asarray(values, dtype=float).ravel()
        if a.size == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan)
        p50, p95, p99 = (float(np.percentile(a, q)) for q in (50, 95, 99))
        return cls(int(a.size), float(a.mean()), p50, p95, p99, float(a.max()))

    def as_dict(self) -> dict[str, float]:
        """The fields as a plain dict (count included)."""
        return asdict(self)

    def __str__(self) -> str:
        f = format_duration
        return (
            f"n={self.count} mean={f(self.mean_s)} p50={f(self.p50_s)} p95={f(self.p95_s)} "
            f"p99={f(self.p99_s)} max={f(self.max_s)}"
        )


def hit_rate(hits: int, lookups: int) -> float:
    """The cache hit rate, defined once: ``hits / lookups``, and 0.0 with no lookups.

    Every ``hit_rate`` in perflab (the semantic cache's, the LRU's, a replay's, a
    simulation's) is this number. With no lookups nothing was served from the cache,
    so the rate is 0.0; ``Metrics.snapshot`` leaves ``hit_rate`` out instead, so an
    alert never fires on a window with no traffic.

    >>> hit_rate(3, 4), hit_rate(0, 0)
    (0.75, 0.0)
    """
    return hits / lookups if lookups else 0.0


def renamed(new: str) -> property:
    """A read-only alias of attribute ``new`` (dotted paths allowed), for a renamed field.

    Old names stay silent (no warning: a warning would change a notebook's output);
    CHANGELOG.md lists each under "Deprecated".

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Run:
    ...     latency: LatencySummary
    ...     p95_latency_s = renamed("latency.p95_s")
    >>> Run(LatencySummary.of([1.0, 2.0])).p95_latency_s
    1.95
    """
    return property(operator.attrgetter(new), doc=f"Deprecated alias of ``{new}``.")


def format_duration(seconds: float) -> str:
    """Seconds as a short human string: ``"850us"``, ``"12.3ms"``, ``"1.25s"``."""
    if math.isnan(seconds):
        return "nan"
    # Round to the printed 3 digits first, so 0.9996 s reads "1s", not "1e+03ms".
    seconds = float(f"{seconds:.3g}")
    if seconds >= 1.0:
        return f"{seconds:.3g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g}ms"
    return f"{seconds * 1e6:.3g}us"


_EMPTY = LatencySummary(0, math.nan, math.nan, math.nan, math.nan, math.nan)


def _lerp_percentiles(sorted_values: FloatArray, qs: FloatArray) -> FloatArray:
    """numpy's default ("linear") percentile, read off already-sorted data in O(len(qs))."""
    n = sorted_values.size
    pos = qs / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    t = pos - lo
    a, b = sorted_values[lo], sorted_values[hi]
    # Same two-sided form as numpy, so results agree to the last bit or two.
    return np.where(t < 0.5, a + (b - a) * t, b - (b - a) * (1.0 - t))


class Timer:
    """Context manager that records the time spent inside it into a ``LatencyRecorder``.

    The time is recorded whether the block returns or raises: a failed request took
    time too.
    """

    __slots__ = ("_clock", "_recorder", "_start", "elapsed_s")

    def __init__(self, recorder: LatencyRecorder, clock: Clock) -> None:
        self._recorder = recorder
        self._clock = clock
        self._start = 0.0
        self.elapsed_s = math.nan

    def __enter__(self) -> Self:
        self._start = self._clock.now()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.elapsed_s = self._clock.now() - self._start
        self._recorder.record(self.elapsed_s)


class LatencyRecorder:
    """Every latency sample, with exact percentiles on demand.

    >>> rec = LatencyRecorder()
    >>> rec.record_many([0.1, 0.2, 0.3, 0.4])
    >>> rec.percentile(50)
    0.25

    Args:
        clock: the clock ``time()`` reads; the monotonic clock by default.
    """

    __slots__ = ("_clock", "_sorted", "_sum", "_values")

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = default_clock(clock)
        self._values = array("d")
        self._sorted: FloatArray = np.empty(0)
        self._sum = 0.0

    def record(self, seconds: float) -> None:
        """Add one sample, in seconds (must be >= 0)."""
        if not seconds >= 0.0:  # also refuses NaN
            raise ValueError(f"a latency must be >= 0 seconds, got {seconds!r}")
        self._values.append(seconds)

    def record_many(self, values: Iterable[float] | FloatArray) -> None:
        """Add many samples at once (a list or a numpy array), all >= 0."""
        arr = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)
        if arr.size and not bool(np.all(arr >= 0.0)):
            raise ValueError("latencies must be >= 0 seconds (found a negative or NaN value)")
        self._values.frombytes(arr.ravel().tobytes())

    def record_corrected(self, seconds: float, expected_interval_s: float) -> None:
        """Record a sample, plus the samples a stall hid (coordinated omission).

        A load generator that sends a request every ``expected_interval_s`` and waits
        for each reply sends *nothing* while one reply is slow, so the requests that
        would have queued behind it are never measured and the percentiles look too
        good. Like HdrHistogram's ``recordValueWithExpectedInterval``, this adds the
        latencies those requests would have seen: ``seconds - k x interval`` for each
        k = 1, 2, ... while that is at least the interval.

        Args:
            seconds: the measured latency, >= 0.
            expected_interval_s: the intended time between requests, > 0.
        """
        if not expected_interval_s > 0:
            raise ValueError(f"expected_interval_s must be > 0, got {expected_interval_s!r}")
        hidden = int(seconds // expected_interval_s) - 1
        if hidden > 10_000_000:
            raise ValueError(
                f"{seconds} s at an interval of {expected_interval_s} s would add {hidden:,} "
                "samples; is the interval in seconds?"
            )
        self.record(seconds)
        if hidden > 0:
            self.record_many(seconds - expected_interval_s * np.arange(1, hidden + 1))

    def time(self) -> Timer:
        """``with rec.time():`` records the block's duration on this recorder's clock."""
        return Timer(self, self._clock)

    def reset(self) -> None:
        """Forget every sample."""
        self._values = array("d")
        self._sorted = np.empty(0)
        self._sum = 0.0

    def _sorted_values(self) -> FloatArray:
        """The samples sorted; only the samples added since the last call get sorted."""
        done = self._sorted.size
        n = len(self._values)
        if done != n:
            # Copy out of the array's buffer at once: a live view would block append().
            tail = np.sort(np.frombuffer(self._values, dtype=float, offset=8 * done).copy())
            self._sum += float(tail.sum())
            if done == 0:
                self._sorted = tail
            elif tail.size > done // 4:
                self._sorted = np.sort(np.concatenate([self._sorted, tail]))
            else:  # a small batch merges in O(n) instead of an O(n log n) re-sort
                self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, tail), tail)
        return self._sorted

    @property
    def count(self) -> int:
        """How many samples have been recorded."""
        return len(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def mean(self) -> float:
        """Mean of the samples (NaN when there are none)."""
        if not self._values:
            return math.nan
        self._sorted_values()
        return self._sum / len(self._values)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100), interpolated like ``numpy.percentile``; NaN if empty."""
        return float(self.percentiles([q])[0])

    def percentiles(self, qs: Iterable[float]) -> FloatArray:
        """Several percentiles at once, as an array (NaNs if empty)."""
        q = np.asarray(list(qs), dtype=float)
        if q.size and not (bool(np.all(q >= 0)) and bool(np.all(q <= 100))):
            raise ValueError(f"percentiles must be between 0 and 100, got {q.tolist()}")
        if not self._values:
            return np.full(q.shape, math.nan)
        return _lerp_percentiles(self._sorted_values(), q)

    def values(self) -> FloatArray:
        """A copy of the samples, in recording order."""
        return np.frombuffer(self._values, dtype=float).copy() if self._values else np.empty(0)

    def summary(self) -> LatencySummary:
        """Count, mean, P50/P95/P99 and max."""
        if not self._values:
            return _EMPTY
        s = self._sorted_values()
        p50, p95, p99 = _lerp_percentiles(s, np.array([50.0, 95.0, 99.0])).tolist()
        return LatencySummary(s.size, self._sum / s.size, p50, p95, p99, float(s[-1]))

    stats = summary

    def pop_stats(self) -> LatencySummary:
        """Return the summary and start afresh (one reporting window)."""
        result = self.summary()
        self.reset()
        return result

    def to_frame(self) -> pd.DataFrame:
        """The samples as a one-column pandas DataFrame (``latency_s``)."""
        import pandas as pd

        return pd.DataFrame({"latency_s": self.values()})

    def __repr__(self) -> str:
        if not self._values:
            return "<LatencyRecorder [empty]>"
        s = self.summary()
        f = format_duration
        return (
            f"<LatencyRecorder [n={s.count}, p50={f(s.p50_s)}, p95={f(s.p95_s)}, p99={f(s.p99_s)}]>"
        )


class Spans:
    """Per-stage latency: where does a request's time go?

    >>> from perflab.clock import FakeClock
    >>> clock = FakeClock()
    >>> spans = Spans(clock=clock)
    >>> with spans.span("search"):
    ...     clock.advance(0.3)
    >>> spans.record("generate", 1.2)
    >>> {k: round(v, 2) for k, v in spans.shares().items()}
    {'search': 0.2, 'generate': 0.8}

    ``shares()`` is the fraction of measured time per stage: the ``p`` of Amdahl's law
    when you consider speeding that stage up. It assumes stages do not nest.

    Args:
        clock: the clock spans read; the monotonic clock by default.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = default_clock(clock)
        self._stages: dict[str, LatencyRecorder] = {}

    def recorder(self, stage: str) -> LatencyRecorder:
        """The recorder for ``stage``, created on first use."""
        rec = self._stages.get(stage)
        if rec is None:
            rec = self._stages[stage] = LatencyRecorder(clock=self._clock)
        return rec

    def span(self, stage: str) -> Timer:
        """``with spans.span("search"):`` times the block into ``stage``."""
        return Timer(self.recorder(stage), self._clock)

    def record(self, stage: str, seconds: float) -> None:
        """Add a duration measured elsewhere to ``stage``."""
        self.recorder(stage).record(seconds)

    @property
    def stages(self) -> list[str]:
        """Stage names, in the order first seen."""
        return list(self._stages)

    def summary(self) -> dict[str, LatencySummary]:
        """A ``LatencySummary`` per stage."""
        return {name: rec.summary() for name, rec in self._stages.items()}

    def totals(self) -> dict[str, float]:
        """Total seconds spent in each stage."""
        return {name: rec.mean() * rec.count for name, rec in self._stages.items()}

    def shares(self) -> dict[str, float]:
        """Each stage's fraction of the total measured time (sums to 1)."""
        totals = self.totals()
        grand = sum(totals.values())
        return {k: (v / grand if grand > 0 else math.nan) for k, v in totals.items()}

    def reset(self) -> None:
        """Forget every stage."""
        self._stages.clear()

    def to_frame(self) -> pd.DataFrame:
        """One row per stage: the summary fields plus ``total_s`` and ``share``."""
        import pandas as pd

        totals, shares = self.totals(), self.shares()
        rows = [
            {"stage": k, **v.as_dict(), "total_s": totals[k], "share": shares[k]}
            for k, v in self.summary().items()
        ]
        columns = ["stage", *LatencySummary.__dataclass_fields__, "total_s", "share"]
        return pd.DataFrame(rows, columns=columns).set_index("stage")

    def __iter__(self) -> Iterator[str]:
        return iter(self._stages)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k} n={r.count}" for k, r in self._stages.items()) or "empty"
        return f"<Spans [{inner}]>"


class Counters:
    """Named counters: ``counters.inc("hits")``.

    >>> c = Counters()
    >>> c.inc("hits", 3); c.inc("misses")
    >>> c.ratio("hits", "misses")
    3.0
    """

    def __init__(self) -> None:
        self._counts: dict[str, float] = {}

    def inc(self, name: str, n: float = 1) -> None:
        """Add ``n`` (default 1) to counter ``name``; a new counter starts at 0."""
        self._counts[name] = self._counts.get(name, 0) + n

    def get(self, name: str) -> float:
        """The value of ``name`` (0 if never incremented)."""
        return self._counts.get(name, 0)

    def ratio(self, numerator: str, denominator: str) -> float:
        """``numerator / denominator`` (NaN when the denominator is 0)."""
        den = self.get(denominator)
        return self.get(numerator) / den if den else math.nan

    def as_dict(self) -> dict[str, float]:
        """A copy of every counter."""
        return dict(self._counts)

    def reset(self) -> None:
        """Set every counter back to nothing."""
        self._counts.clear()

    def __getitem__(self, name: str) -> float:
        return self.get(name)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:g}" for k, v in self._counts.items()) or "empty"
        return f"<Counters [{inner}]>"


class Metrics:
    """A request latency recorder, per-stage spans and counters, read as one snapshot.

    ``snapshot()`` flattens everything into ``{name: number}``: the overall latency
    summary (``p95_s``, ...), each stage's as ``"<stage>.p95_s"``, every counter, and
    two derived rates when their counters exist: ``hit_rate = hits / (hits + misses)``
    (``perflab.metrics.hit_rate``; left out when nothing was looked up) and
    ``error_rate = errors / requests``. That dict is what
    ``perflab.alerts.evaluate`` reads.

    Args:
        clock: shared by the recorder and the spans; the monotonic clock by default.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        clock = default_clock(clock)
        self.latency = LatencyRecorder(clock=clock)
        self.spans = Spans(clock=clock)
        self.counters = Counters()

    def snapshot(self, extra: Mapping[str, float] | None = None) -> dict[str, float]:
        """Everything as a flat dict; ``extra`` (e.g. a resource sample) is merged in last."""
        out: dict[str, float] = dict(self.latency.summary().as_dict())
        for stage, summary in self.spans.summary().items():
            out.update({f"{stage}.{k}": v for k, v in summary.as_dict().items()})
        counts = self.counters.as_dict()
        out.update(counts)
        looked = counts.get("hits", 0) + counts.get("misses", 0)
        if "hits" in counts and "misses" in counts and looked:  # no lookups: no rate to alert on
            out["hit_rate"] = hit_rate(int(counts["hits"]), int(looked))
        if "requests" in counts:
            out["error_rate"] = self.counters.ratio("errors", "requests")
        out.update(extra or {})
        return out

    def to_frame(self) -> pd.DataFrame:
        """The snapshot as a one-row pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([self.snapshot()])

    def __repr__(self) -> str:
        return f"<Metrics [requests n={self.latency.count}, stages={self.spans.stages}]>"

"""Resource monitor: sample CPU and memory in the background while something runs.

``ResourceMonitor`` takes a reading every ``interval`` seconds on a daemon thread:
the process's CPU % and resident memory (RSS), and the machine's memory use %. It
is the guide's "Monitor resource usage" step, and the memory % feeds the
"memory > 80%" alert rule.

    with ResourceMonitor(interval=0.5) as mon:
        run_the_workload()
    print(mon.stats())
    mon.to_frame().plot(x="t", y="rss_mb")

The reading itself comes from a *sampler*, a callable returning
``(cpu_percent, rss_bytes, memory_percent)``. The default one uses psutil (imported
only when it is built); tests pass a scripted one and call ``sample_once()``, so
nothing depends on timing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from perflab.clock import Clock, default_clock

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Self

__all__ = ["MonitorStats", "PsutilSampler", "ResourceMonitor", "ResourceSample", "Sampler"]

Sampler = Callable[[], tuple[float, int, float]]
"""A reading: ``(process cpu_percent, process rss_bytes, system memory_percent)``."""


@dataclass(frozen=True)
class ResourceSample:
    """One reading.

    Attributes:
        t: clock time of the reading, in seconds.
        cpu_percent: the process's CPU use since the previous reading; 100 is one
            core fully busy, so it can exceed 100 on several cores.
        rss_bytes: the process's resident memory.
        memory_percent: the whole machine's memory in use, 0-100.
    """

    t: float
    cpu_percent: float
    rss_bytes: int
    memory_percent: float

    @property
    def rss_mb(self) -> float:
        """Resident memory in MiB."""
        return self.rss_bytes / 2**20


@dataclass(frozen=True)
class MonitorStats:
    """What the samples so far add up to (NaN / 0 when there are none).

    Attributes:
        samples: number of readings.
        duration_s: time from the first reading to the last.
        cpu_mean_percent: mean process CPU %.
        cpu_max_percent: highest process CPU %.
        rss_start_bytes: RSS at the first reading.
        rss_max_bytes: highest RSS.
        rss_growth_bytes: last RSS minus first: memory the run kept.
        memory_max_percent: highest system memory %.
    """

    samples: int
    duration_s: float
    cpu_mean_percent: float
    cpu_max_percent: float
    rss_start_bytes: int
    rss_max_bytes: int
    rss_growth_bytes: int
    memory_max_percent: float


class PsutilSampler:
    """Reads the process's CPU % and RSS and the system's memory % with psutil.

    CPU % is CPU time used between two readings over the wall time between them.
    The OS counts CPU time in ticks of about 10 ms, so over a very short window one
    tick reads as a huge percentage: a reading less than ``min_window`` seconds after
    the previous one repeats the previous CPU % instead. The first reading covers the
    time since the sampler was built.

    Args:
        pid: the process to watch; this one by default.
        min_window: shortest window, in seconds, over which CPU % is measured.
    """

    def __init__(self, pid: int | None = None, *, min_window: float = 0.05) -> None:
        import psutil

        self._psutil: Any = psutil
        self._process: Any = psutil.Process(pid)
        self.min_window = min_window
        self._last_wall = time.monotonic()
        self._last_cpu = self._cpu_seconds()
        self._last_percent = 0.0

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def __call__(self) -> tuple[float, int, float]:
        with self._process.oneshot():
            wall, cpu = time.monotonic(), self._cpu_seconds()
            rss = int(self._process.memory_info().rss)
        if wall - self._last_wall >= self.min_window:
            self._last_percent = 100.0 * (cpu - self._last_cpu) / (wall - self._last_wall)
            self._last_wall, self._last_cpu = wall, cpu
        return self._last_percent, rss, float(self._psutil.virtual_memory().percent)


class ResourceMonitor:
    """Samples CPU and memory on a background thread, every ``interval`` seconds.

    ``start()`` takes a first reading at once and ``stop()`` a last one, so even a
    run shorter than the interval has a before and an after.

    Args:
        interval: seconds between readings, > 0.
        sampler: where readings come from; a ``PsutilSampler`` by default.
        clock: timestamps the readings; the monotonic clock by default.
        max_samples: keep only the latest this many readings (all by default).

    Raises:
        ValueError: ``interval`` not > 0 or ``max_samples`` < 1.
    """

    def __init__(
        self,
        interval: float = 1.0,
        *,
        sampler: Sampler | None = None,
        clock: Clock | None = None,
        max_samples: int | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if max_samples is not None and max_samples < 1:
            raise ValueError(f"max_samples must be >= 1 or None, got {max_samples!r}")
        self.interval = float(interval)
        self._sampler = sampler
        self._clock = default_clock(clock)
        self._samples: deque[ResourceSample] = deque(maxlen=max_samples)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def is_running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._thread is not None

    def sample_once(self) -> ResourceSample:
        """Take one reading now and keep it."""
        if self._sampler is None:
            self._sampler = PsutilSampler()
        cpu, rss, mem = self._sampler()
        sample = ResourceSample(self._clock.now(), float(cpu), int(rss), float(mem))
        with self._lock:
            self._samples.append(sample)
        return sample

    def _run(self) -> None:
        # Event.wait doubles as the sleep, so stop() ends the wait at once.
        while not self._stop.wait(self.interval):
            try:
                self.sample_once()
            except Exception as exc:  # noqa: BLE001 - e.g. the watched process exited
                self.error = exc
                return

    def start(self) -> Self:
        """Take a first reading and start sampling in the background.

        Raises:
            RuntimeError: the monitor is already running.
        """
        if self._thread is not None:
            raise RuntimeError("the monitor is already running; call stop() first")
        self.error = None
        self.sample_once()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="perflab-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> MonitorStats:
        """Stop sampling, take a last reading and return the stats (no-op if stopped).

        If the background sampler failed, its exception is in ``error`` and no last
        reading is attempted.
        """
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
            if self.error is None:
                self.sample_once()
        return self.stats()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def samples(self) -> list[ResourceSample]:
        """A copy of the readings so far, oldest first."""
        with self._lock:
            return list(self._samples)

    def latest(self) -> ResourceSample | None:
        """The most recent reading, or None before the first."""
        with self._lock:
            return self._samples[-1] if self._samples else None

    def clear(self) -> None:
        """Forget the readings so far."""
        with self._lock:
            self._samples.clear()

    def stats(self) -> MonitorStats:
        """Summary of the readings so far."""
        s = self.samples
        if not s:
            nan = float("nan")
            return MonitorStats(0, 0.0, nan, nan, 0, 0, 0, nan)
        cpu = [x.cpu_percent for x in s]
        return MonitorStats(
            samples=len(s),
            duration_s=s[-1].t - s[0].t,
            cpu_mean_percent=sum(cpu) / len(cpu),
            cpu_max_percent=max(cpu),
            rss_start_bytes=s[0].rss_bytes,
            rss_max_bytes=max(x.rss_bytes for x in s),
            rss_growth_bytes=s[-1].rss_bytes - s[0].rss_bytes,
            memory_max_percent=max(x.memory_percent for x in s),
        )

    def snapshot(self) -> dict[str, float]:
        """The latest reading as ``{cpu_percent, rss_bytes, memory_percent}`` (for alerts)."""
        last = self.latest()
        if last is None:
            return {}
        return {
            "cpu_percent": last.cpu_percent,
            "rss_bytes": float(last.rss_bytes),
            "memory_percent": last.memory_percent,
        }

    def to_frame(self) -> pd.DataFrame:
        """The readings as a pandas DataFrame, with an ``rss_mb`` column added."""
        import pandas as pd

        columns = ["t", "cpu_percent", "rss_bytes", "memory_percent"]
        frame = pd.DataFrame(
            [[getattr(x, c) for c in columns] for x in self.samples], columns=columns
        )
        frame["rss_mb"] = frame["rss_bytes"] / 2**20
        return frame

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        last = self.latest()
        if last is None:
            return f"<ResourceMonitor [{state}, no samples]>"
        return (
            f"<ResourceMonitor [{state}, {len(self._samples)} samples, "
            f"cpu {last.cpu_percent:.0f}%, rss {last.rss_mb:.1f} MiB, mem {last.memory_percent:.0f}%]>"
        )

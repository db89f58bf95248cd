"""Tests for perflab.monitor: the background resource sampler."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest

from perflab.clock import FakeClock
from perflab.monitor import MonitorStats, PsutilSampler, ResourceMonitor, ResourceSample


def scripted(readings: list[tuple[float, int, float]]) -> Iterator[tuple[float, int, float]]:
    """Yield the readings in turn, then keep repeating the last one."""
    yield from readings
    while True:
        yield readings[-1]


def make_monitor(clock: FakeClock, readings: list[tuple[float, int, float]]) -> ResourceMonitor:
    it = scripted(readings)
    return ResourceMonitor(interval=1.0, sampler=lambda: next(it), clock=clock)


def test_sample_once_stamps_the_clock(clock: FakeClock) -> None:
    """A reading carries the sampler's values and the clock's time."""
    mon = make_monitor(clock, [(12.5, 100 * 2**20, 40.0)])
    clock.advance(3.0)
    sample = mon.sample_once()
    assert sample == ResourceSample(3.0, 12.5, 100 * 2**20, 40.0)
    assert sample.rss_mb == 100.0
    assert mon.latest() == sample and mon.samples == [sample]


def test_stats_summarise_the_readings(clock: FakeClock) -> None:
    """stats() gives duration, CPU mean/max, RSS start/max/growth and memory max."""
    mon = make_monitor(clock, [(10.0, 100, 50.0), (30.0, 300, 70.0), (20.0, 250, 60.0)])
    for _ in range(3):
        mon.sample_once()
        clock.advance(2.0)
    assert mon.stats() == MonitorStats(
        samples=3,
        duration_s=4.0,
        cpu_mean_percent=20.0,
        cpu_max_percent=30.0,
        rss_start_bytes=100,
        rss_max_bytes=300,
        rss_growth_bytes=150,
        memory_max_percent=70.0,
    )


def test_stats_without_samples_are_empty(clock: FakeClock) -> None:
    """With no readings, stats count 0 and the CPU figures are NaN."""
    stats = make_monitor(clock, [(0.0, 0, 0.0)]).stats()
    assert stats.samples == 0 and math.isnan(stats.cpu_mean_percent)


def test_start_and_stop_take_a_first_and_a_last_reading(clock: FakeClock) -> None:
    """Even a run shorter than the interval has a reading at start and one at stop."""
    mon = ResourceMonitor(interval=3600.0, sampler=lambda: (1.0, 2, 3.0), clock=clock)
    with mon:
        assert mon.is_running
        clock.advance(0.5)
    assert not mon.is_running
    assert [s.t for s in mon.samples] == [0.0, 0.5]
    assert mon.stop().samples == 2  # a second stop changes nothing


def test_background_thread_samples_until_stopped() -> None:
    """With a tiny interval the thread keeps sampling; the test waits on an event, not a sleep."""
    calls = 0
    enough = threading.Event()

    def sampler() -> tuple[float, int, float]:
        nonlocal calls
        calls += 1
        if calls >= 4:
            enough.set()
        return (5.0, 10, 20.0)

    mon = ResourceMonitor(interval=0.001, sampler=sampler).start()
    assert enough.wait(timeout=30)
    mon.stop()
    assert len(mon.samples) >= 5


def test_start_twice_is_refused() -> None:
    """Starting a running monitor raises RuntimeError."""
    mon = ResourceMonitor(interval=3600.0, sampler=lambda: (0.0, 0, 0.0)).start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            mon.start()
    finally:
        mon.stop()


def test_a_failing_sampler_stops_the_thread_and_is_kept() -> None:
    """An exception in the background is stored in .error and stop() does not re-raise it."""
    calls = 0
    failed = threading.Event()

    def sampler() -> tuple[float, int, float]:
        nonlocal calls
        calls += 1
        if calls > 1:
            failed.set()
            raise ProcessLookupError("process gone")
        return (1.0, 1, 1.0)

    mon = ResourceMonitor(interval=0.001, sampler=sampler).start()
    assert failed.wait(timeout=30)
    mon.stop()
    assert isinstance(mon.error, ProcessLookupError)
    assert len(mon.samples) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"interval": 0}, "interval"), ({"max_samples": 0}, "max_samples")]
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    """A non-positive interval or max_samples raises ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        ResourceMonitor(**kwargs)  # type: ignore[arg-type]


def test_max_samples_keeps_the_latest(clock: FakeClock) -> None:
    """With max_samples only the newest readings are kept."""
    mon = ResourceMonitor(sampler=lambda: (0.0, 0, 0.0), clock=clock, max_samples=2)
    for _ in range(5):
        mon.sample_once()
        clock.advance(1.0)
    assert [s.t for s in mon.samples] == [3.0, 4.0]
    mon.clear()
    assert mon.latest() is None


def test_snapshot_frame_and_repr(clock: FakeClock) -> None:
    """snapshot() feeds alerts, to_frame() has an rss_mb column, repr shows the latest reading."""
    mon = make_monitor(clock, [(25.0, 3 * 2**20, 81.0)])
    assert mon.snapshot() == {}
    assert repr(mon) == "<ResourceMonitor [stopped, no samples]>"
    mon.sample_once()
    assert mon.snapshot() == {"cpu_percent": 25.0, "rss_bytes": 3 * 2**20, "memory_percent": 81.0}
    assert mon.to_frame()["rss_mb"].tolist() == [3.0]
    assert repr(mon) == "<ResourceMonitor [stopped, 1 samples, cpu 25%, rss 3.0 MiB, mem 81%]>"


def test_psutil_sampler_reads_this_process() -> None:
    """The real sampler returns a positive RSS and percentages in range."""
    sampler = PsutilSampler()
    cpu, rss, mem = sampler()
    assert cpu >= 0.0 and rss > 0 and 0.0 <= mem <= 100.0


def test_psutil_sampler_repeats_cpu_over_a_tiny_window() -> None:
    """Two readings closer than min_window report the same CPU % (no tick noise)."""
    sampler = PsutilSampler(min_window=3600.0)
    assert sampler()[0] == sampler()[0] == 0.0

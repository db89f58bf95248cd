"""Tests for perflab.lessons.lock_contention: workers sharing one lock (lesson 12b, exercise 12)."""

from __future__ import annotations

import pytest

from perflab.formulas import littles_law
from perflab.lessons.lock_contention import LOCK_SYSTEM, LockSystem, measure, run_point

QUICK = LockSystem(run_s=5.0, seed=1)


def test_one_worker_does_one_job_per_mean_job_time() -> None:
    """One worker finishes about 1 / (parallel + serial) jobs per second."""
    point = run_point(1, LockSystem(run_s=30.0, sync_ms_per_peer=0.0, seed=2))
    assert point.throughput == pytest.approx(1000 / 12.0, rel=0.1)


@pytest.mark.parametrize("n", [1, 4, 16])
def test_littles_law_in_the_closed_system(n: int) -> None:
    """Workers = throughput x time per job (a closed system), up to the run's edge."""
    point = run_point(n, QUICK)
    assert littles_law(arrival_rate=point.throughput, time_s=point.mean_job_s) == pytest.approx(
        n, rel=0.05
    )


def test_the_lock_caps_throughput() -> None:
    """No worker count gets past the lock's cap, 1000 / serial_ms jobs per second."""
    system = LockSystem(run_s=5.0, sync_ms_per_peer=0.0, seed=3)
    points = measure(system, [1, 8, 32])
    assert system.lock_cap_per_s == 500.0
    assert all(p.throughput <= system.lock_cap_per_s * 1.05 for p in points)
    assert points[2].throughput > 0.9 * system.lock_cap_per_s


def test_per_peer_cost_makes_throughput_fall() -> None:
    """With a per-peer sync cost, 32 workers do less than 8."""
    eight, many = measure(QUICK, [8, 32])
    assert many.throughput < eight.throughput


def test_seeded() -> None:
    """Same system, same numbers."""
    assert run_point(4, QUICK) == run_point(4, QUICK)


def test_derived_figures() -> None:
    """The serial share and the cap follow from the parameters."""
    assert LOCK_SYSTEM.serial_share == pytest.approx(2 / 12)
    assert LOCK_SYSTEM.params()["sync_ms_per_peer"] == 0.05
    with pytest.raises(ValueError):
        LockSystem(serial_ms=0.0)
    with pytest.raises(ValueError):
        run_point(0, QUICK)

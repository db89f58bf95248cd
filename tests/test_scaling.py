"""Tests for perflab.scaling: the guide's load rule and WorkerScaler."""

from __future__ import annotations

from typing import Any

import pytest

from perflab.scaling import WorkerScaler, scale_workers


@pytest.mark.parametrize(
    ("workers", "load", "expected"),
    [(3, 49.9, 4), (8, 10.0, 8), (3, 50.0, 3), (3, 80.0, 3), (3, 80.1, 2), (1, 99.0, 1)],
)
def test_scale_workers_follows_the_guide(workers: int, load: float, expected: int) -> None:
    """load < 50 adds one up to max, load > 80 removes one down to 1, otherwise no change."""
    assert scale_workers(workers, load, max_workers=8) == expected


def test_scaler_reads_injected_load() -> None:
    """step() uses the injected reading and keeps stats of its moves."""
    readings = iter([10.0, 10.0, 90.0, 60.0])
    scaler = WorkerScaler(min_workers=1, max_workers=3, read_load=lambda: next(readings))
    assert [scaler.step() for _ in range(4)] == [2, 3, 2, 2]
    stats = scaler.stats()
    assert (stats.workers, stats.steps, stats.ups, stats.downs, stats.last_load) == (
        2,
        4,
        2,
        1,
        60.0,
    )
    assert repr(scaler) == "<WorkerScaler [workers 2 in 1..3]>"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_workers": 0},
        {"min_workers": 5, "max_workers": 2},
        {"low": 90, "high": 80},
        {"workers": 99},
    ],
)
def test_scaler_rejects_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Inconsistent bounds are refused."""
    with pytest.raises(ValueError):
        WorkerScaler(**kwargs)

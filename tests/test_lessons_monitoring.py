"""Tests for perflab.lessons.monitoring: lesson 09's simulated day, alerts and load generators."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.alerts import DEFAULT_RULES, EventKind
from perflab.lessons.monitoring import (
    CO,
    DAY,
    closed_loop,
    dashboard,
    detection,
    hhmm,
    hit_probability,
    open_loop,
    run_alerts,
    simulate_day,
)
from perflab.sim import run_virtual

# A short test (30 s at 100/s, a 3 s stall from 10 s) keeps the load generators fast.
SHORT_CO = {**CO, "duration_s": 30, "stall_at_s": 10, "stall_s": 3}


@pytest.fixture(scope="module")
def day_rows() -> np.ndarray:
    return run_virtual(simulate_day(DAY))


def test_hit_probability_warms_up() -> None:
    assert hit_probability(0.0) == pytest.approx(0.30)
    assert hit_probability(24.0) == pytest.approx(0.75, abs=0.001)


def test_hhmm() -> None:
    assert hhmm(10.5) == "10:30"
    assert hhmm(0.0833333) == "00:05"


def test_simulated_day_is_deterministic_and_shows_its_incidents(day_rows: np.ndarray) -> None:
    arrival, latency, hit, error = day_rows.T
    assert len(day_rows) == pytest.approx(DAY["rate_per_s"] * 86_400, rel=0.02)
    assert np.all(np.diff(arrival) >= 0) and arrival.max() < 86_400
    assert set(np.unique(hit)) <= {0.0, 1.0} and set(np.unique(error)) <= {0.0, 1.0}
    hour = arrival / 3600
    # Errors only in the search-error hours, and only on misses.
    assert np.all((hour[error == 1] >= 14) & (hour[error == 1] < 14.5))
    assert np.all(hit[error == 1] == 0)
    # The slow-LLM hours are slower than the hour before them.
    slow = (hour >= 10) & (hour < 10.75)
    before = (hour >= 9) & (hour < 9.75)
    assert np.percentile(latency[slow], 95) > 2 * np.percentile(latency[before], 95)
    again = run_virtual(simulate_day(DAY))
    np.testing.assert_array_equal(day_rows, again)


def test_dashboard_windows(day_rows: np.ndarray) -> None:
    dash = dashboard(day_rows, window_s=300)
    assert len(dash.hours) == 288 and dash.hours[0] == pytest.approx(5 / 60)
    assert int(dash["requests"].sum()) == len(day_rows)
    assert np.all(dash["p50_s"] <= dash["p95_s"]) and np.all(dash["p95_s"] <= dash["p99_s"])
    hourly = dashboard(day_rows, window_s=3600)
    assert len(hourly.hours) == 24


def test_alerts_catch_both_incidents_and_a_duration_stops_flaps(day_rows: np.ndarray) -> None:
    dash = dashboard(day_rows, window_s=300)
    rules = [r for r in DEFAULT_RULES if r.metric != "memory_percent"]

    def fired(tracker, name: str) -> int:
        return sum(e.kind is EventKind.FIRED and e.alert.name == name for e in tracker.history)

    once = run_alerts(rules, dash)
    twice = run_alerts(rules, dash, for_windows=2)
    assert fired(once, "slow_p95") == 1 and fired(once, "high_error_rate") == 1
    assert fired(once, "low_hit_rate") > fired(twice, "low_hit_rate") == 1
    assert detection(once.history, "slow_p95", DAY["slow_llm_h"])[0] == pytest.approx(5)
    assert detection(twice.history, "slow_p95", DAY["slow_llm_h"])[0] == pytest.approx(10)
    assert detection(once.history, "high_error_rate", DAY["search_errors_h"]) == pytest.approx(
        (5, 5)
    )


def test_closed_loop_hides_the_stall_and_the_open_loop_shows_it() -> None:
    naive, corrected, trace = run_virtual(closed_loop(SHORT_CO))
    opened, open_trace = run_virtual(open_loop(SHORT_CO))
    intended = SHORT_CO["duration_s"] * SHORT_CO["rate_per_s"]
    assert (
        naive.count == corrected.count == opened.count == intended == len(trace) == len(open_trace)
    )
    # The naive closed loop records one stalled request; its P99 stays near the service time.
    assert sum(lat > 1.0 for _, lat in trace) == 1
    assert naive.summary().p99_s < 0.02
    assert naive.summary().max_s == pytest.approx(SHORT_CO["stall_s"], abs=0.05)
    # The stall is 10% of this test, so the open loop's P95 lies inside it.
    assert opened.summary().p95_s > 1.0
    # The corrected closed loop matches the open loop here (one request at a time).
    np.testing.assert_allclose(np.sort(corrected.values()), np.sort(opened.values()), atol=1e-9)
    assert [t for t, _ in open_trace] == sorted(t for t, _ in open_trace)

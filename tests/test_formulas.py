"""Tests for perflab.formulas (was perflab.models): the guide's worked examples and the queueing math."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.formulas import (
    amdahl_speedup,
    cache_cost_per_request,
    cache_time_per_request,
    daily_cost,
    erlang_c,
    erlang_c_servers_for,
    littles_law,
    littles_law_arrival_rate,
    littles_law_items,
    littles_law_time,
    roi,
    usl_fit,
)


@pytest.mark.parametrize(("hit_rate", "expected"), [(0.0, 0.04), (0.7, 0.012), (0.9, 0.004)])
def test_cost_per_request_matches_the_guide(hit_rate: float, expected: float) -> None:
    """$0.04 per call costs $0.012 at a 70% hit rate and $0.004 at 90%, as the guide says."""
    assert cache_cost_per_request(hit_rate, 0.04) == pytest.approx(expected)


@pytest.mark.parametrize(("hit_rate", "expected"), [(0.0, 4.00), (0.7, 1.20), (0.9, 0.40)])
def test_daily_cost_matches_the_guide(hit_rate: float, expected: float) -> None:
    """100 requests a day at $0.04 cost $4.00, $1.20 and $0.40 at 0%, 70% and 90% hits."""
    assert daily_cost(100, hit_rate, 0.04) == pytest.approx(expected)


def test_daily_cost_adds_storage() -> None:
    """Storage cost is added once per day, whatever the hit rate."""
    assert daily_cost(100, 0.9, 0.04, storage_cost=0.83) == pytest.approx(1.23)


def test_roi_matches_the_guide() -> None:
    """$90 saved for $25 of infrastructure is an ROI of 260%."""
    assert roi(90, 25) * 100 == pytest.approx(260.0)


def test_roi_is_negative_when_the_cache_costs_more_than_it_saves() -> None:
    """Saving less than the infrastructure costs gives a negative ROI."""
    assert roi(10, 25) == pytest.approx(-0.6)


def test_time_per_request_is_the_hit_weighted_mean() -> None:
    """At 90% hits of 0.05 s and 10% misses of 3 s the mean is 0.345 s."""
    assert cache_time_per_request(0.9, 0.05, 3.0) == pytest.approx(0.345)


@pytest.mark.parametrize(("p", "s", "expected"), [(0.0, 10, 1.0), (1.0, 4, 4.0), (0.5, 2, 4 / 3)])
def test_amdahl_speedup_known_values(p: float, s: float, expected: float) -> None:
    """Amdahl's formula gives the textbook values at its edges and in between."""
    assert amdahl_speedup(p, s) == pytest.approx(expected)


@given(st.floats(0.0, 0.999), st.floats(1.0, 1e6))
def test_amdahl_speedup_is_capped_by_the_serial_part(p: float, s: float) -> None:
    """A speedup never exceeds 1 / (1 - p) nor the part's own speedup s."""
    result = amdahl_speedup(p, s)
    assert 1.0 <= result <= min(s, 1.0 / (1.0 - p)) * (1 + 1e-12)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: amdahl_speedup(1.2, 2), "p"),
        (lambda: amdahl_speedup(0.5, 0), "s"),
        (lambda: cache_cost_per_request(-0.1, 0.04), "hit_rate"),
        (lambda: cache_cost_per_request(float("nan"), 0.04), "hit_rate"),
        (lambda: cache_cost_per_request(0.5, -1), "api_cost"),
        (lambda: cache_time_per_request(0.5, -1, 1), "cache_time"),
        (lambda: daily_cost(-5, 0.5, 0.04), "requests"),
        (lambda: daily_cost(5, 0.5, 0.04, storage_cost=-1), "storage_cost"),
        (lambda: roi(90, 0), "infra_cost"),
        (lambda: erlang_c(-1, 1, 1), "arrival_rate"),
        (lambda: erlang_c(1, 0, 1), "service_rate"),
        (lambda: erlang_c(1, 1, 0), "servers"),
        (lambda: erlang_c(1, 1, 2.5), "servers"),  # type: ignore[arg-type]
        (lambda: littles_law_time(3, 0), "arrival_rate"),
    ],
)
def test_invalid_inputs_name_the_parameter(call: object, name: str) -> None:
    """An impossible input raises ValueError naming the parameter."""
    with pytest.raises(ValueError, match=name):
        call()  # type: ignore[operator]


def test_littles_law_solves_for_each_quantity() -> None:
    """L = lambda W holds whichever quantity is solved for."""
    assert littles_law_items(6.0, 0.5) == pytest.approx(3.0)
    assert littles_law_arrival_rate(3.0, 0.5) == pytest.approx(6.0)
    assert littles_law_time(3.0, 6.0) == pytest.approx(0.5)
    assert littles_law(arrival_rate=6.0, time_s=0.5) == pytest.approx(3.0)
    assert littles_law(items=3.0, time_s=0.5) == pytest.approx(6.0)
    assert littles_law(items=3.0, arrival_rate=6.0) == pytest.approx(0.5)


def test_littles_law_needs_exactly_two() -> None:
    """Giving one or three of the quantities is refused."""
    with pytest.raises(ValueError, match="exactly two"):
        littles_law(items=3.0)
    with pytest.raises(ValueError, match="exactly two"):
        littles_law(items=3.0, arrival_rate=1.0, time_s=3.0)


def test_erlang_c_single_server_is_mm1() -> None:
    """With one server Erlang C reduces to M/M/1: P(wait) = rho, Wq = rho / (mu - lambda)."""
    result = erlang_c(0.8, 1.0, 1)
    assert result.prob_wait == pytest.approx(0.8)
    assert result.mean_wait_s == pytest.approx(0.8 / 0.2)
    assert result.mean_response_s == pytest.approx(1 / 0.2)
    assert result.utilisation == pytest.approx(0.8)


def test_erlang_c_textbook_value() -> None:
    """Ten servers at 8 erlangs wait with probability 0.4092 (published tables)."""
    result = erlang_c(8.0, 1.0, 10)
    assert result.prob_wait == pytest.approx(0.40918, abs=1e-5)
    assert result.mean_wait_s == pytest.approx(0.40918 / 2, abs=1e-5)
    assert result.mean_queue_length == pytest.approx(8 * result.mean_wait_s)


def test_erlang_c_matches_the_factorial_formula() -> None:
    """The recursion agrees with the textbook factorial formula where that one is safe."""
    lam, mu, c = 17.0, 2.0, 12
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert erlang_c(lam, mu, c).prob_wait == pytest.approx(expected, rel=1e-12)


def test_erlang_c_is_stable_for_thousands_of_servers() -> None:
    """Five thousand servers at 95% load give a finite answer, where a^c / c! would overflow."""
    result = erlang_c(4750.0, 1.0, 5000)
    assert 0.0 < result.prob_wait < 0.01
    assert math.isfinite(result.mean_wait_s)


def test_erlang_c_overloaded_queue_waits_forever() -> None:
    """At utilisation >= 1 every request waits and the mean wait is infinite."""
    result = erlang_c(3.0, 1.0, 3)
    assert not result.is_stable
    assert result.prob_wait == 1.0
    assert math.isinf(result.mean_wait_s)


def test_erlang_c_wait_tail_decays() -> None:
    """P(Wq > 0) is the Erlang C probability and the tail shrinks with t."""
    result = erlang_c(8.0, 1.0, 10)
    assert result.prob_wait_longer_than(0.0) == pytest.approx(result.prob_wait)
    assert result.prob_wait_longer_than(1.0) == pytest.approx(result.prob_wait * math.exp(-2.0))


def test_servers_for_target_wait_is_the_smallest_that_meets_it() -> None:
    """The count returned meets the target and one fewer does not."""
    c = erlang_c_servers_for(8.0, 1.0, max_mean_wait_s=0.05)
    assert erlang_c(8.0, 1.0, c).mean_wait_s <= 0.05
    assert erlang_c(8.0, 1.0, c - 1).mean_wait_s > 0.05


def _usl_points(lam: float, sigma: float, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    n = np.array([1, 2, 4, 8, 16, 32, 64], dtype=float)
    return n, lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def test_usl_fit_recovers_exact_parameters() -> None:
    """Points drawn from the USL give back its parameters and peak."""
    n, x = _usl_points(1000.0, 0.05, 0.0005)
    fit = usl_fit(n, x)
    assert fit.lambda_ == pytest.approx(1000.0, rel=1e-6)
    assert fit.sigma == pytest.approx(0.05, rel=1e-5)
    assert fit.kappa == pytest.approx(0.0005, rel=1e-5)
    assert fit.peak_concurrency == pytest.approx(math.sqrt(0.95 / 0.0005), rel=1e-5)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.predict(16) == pytest.approx(float(x[4]), rel=1e-6)
    assert fit.predict([1, 2]).shape == (2,)


def test_usl_fit_with_noise_stays_close() -> None:
    """2% multiplicative noise moves the fitted peak by little."""
    n, x = _usl_points(500.0, 0.02, 0.0002)
    noisy = x * (1 + 0.02 * np.random.default_rng(7).standard_normal(n.size))
    fit = usl_fit(n, noisy)
    assert fit.r_squared > 0.99
    assert fit.peak_concurrency == pytest.approx(math.sqrt(0.98 / 0.0002), rel=0.25)


def test_usl_fit_linear_scaling_has_no_peak() -> None:
    """Perfectly linear throughput fits sigma = kappa = 0 and an infinite peak."""
    fit = usl_fit([1, 2, 3, 4], [10, 20, 30, 40])
    assert fit.sigma == pytest.approx(0.0, abs=1e-9)
    assert fit.kappa == 0.0
    assert math.isinf(fit.peak_concurrency)


def test_usl_fit_parameters_are_never_negative() -> None:
    """Superlinear points (which the USL cannot explain) still give sigma, kappa >= 0."""
    fit = usl_fit([1, 2, 4, 8], [10, 25, 60, 150])
    assert fit.sigma >= 0 and fit.kappa >= 0


@pytest.mark.parametrize(
    ("n", "x", "message"),
    [
        ([1, 2], [1, 2], "3 distinct"),
        ([1, 2, 3], [1, 2], "same length"),
        ([0, 1, 2], [1, 2, 3], "concurrency"),
        ([1, 2, 3], [1, -2, 3], "throughput"),
    ],
)
def test_usl_fit_refuses_bad_data(n: list[float], x: list[float], message: str) -> None:
    """Too few levels, mismatched lengths or non-positive values are refused."""
    with pytest.raises(ValueError, match=message):
        usl_fit(n, x)


@given(st.floats(0.01, 50.0), st.floats(0.1, 10.0), st.integers(1, 60))
def test_erlang_c_agrees_with_the_factorial_formula_and_stays_in_range(
    lam: float, mu: float, c: int
) -> None:
    """For any stable queue, P(wait) is in [0, 1], matches the textbook formula and Wq >= 0."""
    result = erlang_c(lam, mu, c)
    a = lam / mu
    if a >= c:
        assert not result.is_stable
        return
    top = a**c / math.factorial(c) * c / (c - a)
    expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert 0.0 <= result.prob_wait <= 1.0
    assert result.prob_wait == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert result.mean_wait_s >= 0.0
    assert result.mean_response_s == pytest.approx(result.mean_wait_s + 1 / mu)


@given(st.floats(0.5, 20.0), st.integers(1, 30))
def test_erlang_c_more_servers_never_wait_longer(a: float, c: int) -> None:
    """Adding a server never raises the probability of waiting."""
    if a >= c:
        return
    assert erlang_c(a, 1.0, c + 1).prob_wait <= erlang_c(a, 1.0, c).prob_wait + 1e-15


@settings(max_examples=40, deadline=None)
@given(st.floats(10.0, 1e4), st.floats(0.0, 0.2), st.floats(0.0, 0.01))
def test_usl_fit_recovers_any_exact_curve(lam: float, sigma: float, kappa: float) -> None:
    """Exact USL points are fitted with predictions within 0.1% at every level."""
    n, x = _usl_points(lam, sigma, kappa)
    fit = usl_fit(n, x)
    np.testing.assert_allclose(fit.predict(n), x, rtol=1e-3)

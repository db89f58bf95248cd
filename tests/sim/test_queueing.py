"""simulate_mmc against Erlang C, over independent replications."""

from __future__ import annotations

import pytest

from perflab.errors import SimulationError
from perflab.formulas import erlang_c
from perflab.intervals import replicate
from perflab.sim.queueing import simulate_mmc

# (servers, load, customers per replication, replications): sized so the 99% interval's
# half-width stays near 2.5% of the mean (from the run-to-run spread measured at each
# point); heavier load means longer memory, so more customers. About 3 us per customer.
SLOW = pytest.mark.slow
CASES = [
    (1, 0.5, 50_000, 16),
    pytest.param(1, 0.7, 40_000, 16, marks=SLOW),
    pytest.param(1, 0.9, 250_000, 20, marks=SLOW),
    (3, 0.5, 95_000, 16),
    pytest.param(3, 0.7, 85_000, 16, marks=SLOW),
    pytest.param(3, 0.9, 450_000, 20, marks=SLOW),
]


@pytest.mark.parametrize(("servers", "load", "customers", "reps"), CASES)
def test_mean_wait_matches_erlang_c(servers: int, load: float, customers: int, reps: int) -> None:
    """Erlang C's mean wait lies inside a narrow 99% interval of replicated simulations."""
    service_rate = 1.0
    arrival_rate = load * servers * service_rate
    expected = erlang_c(arrival_rate, service_rate, servers).mean_wait_s
    ci = replicate(
        lambda seed: simulate_mmc(arrival_rate, service_rate, servers, customers, seed).mean_wait_s,
        seeds=range(1000 * servers + int(load * 100), 1000 * servers + int(load * 100) + reps),
    )
    assert ci.contains(expected), f"{expected} outside {ci}"
    assert ci.relative_half_width < 0.03, str(ci)


def test_utilisation_and_prob_wait_near_theory() -> None:
    """Utilisation and the share who wait land near lambda/(c mu) and Erlang C's P(wait)."""
    result = simulate_mmc(2.4, 1.0, 3, 50_000, seed=7)
    theory = erlang_c(2.4, 1.0, 3)
    assert result.utilisation == pytest.approx(theory.utilisation, rel=0.03)
    assert result.prob_wait == pytest.approx(theory.prob_wait, rel=0.05)


def test_same_seed_same_result() -> None:
    """A seed fixes every draw, so a run repeats exactly."""
    assert simulate_mmc(1.5, 1.0, 2, 5_000, seed=3) == simulate_mmc(1.5, 1.0, 2, 5_000, seed=3)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"arrival_rate": 0.0}, "arrival_rate"),
        ({"arrival_rate": -1.0}, "arrival_rate"),
        ({"service_rate": 0.0}, "service_rate"),
        ({"servers": 0}, "servers"),
        ({"customers": 0}, "customers"),
        ({"arrival_rate": 5.0}, "must be < 1"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict[str, float], names: str) -> None:
    """Rates <= 0, servers < 1, no customers or an unstable load are refused by name."""
    args = {"arrival_rate": 1.0, "service_rate": 1.0, "servers": 2, "customers": 10, **kwargs}
    with pytest.raises(SimulationError, match=names):
        simulate_mmc(**args)  # type: ignore[arg-type]

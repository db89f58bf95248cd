"""Workloads and the keyword catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.errors import SimulationError
from perflab.sim.workload import DailyCycle, Ramp, Spike, Workload, load_catalogue


def test_catalogue_has_paraphrases_and_hard_negatives() -> None:
    """The shipped catalogue has hundreds of queries, several per intent, and valid look-alike pairs."""
    cat = load_catalogue()
    assert len(cat) >= 300
    assert all(len(cat.paraphrases(i)) >= 4 for i in cat.intents)
    assert len({q.text for q in cat.queries}) == len(cat)
    for a, b in cat.hard_negatives:
        assert a in cat.intents and b in cat.intents and a != b
    assert ("python-list-comprehension", "python-snake-care") in cat.hard_negatives


def test_zipf_popularity_favours_top_ranks() -> None:
    """With exponent 1 the most popular intent is drawn about twice as often as the second."""
    reqs = Workload(requests=20_000, zipf_s=1.0).build(seed=1)
    counts = sorted(
        np.unique([r.intent for r in reqs], return_counts=True)[1].tolist(), reverse=True
    )
    assert counts[0] / counts[1] == pytest.approx(2.0, rel=0.15)


def test_zipf_zero_is_uniform() -> None:
    """Exponent 0 gives every intent the same probability."""
    probs = Workload(zipf_s=0.0).popularity(10)
    assert np.allclose(probs, 0.1)


def test_open_loop_arrivals_have_the_asked_rate() -> None:
    """Poisson arrivals at 5 per second average about 5 per second."""
    reqs = Workload(requests=5000, mode="open", rate_per_s=5.0).build(seed=2)
    times = np.array([r.intended_start for r in reqs])
    assert np.all(np.diff(times) > 0)
    assert len(times) / times[-1] == pytest.approx(5.0, rel=0.05)


def test_spike_concentrates_arrivals() -> None:
    """During a 5x spike arrivals come about five times as fast."""
    shape = Spike(at_s=100.0, duration_s=100.0, height=5.0)
    reqs = Workload(requests=2000, mode="open", rate_per_s=2.0, shape=shape).build(seed=3)
    times = np.array([r.intended_start for r in reqs])
    inside = np.count_nonzero((times >= 100) & (times < 200))
    before = np.count_nonzero(times < 100)
    assert inside / before == pytest.approx(5.0, rel=0.25)


def test_shapes_factor() -> None:
    """Ramp, spike and daily cycle multiply the base rate as documented."""
    assert Ramp(0.0, 1.0, 100.0).factor(50.0) == pytest.approx(0.5)
    assert Spike(10.0, 5.0, 3.0).factor(12.0) == 3.0
    assert DailyCycle(amplitude=0.5, peak_s=0.0).factor(0.0) == pytest.approx(1.5)
    assert DailyCycle(amplitude=0.5, peak_s=0.0).factor(43_200.0) == pytest.approx(0.5)


def test_workload_draws_do_not_depend_on_services() -> None:
    """The workload has its own random stream: one seed, one list of keywords."""
    assert Workload(requests=50).build(7) == Workload(requests=50).build(7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"requests": 0}, "requests"), ({"zipf_s": -1.0}, "zipf_s"), ({"mode": "batch"}, "mode")],
)
def test_bad_workload_is_refused(kwargs: dict[str, object], name: str) -> None:
    """A bad workload parameter is refused with its name."""
    with pytest.raises(SimulationError, match=name):
        Workload(**kwargs)  # type: ignore[arg-type]

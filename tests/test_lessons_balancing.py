"""Tests for perflab.lessons.balancing: lesson 12b's load balancer on simulated servers."""

from __future__ import annotations

import pytest

from perflab.formulas import littles_law
from perflab.lessons.balancing import POLICIES, Cluster, format_balance, run_balance

SMALL = Cluster(servers=4, utilisation=0.8, requests=2000, seed=1)


@pytest.mark.parametrize("policy", list(POLICIES))
def test_littles_law_holds_for_every_policy(policy: str) -> None:
    """The time-averaged number in the system equals the realised rate times the mean response."""
    run = run_balance(policy, SMALL)
    law = littles_law(arrival_rate=SMALL.requests / run.elapsed_s, time_s=run.mean_s)
    assert run.in_system == pytest.approx(law, rel=1e-9)
    assert len(run.response_s) == SMALL.requests
    assert (run.response_s > 0).all()


def test_a_callable_policy_equals_the_named_one() -> None:
    """A function ``choose(queue_lengths, first, second, i)`` runs like the built-in policy."""

    def two_choices(q: tuple[int, ...], first: int, second: int, i: int) -> int:
        return first if q[first] <= q[second] else second

    mine, named = run_balance(two_choices, SMALL), run_balance("power of two choices", SMALL)
    assert mine.p99_s == named.p99_s
    assert mine.max_queue == named.max_queue


def test_two_choices_beat_random_at_high_load() -> None:
    """At 90 % load, two random choices have a much shorter tail than one."""
    cluster = Cluster(servers=10, utilisation=0.9, requests=5000, seed=3)
    rand, two = run_balance("random", cluster), run_balance("power of two choices", cluster)
    assert rand.p99_s > 2 * two.p99_s
    assert rand.max_queue > two.max_queue


def test_the_draws_name_two_different_servers() -> None:
    """``first`` and ``second`` are always two different, valid servers."""
    pairs: list[tuple[int, int]] = []

    def spy(q: tuple[int, ...], first: int, second: int, i: int) -> int:
        pairs.append((first, second))
        return first

    run_balance(spy, SMALL)
    assert all(a != b and 0 <= a < 4 and 0 <= b < 4 for a, b in pairs)


@pytest.mark.parametrize(
    ("kwargs", "word"), [({"servers": 1}, "servers"), ({"utilisation": 1.0}, "utilisation")]
)
def test_cluster_validates(kwargs: dict[str, float], word: str) -> None:
    """A cluster needs two servers and a load below 100 %."""
    with pytest.raises(ValueError, match=word):
        Cluster(**kwargs)  # type: ignore[arg-type]


def test_format_balance_lists_the_policies() -> None:
    """One header line and one line per run."""
    text = format_balance({"random": run_balance("random", SMALL)})
    assert len(text.splitlines()) == 2
    assert "P99 ms" in text

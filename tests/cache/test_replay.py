"""Replaying the lookup log at another threshold, and warming a cache with simulated traffic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.cache import LoggedLookup, MemoryStore, SemanticCache
from perflab.cache.replay import as_recorded, false_hits_at, is_audited, replay
from perflab.cache.warm import SIMULATED_PREFIX, placeholder_answer, warm_cache
from perflab.clock import FakeClock
from perflab.embedders import HashingEmbedder

LOG = [
    LoggedLookup("a1", None, 0.8, False, "a", None),  # empty cache: audited, never a hit
    LoggedLookup("a2", 0.95, 0.8, True, "a", "a"),  # right hit
    LoggedLookup("b1", 0.75, 0.8, False, "b", "a"),  # a false hit below 0.8
    LoggedLookup("b2", 0.72, 0.8, False, "b", "b"),  # a right hit below 0.8
    LoggedLookup("c1", 0.65, 0.8, False, None, "a"),  # intent unknown: not audited
    LoggedLookup("c2", 0.85, 0.8, True, "c", None),  # entry without intent: not audited
]


def test_replay_at_the_logged_threshold_matches_the_record() -> None:
    """At the threshold the log was made with, replayed and recorded figures agree."""
    was, now = as_recorded(LOG), replay(LOG, 0.8)
    assert (was.hits, was.false_hits, was.audited) == (now.hits, now.false_hits, now.audited)
    assert (was.replayed, was.threshold, was.thresholds) == (False, 0.8, (0.8,))
    assert (now.lookups, now.hits, now.audited, now.false_hits) == (6, 2, 4, 0)


@pytest.mark.parametrize(
    ("threshold", "hits", "false_hits"),
    [(0.9, 1, 0), (0.8, 2, 0), (0.74, 3, 1), (0.7, 4, 1), (0.6, 5, 1)],
)
def test_replay_redecides_each_lookup(threshold: float, hits: int, false_hits: int) -> None:
    """A lookup hits at t when its best similarity is >= t; a false hit needs both intents."""
    r = replay(LOG, threshold)
    assert (r.hits, r.false_hits, r.audited) == (hits, false_hits, 4)
    assert r.hit_rate == hits / 6 and r.audited_false_rate == false_hits / 4
    assert [x.query for x in false_hits_at(LOG, threshold)] == ["b1"] * false_hits


def test_audit_needs_both_intents() -> None:
    """Only lookups with a known intent whose best entry (if any) has one are audited."""
    assert [is_audited(r) for r in LOG] == [True, True, True, True, False, False]


def test_empty_log_and_mixed_thresholds() -> None:
    """An empty log gives zero rates; a log of several thresholds has no single threshold."""
    empty = replay([], 0.8)
    assert (empty.lookups, empty.hit_rate, empty.audited_false_rate) == (0, 0.0, None)
    assert empty.false_hits_per_hit == 0.0
    mixed = as_recorded([LOG[0], LoggedLookup("x", 0.5, 0.7, False)])
    assert (mixed.threshold, mixed.thresholds) == (None, (0.7, 0.8))
    assert mixed.as_dict()["thresholds"] == [0.7, 0.8]
    with pytest.raises(ValueError, match="within -1..1"):
        replay(LOG, 1.5)


@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(-1, 1)),
            st.sampled_from(["a", "b", None]),
            st.sampled_from(["a", "b", None]),
        ),
        max_size=30,
    ),
    st.floats(-1, 1),
    st.floats(-1, 1),
)
def test_lowering_the_threshold_never_removes_hits_or_false_hits(
    rows: list[tuple[float | None, str | None, str | None]], t1: float, t2: float
) -> None:
    """At a lower threshold, replayed hits and false hits can only grow."""
    log = [LoggedLookup(f"q{i}", s, 0.8, False, a, b) for i, (s, a, b) in enumerate(rows)]
    low, high = replay(log, min(t1, t2)), replay(log, max(t1, t2))
    assert low.hits >= high.hits and low.false_hits >= high.false_hits
    assert low.audited == high.audited


def test_warm_cache_stores_labelled_placeholders_on_misses() -> None:
    """Every miss stores one placeholder answer that says it is simulated; hits store nothing."""
    cache = SemanticCache(HashingEmbedder(dim=64), MemoryStore(), clock=FakeClock())
    requests = [("apple pie recipe", "pie"), ("apple pie recipe", "pie"), ("jaguar car", "car")]
    calls: list[int] = []
    summary = warm_cache(cache, requests, progress=calls.append)
    assert (summary.requests, summary.hits, summary.misses, summary.distinct_queries) == (
        3,
        1,
        2,
        2,
    )
    assert calls == [1, 1, 1] and summary.hit_rate == pytest.approx(1 / 3)
    assert cache.stats().entries == 2 and len(cache.lookup_log()) == 3
    value = cache.lookup("apple pie recipe").value
    assert value == placeholder_answer("apple pie recipe", "pie")
    assert value is not None and value.startswith(SIMULATED_PREFIX) and "no API" in value


def test_warm_cache_counts_false_hits() -> None:
    """A hit on another intent's entry is counted as a false hit."""
    cache = SemanticCache(HashingEmbedder(dim=64), MemoryStore(), clock=FakeClock())
    summary = warm_cache(cache, [("python list sort", "code"), ("python list sort!", "snake")])
    assert (summary.hits, summary.false_hits) == (1, 1)
    assert warm_cache(cache, []).requests == 0


def test_replay_names_both_false_hit_shares() -> None:
    """audited_false_rate is false hits / audited lookups; false_hits_per_hit is false hits / hits."""
    log = [
        LoggedLookup("a", 0.95, 0.8, True, "x", "y"),  # an audited false hit
        LoggedLookup("b", 0.90, 0.8, True, "x", "x"),  # an audited true hit
        LoggedLookup("c", 0.50, 0.8, False, "x", "x"),  # an audited miss
        LoggedLookup("d", 0.90, 0.8, True),  # a hit nobody can judge
    ]
    r = replay(log, 0.8)
    assert (r.hits, r.audited, r.false_hits) == (3, 3, 1)
    assert r.audited_false_rate == pytest.approx(1 / 3)
    assert r.false_hits_per_hit == pytest.approx(1 / 3)
    assert r.false_hit_rate == r.audited_false_rate  # the deprecated alias keeps its old value
    d = r.as_dict()
    assert (d["audited_false_rate"], d["false_hits_per_hit"]) == (1 / 3, 1 / 3)
    assert d["false_hit_rate"] == d["audited_false_rate"]  # the deprecated key, too
    assert replay(log[2:3], 0.8).false_hits_per_hit == 0.0

"""SemanticCache: hits and misses, namespacing, TTL, false hits, stats, cache-first helpers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.cache import (
    Lookup,
    MemoryStore,
    SemanticCache,
    SQLiteStore,
    VectorStore,
)
from perflab.cache.semantic import DAY_S
from perflab.clock import FakeClock
from perflab.embedders import HashingEmbedder
from tests.cache.conftest import unit


class SpyStore:
    """A MemoryStore that records which methods were called."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr):

            def spy(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attr(*args, **kwargs)

            return spy
        return attr


def make(
    store: VectorStore | None = None, clock: FakeClock | None = None, **kw: Any
) -> SemanticCache:
    return SemanticCache(
        HashingEmbedder(dim=64), store or MemoryStore(), clock=clock or FakeClock(), **kw
    )


def test_near_duplicate_hits_and_unrelated_misses() -> None:
    """A near-identical query is served the stored value; an unrelated one is not."""
    cache = make(threshold=0.8)
    cache.put("how to sort a python list", "use sorted()")
    hit = cache.lookup("How to sort a Python list?")
    miss = cache.lookup("best pizza in naples")
    assert (
        hit.hit
        and hit.value == "use sorted()"
        and hit.similarity is not None
        and hit.similarity >= 0.8
    )
    assert not miss.hit and miss.value is None and miss.matched_query == "how to sort a python list"


def test_lookup_on_empty_cache_is_a_miss_without_neighbour() -> None:
    """With nothing stored, a lookup misses with no similarity and no entry."""
    result = make().lookup("anything")
    assert (result.hit, result.similarity, result.entry_id, result.value) == (
        False,
        None,
        None,
        None,
    )


def test_miss_never_reads_the_value() -> None:
    """A below-threshold lookup calls search but never get (the value is not read)."""
    spy = SpyStore()
    cache = make(spy, threshold=0.99)  # type: ignore[arg-type]
    cache.put("python snake care", "feed it mice")
    spy.calls.clear()
    result = cache.lookup("python list care")
    assert not result.hit and result.similarity is not None
    assert "search" in spy.calls and "get" not in spy.calls
    cache.threshold = 0.1
    assert cache.lookup("python list care").hit and "get" in spy.calls


def test_sqlite_search_sql_does_not_select_the_value(tmp_path: Path) -> None:
    """The SQLite store's lookup SQL on a miss never mentions the value column."""
    store = SQLiteStore(tmp_path / "c.sqlite")
    cache = make(store, threshold=0.99)
    cache.put("python snake care", "feed it mice")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert not cache.lookup("python list care").hit
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and not any("value" in s.split("FROM")[0] for s in selects)
    store.close()


def test_entries_are_namespaced_by_embedder() -> None:
    """A cache with another embedder name never sees (or clears) the first one's entries."""
    store = MemoryStore()
    a = SemanticCache(HashingEmbedder(dim=64), store, clock=FakeClock())
    b = SemanticCache(HashingEmbedder(dim=64, char_ngrams=(2, 4)), store, clock=FakeClock())
    a.put("same text", "from a")
    assert a.lookup("same text").hit and not b.lookup("same text").hit
    assert b.lookup("same text").similarity is None
    assert b.clear() == 0 and a.stats().entries == 1
    assert a.clear(all_namespaces=True) == 1


def test_fixed_ttl_expires_from_creation_even_when_hit(clock: FakeClock) -> None:
    """With a fixed TTL, hits do not extend life: stale at created + ttl, never served after."""
    cache = make(clock=clock, ttl_days=1.0)
    cache.put("q", "v")
    clock.advance(0.9 * DAY_S)
    assert cache.lookup("q").hit
    clock.advance(0.1 * DAY_S)
    assert not cache.lookup("q").hit
    assert cache.stats().stale_entries == 1 and cache.stats().entries == 1
    assert cache.cleanup() == 1 and cache.stats().entries == 0


def test_sliding_ttl_renews_on_hit(clock: FakeClock) -> None:
    """With sliding TTL, each hit restarts the entry's lifetime."""
    cache = make(clock=clock, ttl_days=1.0, sliding_ttl=True)
    cache.put("q", "v")
    for _ in range(3):
        clock.advance(0.9 * DAY_S)
        assert cache.lookup("q").hit
    clock.advance(1.0 * DAY_S)
    assert not cache.lookup("q").hit


def test_stale_best_match_gives_way_to_fresh_entry(clock: FakeClock) -> None:
    """A stale exact match is skipped; a fresh, less similar entry can still hit."""
    cache = make(clock=clock, threshold=0.5)
    cache.put("how to sort a python list", "old", ttl_days=1.0)
    clock.advance(0.5 * DAY_S)
    cache.put("how to sort a python list quickly", "fresh", ttl_days=2.0)
    clock.advance(0.6 * DAY_S)
    assert cache.lookup("how to sort a python list").value == "fresh"


def test_false_hits_are_counted_when_intents_are_given() -> None:
    """A hit on an entry of another intent is a false hit; precision = 1 - false/audited."""
    cache = make(threshold=0.3)
    cache.put("python snake care", "feed it mice", intent="pets")
    cache.put("unlabelled entry about cats", "cats", intent=None)
    wrong = cache.lookup("python list care", intent="code")
    right = cache.lookup("python snake care tips", intent="pets")
    unaudited = cache.lookup("python snake care")
    assert wrong.hit and wrong.false_hit is True
    assert right.hit and right.false_hit is False and unaudited.false_hit is None
    stats = cache.stats()
    assert (stats.hits, stats.audited_hits, stats.false_hits, stats.precision) == (3, 2, 1, 0.5)


def test_stats_estimate_savings_net_of_embedding() -> None:
    """Savings = hits x api cost/time - lookups x embedding cost/time."""
    cache = make(api_cost_usd=0.04, api_time_s=2.0, embed_cost_usd=0.001, embed_time_s=0.1)
    cache.put("q", "v")
    cache.lookup("q")
    cache.lookup("q")
    cache.lookup("something else entirely")
    s = cache.stats()
    assert (s.lookups, s.hits, s.misses, s.puts) == (3, 2, 1, 1)
    assert s.hit_rate == pytest.approx(2 / 3)
    assert s.est_cost_saved_usd == pytest.approx(2 * 0.04 - 3 * 0.001)
    assert s.est_time_saved_s == pytest.approx(2 * 2.0 - 3 * 0.1)
    assert s.bytes > 0 and s.precision is None and s.as_dict()["namespace"] == "hashing/v1-64"


def test_pop_stats_resets_counters_but_keeps_entries() -> None:
    """pop_stats returns the counters and zeroes them; entries stay."""
    cache = make()
    cache.put("q", "v")
    cache.lookup("q")
    assert cache.pop_stats().hits == 1
    after = cache.stats()
    assert (after.lookups, after.hits, after.entries) == (0, 0, 1)


def test_counters_persist_across_processes(tmp_path: Path) -> None:
    """Counters written by one SQLiteStore are read by a fresh one on the same file."""
    path = tmp_path / "cache.sqlite"
    with make(SQLiteStore(path)) as cache:
        cache.put("q", "v")
        cache.lookup("q")
        cache.lookup("zzz unrelated")
    again = make(SQLiteStore(path))
    s = again.stats()
    assert (s.lookups, s.hits, s.misses, s.entries) == (2, 1, 1, 1)
    again.close()


def test_get_or_compute_calls_fn_only_on_a_miss() -> None:
    """The cache-first helper calls the function once, then serves the stored value."""
    cache = make()
    calls: list[str] = []

    def fetch() -> str:
        calls.append("x")
        return "answer"

    assert cache.get_or_compute("python list sort", fetch) == "answer"
    assert cache.get_or_compute("Python list sort", fetch) == "answer"
    assert calls == ["x"] and cache.stats().puts == 1


def test_aget_or_compute_coalesces_concurrent_misses() -> None:
    """Concurrent async misses on the same text share one upstream call."""
    cache = make()
    calls = 0

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return "answer"

    async def main() -> list[str]:
        return list(await asyncio.gather(*(cache.aget_or_compute("q", fetch) for _ in range(5))))

    assert asyncio.run(main()) == ["answer"] * 5
    assert calls == 1 and cache.stats().entries == 1


def test_aget_or_compute_propagates_errors_to_waiters() -> None:
    """If the upstream call fails, every waiter sees the error and nothing is stored."""
    cache = make()

    async def fail() -> str:
        await asyncio.sleep(0)
        raise RuntimeError("upstream down")

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                *(cache.aget_or_compute("q", fail) for _ in range(3)), return_exceptions=True
            )
        )

    results = asyncio.run(main())
    assert all(isinstance(r, RuntimeError) for r in results) and cache.stats().entries == 0


def test_aget_or_compute_waiter_survives_the_fetchers_cancellation() -> None:
    """A waiter whose fetcher is cancelled fetches the value itself instead of being cancelled."""
    cache = make()
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(3600)
        return "never"

    async def fetch() -> str:
        return "answer"

    async def main() -> str:
        owner = asyncio.create_task(cache.aget_or_compute("q", slow))
        await started.wait()
        waiter = asyncio.create_task(cache.aget_or_compute("q", fetch))
        await asyncio.sleep(0)  # the waiter joins the owner's fetch
        owner.cancel()
        return await waiter

    assert asyncio.run(main()) == "answer"
    assert cache.stats().entries == 1


@settings(max_examples=40, deadline=None)
@given(
    stored=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    query=st.lists(st.floats(-1, 1), min_size=3, max_size=3),
    threshold=st.floats(-1, 1),
)
def test_hit_iff_similarity_reaches_threshold(
    stored: list[float], query: list[float], threshold: float
) -> None:
    """A lookup hits exactly when the best similarity is >= the threshold."""
    s, q = np.asarray(stored, np.float32), np.asarray(query, np.float32)
    if np.linalg.norm(s) < 1e-3 or np.linalg.norm(q) < 1e-3:
        return
    cache = SemanticCache(
        HashingEmbedder(dim=3), MemoryStore(), threshold=threshold, clock=FakeClock()
    )
    cache.put("stored", "v", vector=unit(*s))
    result: Lookup = cache.lookup("query", vector=unit(*q))
    assert result.similarity is not None
    assert result.hit == (result.similarity >= threshold)
    assert (result.value is not None) == result.hit


@pytest.mark.parametrize("bad", [1.5, -1.01])
def test_threshold_outside_cosine_range_is_refused(bad: float) -> None:
    """A threshold outside -1..1 raises ValueError naming the value."""
    with pytest.raises(ValueError, match=str(bad)):
        make(threshold=bad)


def test_repr_shows_live_state() -> None:
    """repr shows namespace, threshold, TTL and this session's counts."""
    cache = make(threshold=0.75, ttl_days=30, sliding_ttl=True)
    cache.put("q", "v")
    cache.lookup("q")
    assert repr(cache) == (
        "<SemanticCache hashing/v1-64 threshold=0.75 ttl=30d sliding [lookups 1, hits 1, puts 1]>"
    )


def test_nearest_lists_neighbours_without_values() -> None:
    """nearest returns the k closest entries best first (for `perflab cache query`)."""
    cache = make()
    for text in ("python list sort", "python snake care", "pizza dough"):
        cache.put(text, "v")
    found = cache.nearest("python list sorting", k=2)
    assert [n.query for n in found] == ["python list sort", "python snake care"]

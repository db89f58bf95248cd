"""One behaviour suite that every VectorStore must pass (see STORE_FACTORIES in conftest)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from perflab.cache import NewEntry, VectorStore
from tests.cache.conftest import unit

NS = "test/v1-3"


def _add(
    store: VectorStore,
    query: str,
    vector: np.ndarray,
    *,
    value: str = "v",
    expires_at: float = 100.0,
    namespace: str = NS,
    intent: str | None = None,
) -> int:
    return store.add(
        namespace, query, vector, value, intent=intent, created_at=0.0, expires_at=expires_at
    )


def test_store_satisfies_the_protocol(store: VectorStore) -> None:
    """Every store is a runtime-checkable VectorStore."""
    assert isinstance(store, VectorStore)


def test_empty_store_finds_nothing(store: VectorStore) -> None:
    """Searching an empty namespace returns no neighbours and counts zero."""
    assert store.search(NS, unit(1, 0, 0)) == []
    assert store.count() == 0 and store.count(NS) == 0 and store.namespaces() == {}


def test_search_returns_ids_and_cosine_best_first(store: VectorStore) -> None:
    """Top-k results come best first with their cosine similarity and metadata."""
    a = _add(store, "a", unit(1, 0, 0), intent="x")
    b = _add(store, "b", unit(1, 1, 0))
    c = _add(store, "c", unit(0, 0, 1))
    hits = store.search(NS, unit(1, 0, 0), k=3)
    assert [h.id for h in hits] == [a, b, c]
    assert [round(h.similarity, 5) for h in hits] == [1.0, round(1 / math.sqrt(2), 5), 0.0]
    assert (hits[0].query, hits[0].intent, hits[0].expires_at) == ("a", "x", 100.0)
    assert len(store.search(NS, unit(1, 0, 0), k=2)) == 2


def test_get_returns_the_value(store: VectorStore) -> None:
    """get(id) returns the stored entry, value and vector included; unknown ids give None."""
    entry_id = _add(store, "q", unit(0, 1, 0), value="the answer", intent="i")
    entry = store.get(entry_id)
    assert entry is not None
    assert (entry.query, entry.value, entry.intent, entry.namespace) == ("q", "the answer", "i", NS)
    np.testing.assert_allclose(entry.vector, unit(0, 1, 0))
    assert store.get(entry_id + 1000) is None


def test_namespaces_are_isolated(store: VectorStore) -> None:
    """A search sees only its namespace, even with vectors of another length elsewhere."""
    _add(store, "a", unit(1, 0, 0))
    other = store.add("other/v1-2", "b", unit(1, 0), "w", created_at=0.0, expires_at=9.0)
    assert [h.id for h in store.search("other/v1-2", unit(1, 0))] == [other]
    assert store.namespaces() == {NS: 1, "other/v1-2": 1}
    assert store.count("other/v1-2") == 1


def test_wrong_vector_length_is_refused(store: VectorStore) -> None:
    """A vector of another length than the namespace's raises ValueError and stores nothing."""
    _add(store, "a", unit(1, 0, 0))
    with pytest.raises(ValueError, match="dimensions"):
        _add(store, "b", unit(1, 0))
    assert store.count() == 1


def test_search_with_now_skips_stale_entries(store: VectorStore) -> None:
    """With now, stale entries (expires_at <= now) are never returned, so the next best wins."""
    _add(store, "close", unit(1, 0, 0), expires_at=10.0)
    far = _add(store, "far", unit(1, 1, 0), expires_at=20.0)
    assert store.search(NS, unit(1, 0, 0), now=9.99)[0].query == "close"
    assert [h.id for h in store.search(NS, unit(1, 0, 0), now=10.0)] == [far]
    assert store.search(NS, unit(1, 0, 0), now=20.0) == []
    assert len(store.search(NS, unit(1, 0, 0))) == 1


def test_touch_renews_expiry(store: VectorStore) -> None:
    """touch moves an entry's expiry, and search honours it at once."""
    entry_id = _add(store, "a", unit(1, 0, 0), expires_at=10.0)
    assert store.touch(entry_id, 50.0) is True
    assert store.search(NS, unit(1, 0, 0), now=30.0)[0].expires_at == 50.0
    assert store.touch(entry_id + 999, 50.0) is False


def test_delete_expired_and_count_stale(store: VectorStore) -> None:
    """count_stale counts entries stale at now; delete_expired removes exactly those."""
    _add(store, "old", unit(1, 0, 0), expires_at=5.0)
    keep = _add(store, "new", unit(0, 1, 0), expires_at=50.0)
    store.add("ns2", "old2", unit(1, 0), "v", created_at=0.0, expires_at=5.0)
    assert store.count_stale(10.0) == 2 and store.count_stale(10.0, NS) == 1
    assert store.delete_expired(10.0) == 2
    assert store.count() == 1 and store.get(keep) is not None
    assert [h.id for h in store.search(NS, unit(1, 0, 0), k=5)] == [keep]


def test_clear_one_namespace_or_all(store: VectorStore) -> None:
    """clear(namespace) empties that namespace only; clear() empties everything."""
    _add(store, "a", unit(1, 0, 0))
    store.add("ns2", "b", unit(1, 0), "v", created_at=0.0, expires_at=5.0)
    assert store.clear(NS) == 1
    assert store.search(NS, unit(1, 0, 0)) == [] and store.count() == 1
    assert store.clear() == 1 and store.count() == 0


def test_add_many_is_all_or_nothing(store: VectorStore) -> None:
    """A batch with one bad entry stores none of it and keeps earlier entries."""
    first = _add(store, "keep", unit(1, 0, 0))
    bad = [NewEntry("ok", unit(0, 1, 0), "v"), NewEntry("bad", unit(0, 0, 1), 42)]  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be str"):
        store.add_many(NS, bad)
    assert store.count() == 1 and store.get(first) is not None
    ids = store.add_many(NS, [NewEntry("x", unit(0, 1, 0), "v"), NewEntry("y", unit(0, 0, 1), "w")])
    assert len(set(ids)) == 2 and store.count() == 3


def test_counters_accumulate_per_namespace(store: VectorStore) -> None:
    """incr adds to a namespace's counters; reset_counters zeroes them."""
    store.incr(NS, {"lookups": 1, "hits": 1})
    store.incr(NS, {"lookups": 1, "misses": 1})
    store.incr("ns2", {"lookups": 5})
    assert store.counters(NS) == {"lookups": 2, "hits": 1, "misses": 1}
    store.reset_counters(NS)
    assert store.counters(NS) == {} and store.counters("ns2") == {"lookups": 5}


def test_size_bytes_grows_with_entries(store: VectorStore) -> None:
    """size_bytes is positive once something is stored and grows with more."""
    _add(store, "a", unit(1, 0, 0), value="x" * 10)
    before = store.size_bytes()
    store.add_many(NS, [NewEntry(f"q{i}", unit(1, i, 0), "y" * 5000) for i in range(20)])
    assert 0 < before < store.size_bytes()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    vectors=st.lists(st.lists(st.floats(-1, 1), min_size=4, max_size=4), min_size=1, max_size=25),
    query=st.lists(st.floats(-1, 1), min_size=4, max_size=4),
    k=st.integers(1, 30),
)
def test_search_matches_brute_force(
    store: VectorStore, vectors: list[list[float]], query: list[float], k: int
) -> None:
    """Top-k similarities equal a brute-force sort of all cosine similarities."""
    matrix = np.asarray(vectors, dtype=np.float32)
    q = np.asarray(query, dtype=np.float32)
    assume(np.linalg.norm(matrix, axis=1).min() > 1e-3 and np.linalg.norm(q) > 1e-3)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    q /= np.linalg.norm(q)
    ns = f"prop/{store.count()}"  # a fresh namespace per example
    store.add_many(ns, [NewEntry(str(i), row, "v") for i, row in enumerate(matrix)])
    got = [h.similarity for h in store.search(ns, q, k=k)]
    expected = sorted((matrix @ q).tolist(), reverse=True)[:k]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_suite_covers_every_store() -> None:
    """The suite is registered for the memory, SQLite, PostgreSQL and Supabase stores."""
    from tests.cache.conftest import STORE_FACTORIES

    assert {"memory", "sqlite", "postgres", "postgres-hnsw", "supabase"} <= set(STORE_FACTORIES)


def test_a_closed_store_says_so(store: VectorStore) -> None:
    """Using a store after close() raises RuntimeError naming the store and 'closed'."""
    store.close()
    with pytest.raises(RuntimeError, match=rf"this {type(store).__name__}.* is closed"):
        store.count()
    store.close()  # closing twice is fine

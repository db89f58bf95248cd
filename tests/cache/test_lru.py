"""EmbeddingCache: an exact LRU in front of an embedder."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.cache import EmbeddingCache
from perflab.embedders import Embedder, HashingEmbedder


class CountingEmbedder:
    """Hashing vectors, counting which texts reach the model."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=16)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.seen: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.append(list(texts))
        return self.inner.embed(texts)


def test_is_an_embedder_with_the_inner_name() -> None:
    """The LRU cache is itself an Embedder and keeps the inner name (same vectors)."""
    cache = EmbeddingCache(HashingEmbedder(dim=16), max_size=4)
    assert isinstance(cache, Embedder) and cache.name == "hashing/v1-16" and cache.dim == 16


def test_repeats_are_served_without_calling_the_model() -> None:
    """A batch sends each distinct unseen text once; later calls hit."""
    inner = CountingEmbedder()
    cache = EmbeddingCache(inner, max_size=10)
    first = cache.embed(["a", "b", "a"])
    second = cache.embed(["b", "c"])
    assert inner.seen == [["a", "b"], ["c"]]
    np.testing.assert_array_equal(first, inner.inner.embed(["a", "b", "a"]))
    np.testing.assert_array_equal(second, inner.inner.embed(["b", "c"]))
    s = cache.stats()
    assert (s.hits, s.misses, s.size, s.hit_rate) == (2, 3, 3, 0.4)


def test_least_recently_used_is_evicted_first() -> None:
    """At capacity, the entry touched longest ago goes; a hit refreshes an entry."""
    cache = EmbeddingCache(CountingEmbedder(), max_size=2)
    cache.embed(["a"])
    cache.embed(["b"])
    cache.embed(["a"])  # a is now the most recent
    cache.embed(["c"])  # evicts b
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.stats().evictions == 1


def test_size_zero_caches_nothing() -> None:
    """max_size=0 passes every call through."""
    inner = CountingEmbedder()
    cache = EmbeddingCache(inner, max_size=0)
    cache.embed(["a"])
    cache.embed(["a"])
    assert len(inner.seen) == 2 and len(cache) == 0


def test_negative_size_is_refused() -> None:
    """A negative max_size raises ValueError with the value."""
    with pytest.raises(ValueError, match=r"max_size \(-1\)"):
        EmbeddingCache(HashingEmbedder(), max_size=-1)


def test_returned_arrays_are_copies() -> None:
    """Mutating a returned matrix does not corrupt the cache."""
    cache = EmbeddingCache(HashingEmbedder(dim=8), max_size=4)
    out = cache.embed(["a"])
    out[:] = 0
    assert np.linalg.norm(cache.embed(["a"])[0]) == pytest.approx(1.0)


def test_aembed_uses_the_cache_too() -> None:
    """The async path shares entries and counters with the sync one."""
    cache = EmbeddingCache(HashingEmbedder(dim=8), max_size=4)
    cache.embed(["a"])
    out = asyncio.run(cache.aembed(["a", "b"]))
    assert out.shape == (2, 8) and cache.stats().hits == 1 and cache.stats().misses == 2


def test_pop_stats_resets_counters_and_repr_shows_state() -> None:
    """pop_stats zeroes counters but keeps entries; repr shows size and counts."""
    cache = EmbeddingCache(HashingEmbedder(dim=8), max_size=3)
    cache.embed(["a", "a"])
    assert cache.pop_stats().hits == 1
    assert repr(cache) == "<EmbeddingCache hashing/v1-8 [size 1/3, hits 0, misses 0]>"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdefg"), max_size=6), max_size=12), st.integers(0, 4))
def test_lru_matches_a_reference_model(batches: list[list[str]], max_size: int) -> None:
    """Contents and counters match a plain-list LRU model, and size never exceeds max_size."""
    cache = EmbeddingCache(HashingEmbedder(dim=8), max_size=max_size)
    model: list[str] = []
    hits = misses = 0
    for batch in batches:
        missing: list[str] = []
        for text in batch:
            if text in model:
                model.remove(text)
                model.append(text)
                hits += 1
            elif text in missing:
                hits += 1
            else:
                missing.append(text)
                misses += 1
        for text in missing:
            if max_size:
                model.append(text)
                del model[: max(0, len(model) - max_size)]
        cache.embed(batch)
        assert len(cache) <= max_size
    assert sorted(model) == sorted(t for t in "abcdefg" if t in cache)
    assert (cache.stats().hits, cache.stats().misses) == (hits, misses)

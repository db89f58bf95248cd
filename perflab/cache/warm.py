"""Warm a cache with simulated traffic: lookups, and placeholder answers for the misses.

``perflab cache warm`` feeds a seeded workload through the configured cache, the way an
application would (cache-first: look up, and on a miss fetch and store), except that
nothing is fetched: a miss stores a placeholder answer that says it is simulated. The
point is the lookup log and the counters it leaves behind, so ``perflab cache stats``
has real decisions, made by the real embedder and store, to replay at another
threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from perflab.cache.semantic import SemanticCache
from perflab.metrics import hit_rate

__all__ = ["WarmSummary", "placeholder_answer", "warm_cache"]

SIMULATED_PREFIX = "[simulated by perflab cache warm"


@dataclass(frozen=True)
class WarmSummary:
    """What a warm-up did.

    Attributes:
        namespace: the embedder's name (where the entries went).
        threshold: the threshold the lookups were decided with.
        requests: lookups made.
        hits: lookups served from the cache.
        misses: lookups that missed; each stored one placeholder answer.
        false_hits: hits on an entry of another intent.
        distinct_queries: distinct texts among the requests (each embedded once).
    """

    namespace: str
    threshold: float
    requests: int
    hits: int
    misses: int
    false_hits: int
    distinct_queries: int

    @property
    def hit_rate(self) -> float:
        """``hits / requests`` (0 with no requests)."""
        return hit_rate(self.hits, self.requests)

    def as_dict(self) -> dict[str, Any]:
        """The fields, and the hit rate, as a plain dict."""
        return {**asdict(self), "hit_rate": self.hit_rate}


def placeholder_answer(query: str, intent: str | None) -> str:
    """The answer a warm-up stores on a miss: labelled simulated, never a real answer."""
    about = f" (intent {intent})" if intent else ""
    return f"{SIMULATED_PREFIX}: placeholder answer to {query!r}{about}; no API was called]"


def warm_cache(
    cache: SemanticCache,
    requests: Sequence[tuple[str, str | None]],
    *,
    progress: Callable[[int], object] | None = None,
) -> WarmSummary:
    """Look up each (query, intent) in turn; on a miss store a placeholder answer.

    Each distinct text is embedded once, in one batch, before the lookups: the
    decisions are the same as one embedding per lookup, only faster.

    Args:
        cache: the cache to warm (its embedder, store and threshold decide).
        requests: (query, true intent) pairs, in arrival order.
        progress: called with 1 after each request (a progress bar's ``update``).
    """
    texts = list(dict.fromkeys(q for q, _ in requests))
    vectors = (
        cache.embedder.embed(texts) if texts else np.zeros((0, cache.embedder.dim), np.float32)
    )
    row = {text: i for i, text in enumerate(texts)}
    hits = false_hits = 0
    for query, intent in requests:
        result = cache.lookup(query, vector=vectors[row[query]], intent=intent)
        if result.hit:
            hits += 1
            false_hits += bool(result.false_hit)
        else:
            cache.put(query, placeholder_answer(query, intent), vector=result.vector, intent=intent)
        if progress is not None:
            progress(1)
    return WarmSummary(
        namespace=cache.namespace,
        threshold=cache.threshold,
        requests=len(requests),
        hits=hits,
        misses=len(requests) - hits,
        false_hits=false_hits,
        distinct_queries=len(texts),
    )

"""``EmbeddingCache``: an exact LRU cache in front of an embedder (EMBEDDING_CACHE_SIZE).

The semantic cache answers *similar* questions; this one answers the *same text*
again without calling the model. It matters when embedding is remote (an HTTP round
trip and a bill per call) and repeated texts are common: the realtime scenario sets
EMBEDDING_CACHE_SIZE=5000. It is itself an ``Embedder`` with the inner one's name,
so it drops in anywhere.

Least recently used goes first: an ``OrderedDict`` moves a text to the end on every
hit and evicts from the front, both O(1).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from perflab.embedders.base import Embedder, FloatArray
from perflab.metrics import hit_rate

__all__ = ["EmbeddingCache", "EmbeddingCacheStats"]


@dataclass(frozen=True)
class EmbeddingCacheStats:
    """Counters of an ``EmbeddingCache`` (since creation or the last ``pop_stats``).

    Attributes:
        hits: texts answered from the cache (a repeat inside one batch counts as a hit).
        misses: distinct texts sent to the embedder.
        evictions: entries dropped to stay within ``max_size``.
        size: entries held now.
        max_size: capacity.
        hit_rate: hits / (hits + misses), 0.0 before any call.
    """

    hits: int
    misses: int
    evictions: int
    size: int
    max_size: int
    hit_rate: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


class EmbeddingCache:
    """Exact LRU cache of text -> vector around another embedder.

    Args:
        embedder: the embedder to call on a miss.
        max_size: how many texts to keep; 0 keeps none (every call goes through).

    >>> from perflab.embedders import HashingEmbedder
    >>> cache = EmbeddingCache(HashingEmbedder(dim=8), max_size=2)
    >>> _ = cache.embed(["a", "b", "a"])
    >>> cache.stats().hits, cache.stats().misses
    (1, 2)
    """

    def __init__(self, embedder: Embedder, max_size: int = 1000) -> None:
        if max_size < 0:
            raise ValueError(f"max_size ({max_size}) must be >= 0")
        self.embedder = embedder
        self.max_size = max_size
        self._data: OrderedDict[str, FloatArray] = OrderedDict()
        self._lock = threading.Lock()  # the model call runs outside it
        self._hits = self._misses = self._evictions = 0

    @property
    def name(self) -> str:
        """The inner embedder's name: cached vectors are its vectors."""
        return self.embedder.name

    @property
    def dim(self) -> int:
        """The inner embedder's vector length."""
        return self.embedder.dim

    def _split(self, texts: Sequence[str], out: FloatArray) -> dict[str, list[int]]:
        """Fill ``out`` from the cache; return the missing texts and the rows they go to."""
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                vector = self._data.get(text)
                if vector is not None:
                    self._data.move_to_end(text)
                    out[row] = vector
                    self._hits += 1
                elif text in missing:
                    missing[text].append(row)
                    self._hits += 1  # computed once for the whole batch
                else:
                    missing[text] = [row]
                    self._misses += 1
        return missing

    def _store(self, missing: dict[str, list[int]], vectors: FloatArray, out: FloatArray) -> None:
        with self._lock:
            for (text, rows), vector in zip(missing.items(), vectors):
                out[rows] = vector
                if self.max_size == 0:
                    continue
                self._data[text] = vector.copy()
                self._data.move_to_end(text)
                while len(self._data) > self.max_size:
                    self._data.popitem(last=False)
                    self._evictions += 1

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts``, calling the inner embedder once for all the misses."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing = self._split(texts, out)
        if missing:
            self._store(missing, self.embedder.embed(list(missing)), out)
        return out

    async def aembed(self, texts: Sequence[str]) -> FloatArray:
        """Like ``embed``; awaits the inner ``aembed`` when it has one."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing = self._split(texts, out)
        if missing:
            inner = getattr(self.embedder, "aembed", None)
            vectors = (
                await inner(list(missing))
                if inner is not None
                else self.embedder.embed(list(missing))
            )
            self._store(missing, vectors, out)
        return out

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, text: object) -> bool:
        return text in self._data

    def clear(self) -> None:
        """Drop every cached vector (counters are kept)."""
        with self._lock:
            self._data.clear()

    def stats(self) -> EmbeddingCacheStats:
        """Current counters."""
        with self._lock:
            total = self._hits + self._misses
            return EmbeddingCacheStats(
                self._hits,
                self._misses,
                self._evictions,
                len(self._data),
                self.max_size,
                hit_rate(self._hits, total),
            )

    def pop_stats(self) -> EmbeddingCacheStats:
        """Return the counters and reset them to zero (the entries stay)."""
        stats = self.stats()
        with self._lock:
            self._hits = self._misses = self._evictions = 0
        return stats

    def __repr__(self) -> str:
        return (
            f"<EmbeddingCache {self.name} [size {len(self._data)}/{self.max_size}, "
            f"hits {self._hits}, misses {self._misses}]>"
        )

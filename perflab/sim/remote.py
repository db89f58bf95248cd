"""The simulator's client side: batched embeddings, and the services' shapes bridged.

Each call to a service goes through ``perflab.remote.RemoteCaller`` (the engine's
generic retry -> breaker -> limiter -> bucket stack; re-exported here).
``EmbeddingBatcher`` collects the embedding misses of concurrent requests into batches
sized by an ``AdaptiveBatcher``.

The services are the ``Protocol``s of ``perflab.services`` (``SearchService``,
``LLMService``, ``TextEmbeddingsService``; re-exported here) so a real service can stand
where a simulated one does: ``perflab.backends`` (Tavily, OpenAI) implements the same
methods and returns the same ``Reply``. One mismatch is bridged here: the simulated
embeddings API only *charges* for a count of texts (its vectors come from a local
model), while the real one takes the texts and returns vectors. ``SimTextEmbeddings``
and ``LiveTextEmbeddings`` give both the same shape, ``await embed(texts) -> vectors``,
and both leave the vectors in the exact LRU cache on the way.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from perflab.arrays import FloatArray
from perflab.batcher import AdaptiveBatcher
from perflab.cache import EmbeddingCache
from perflab.clock import LoopClock
from perflab.embedders import get_embedder
from perflab.errors import SimulationError
from perflab.remote import RemoteCaller
from perflab.retry import Retry
from perflab.services import LLMService, SearchService, TextEmbeddingsService
from perflab.sim.services import SimEmbeddingsAPI

if TYPE_CHECKING:
    from perflab.services import EmbeddingParams, ServiceStats

__all__ = [
    "CatalogueEmbedder",
    "EmbeddingBatcher",
    "FetchedVectors",
    "LLMService",
    "LiveTextEmbeddings",
    "RemoteCaller",
    "SearchService",
    "SimTextEmbeddings",
    "TextEmbeddingsService",
]


class SimTextEmbeddings:
    """The simulated embeddings API behind the real one's interface: texts in, vectors out.

    ``SimEmbeddingsAPI.embed(n)`` spends the time and money of embedding ``n`` texts;
    the vectors then come from ``cache`` (the exact LRU cache over the local model),
    which keeps them, exactly as the simulator always did.
    """

    def __init__(self, api: SimEmbeddingsAPI, cache: EmbeddingCache) -> None:
        self.api, self.cache = api, cache

    @property
    def params(self) -> EmbeddingParams:
        """The simulated API's parameters."""
        return self.api.params

    async def embed(self, texts: Sequence[str]) -> FloatArray:
        """Charge for ``len(texts)`` texts, then return their vectors (cached on the way)."""
        await self.api.embed(len(texts))
        return self.cache.embed(texts)

    def stats(self) -> ServiceStats:
        """The simulated API's accounting."""
        return self.api.stats()


class FetchedVectors:
    """An ``Embedder`` that hands out vectors an embeddings API has just returned.

    The exact LRU cache (``EmbeddingCache``) asks its inner embedder for the texts it
    lacks; behind a real API that inner embedder must not compute anything, only pass
    on what the API sent. ``load`` puts vectors in, ``embed`` takes them out.

    Args:
        name: the namespace of the vectors (``"openai/text-embedding-3-small"``).
        dim: their length, if known ahead (else learnt from the first ``load``).
    """

    def __init__(self, name: str, dim: int | None = None) -> None:
        self.name = name
        self._dim = dim
        self._waiting: dict[str, FloatArray] = {}

    @property
    def dim(self) -> int:
        """Vector length (0 until known)."""
        return self._dim or 0

    def load(self, texts: Sequence[str], vectors: FloatArray) -> None:
        """Hold ``vectors`` (one row per text) until ``embed`` asks for them."""
        if self._dim is None and vectors.size:
            self._dim = int(vectors.shape[1])
        self._waiting.update(zip(texts, vectors))

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """The held vectors of ``texts`` (each handed out once)."""
        missing = [t for t in texts if t not in self._waiting]
        if missing:
            raise SimulationError(
                f"no vector was fetched for {missing[0]!r}: FetchedVectors only passes on "
                "what the embeddings API returned"
            )
        return np.stack([self._waiting.pop(t) for t in texts]).astype(np.float32, copy=False)


class LiveTextEmbeddings:
    """A real embeddings API for the ``EmbeddingBatcher``, its vectors kept in the LRU cache.

    Args:
        api: the real API (``OpenAIEmbeddingsAPI``).
        fetched: the cache's inner embedder, which receives the API's vectors.
        cache: the exact LRU cache over ``fetched``.
    """

    def __init__(
        self, api: TextEmbeddingsService, fetched: FetchedVectors, cache: EmbeddingCache
    ) -> None:
        self.api, self.fetched, self.cache = api, fetched, cache

    @property
    def params(self) -> EmbeddingParams:
        """The real API's prices and batch limit."""
        return self.api.params

    async def embed(self, texts: Sequence[str]) -> FloatArray:
        """One API call for ``texts``; the vectors go through the LRU cache."""
        vectors = await self.api.embed(texts)
        self.fetched.load(texts, vectors)
        return self.cache.embed(texts)

    def stats(self) -> ServiceStats:
        """The real API's accounting."""
        return self.api.stats()


class CatalogueEmbedder:
    """A real embedder's vectors for every catalogue text, computed once per process.

    The simulator needs real geometry (which paraphrase is near which look-alike) but
    not to pay the model on every request: the vectors are the model's own, looked up.
    Unknown texts go to the model.
    """

    def __init__(self, kind: str, texts: Sequence[str]) -> None:
        self.inner = get_embedder(kind)
        self.name = self.inner.name
        self.dim = self.inner.dim
        self._rows = _catalogue_vectors(kind, tuple(texts))

    def embed(self, texts: Sequence[str]) -> FloatArray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        unknown = []
        for i, text in enumerate(texts):
            row = self._rows.get(text)
            if row is None:
                unknown.append(i)
            else:
                out[i] = row
        if unknown:
            out[unknown] = self.inner.embed([texts[i] for i in unknown])
        return out


@lru_cache(maxsize=4)
def _catalogue_vectors(kind: str, texts: tuple[str, ...]) -> dict[str, FloatArray]:
    matrix = get_embedder(kind).embed(list(texts))
    return {text: matrix[i] for i, text in enumerate(texts)}


class EmbeddingBatcher:
    """Embeds queries: exact-cache hits at once, misses batched into API calls.

    Misses wait up to ``window_s`` for company; a batch leaves when it reaches the
    adaptive size (capped by EMBEDDING_BATCH_SIZE and the API's maximum) or when the
    window closes. The API call's outcome feeds the ``AdaptiveBatcher`` (the guide's
    +5 / halve rule). Each text's share of the batch's cost is returned with it.
    """

    def __init__(
        self,
        cache: EmbeddingCache,
        api: TextEmbeddingsService,
        caller: RemoteCaller,
        *,
        max_batch: int,
        window_s: float,
        adaptive: bool,
    ) -> None:
        self.cache, self.api, self.caller = cache, api, caller
        self.max_batch = max(1, min(max_batch, api.params.max_batch))
        self.window_s = window_s
        cap = self.max_batch
        self.batcher = (
            AdaptiveBatcher(initial=min(10, cap), step=5, max_size=cap, min_size=min(5, cap))
            if adaptive
            else None
        )
        self._pending: list[tuple[str, asyncio.Future[tuple[FloatArray, float]]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches: list[int] = []
        self._clock = LoopClock()

    @property
    def batch_size(self) -> int:
        """The size a batch leaves at now."""
        return self.batcher.batch_size if self.batcher is not None else self.max_batch

    async def embed(self, text: str) -> tuple[FloatArray, float, bool]:
        """Return (vector, cost share in USD, whether the exact cache had it)."""
        if text in self.cache:
            return self.cache.embed([text])[0], 0.0, True
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[FloatArray, float]] = loop.create_future()
        self._pending.append((text, fut))
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window_s, self._flush)
        vector, cost = await fut
        return vector, cost, False

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        size = self.batch_size
        while self._pending:
            batch, self._pending = self._pending[:size], self._pending[size:]
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(
        self, batch: list[tuple[str, asyncio.Future[tuple[FloatArray, float]]]]
    ) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))
        self.batches.append(len(texts))
        try:
            vectors, _ = await self.caller.call(lambda: self.api.embed(texts))
        except Exception as exc:  # noqa: BLE001 - handed to every waiting request
            if self.batcher is not None:
                self.batcher.record(False)
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        if self.batcher is not None:
            self.batcher.record(True)
        p = self.api.params
        share = len(texts) * p.tokens_per_text * p.price_per_1m_usd / 1e6 / len(batch)
        rows = {text: vectors[i] for i, text in enumerate(texts)}
        for text, fut in batch:
            if not fut.done():
                fut.set_result((rows[text], share))


def make_retry(attempts: int, seed: int, name: str) -> Retry:
    """A retry policy with its own seeded jitter stream, on the loop's clock."""
    return Retry(
        attempts=attempts,
        wait_initial=0.5,
        wait_max=30.0,
        clock=LoopClock(),
        rng=random.Random(f"{seed}:{name}:retry"),
    )

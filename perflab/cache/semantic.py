"""``SemanticCache``: answer a query with a stored answer to a *similar* query.

A lookup embeds the query, asks the store for the nearest entry in this embedder's
namespace that is not stale, and compares its cosine similarity with the threshold:

    similarity >= threshold  -> hit: read and serve the stored value
    similarity <  threshold  -> miss: the value is never read

The threshold is cosine similarity (-1..1) everywhere: here, in the config
(CACHE_SIMILARITY_THRESHOLD), in the stats and in the store. Every entry lives until
``created_at + ttl``; with ``sliding_ttl=True`` a hit renews it. A stale entry is
never served, even before ``cleanup()`` deletes it.

Precision needs ground truth. When the caller passes the query's true ``intent``
and the entry was stored with one, a hit is *audited*; a hit on another intent is a
*false hit* (the user got someone else's answer). Lowering the threshold raises the
hit rate, and quietly, the false hits: lessons 05 and 13 measure both.

When the store keeps a lookup log (``LookupLog``: ``MemoryStore``, ``SQLiteStore``),
every lookup is logged with its best similarity, the threshold and both intents, so
``perflab.cache.replay`` can say what another threshold would have served.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from perflab.arrays import FloatArray
from perflab.cache.store import LoggedLookup, LookupLog, Neighbour, VectorStore, as_vector
from perflab.clock import Clock, WallClock
from perflab.embedders.base import Embedder
from perflab.metrics import hit_rate

__all__ = ["CacheStats", "Lookup", "SemanticCache"]

DAY_S = 86_400.0


@dataclass(frozen=True)
class Lookup:
    """What one lookup found. ``value`` is set only on a hit.

    Attributes:
        query: the text looked up.
        hit: whether the best entry reached the threshold.
        similarity: cosine similarity of the best servable entry (``None``: none at all).
        entry_id: that entry's id, hit or miss.
        value: the stored answer, on a hit only.
        matched_query: the best entry's query text (shown on a miss too: why it missed).
        matched_intent: the best entry's intent label, if it has one.
        false_hit: on an audited hit, whether the intents differ; otherwise ``None``.
        vector: the query's embedding (``put`` reuses it instead of embedding again).
    """

    query: str
    hit: bool
    similarity: float | None
    entry_id: int | None
    value: str | None = field(repr=False)
    matched_query: str | None
    matched_intent: str | None = None
    false_hit: bool | None = None
    vector: FloatArray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CacheStats:
    """A semantic cache's counters and contents (fields documented in docs/cache.md).

    Counters are persisted by the store, so they accumulate across processes until
    ``pop_stats()``; the savings are estimates from the cache's cost parameters.
    """

    namespace: str
    threshold: float
    lookups: int
    hits: int
    misses: int
    hit_rate: float
    puts: int
    entries: int
    stale_entries: int
    bytes: int
    audited_hits: int
    false_hits: int
    precision: float | None
    est_cost_saved_usd: float
    est_time_saved_s: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (JSON-ready)."""
        return asdict(self)


def _embed_defaults(name: str) -> tuple[float, float]:
    """(cost USD, seconds) of embedding one query, by embedder kind.

    Remote: about 100 tokens at text-embedding-3-small's $0.02 per million tokens and
    a ~100 ms round trip. Local (WordLlama, hashing): free and about a millisecond.
    """
    if name.startswith("openai/"):
        return 2e-6, 0.1
    return 0.0, 0.001


class SemanticCache:
    """Embedder + vector store + threshold + TTL: the guide's RAG cache.

    Args:
        embedder: turns queries into unit vectors; its ``name`` namespaces the entries.
        store: where entries live (``MemoryStore``, ``SQLiteStore``, PostgreSQL...).
        threshold: minimum cosine similarity for a hit (CACHE_SIMILARITY_THRESHOLD).
        ttl_days: entry lifetime in days (CACHE_TTL_DAYS).
        sliding_ttl: renew an entry's lifetime on every hit, instead of a fixed
            lifetime from creation.
        clock: where time comes from; default wall time (entries outlive processes).
        api_cost_usd: what one miss costs upstream (the guide's $0.04).
        api_time_s: how long one miss takes upstream.
        embed_cost_usd: what embedding one query costs; ``None`` picks by embedder
            ($0.000002 for OpenAI, 0 for local models).
        embed_time_s: how long embedding one query takes; ``None``: 0.1 s remote, 0.001 s local.
    """

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        *,
        threshold: float = 0.8,
        ttl_days: float = 7.0,
        sliding_ttl: bool = False,
        clock: Clock | None = None,
        api_cost_usd: float = 0.04,
        api_time_s: float = 2.0,
        embed_cost_usd: float | None = None,
        embed_time_s: float | None = None,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.threshold = threshold
        self.ttl_days = ttl_days
        self.sliding_ttl = sliding_ttl
        self.clock: Clock = clock if clock is not None else WallClock()
        default_cost, default_time = _embed_defaults(embedder.name)
        self.api_cost_usd = api_cost_usd
        self.api_time_s = api_time_s
        self.embed_cost_usd = default_cost if embed_cost_usd is None else embed_cost_usd
        self.embed_time_s = default_time if embed_time_s is None else embed_time_s
        self._session: Counter[str] = Counter()  # this process only, for repr
        self._inflight: dict[str, asyncio.Future[str]] = {}
        self._log: LookupLog | None = store if isinstance(store, LookupLog) else None

    @property
    def namespace(self) -> str:
        """Where this cache's entries live: the embedder's name."""
        return self.embedder.name

    @property
    def threshold(self) -> float:
        """Minimum cosine similarity for a hit; may be changed at run time."""
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if not -1.0 <= value <= 1.0:
            raise ValueError(f"threshold ({value}) is a cosine similarity and must be within -1..1")
        self._threshold = float(value)

    @property
    def ttl_days(self) -> float:
        """Entry lifetime in days."""
        return self._ttl_s / DAY_S

    @ttl_days.setter
    def ttl_days(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"ttl_days ({value}) must be > 0")
        self._ttl_s = float(value) * DAY_S

    def embed(self, query: str) -> FloatArray:
        """The query's unit vector from this cache's embedder."""
        return as_vector(self.embedder.embed([query])[0], self.embedder.dim)

    async def aembed(self, query: str) -> FloatArray:
        """Like ``embed``, awaiting the embedder's ``aembed`` when it has one."""
        inner = getattr(self.embedder, "aembed", None)
        matrix = await inner([query]) if inner is not None else self.embedder.embed([query])
        return as_vector(matrix[0], self.embedder.dim)

    def _count(self, deltas: dict[str, int]) -> None:
        self._session.update(deltas)
        self.store.incr(self.namespace, deltas)

    def _record(self, result: Lookup, intent: str | None, now: float) -> Lookup:
        """Log the lookup (if the store keeps a log) and count it, in that order.

        Logging first lets ``SQLiteStore`` write the log row and the counters in one
        transaction (the log is buffered until the counter flush).
        """
        if self._log is not None:
            self._log.log_lookup(
                self.namespace,
                LoggedLookup(
                    result.query,
                    result.similarity,
                    self._threshold,
                    result.hit,
                    intent,
                    result.matched_intent,
                    now,
                ),
            )
        deltas = {"lookups": 1, "hits" if result.hit else "misses": 1}
        if result.false_hit is not None:
            deltas["audited_hits"] = 1
            deltas["false_hits"] = int(result.false_hit)
        self._count(deltas)
        return result

    def lookup(
        self, query: str, *, vector: FloatArray | None = None, intent: str | None = None
    ) -> Lookup:
        """Find the nearest servable entry and decide hit or miss.

        Args:
            query: the text to look up.
            vector: its embedding, if the caller has it already.
            intent: the query's true intent label, to audit a hit (false-hit counting).
        """
        v = self.embed(query) if vector is None else as_vector(vector, self.embedder.dim)
        now = self.clock.now()
        found = self.store.search(self.namespace, v, 1, now=now)
        best: Neighbour | None = found[0] if found else None
        if best is None:
            return self._record(
                Lookup(query, False, None, None, None, None, None, None, v), intent, now
            )
        miss = Lookup(
            query, False, best.similarity, best.id, None, best.query, best.intent, None, v
        )
        if best.similarity < self._threshold:
            return self._record(miss, intent, now)
        entry = self.store.get(best.id)
        if entry is None or entry.is_expired(now):  # deleted or expired since the search
            return self._record(miss, intent, now)
        false_hit = None
        if intent is not None and entry.intent is not None:
            false_hit = entry.intent != intent
        if self.sliding_ttl:
            self.store.touch(entry.id, now + self._ttl_s)
        hit = Lookup(
            query,
            True,
            best.similarity,
            entry.id,
            entry.value,
            entry.query,
            entry.intent,
            false_hit,
            v,
        )
        return self._record(hit, intent, now)

    def put(
        self,
        query: str,
        value: str,
        *,
        vector: FloatArray | None = None,
        intent: str | None = None,
        ttl_days: float | None = None,
    ) -> int:
        """Store ``value`` as the answer to ``query``; return the entry id.

        Args:
            query: the text the value answers.
            value: the answer (text; serialise other values, e.g. with ``json.dumps``).
            vector: the query's embedding if known (a ``Lookup.vector``).
            intent: the query's intent label, for auditing later hits.
            ttl_days: this entry's lifetime, instead of the cache's.
        """
        v = self.embed(query) if vector is None else as_vector(vector, self.embedder.dim)
        ttl_s = self._ttl_s if ttl_days is None else float(ttl_days) * DAY_S
        now = self.clock.now()
        entry_id = self.store.add(
            self.namespace, query, v, value, intent=intent, created_at=now, expires_at=now + ttl_s
        )
        self._count({"puts": 1})
        return entry_id

    def get_or_compute(
        self, query: str, fn: Callable[[], str], *, intent: str | None = None
    ) -> str:
        """Cache-first (the guide's Pattern 1): serve a hit, else call ``fn`` and store its result."""
        result = self.lookup(query, intent=intent)
        if result.hit and result.value is not None:
            return result.value
        value = fn()
        self.put(query, value, vector=result.vector, intent=intent)
        return value

    async def aget_or_compute(
        self, query: str, fn: Callable[[], Awaitable[str]], *, intent: str | None = None
    ) -> str:
        """Async cache-first. Concurrent misses on the same text share one ``fn`` call.

        If the caller doing the shared fetch is cancelled, its waiters are not: one of
        them fetches the value instead.
        """
        result = self.lookup(query, vector=await self.aembed(query), intent=intent)
        if result.hit and result.value is not None:
            return result.value
        while (pending := self._inflight.get(query)) is not None:
            # Someone is already fetching it: a stampede avoided. ``wait`` (unlike
            # awaiting the future) does not raise when *their* fetch is cancelled.
            await asyncio.wait({pending})
            if not pending.cancelled():
                return pending.result()
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inflight[query] = future
        try:
            value = await fn()
            self.put(query, value, vector=result.vector, intent=intent)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[query]

    def nearest(self, query: str, k: int = 5, *, include_stale: bool = False) -> list[Neighbour]:
        """The ``k`` nearest entries and their similarity, values unread (``perflab cache query``)."""
        now = None if include_stale else self.clock.now()
        return self.store.search(self.namespace, self.embed(query), k, now=now)

    @property
    def has_lookup_log(self) -> bool:
        """Whether the store keeps a lookup log (SQLite and memory stores do)."""
        return self._log is not None

    def lookup_log(self) -> list[LoggedLookup]:
        """This namespace's logged lookups, oldest first (empty if the store keeps none).

        Replay them at another threshold with ``perflab.cache.replay.replay``.
        """
        return self._log.lookup_log(self.namespace) if self._log is not None else []

    def cleanup(self) -> int:
        """Delete every stale entry (all namespaces); return how many."""
        return self.store.delete_expired(self.clock.now())

    def clear(self, *, all_namespaces: bool = False) -> int:
        """Delete this namespace's entries (or every entry); counters stay. Return how many."""
        return self.store.clear(None if all_namespaces else self.namespace)

    def stats(self) -> CacheStats:
        """Counters (persisted, all processes) and contents of this namespace."""
        c = self.store.counters(self.namespace)
        lookups, hits, audited, false = (
            c.get(k, 0) for k in ("lookups", "hits", "audited_hits", "false_hits")
        )
        return CacheStats(
            namespace=self.namespace,
            threshold=self._threshold,
            lookups=lookups,
            hits=hits,
            misses=c.get("misses", 0),
            hit_rate=hit_rate(hits, lookups),
            puts=c.get("puts", 0),
            entries=self.store.count(self.namespace),
            stale_entries=self.store.count_stale(self.clock.now(), self.namespace),
            bytes=self.store.size_bytes(),
            audited_hits=audited,
            false_hits=false,
            precision=(audited - false) / audited if audited else None,
            est_cost_saved_usd=hits * self.api_cost_usd - lookups * self.embed_cost_usd,
            est_time_saved_s=hits * self.api_time_s - lookups * self.embed_time_s,
        )

    def pop_stats(self) -> CacheStats:
        """Return the stats and zero this namespace's counters (entries stay)."""
        stats = self.stats()
        self.store.reset_counters(self.namespace)
        self._session.clear()
        return stats

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> SemanticCache:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self._session
        ttl = f"{self.ttl_days:g}d{' sliding' if self.sliding_ttl else ''}"
        return (
            f"<SemanticCache {self.namespace} threshold={self._threshold:.2f} ttl={ttl} "
            f"[lookups {s['lookups']}, hits {s['hits']}, puts {s['puts']}]>"
        )

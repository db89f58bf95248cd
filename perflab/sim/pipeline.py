"""The guide's article pipeline, built from the engine's real pieces, on virtual time.

keyword -> embed (exact LRU cache, adaptive batches to the embeddings API) ->
semantic cache lookup (a vector query through the connection pool) -> on a miss:
web search -> store the research (pool) -> generate with the LLM -> store the article
and cache it. Remote calls go through retry, circuit breaker, concurrency limit and
rate limiter, each switchable (``Switches``); the tuning values come from
``perflab.config.Settings`` (a profile). Every stage's time is recorded as a span.

The services are simulated unless ``Backends`` hands the pipeline real ones (the
adapters of ``perflab.backends``, built from the settings by
``perflab.live.build_backends``). Real services need the real clock:
``perflab.live.run_live`` runs this same pipeline on a normal event loop.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perflab.breaker import CircuitBreaker
from perflab.cache import EmbeddingCache, MemoryStore, SemanticCache
from perflab.clock import LoopClock
from perflab.config import Settings
from perflab.errors import RateLimited, SimulationError
from perflab.limits import ConcurrencyLimiter, TokenBucket
from perflab.metrics import Spans
from perflab.pool import ConnectionPool
from perflab.sim.faults import Fault, service_rng
from perflab.sim.remote import (
    CatalogueEmbedder,
    EmbeddingBatcher,
    FetchedVectors,
    LiveTextEmbeddings,
    LLMService,
    RemoteCaller,
    SearchService,
    SimTextEmbeddings,
    TextEmbeddingsService,
    make_retry,
)
from perflab.sim.services import (
    DatabaseParams,
    EmbeddingParams,
    LLMParams,
    Reply,
    SearchParams,
    SimConnection,
    SimDatabase,
    SimEmbeddingsAPI,
    SimLLM,
    SimSearch,
)
from perflab.sim.workload import Request, load_catalogue

__all__ = ["COLUMNS", "STAGES", "Backends", "Pipeline", "ServiceParams", "Switches"]

#: Stages in pipeline order; each is a span and a ``<stage>_s`` column.
STAGES = ("embed", "lookup", "search", "store_research", "generate", "store_article")

#: Columns of the per-request records, in order.
COLUMNS = (
    "request",
    "query",
    "intent",
    "intended_start",
    "start",
    "end",
    "latency_s",
    *(f"{s}_s" for s in STAGES),
    "pool_wait_s",
    "embedding_cached",
    "cache_hit",
    "correct_hit",
    "cost_usd",
    "retries",
    "error",
)

SERVICES = ("search", "llm", "embeddings", "database")


@dataclass(frozen=True)
class Switches:
    """Which engine pieces are on, and their knobs that Settings does not name.

    Attributes:
        semantic_cache: look up and store articles in the semantic cache.
        embedding_cache: keep embeddings in the exact LRU cache (EMBEDDING_CACHE_SIZE).
        pool: borrow database connections from a pool; off: connect for every query.
        limiter: limit concurrent remote calls to PARALLEL_WORKERS.
        rate_limiter: a client-side token bucket at ``rate_limit_share`` of each API's RPM.
        retry: retry failed remote calls with full jitter.
        breaker: a circuit breaker per remote service.
        adaptive_batching: size embedding batches with the AdaptiveBatcher.
        retry_attempts: tries per call, the first included.
        breaker_threshold: consecutive failures that open a breaker.
        breaker_recovery_s: seconds a breaker stays open.
        batch_window_s: how long an embedding miss waits for company.
        pool_timeout_s: how long a request waits for a connection.
        rate_limit_share: the client-side rate as a share of the API's RPM.
        breaker_counts_rate_limits: count 429s (``RateLimited``) as breaker failures.
            Off by default: a 429 says "slow down", not "I am down", and a breaker that
            opens on it turns a few seconds over the limit into ``breaker_recovery_s``
            of refused calls that the retry cannot wait out (lesson 06 measures both).
        embedder: ``"wordllama"`` (semantic, default) or ``"hashing"`` (lexical).
    """

    semantic_cache: bool = True
    embedding_cache: bool = True
    pool: bool = True
    limiter: bool = True
    rate_limiter: bool = True
    retry: bool = True
    breaker: bool = True
    adaptive_batching: bool = True
    retry_attempts: int = 3
    breaker_threshold: int = 5
    breaker_recovery_s: float = 30.0
    batch_window_s: float = 0.02
    pool_timeout_s: float = 30.0
    rate_limit_share: float = 0.9
    breaker_counts_rate_limits: bool = False
    embedder: str = "wordllama"


def _is_failure(exc: BaseException) -> bool:
    """A breaker failure: any exception but a 429, which is back-pressure, not an outage."""
    return isinstance(exc, Exception) and not isinstance(exc, RateLimited)


@dataclass(frozen=True)
class ServiceParams:
    """The four simulated services' parameters and their scheduled faults."""

    search: SearchParams = field(default_factory=SearchParams)
    llm: LLMParams = field(default_factory=LLMParams)
    embeddings: EmbeddingParams = field(default_factory=EmbeddingParams)
    database: DatabaseParams = field(default_factory=DatabaseParams)
    faults: Mapping[str, Sequence[Fault]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.faults:
            if name not in SERVICES:
                raise SimulationError(
                    f"faults names an unknown service ({name!r}); allowed: {', '.join(SERVICES)}"
                )

    def faults_of(self, name: str) -> tuple[Fault, ...]:
        """The faults scheduled for service ``name``."""
        return tuple(self.faults.get(name, ()))


@dataclass(frozen=True)
class Backends:
    """Real services to use in place of the simulated ones (``None``: simulated).

    Attributes:
        search: web search, e.g. ``TavilySearch``.
        llm: the article writer, e.g. ``OpenAILLM``.
        embeddings: an embeddings API that returns vectors, e.g. ``OpenAIEmbeddingsAPI``;
            its vectors then feed the caches (the simulated one borrows a local model's).
        embeddings_name: the namespace of those vectors (``"openai/text-embedding-3-small"``).
    """

    search: SearchService | None = None
    llm: LLMService | None = None
    embeddings: TextEmbeddingsService | None = None
    embeddings_name: str = "embeddings-api"

    @property
    def is_simulated(self) -> bool:
        """Whether every service is the simulator's (the virtual clock can run it)."""
        return self.search is None and self.llm is None and self.embeddings is None

    def real_names(self) -> list[str]:
        """The services that are real, by name (``["search", "llm"]``)."""
        pairs = (("search", self.search), ("llm", self.llm), ("embeddings", self.embeddings))
        return [name for name, service in pairs if service is not None]


class Pipeline:
    """One run's pipeline: services, engine pieces, and the per-request records.

    Args:
        settings: the tuning values.
        switches: which engine pieces are on.
        services: the simulated services' parameters (and faults).
        seed: fixes every random draw of the simulated parts.
        backends: real services to use instead of simulated ones (default: none).
    """

    def __init__(
        self,
        settings: Settings,
        switches: Switches,
        services: ServiceParams,
        seed: int,
        *,
        backends: Backends | None = None,
    ) -> None:
        self.settings, self.switches, self.params, self.seed = settings, switches, services, seed
        real = backends if backends is not None else Backends()
        self.backends = real
        f = services.faults_of
        self.search: SearchService = real.search or SimSearch(
            services.search, service_rng(seed, "search"), f("search")
        )
        self.llm: LLMService = real.llm or SimLLM(services.llm, service_rng(seed, "llm"), f("llm"))
        sim_embed = SimEmbeddingsAPI(
            services.embeddings, service_rng(seed, "embeddings"), f("embeddings")
        )
        self.embed_api: SimEmbeddingsAPI | TextEmbeddingsService = real.embeddings or sim_embed
        self.db = SimDatabase(services.database, service_rng(seed, "database"), f("database"))
        self.spans = Spans(clock=LoopClock())
        self.rows: list[tuple[Any, ...]] = []
        self.origin = 0.0  # virtual time of the run's start (after the pool's warm-up)
        sw = switches
        self.limiter = ConcurrencyLimiter(settings.parallel_workers) if sw.limiter else None
        self.breakers: dict[str, CircuitBreaker] = {}
        self.callers = {
            name: self._caller(name, rpm)
            for name, rpm in (
                ("search", self.search.params.rpm),
                ("llm", self.llm.params.rpm),
                ("embeddings", self.embed_api.params.rpm),
            )
        }
        size = settings.embedding_cache_size if sw.embedding_cache else 0
        embedder: CatalogueEmbedder | FetchedVectors
        api: SimTextEmbeddings | LiveTextEmbeddings
        if real.embeddings is None:
            texts = [q.text for q in load_catalogue().queries]
            embedder = CatalogueEmbedder(sw.embedder, texts)
            self.embedding_cache = EmbeddingCache(embedder, max_size=size)
            api = SimTextEmbeddings(sim_embed, self.embedding_cache)
        else:
            embedder = FetchedVectors(real.embeddings_name)
            self.embedding_cache = EmbeddingCache(embedder, max_size=size)
            api = LiveTextEmbeddings(real.embeddings, embedder, self.embedding_cache)
        self.embedder = EmbeddingBatcher(
            self.embedding_cache,
            api,
            self.callers["embeddings"],
            max_batch=settings.embedding_batch_size,
            window_s=sw.batch_window_s,
            adaptive=sw.adaptive_batching,
        )
        self.cache = SemanticCache(
            embedder,
            MemoryStore(),
            threshold=settings.cache_similarity_threshold,
            ttl_days=settings.cache_ttl_days,
            clock=LoopClock(),
        )
        self.pool: ConnectionPool[SimConnection] | None = None
        if sw.pool:
            self.pool = ConnectionPool(
                self.db.connect,
                min_size=settings.connection_pool_min,
                max_size=settings.connection_pool_max,
                timeout=sw.pool_timeout_s,
                close_conn=SimConnection.close,
                clock=LoopClock(),
            )

    def _caller(self, name: str, rpm: float) -> RemoteCaller:
        sw = self.switches
        breaker = None
        if sw.breaker:
            breaker = CircuitBreaker(
                sw.breaker_threshold,
                sw.breaker_recovery_s,
                failure_on=(Exception,) if sw.breaker_counts_rate_limits else _is_failure,
                clock=LoopClock(),
            )
            self.breakers[name] = breaker
        bucket = None
        if sw.rate_limiter:
            rate = rpm / 60.0 * sw.rate_limit_share
            bucket = TokenBucket(rate, max(1.0, rate), clock=LoopClock())
        retry = make_retry(sw.retry_attempts, self.seed, name) if sw.retry else None
        limiter = self.limiter if name != "embeddings" else None
        return RemoteCaller(name, limiter=limiter, bucket=bucket, breaker=breaker, retry=retry)

    async def open(self) -> None:
        """Warm the pool (the guide's "pre-set tables before opening")."""
        if self.pool is not None:
            await self.pool.open()

    async def close(self) -> None:
        """Close the pool."""
        if self.pool is not None:
            await self.pool.close()

    async def _db(self, kind: str) -> float:
        """Run one statement; return the time spent waiting for a connection."""
        loop = asyncio.get_running_loop()
        if self.pool is None:
            t0 = loop.time()
            conn = await self.db.connect()
            waited = loop.time() - t0
            try:
                await conn.execute(kind)
            finally:
                await conn.close()
            return waited
        t0 = loop.time()
        async with self.pool.connection() as conn:
            waited = loop.time() - t0
            await conn.execute(kind)
        return waited

    async def handle(self, req: Request) -> None:
        """Write one article and append its record to ``rows``."""
        loop = asyncio.get_running_loop()
        now = loop.time
        start = now()
        times = dict.fromkeys(STAGES, math.nan)
        pool_wait = cost = 0.0
        retries = 0
        emb_cached = hit = False
        correct: bool | None = None
        error: str | None = None
        stage = "embed"

        async def remote(name: str, fn: Callable[[], Awaitable[Reply]]) -> Reply:
            nonlocal retries
            reply, n = await self.callers[name].call(fn)
            retries += n
            return reply

        try:
            t = now()
            vector, share, emb_cached = await self.embedder.embed(req.query)
            cost += share
            times["embed"] = now() - t
            if self.switches.semantic_cache:
                stage = "lookup"
                t = now()
                pool_wait += await self._db("vector_search")
                found = self.cache.lookup(req.query, vector=vector, intent=req.intent)
                times["lookup"] = now() - t
                hit = found.hit
                correct = (not found.false_hit) if hit else None
            if not hit:
                stage = "search"
                t = now()
                depth = self.settings.tavily_search_depth
                found_web = await remote("search", lambda: self.search.search(req.query, depth))
                cost += found_web.cost_usd
                times["search"] = now() - t
                stage = "store_research"
                t = now()
                pool_wait += await self._db("query")
                times["store_research"] = now() - t
                stage = "generate"
                t = now()
                article = await remote("llm", lambda: self.llm.generate(req.query))
                cost += article.cost_usd
                times["generate"] = now() - t
                stage = "store_article"
                t = now()
                pool_wait += await self._db("query")
                if self.switches.semantic_cache:
                    self.cache.put(req.query, "article", vector=vector, intent=req.intent)
                times["store_article"] = now() - t
        except Exception as exc:  # noqa: BLE001 - any failure becomes the request's error
            error = f"{stage}: {type(exc).__name__}: {exc}"
            retries += getattr(exc, "retries", 0)
        end = now()
        for name, value in times.items():
            if not math.isnan(value):  # the stage ran
                self.spans.record(name, value)
        origin = start if math.isnan(req.intended_start) else self.origin + req.intended_start
        self.rows.append(
            (
                req.index,
                req.query,
                req.intent,
                req.intended_start,
                start,
                end,
                end - origin,
                *times.values(),
                pool_wait,
                emb_cached,
                hit,
                correct,
                cost,
                retries,
                error,
            )
        )

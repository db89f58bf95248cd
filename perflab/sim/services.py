"""Simulated remote services: web search, LLM, embeddings API and database.

Every number below is a *default*, not a measurement: docs/sim.md lists each with its
source and the date it was read. Change any of them through the dataclasses:

>>> params = LLMParams(tokens_per_s=40.0)   # a slower model
>>> params.price_out_per_1m_usd
0.6

Latencies are lognormal (a median and a spread ``sigma``): long-tailed like real
network calls, where the P99 is several times the median.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from perflab.errors import RateLimited, ServiceError, SimulationError
from perflab.sim.faults import Fault, SimService, check_positive, check_rate

__all__ = [
    "DatabaseParams",
    "EmbeddingParams",
    "LLMParams",
    "Reply",
    "SearchParams",
    "SimConnection",
    "SimDatabase",
    "SimEmbeddingsAPI",
    "SimLLM",
    "SimSearch",
    "Window",
]


@dataclass(frozen=True)
class Reply:
    """What a successful call returned and what it cost.

    Attributes:
        text: the result (research notes, an article).
        units: billing units consumed (credits, tokens).
        cost_usd: the call's price.
    """

    text: str
    units: float
    cost_usd: float


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.standard_normal()) if sigma > 0 else median


class Window:
    """A per-minute allowance refilled continuously (a token bucket of one minute's worth).

    This is how an API's RPM/TPM limit behaves: a burst up to the minute's allowance,
    then ``limit / 60`` per second. ``take`` answers how long to wait when refused.
    """

    def __init__(self, per_minute: float) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.level = float(per_minute)
        self.at = 0.0

    def take(self, amount: float, now: float) -> float:
        """Take ``amount`` if available and return 0, else return seconds until it is."""
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now
        if amount > self.capacity:  # could never fit: refuse as the API would, retryable never
            return math.inf
        if self.level >= amount:
            self.level -= amount
            return 0.0
        return (amount - self.level) / self.rate


# ------------------------------------------------------------------ web search
@dataclass(frozen=True)
class SearchParams:
    """A Tavily-like web search API (defaults: docs/sim.md, "Web search").

    Attributes:
        basic_median_s: median latency of a ``basic`` search.
        advanced_median_s: median latency of an ``advanced`` search.
        sigma: lognormal spread of both.
        basic_credits: credits a basic search costs.
        advanced_credits: credits an advanced search costs.
        usd_per_credit: price of one credit (pay as you go).
        rpm: requests per minute allowed; beyond it, 429.
        error_rate: probability a call fails with a 500.
        latency_scale: multiplies every latency (0.5 = twice as fast).
    """

    basic_median_s: float = 1.0
    advanced_median_s: float = 2.5
    sigma: float = 0.35
    basic_credits: float = 1.0
    advanced_credits: float = 2.0
    usd_per_credit: float = 0.008
    rpm: float = 1000.0
    error_rate: float = 0.01
    latency_scale: float = 1.0

    def __post_init__(self) -> None:
        check_positive(
            "SearchParams",
            basic_median_s=self.basic_median_s,
            advanced_median_s=self.advanced_median_s,
            rpm=self.rpm,
            latency_scale=self.latency_scale,
        )
        check_rate("SearchParams", error_rate=self.error_rate)


class SimSearch(SimService):
    """Simulated web search: ``await search(query, depth)`` returns research text."""

    def __init__(
        self, params: SearchParams, rng: np.random.Generator, faults: tuple[Fault, ...] = ()
    ) -> None:
        super().__init__("search", params.error_rate, faults, rng)
        self.params = params
        self._rpm = Window(params.rpm)

    async def search(self, query: str, depth: str = "basic") -> Reply:
        """Search the web for ``query``; ``depth`` is ``basic`` or ``advanced``.

        Raises:
            RateLimited: over the requests-per-minute limit (with ``retry_after``).
            ServiceError: an outage or a failed call.
        """
        p = self.params
        if depth not in ("basic", "advanced"):
            raise SimulationError(f"depth ({depth!r}) must be 'basic' or 'advanced'")
        wait = self._rpm.take(1.0, self._now())
        if wait:
            self._refuse()
            raise RateLimited(f"search: over {p.rpm:g} requests per minute", retry_after=wait)
        basic = depth == "basic"
        median = p.basic_median_s if basic else p.advanced_median_s
        await self._serve(_lognormal(self.rng, median, p.sigma) * p.latency_scale, "search")
        credits = p.basic_credits if basic else p.advanced_credits
        self._charge(credits * p.usd_per_credit, credits)
        return Reply(f"research notes on {query} ({depth})", credits, credits * p.usd_per_credit)


# ------------------------------------------------------------------ LLM
@dataclass(frozen=True)
class LLMParams:
    """An OpenAI-like chat model (defaults: gpt-4o-mini; docs/sim.md, "LLM").

    Latency = time to first token + output tokens / tokens per second, with the
    time to first token and the speed both lognormal, so the tail is long.

    Attributes:
        ttft_median_s: median time to first token.
        ttft_sigma: its lognormal spread.
        tokens_per_s: median output speed.
        speed_sigma: lognormal spread of the speed.
        input_tokens: prompt tokens per article (instructions + research).
        output_tokens: median article length in tokens.
        output_sigma: lognormal spread of the length.
        price_in_per_1m_usd: price per million input tokens.
        price_out_per_1m_usd: price per million output tokens.
        rpm: requests per minute; beyond it, 429 with a Retry-After.
        tpm: tokens per minute (input + output); beyond it, 429 with a Retry-After.
        error_rate: probability a call fails with a 500.
        latency_scale: multiplies every latency (0.5 = twice as fast).
    """

    ttft_median_s: float = 0.5
    ttft_sigma: float = 0.4
    tokens_per_s: float = 80.0
    speed_sigma: float = 0.25
    input_tokens: int = 2500
    output_tokens: int = 600
    output_sigma: float = 0.25
    price_in_per_1m_usd: float = 0.15
    price_out_per_1m_usd: float = 0.60
    rpm: float = 500.0
    tpm: float = 200_000.0
    error_rate: float = 0.01
    latency_scale: float = 1.0

    def __post_init__(self) -> None:
        check_positive(
            "LLMParams",
            ttft_median_s=self.ttft_median_s,
            tokens_per_s=self.tokens_per_s,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            rpm=self.rpm,
            tpm=self.tpm,
            latency_scale=self.latency_scale,
        )
        check_rate("LLMParams", error_rate=self.error_rate)


class SimLLM(SimService):
    """Simulated chat completions: ``await generate(prompt)`` returns the article text."""

    def __init__(
        self, params: LLMParams, rng: np.random.Generator, faults: tuple[Fault, ...] = ()
    ) -> None:
        super().__init__("llm", params.error_rate, faults, rng)
        self.params = params
        self._rpm = Window(params.rpm)
        self._tpm = Window(params.tpm)

    async def generate(self, prompt: str) -> Reply:
        """Write an article for ``prompt``.

        Raises:
            RateLimited: over RPM or TPM (``retry_after`` says when to come back).
            ServiceError: an outage or a failed call.
        """
        p = self.params
        rng = self.rng
        out = max(1, round(_lognormal(rng, p.output_tokens, p.output_sigma)))
        ttft = _lognormal(rng, p.ttft_median_s, p.ttft_sigma)
        speed = _lognormal(rng, p.tokens_per_s, p.speed_sigma)
        now = self._now()
        tokens = p.input_tokens + out
        wait = max(self._rpm.take(1.0, now), self._tpm.take(tokens, now))
        if wait:
            self._refuse()
            if math.isinf(wait):
                raise ServiceError(f"llm: {tokens} tokens exceed the {p.tpm:g} TPM limit", 400)
            raise RateLimited("llm: rate limit reached (requests or tokens per minute)", wait)
        await self._serve((ttft + out / speed) * p.latency_scale, "generate")
        cost = (p.input_tokens * p.price_in_per_1m_usd + out * p.price_out_per_1m_usd) / 1e6
        self._charge(cost, tokens)
        return Reply(f"article: {prompt[:60]}", tokens, cost)


# ------------------------------------------------------------------ embeddings
@dataclass(frozen=True)
class EmbeddingParams:
    """An OpenAI-like embeddings endpoint (defaults: text-embedding-3-small; docs/sim.md).

    Attributes:
        base_median_s: median latency of a one-text call (the round trip).
        per_text_s: extra latency per text in the batch.
        sigma: lognormal spread.
        tokens_per_text: tokens in one keyword (short queries).
        price_per_1m_usd: price per million input tokens.
        max_batch: most texts one call accepts.
        rpm: requests per minute; beyond it, 429.
        error_rate: probability a call fails with a 500.
        latency_scale: multiplies every latency.
    """

    base_median_s: float = 0.12
    per_text_s: float = 0.002
    sigma: float = 0.3
    tokens_per_text: float = 8.0
    price_per_1m_usd: float = 0.02
    max_batch: int = 2048
    rpm: float = 3000.0
    error_rate: float = 0.005
    latency_scale: float = 1.0

    def __post_init__(self) -> None:
        check_positive(
            "EmbeddingParams",
            base_median_s=self.base_median_s,
            tokens_per_text=self.tokens_per_text,
            max_batch=self.max_batch,
            rpm=self.rpm,
            latency_scale=self.latency_scale,
        )
        check_rate("EmbeddingParams", error_rate=self.error_rate)


class SimEmbeddingsAPI(SimService):
    """Simulated embeddings endpoint: charges time and money; vectors come from a real model."""

    def __init__(
        self, params: EmbeddingParams, rng: np.random.Generator, faults: tuple[Fault, ...] = ()
    ) -> None:
        super().__init__("embeddings", params.error_rate, faults, rng)
        self.params = params
        self._rpm = Window(params.rpm)

    async def embed(self, n_texts: int) -> None:
        """Spend the time and money of embedding ``n_texts`` texts in one call.

        Raises:
            ServiceError: a batch over ``max_batch`` (400), an outage or a failed call.
            RateLimited: over the requests-per-minute limit.
        """
        p = self.params
        if n_texts > p.max_batch:
            self._refuse()
            raise ServiceError(f"embeddings: batch of {n_texts} > max_batch {p.max_batch}", 400)
        wait = self._rpm.take(1.0, self._now())
        if wait:
            self._refuse()
            raise RateLimited(f"embeddings: over {p.rpm:g} requests per minute", wait)
        median = p.base_median_s + p.per_text_s * n_texts
        await self._serve(_lognormal(self.rng, median, p.sigma) * p.latency_scale, "embed")
        tokens = n_texts * p.tokens_per_text
        self._charge(tokens * p.price_per_1m_usd / 1e6, tokens)


# ------------------------------------------------------------------ database
@dataclass(frozen=True)
class DatabaseParams:
    """A hosted PostgreSQL (Supabase-like; docs/sim.md, "Database").

    Attributes:
        connect_median_s: opening a connection (TCP + TLS + auth): the guide's 150 ms.
        connect_sigma: its lognormal spread.
        query_median_s: a simple insert or select, round trip included.
        vector_search_median_s: a nearest-neighbour query over the cache.
        sigma: lognormal spread of queries.
        max_connections: connections the server accepts; beyond it, refused.
        error_rate: probability a query fails.
        latency_scale: multiplies every latency.
    """

    connect_median_s: float = 0.150
    connect_sigma: float = 0.2
    query_median_s: float = 0.005
    vector_search_median_s: float = 0.015
    sigma: float = 0.5
    max_connections: int = 60
    error_rate: float = 0.0
    latency_scale: float = 1.0

    def __post_init__(self) -> None:
        check_positive(
            "DatabaseParams",
            connect_median_s=self.connect_median_s,
            query_median_s=self.query_median_s,
            vector_search_median_s=self.vector_search_median_s,
            max_connections=self.max_connections,
            latency_scale=self.latency_scale,
        )
        check_rate("DatabaseParams", error_rate=self.error_rate)


class SimConnection:
    """One open connection to the simulated database."""

    __slots__ = ("closed", "db", "number")

    def __init__(self, db: SimDatabase, number: int) -> None:
        self.db = db
        self.number = number
        self.closed = False

    async def execute(self, kind: str = "query") -> None:
        """Run one statement: ``"query"`` (insert/select) or ``"vector_search"``."""
        if self.closed:
            raise ServiceError("database: connection is closed", 500)
        p = self.db.params
        median = p.vector_search_median_s if kind == "vector_search" else p.query_median_s
        await self.db._serve(_lognormal(self.db.rng, median, p.sigma) * p.latency_scale, kind)

    async def close(self) -> None:
        """Give the server its connection slot back."""
        if not self.closed:
            self.closed = True
            self.db.open_connections -= 1

    def __repr__(self) -> str:
        return f"<SimConnection #{self.number} {'closed' if self.closed else 'open'}>"


class SimDatabase(SimService):
    """Simulated database: ``await connect()`` costs ~150 ms; beyond max_connections, refused."""

    def __init__(
        self, params: DatabaseParams, rng: np.random.Generator, faults: tuple[Fault, ...] = ()
    ) -> None:
        super().__init__("database", params.error_rate, faults, rng)
        self.params = params
        self.open_connections = 0
        self.peak_connections = 0
        self.connects = 0
        self.refused = 0

    async def connect(self) -> SimConnection:
        """Open a connection (the slow part pooling saves).

        Raises:
            ServiceError: "too many clients" beyond ``max_connections`` (53300), or an outage.
        """
        p = self.params
        if self.open_connections >= p.max_connections:
            self.refused += 1
            raise ServiceError(
                f"database: too many clients already ({p.max_connections} max_connections)",
                53300,
            )
        self.open_connections += 1  # the slot is taken while the handshake runs
        self.peak_connections = max(self.peak_connections, self.open_connections)
        try:
            latency = _lognormal(self.rng, p.connect_median_s, p.connect_sigma) * p.latency_scale
            await self._serve(latency, "connect")
        except BaseException:
            self.open_connections -= 1
            raise
        self.connects += 1
        return SimConnection(self, self.connects)

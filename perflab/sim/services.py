"""Simulated remote services: web search, LLM, embeddings API and database.

Each one is described by a parameter dataclass of ``perflab.services`` (the contract it
shares with the real clients in ``perflab.backends``; re-exported here). Every number
there is a *default*, not a measurement: docs/sim.md lists each with its source and the
date it was read. Change any of them through the dataclasses:

>>> params = LLMParams(tokens_per_s=40.0)   # a slower model
>>> params.price_out_per_1m_usd
0.6

Latencies are lognormal (a median and a spread ``sigma``): long-tailed like real
network calls, where the P99 is several times the median.
"""

from __future__ import annotations

import math

import numpy as np

from perflab.errors import RateLimited, ServiceError, SimulationError
from perflab.limits import Bucket
from perflab.services import DatabaseParams, EmbeddingParams, LLMParams, Reply, SearchParams
from perflab.sim.base import SimService
from perflab.sim.faults import Fault

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


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.standard_normal()) if sigma > 0 else median


class Window(Bucket):
    """A per-minute allowance refilled continuously (a token bucket of one minute's worth).

    This is how an API's RPM/TPM limit behaves: a burst up to the minute's allowance,
    then ``limit / 60`` per second. ``take(amount, now)`` (the engine's pure
    ``perflab.limits.Bucket``) answers how long to wait when refused.
    """

    __slots__ = ()

    def __init__(self, per_minute: float) -> None:
        super().__init__(per_minute / 60.0, per_minute)


# ------------------------------------------------------------------ web search
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

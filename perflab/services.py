"""The service contract: what a remote service is, whether real or simulated.

The article pipeline calls three remote services: web search, an LLM and an
embeddings API. Each has two implementations, a simulated one (``perflab.sim``, on
virtual time) and a real client (``perflab.backends``, over HTTP). Both sides import
this module and nothing of each other, so they are two implementations of one thing:

* ``Reply``: what a successful call returned and what it cost;
* three protocols: ``SearchService``, ``LLMService``, ``TextEmbeddingsService``;
* the parameter dataclasses (prices, limits, latencies) that describe a service;
* ``ServiceAccount``, the one place calls, failures, 429s, money and time are counted,
  and its snapshot ``ServiceStats``.

>>> account = ServiceAccount("search")
>>> account.count_call(); account.count_ok(); account.charge(0.008, 1.0)
>>> account.stats().cost_usd
0.008

Every default below is a *default*, not a measurement: docs/sim.md lists each with its
source. Latencies are lognormal (a median and a spread ``sigma``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from perflab.errors import PerflabError, RateLimited, SimulationError

if TYPE_CHECKING:
    from perflab.arrays import FloatArray
    from perflab.clock import Clock

__all__ = [
    "DatabaseParams",
    "EmbeddingParams",
    "LLMParams",
    "LLMService",
    "Reply",
    "SearchParams",
    "SearchService",
    "ServiceAccount",
    "ServiceStats",
    "TextEmbeddingsService",
    "check_positive",
    "check_rate",
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


def check_positive(owner: str, **values: float) -> None:
    """Raise ``SimulationError`` naming the first value that is not a finite number > 0."""
    for key, value in values.items():
        if not (value > 0 and math.isfinite(value)):
            raise SimulationError(f"{owner}.{key} ({value}) must be a finite number > 0")


def check_rate(owner: str, **values: float) -> None:
    """Raise ``SimulationError`` naming the first probability outside 0..1."""
    for key, value in values.items():
        if not 0.0 <= value <= 1.0:
            raise SimulationError(f"{owner}.{key} ({value}) must be a probability within 0..1")


# ------------------------------------------------------------------ accounting
@dataclass(frozen=True)
class ServiceStats:
    """A service's accounting, real or simulated (fields documented in docs/sim.md).

    Attributes:
        name: the service.
        calls: calls made, failed ones included.
        ok: calls that succeeded.
        errors: calls that failed with a ``ServiceError`` (5xx, outage, refused).
        rate_limited: calls refused with ``RateLimited`` (429).
        cost_usd: what the successful calls cost.
        busy_s: total time spent inside calls.
        units: the billing unit consumed (credits, tokens...), successful calls only.
    """

    name: str
    calls: int
    ok: int
    errors: int
    rate_limited: int
    cost_usd: float
    busy_s: float
    units: float


class ServiceAccount:
    """Counts one service's calls, outcomes, money and busy time.

    A simulated service books each step itself (``count_call`` when a call starts,
    ``count_ok`` or ``count_error`` when it ends); a real client wraps each request in
    ``call``, which times it and books the outcome. ``stats`` is the same
    ``ServiceStats`` for both, so a simulated run and a real one compare field by field.

    Args:
        name: the service ("search", "llm", "embeddings", "database").
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = self.ok = self.errors = self.rate_limited = 0
        self.cost_usd = self.busy_s = self.units = 0.0

    def count_call(self) -> None:
        """A call started."""
        self.calls += 1

    def count_ok(self) -> None:
        """The call succeeded."""
        self.ok += 1

    def count_error(self) -> None:
        """The call failed with a ``ServiceError``."""
        self.errors += 1

    def count_refused(self) -> None:
        """A call was refused by a rate limit (a 429): it counts as a call."""
        self.calls += 1
        self.rate_limited += 1

    def add_busy(self, seconds: float) -> None:
        """Time spent inside a call."""
        self.busy_s += seconds

    def charge(self, cost_usd: float, units: float) -> None:
        """Add a successful call's price and billing units."""
        self.cost_usd += cost_usd
        self.units += units

    @contextmanager
    def call(
        self,
        clock: Clock,
        translate: Callable[[Exception], PerflabError] | None = None,
    ) -> Iterator[None]:
        """Time one real call and book its outcome.

        Args:
            clock: reads the time at both ends (``busy_s``).
            translate: turns a library's exception into a perflab error; perflab
                errors pass through unchanged.

        Raises:
            PerflabError: what the block raised, translated (the original as ``__cause__``).
        """
        self.calls += 1
        start = clock.now()
        try:
            yield
        except Exception as exc:
            mapped = exc if isinstance(exc, PerflabError) or translate is None else translate(exc)
            if isinstance(mapped, RateLimited):
                self.rate_limited += 1
            else:
                self.errors += 1
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            self.busy_s += clock.now() - start
        self.ok += 1

    def stats(self) -> ServiceStats:
        """A snapshot of the accounting."""
        return ServiceStats(
            self.name,
            self.calls,
            self.ok,
            self.errors,
            self.rate_limited,
            self.cost_usd,
            self.busy_s,
            self.units,
        )

    def __repr__(self) -> str:
        return (
            f"<ServiceAccount {self.name} [calls {self.calls}, errors {self.errors}, "
            f"429s {self.rate_limited}, ${self.cost_usd:.4f}]>"
        )


# ------------------------------------------------------------------ parameters
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


@dataclass(frozen=True)
class LLMParams:
    """An OpenAI-like chat model (defaults: gpt-4o-mini; docs/sim.md, "LLM").

    Latency = time to first token + output tokens / tokens per second, with the
    time to first token and the speed both lognormal, so the tail is long.

    >>> LLMParams(tokens_per_s=40.0).price_out_per_1m_usd   # a slower model, same price
    0.6

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


# ------------------------------------------------------------------ protocols
class SearchService(Protocol):
    """Web search: ``perflab.sim.services.SimSearch`` or ``perflab.backends.tavily_client.TavilySearch``."""

    @property
    def params(self) -> SearchParams: ...

    async def search(self, query: str, depth: str = "basic") -> Reply: ...

    def stats(self) -> ServiceStats: ...


class LLMService(Protocol):
    """Article writing: ``perflab.sim.services.SimLLM`` or ``perflab.backends.openai_client.OpenAILLM``."""

    @property
    def params(self) -> LLMParams: ...

    async def generate(self, prompt: str) -> Reply: ...

    def stats(self) -> ServiceStats: ...


class TextEmbeddingsService(Protocol):
    """An embeddings API that takes texts and returns their unit vectors.

    ``perflab.backends.openai_client.OpenAIEmbeddingsAPI``, or the simulated one behind
    ``perflab.sim.remote.SimTextEmbeddings``.
    """

    @property
    def params(self) -> EmbeddingParams: ...

    async def embed(self, texts: Sequence[str]) -> FloatArray: ...

    def stats(self) -> ServiceStats: ...

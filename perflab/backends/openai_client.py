"""The real OpenAI API behind the simulator's interfaces (``perflab.sim.services``).

``OpenAILLM.generate(prompt)`` is what ``SimLLM.generate`` is (both return a ``Reply``:
text, billing units, price), and
``OpenAIEmbeddingsAPI.embed(texts)`` is the real counterpart of
``SimEmbeddingsAPI.embed`` (it returns the vectors the simulator borrows from a local
model). Both keep the same accounting (``stats()`` returns the simulator's
``ServiceStats``), priced from the same parameter dataclasses, so a notebook compares a
simulated run and a real one field by field.

Failures become perflab's errors so the engine's ``Retry`` and ``CircuitBreaker``
handle real and simulated services alike: 429 -> ``RateLimited`` (with the
Retry-After the API sent), 5xx, timeouts and refused connections -> ``ServiceError``,
401/403 -> ``ConfigError`` (a wrong key is not worth retrying). The SDK's own retries
are off (``max_retries=0``) so only one layer retries.

``base_url`` points either at any OpenAI-compatible server, e.g. ``perflab sim serve``.
The key is a secret: it goes to the SDK and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.backends._http import error_for_status
from perflab.clock import Clock, default_clock
from perflab.errors import ConfigError, PerflabError, ServiceError
from perflab.sim.services import Reply

if TYPE_CHECKING:
    from pydantic import SecretStr

    from perflab.embedders.base import FloatArray
    from perflab.sim.faults import ServiceStats
    from perflab.sim.services import EmbeddingParams, LLMParams

__all__ = ["Accounting", "OpenAIEmbeddingsAPI", "OpenAILLM", "map_openai_error"]

DEFAULT_SYSTEM_PROMPT = (
    "You write clear, well-structured articles from the research notes you are given."
)


def map_openai_error(exc: Exception, service: str) -> PerflabError:
    """Translate an ``openai`` SDK exception into the perflab error the engine understands."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return ServiceError(f"{service} timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ServiceError(
            f"{service} could not be reached ({type(exc.__cause__ or exc).__name__})"
        )
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        if status in (401, 403):
            return ConfigError(f"{service} refused the key (HTTP {status}): check OPENAI_API_KEY")
        headers = exc.response.headers
        retry_after = headers.get("retry-after")
        if retry_after is None and headers.get("retry-after-ms"):
            retry_after = str(float(headers["retry-after-ms"]) / 1000)
        return error_for_status(service, status, retry_after)
    return ServiceError(f"{service} failed ({type(exc).__name__})")


class Accounting:
    """Calls, failures, 429s, money and time of one real service, as ``ServiceStats``."""

    def __init__(self, name: str, clock: Clock | None = None) -> None:
        self.name = name
        self.clock = default_clock(clock)
        self.calls = self.ok = self.errors = self.rate_limited = 0
        self.cost_usd = self.busy_s = self.units = 0.0

    @contextmanager
    def call(self, service: str) -> Iterator[None]:
        """Time one call and book its outcome; SDK errors leave as perflab errors."""
        from perflab.errors import RateLimited

        self.calls += 1
        start = self.clock.now()
        try:
            yield
        except Exception as exc:
            mapped = exc if isinstance(exc, PerflabError) else map_openai_error(exc, service)
            if isinstance(mapped, RateLimited):
                self.rate_limited += 1
            else:
                self.errors += 1
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            self.busy_s += self.clock.now() - start
        self.ok += 1

    def charge(self, cost_usd: float, units: float) -> None:
        """Add a successful call's price and billing units."""
        self.cost_usd += cost_usd
        self.units += units

    def stats(self) -> ServiceStats:
        """The simulator's ``ServiceStats``, so real and simulated runs compare field by field."""
        from perflab.sim.faults import ServiceStats

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


def _secret(api_key: SecretStr | str | None) -> str | None:
    if api_key is None:
        return None
    getter = getattr(api_key, "get_secret_value", None)
    return str(getter()) if callable(getter) else str(api_key)


def _client(api_key: SecretStr | str | None, base_url: str | None, timeout: float) -> Any:
    import openai

    kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 0}  # the engine's Retry retries
    if base_url is not None:
        kwargs["base_url"] = base_url
    key = _secret(api_key)
    if key is not None:
        kwargs["api_key"] = key
    try:
        return openai.AsyncOpenAI(**kwargs)
    except openai.OpenAIError as exc:  # no key anywhere
        raise ConfigError(
            "OPENAI_API_KEY is not set (needed for PERFLAB_LLM_BACKEND=openai)"
        ) from exc


class OpenAILLM:
    """Chat completions from the OpenAI API: ``await generate(prompt)`` returns the text.

    Args:
        api_key: the key (SecretStr or str); ``None`` lets the SDK read OPENAI_API_KEY.
        model: the chat model (OPENAI_MODEL).
        base_url: an OpenAI-compatible endpoint (OPENAI_BASE_URL), e.g. ``perflab sim serve``.
        timeout: seconds per request.
        max_tokens: cap on the article's length.
        system_prompt: the instructions sent before each prompt.
        params: prices per token (default ``LLMParams()``, gpt-4o-mini's).
        clock: times calls for ``stats().busy_s``.
    """

    def __init__(
        self,
        *,
        api_key: SecretStr | str | None = None,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        timeout: float = 60.0,
        max_tokens: int = 1000,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        params: LLMParams | None = None,
        clock: Clock | None = None,
    ) -> None:
        from perflab.sim.services import LLMParams

        if timeout <= 0 or max_tokens < 1:
            raise ValueError(f"timeout ({timeout}) must be > 0 and max_tokens ({max_tokens}) >= 1")
        self.model = model
        self.base_url = base_url
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self.params = params if params is not None else LLMParams()
        self._client = _client(api_key, base_url, timeout)
        self._account = Accounting("llm", clock)

    async def generate(self, prompt: str) -> Reply:
        """Write an article for ``prompt`` (one chat completion); the ``Reply`` has tokens and price.

        Raises:
            RateLimited: HTTP 429 (``retry_after`` from the response).
            ServiceError: 5xx, a timeout, or no connection.
            ConfigError: the key was refused.
        """
        with self._account.call("openai chat completion"):
            response = await self._client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": self.system_prompt},
                    {"role": "user", "content": prompt},
                ],
                max_tokens=self.max_tokens,
            )
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage is not None else 0
        tokens_out = usage.completion_tokens if usage is not None else 0
        p = self.params
        cost = (tokens_in * p.price_in_per_1m_usd + tokens_out * p.price_out_per_1m_usd) / 1e6
        self._account.charge(cost, tokens_in + tokens_out)
        return Reply(
            str(response.choices[0].message.content or ""), float(tokens_in + tokens_out), cost
        )

    def stats(self) -> ServiceStats:
        """Calls, errors, 429s, cost (from the reported token usage) and time spent."""
        return self._account.stats()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def __repr__(self) -> str:
        s = self._account
        return f"<OpenAILLM {self.model} at {self.base_url or 'api.openai.com'} [calls {s.calls}, errors {s.errors}, 429s {s.rate_limited}]>"


class OpenAIEmbeddingsAPI:
    """Embeddings from the OpenAI API: ``await embed(texts)`` returns unit vectors.

    Args:
        api_key: the key; ``None`` lets the SDK read OPENAI_API_KEY.
        model: the embedding model (OPENAI_EMBEDDING_MODEL).
        base_url: an OpenAI-compatible endpoint.
        timeout: seconds per request.
        params: price per token and the largest batch (default ``EmbeddingParams()``).
        clock: times calls for ``stats().busy_s``.
    """

    def __init__(
        self,
        *,
        api_key: SecretStr | str | None = None,
        model: str = "text-embedding-3-small",
        base_url: str | None = None,
        timeout: float = 30.0,
        params: EmbeddingParams | None = None,
        clock: Clock | None = None,
    ) -> None:
        from perflab.sim.services import EmbeddingParams

        self.model = model
        self.base_url = base_url
        self.params = params if params is not None else EmbeddingParams()
        self._client = _client(api_key, base_url, timeout)
        self._account = Accounting("embeddings", clock)

    async def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` in one request (at most ``params.max_batch``), rows of length 1.

        Raises:
            ServiceError: a batch over ``max_batch`` (400), 5xx, a timeout.
            RateLimited: HTTP 429.
        """
        from perflab.embedders.base import l2_normalise

        if len(texts) > self.params.max_batch:
            raise ServiceError(
                f"embeddings: batch of {len(texts)} > max_batch {self.params.max_batch}", 400
            )
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._account.call("openai embeddings"):
            response = await self._client.embeddings.create(model=self.model, input=list(texts))
        rows: list[Any] = [None] * len(texts)
        for item in response.data:  # one item per input, with its index; order not promised
            rows[item.index] = item.embedding
        tokens = response.usage.prompt_tokens if response.usage is not None else 0
        self._account.charge(tokens * self.params.price_per_1m_usd / 1e6, tokens)
        return l2_normalise(np.asarray(rows, dtype=np.float32))

    def stats(self) -> ServiceStats:
        """Calls, errors, 429s, cost (from the reported token usage) and time spent."""
        return self._account.stats()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def __repr__(self) -> str:
        s = self._account
        return f"<OpenAIEmbeddingsAPI {self.model} at {self.base_url or 'api.openai.com'} [calls {s.calls}, errors {s.errors}]>"

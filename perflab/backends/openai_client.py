"""The real OpenAI API behind the service contract (``perflab.services``).

``OpenAILLM.generate(prompt)`` is what ``SimLLM.generate`` is (both return a ``Reply``:
text, billing units, price), and
``OpenAIEmbeddingsAPI.embed(texts)`` is the real counterpart of
``SimEmbeddingsAPI.embed`` (it returns the vectors the simulator borrows from a local
model). Both keep the same accounting as the simulated services (a
``perflab.services.ServiceAccount``, whose ``stats()`` is a ``ServiceStats``), priced from
the same parameter dataclasses, so a notebook compares a simulated run and a real one
field by field.

Failures become perflab's errors so the engine's ``Retry`` and ``CircuitBreaker``
handle real and simulated services alike: 429 -> ``RateLimited`` (with the
Retry-After the API sent), 5xx, timeouts and refused connections -> ``ServiceError``,
401/403 -> ``ConfigError`` (a wrong key is not worth retrying): one mapper,
``perflab.embedders.openai.map_openai_error``. The SDK's own retries are off
(``max_retries=0``) so only one layer retries: the engine's ``Retry``, in the pipeline.
``OpenAIEmbeddingsAPI`` is built on ``perflab.embedders.OpenAIEmbedder`` (one adapter).

``base_url`` points either at any OpenAI-compatible server, e.g. ``perflab sim serve``.
The key is a secret: it goes to the SDK and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.clock import Clock, default_clock
from perflab.embedders.openai import (
    MODEL_DIMS,
    OpenAIEmbedder,
    map_openai_error,
    openai_client_kwargs,
)
from perflab.errors import ConfigError, ServiceError
from perflab.services import EmbeddingParams, LLMParams, Reply, ServiceAccount, ServiceStats

if TYPE_CHECKING:
    from pydantic import SecretStr

    from perflab.arrays import FloatArray

__all__ = ["Accounting", "OpenAIEmbeddingsAPI", "OpenAILLM", "map_openai_error"]

DEFAULT_SYSTEM_PROMPT = (
    "You write clear, well-structured articles from the research notes you are given."
)


class Accounting(ServiceAccount):
    """A ``ServiceAccount`` with a clock: ``call(service)`` times one request and books it.

    SDK errors leave as perflab errors (``map_openai_error``); perflab errors pass.
    """

    def __init__(self, name: str, clock: Clock | None = None) -> None:
        super().__init__(name)
        self.clock = default_clock(clock)

    @contextmanager
    def request(self, service: str) -> Iterator[None]:
        """Time one OpenAI request and book its outcome."""
        with self.call(self.clock, lambda exc: map_openai_error(exc, service)):
            yield


def _client(api_key: SecretStr | str | None, base_url: str | None, timeout: float) -> Any:
    import openai

    try:
        return openai.AsyncOpenAI(**openai_client_kwargs(api_key, base_url, timeout))
    except openai.OpenAIError as exc:  # no key anywhere
        raise ConfigError(
            "OPENAI_API_KEY is not set (needed for PERFLAB_LLM_BACKEND=openai)"
        ) from exc


class _OpenAIService:
    """What both OpenAI services share: the async client, the accounting, ``stats``, ``repr``."""

    model: str
    base_url: str | None
    _client: Any
    _account: Accounting

    def stats(self) -> ServiceStats:
        """Calls, errors, 429s, cost (from the reported token usage) and time spent."""
        return self._account.stats()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    def __repr__(self) -> str:
        s = self._account
        where = self.base_url or "api.openai.com"
        return (
            f"<{type(self).__name__} {self.model} at {where} "
            f"[calls {s.calls}, errors {s.errors}, 429s {s.rate_limited}]>"
        )


class OpenAILLM(_OpenAIService):
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
        with self._account.request("openai chat completion"):
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


class OpenAIEmbeddingsAPI(_OpenAIService):
    """Embeddings from the OpenAI API: ``await embed(texts)`` returns unit vectors.

    One request per call (the pipeline batches and retries), made by an
    ``OpenAIEmbedder``; this class adds the accounting and the price.

    Args:
        api_key: the key; ``None`` lets the SDK read OPENAI_API_KEY.
        model: the embedding model (OPENAI_EMBEDDING_MODEL).
        base_url: an OpenAI-compatible endpoint.
        timeout: seconds per request.
        params: price per token and the largest batch (default ``EmbeddingParams()``).
        clock: times calls for ``stats().busy_s``.
        dim: vector length, for a model not in ``MODEL_DIMS`` (default 1536).
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
        dim: int | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.params = params if params is not None else EmbeddingParams()
        self._embedder = OpenAIEmbedder(
            model,
            dim=dim if dim is not None else MODEL_DIMS.get(model, 1536),
            base_url=base_url,
            api_key=api_key,
            batch_size=self.params.max_batch,
            timeout=timeout,
            max_retries=0,
        )
        self._client = _client(api_key, base_url, timeout)  # fail early without a key
        self._embedder._aclient = self._client
        self._account = Accounting("embeddings", clock)

    async def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` in one request (at most ``params.max_batch``), rows of length 1.

        Raises:
            ServiceError: a batch over ``max_batch`` (400), 5xx, a timeout.
            RateLimited: HTTP 429.
        """
        if len(texts) > self.params.max_batch:
            raise ServiceError(
                f"embeddings: batch of {len(texts)} > max_batch {self.params.max_batch}", 400
            )
        if not texts:
            return np.zeros((0, self._embedder.dim), dtype=np.float32)
        with self._account.request("openai embeddings"):
            vectors, tokens = await self._embedder.arequest(texts)
        self._account.charge(tokens * self.params.price_per_1m_usd / 1e6, tokens)
        return vectors

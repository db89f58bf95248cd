"""OpenAI embeddings over the official SDK (or any server that speaks its API).

Switched on by ``PERFLAB_EMBEDDER=openai`` with ``OPENAI_API_KEY`` set. ``base_url``
points it at any OpenAI-compatible server (a local vLLM or Ollama, a proxy, a test
stand-in). Texts go out in batches of ``batch_size`` per HTTP request: one request per
text would pay the round trip, and the rate limit, once per text.

The API key is handed to the SDK and never printed, logged or shown in ``repr``.

The SDK's exceptions stop here: ``map_openai_error`` (the one mapper, also used by
``perflab.backends.openai_client``) translates them into perflab's, so ``Retry`` and
``CircuitBreaker`` treat this embedder like every other service: HTTP 429 ->
``RateLimited`` (with the Retry-After the API sent), 5xx, timeouts and refused
connections -> ``ServiceError``, 401/403 -> ``ConfigError`` (a wrong key is not worth
retrying), any other 4xx -> ``ServiceError`` with its status. The original exception
stays attached as ``__cause__``.

One layer retries: the engine's ``Retry`` around each request. The SDK's own retries
are always off (``max_retries=0`` in ``openai_client_kwargs``), here and in the
pipeline's ``OpenAIEmbeddingsAPI``, which is built on this class.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.arrays import FloatArray
from perflab.embedders.base import l2_normalise
from perflab.errors import PerflabError, ServiceError
from perflab.http_errors import error_for_status
from perflab.retry import Retry
from perflab.secret import reveal

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "MODEL_DIMS",
    "OpenAIEmbedder",
    "map_openai_error",
    "openai_client_kwargs",
    "translate_sdk_errors",
]

#: Native output sizes of OpenAI's embedding models; text-embedding-3-* also accept a
#: smaller ``dimensions``. The one table: the stand-in server answers with these too.
MODEL_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
_KNOWN_DIMS = MODEL_DIMS  # the old private name


def map_openai_error(exc: Exception, service: str) -> PerflabError:
    """Translate an ``openai`` SDK exception into the perflab error the engine understands.

    Args:
        exc: what the SDK raised.
        service: who failed, for the message (``"openai embeddings (text-embedding-3-small)"``).

    Returns:
        ``RateLimited`` for 429 (``retry_after`` from Retry-After or retry-after-ms),
        ``ConfigError`` for 401/403 (the key was refused), else ``ServiceError``.
    """
    import openai

    if isinstance(exc, openai.APITimeoutError):  # a subclass of APIConnectionError: first
        return ServiceError(f"{service} timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ServiceError(
            f"{service} could not be reached ({type(exc.__cause__ or exc).__name__})"
        )
    if isinstance(exc, openai.APIStatusError):
        headers = exc.response.headers
        retry_after = headers.get("retry-after")
        if retry_after is None and headers.get("retry-after-ms"):
            retry_after = str(float(headers["retry-after-ms"]) / 1000)
        return error_for_status(
            service, int(exc.status_code), retry_after, key_name="OPENAI_API_KEY"
        )
    return ServiceError(f"{service} failed ({type(exc).__name__})")


def openai_client_kwargs(
    api_key: object | None, base_url: str | None, timeout: float
) -> dict[str, Any]:
    """Arguments for ``openai.OpenAI``/``AsyncOpenAI``: the SDK never retries by itself.

    Args:
        api_key: a ``SecretStr`` or ``str``; ``None`` lets the SDK read OPENAI_API_KEY.
        base_url: an OpenAI-compatible endpoint; ``None`` for the SDK's default.
        timeout: seconds per request.
    """
    kwargs: dict[str, Any] = {"timeout": timeout, "max_retries": 0}  # the engine's Retry retries
    if base_url is not None:
        kwargs["base_url"] = base_url
    key = reveal(api_key)
    if key is not None:
        kwargs["api_key"] = key
    return kwargs


@contextmanager
def translate_sdk_errors(service: str) -> Iterator[None]:
    """Turn the ``openai`` SDK's exceptions raised inside the block into perflab errors.

    Args:
        service: who failed, for the message (``"openai embeddings (text-embedding-3-small)"``).

    Raises:
        RateLimited: HTTP 429, with ``retry_after`` from Retry-After (or retry-after-ms).
        ServiceError: 5xx (with its status), a timeout, a refused connection, other 4xx.
        ConfigError: 401 or 403, the key was refused.
    """
    import openai

    try:
        yield
    except openai.OpenAIError as exc:
        raise map_openai_error(exc, service) from exc


class OpenAIEmbedder:
    """Embeddings from the OpenAI API (``client.embeddings.create``), sync and async.

    Args:
        model: the embedding model name.
        dim: vector length. ``None`` uses the model's native size (known models
            only); for text-embedding-3-* a smaller value is sent as ``dimensions``.
        base_url: API root, e.g. ``"http://127.0.0.1:8000/v1"``; ``None`` uses the
            SDK default (or ``OPENAI_BASE_URL``).
        api_key: a ``SecretStr`` or ``str``; ``None`` lets the SDK read ``OPENAI_API_KEY``.
        batch_size: texts per request.
        timeout: seconds per request.
        max_retries: retries of a failed request (429, 5xx, timeout) by the engine's
            ``Retry`` (full jitter, honours Retry-After); ignored when ``retry`` is given.
        retry: the retry policy for each request; default ``Retry(max_retries + 1)``.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dim: int | None = None,
        base_url: str | None = None,
        api_key: SecretStr | str | None = None,
        batch_size: int = 100,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry: Retry | None = None,
    ) -> None:
        native = MODEL_DIMS.get(model)
        if dim is None:
            if native is None:
                raise ValueError(f"unknown embedding size for model {model!r}: pass dim=")
            dim = native
        if dim < 1:
            raise ValueError(f"dim ({dim}) must be >= 1")
        if batch_size < 1:
            raise ValueError(f"batch_size ({batch_size}) must be >= 1")
        if max_retries < 0:
            raise ValueError(f"max_retries ({max_retries}) must be >= 0 (0: no retries)")
        self.model = model
        self._dim = dim
        # Only text-embedding-3-* accept ``dimensions``; send it when it changes something.
        self._dimensions = dim if model.startswith("text-embedding-3") and dim != native else None
        self.base_url = base_url
        self._api_key = api_key
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry = retry if retry is not None else Retry(max_retries + 1)
        self._client: Any = None
        self._aclient: Any = None

    @property
    def name(self) -> str:
        """``"openai/<model>-<dim>"``."""
        return f"openai/{self.model}-{self._dim}"

    @property
    def dim(self) -> int:
        """Vector length."""
        return self._dim

    @property
    def _service(self) -> str:
        return f"openai embeddings ({self.model})"

    def _client_kwargs(self) -> dict[str, Any]:
        return openai_client_kwargs(self._api_key, self.base_url, self.timeout)

    def _request(self, batch: Sequence[str]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "input": list(batch)}
        if self._dimensions is not None:
            request["dimensions"] = self._dimensions
        return request

    def _vectors(self, response: Any, n: int) -> FloatArray:
        """The response's vectors in input order (the API promises an ``index``, not an order)."""
        out = np.zeros((n, self._dim), dtype=np.float32)
        for item in response.data:
            vector = np.asarray(item.embedding, dtype=np.float32)
            if vector.shape != (self._dim,):
                raise ValueError(
                    f"{self.model} returned vectors of length {vector.shape[0]}, expected {self._dim}"
                )
            out[item.index] = vector
        return out

    def _batches(self, texts: Sequence[str]) -> list[Sequence[str]]:
        return [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

    def _post(self, batch: Sequence[str]) -> FloatArray:
        """One request (sync), errors translated."""
        if self._client is None:
            import openai

            self._client = openai.OpenAI(**self._client_kwargs())
        with translate_sdk_errors(self._service):
            response = self._client.embeddings.create(**self._request(batch))
        return self._vectors(response, len(batch))

    async def arequest(self, texts: Sequence[str]) -> tuple[FloatArray, int]:
        """One request for all of ``texts``, with no retry: unit vectors and prompt tokens.

        For callers that retry (and count) themselves, such as the pipeline's
        ``OpenAIEmbeddingsAPI``; ``aembed`` batches and retries.

        Raises:
            RateLimited, ServiceError, ConfigError: as ``embed``.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32), 0
        if self._aclient is None:
            import openai

            self._aclient = openai.AsyncOpenAI(**self._client_kwargs())
        with translate_sdk_errors(self._service):
            response = await self._aclient.embeddings.create(**self._request(texts))
        tokens = response.usage.prompt_tokens if response.usage is not None else 0
        return l2_normalise(self._vectors(response, len(texts))), int(tokens)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` in batches of ``batch_size`` (one HTTP request each).

        Raises:
            RateLimited: HTTP 429 (after ``retry`` gave up).
            ServiceError: 5xx, a timeout, or no connection.
            ConfigError: the key was refused.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        parts = [self.retry.call(self._post, batch) for batch in self._batches(texts)]
        return l2_normalise(np.concatenate(parts))

    async def aembed(self, texts: Sequence[str]) -> FloatArray:
        """Like ``embed``, with ``AsyncOpenAI``: batches go out one after another.

        Raises:
            RateLimited, ServiceError, ConfigError: as ``embed``.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        parts = [
            (await self.retry.acall(self.arequest, batch))[0] for batch in self._batches(texts)
        ]
        return np.concatenate(parts)

    def close(self) -> None:
        """Close the sync client's HTTP connections (the async one closes with its loop)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        where = self.base_url or "default base_url"
        return f"<OpenAIEmbedder {self.name} at {where}>"

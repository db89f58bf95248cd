"""OpenAI embeddings over the official SDK (or any server that speaks its API).

Switched on by ``PERFLAB_EMBEDDER=openai`` with ``OPENAI_API_KEY`` set. ``base_url``
points it at any OpenAI-compatible server (a local vLLM or Ollama, a proxy, a test
stand-in). Texts go out in batches of ``batch_size`` per HTTP request: one request per
text would pay the round trip, and the rate limit, once per text.

The API key is handed to the SDK and never printed, logged or shown in ``repr``.

The SDK's exceptions stop here: they are translated at this adapter's boundary into
perflab's, so ``Retry`` and ``CircuitBreaker`` treat this embedder like every other
service: HTTP 429 -> ``RateLimited`` (with the Retry-After the API sent), 5xx, timeouts
and refused connections -> ``ServiceError``, 401/403 -> ``ConfigError`` (a wrong key is
not worth retrying), any other 4xx -> ``ServiceError`` with its status. The original
exception stays attached as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from perflab.backends._http import error_for_status
from perflab.embedders.base import FloatArray, l2_normalise
from perflab.errors import ConfigError, ServiceError

__all__ = ["OpenAIEmbedder", "translate_sdk_errors"]

# Native output sizes; text-embedding-3-* also accept a smaller ``dimensions``.
_KNOWN_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


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
    except openai.APITimeoutError as exc:  # a subclass of APIConnectionError: first
        raise ServiceError(f"{service} timed out") from exc
    except openai.APIConnectionError as exc:
        cause = type(exc.__cause__ or exc).__name__
        raise ServiceError(f"{service} could not be reached ({cause})") from exc
    except openai.APIStatusError as exc:
        status = int(exc.status_code)
        if status in (401, 403):
            raise ConfigError(
                f"{service} refused the key (HTTP {status}): check OPENAI_API_KEY"
            ) from exc
        headers = exc.response.headers
        retry_after = headers.get("retry-after")
        if retry_after is None and headers.get("retry-after-ms"):
            retry_after = str(float(headers["retry-after-ms"]) / 1000)
        raise error_for_status(service, status, retry_after) from exc


class OpenAIEmbedder:
    """Embeddings from the OpenAI API (``client.embeddings.create``), sync and async.

    Args:
        model: the embedding model name.
        dim: vector length. ``None`` uses the model's native size (known models
            only); for text-embedding-3-* a smaller value is sent as ``dimensions``.
        base_url: API root, e.g. ``"http://127.0.0.1:8000/v1"``; ``None`` uses the
            SDK default (or ``OPENAI_BASE_URL``).
        api_key: ``None`` lets the SDK read ``OPENAI_API_KEY``.
        batch_size: texts per request.
        timeout: seconds per request.
        max_retries: the SDK's own retries on 429/5xx.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dim: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 100,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        native = _KNOWN_DIMS.get(model)
        if dim is None:
            if native is None:
                raise ValueError(f"unknown embedding size for model {model!r}: pass dim=")
            dim = native
        if dim < 1:
            raise ValueError(f"dim ({dim}) must be >= 1")
        if batch_size < 1:
            raise ValueError(f"batch_size ({batch_size}) must be >= 1")
        self.model = model
        self._dim = dim
        # Only text-embedding-3-* accept ``dimensions``; send it when it changes something.
        self._dimensions = dim if model.startswith("text-embedding-3") and dim != native else None
        self.base_url = base_url
        self._api_key = api_key
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
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
        kwargs: dict[str, Any] = {"timeout": self.timeout, "max_retries": self.max_retries}
        if self.base_url is not None:
            kwargs["base_url"] = self.base_url
        if self._api_key is not None:
            kwargs["api_key"] = self._api_key
        return kwargs

    def _request(self, batch: Sequence[str]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "input": list(batch)}
        if self._dimensions is not None:
            request["dimensions"] = self._dimensions
        return request

    def _to_matrix(self, responses: list[tuple[Any, int]], n: int) -> FloatArray:
        out = np.zeros((n, self._dim), dtype=np.float32)
        start = 0
        for response, size in responses:
            # The API returns one item per input with its ``index``; order is not promised.
            for item in response.data:
                vector = np.asarray(item.embedding, dtype=np.float32)
                if vector.shape != (self._dim,):
                    raise ValueError(
                        f"{self.model} returned vectors of length {vector.shape[0]}, expected {self._dim}"
                    )
                out[start + item.index] = vector
            start += size
        return l2_normalise(out)

    def _batches(self, texts: Sequence[str]) -> list[Sequence[str]]:
        return [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` in batches of ``batch_size`` (one HTTP request each).

        Raises:
            RateLimited: HTTP 429 (after the SDK's own ``max_retries``).
            ServiceError: 5xx, a timeout, or no connection.
            ConfigError: the key was refused.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._client is None:
            import openai

            self._client = openai.OpenAI(**self._client_kwargs())
        with translate_sdk_errors(self._service):
            responses = [
                (self._client.embeddings.create(**self._request(batch)), len(batch))
                for batch in self._batches(texts)
            ]
        return self._to_matrix(responses, len(texts))

    async def aembed(self, texts: Sequence[str]) -> FloatArray:
        """Like ``embed``, with ``AsyncOpenAI``: batches go out one after another.

        Raises:
            RateLimited, ServiceError, ConfigError: as ``embed``.
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._aclient is None:
            import openai

            self._aclient = openai.AsyncOpenAI(**self._client_kwargs())
        responses = []
        with translate_sdk_errors(self._service):
            for batch in self._batches(texts):
                responses.append(
                    (await self._aclient.embeddings.create(**self._request(batch)), len(batch))
                )
        return self._to_matrix(responses, len(texts))

    def close(self) -> None:
        """Close the sync client's HTTP connections (the async one closes with its loop)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        where = self.base_url or "default base_url"
        return f"<OpenAIEmbedder {self.name} at {where}>"

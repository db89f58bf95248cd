"""``StandInServer``: a local HTTP server that answers like OpenAI and Tavily, run by the simulator.

(Moved here from ``perflab.backends.standin``: it is simulator code.)

``perflab sim serve`` starts it. It speaks the request and response shapes of

- ``POST /v1/chat/completions`` and ``POST /v1/embeddings`` (OpenAI; point the
  official SDK at it with ``base_url="http://127.0.0.1:PORT/v1"`` and any key),
- ``POST /search`` (Tavily; ``TavilySearch(base_url="http://127.0.0.1:PORT")``),

and each answer is produced by the simulator's service models
(``perflab.sim.services``: ``SimLLM``, ``SimEmbeddingsAPI``, ``SimSearch``) running on
the real clock: their lognormal latencies become real waits, their error rates become
HTTP 500s, their requests-per-minute windows become HTTP 429s with a ``Retry-After``
header. Learners point their own OpenAI code at it to practise retries, backoff and
circuit breakers against failures that happen on purpose, offline and for free.

Embedding vectors come from the local hashing embedder (one per text, of the model's
length), so they are deterministic. Answers are placeholders: this is a load and
failure stand-in, not a language model. Scheduled faults (outage windows) are a
simulator feature on virtual time and are not served here.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.errors import RateLimited, ServiceError

if TYPE_CHECKING:
    from perflab.services import EmbeddingParams, LLMParams, SearchParams

__all__ = ["StandInConfig", "StandInServer"]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class StandInConfig:
    """What the stand-in simulates (defaults: the simulator's, i.e. docs/sim.md).

    Attributes:
        llm: the chat model's latency, prices, limits and error rate.
        embeddings: the embeddings endpoint's.
        search: the search API's.
        seed: seeds each service's random stream (same seed, same sequence of draws).
        latency_scale: multiplies every latency (0.01: a hundred times faster).
        api_key: when set, requests must carry it (``Authorization: Bearer``); else any key works.
    """

    llm: LLMParams | None = None
    embeddings: EmbeddingParams | None = None
    search: SearchParams | None = None
    seed: int = 0
    latency_scale: float = 1.0
    api_key: str | None = field(default=None, repr=False)


class _HTTPError(Exception):
    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class StandInServer:
    """Serve the OpenAI and Tavily stand-ins on ``host:port`` (0 picks a free port).

    Use ``async with`` on a running loop, ``with`` for a background thread, or
    ``serve_forever()`` from the command line.
    """

    def __init__(
        self, config: StandInConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        from perflab.sim.faults import service_rng
        from perflab.sim.services import (
            EmbeddingParams,
            LLMParams,
            SearchParams,
            SimEmbeddingsAPI,
            SimLLM,
            SimSearch,
        )

        self.config = config if config is not None else StandInConfig()
        c = self.config
        if c.latency_scale <= 0:
            raise ValueError(f"latency_scale ({c.latency_scale}) must be > 0")

        def scaled(params: Any) -> Any:
            return dataclasses.replace(params, latency_scale=params.latency_scale * c.latency_scale)

        self.llm = SimLLM(scaled(c.llm or LLMParams()), service_rng(c.seed, "llm"))
        self.embeddings = SimEmbeddingsAPI(
            scaled(c.embeddings or EmbeddingParams()), service_rng(c.seed, "embeddings")
        )
        self.search = SimSearch(scaled(c.search or SearchParams()), service_rng(c.seed, "search"))
        self.host, self.port = host, port
        self._ids = itertools.count(1)
        self._embedders: dict[int, Any] = {}
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        """``http://host:port``: Tavily's base URL; OpenAI's is this plus ``/v1``."""
        return f"http://{self.host}:{self.port}"

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the running loop; ``self.port`` is the bound port afterwards."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close the connections clients keep alive (requests in flight are abandoned)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        """Start and serve until cancelled (Ctrl-C in ``perflab sim serve``)."""
        await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def __aenter__(self) -> StandInServer:  # noqa: PYI034 - Self needs Python 3.11
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> StandInServer:  # noqa: PYI034 - Self needs Python 3.11
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="perflab-standin", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = None

    # -- HTTP/1.1, just enough -------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, payload, extra = await self._dispatch(
                    method, target.split("?")[0], headers, body
                )
                data = json.dumps(payload).encode()
                head = [
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                    *(f"{k}: {v}" for k, v in extra.items()),
                ]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass  # a client went away, or stop() closes an idle keep-alive connection
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _dispatch(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        tavily = path.rstrip("/") == "/search"
        try:
            if method != "POST":
                raise _HTTPError(
                    404,
                    {
                        "error": {
                            "message": f"no route {method} {path}",
                            "type": "invalid_request_error",
                        }
                    },
                )
            request = json.loads(body or b"{}")
            self._check_key(headers, request, tavily)
            if tavily:
                return 200, await self._search(request), {}
            if path.rstrip("/") == "/v1/chat/completions":
                return 200, await self._chat(request), {}
            if path.rstrip("/") == "/v1/embeddings":
                return 200, await self._embed(request), {}
            raise _HTTPError(
                404, {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}
            )
        except _HTTPError as exc:
            return exc.status, exc.body, exc.headers
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            headers_out = {
                "Retry-After": f"{max(wait, 0.001):.3f}",
                "retry-after-ms": str(max(1, round(wait * 1000))),
            }
            return 429, _error_body(tavily, str(exc), "rate_limit_exceeded"), headers_out
        except ServiceError as exc:
            status = exc.status if exc.status in (400, 413, 500, 503) else 500
            return (
                status,
                _error_body(
                    tavily, str(exc), "server_error" if status >= 500 else "invalid_request"
                ),
                {},
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            return (
                400,
                _error_body(
                    tavily, f"malformed request ({type(exc).__name__}: {exc})", "invalid_request"
                ),
                {},
            )

    def _check_key(self, headers: dict[str, str], request: dict[str, Any], tavily: bool) -> None:
        expected = self.config.api_key
        if expected is None:
            return
        given = headers.get("authorization", "").removeprefix("Bearer ").strip() or request.get(
            "api_key", ""
        )
        if given != expected:
            raise _HTTPError(401, _error_body(tavily, "invalid API key", "invalid_api_key"))

    # -- the three endpoints ---------------------------------------------------------

    async def _chat(self, request: dict[str, Any]) -> dict[str, Any]:
        messages = request["messages"]
        prompt = next(
            (str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        text = (await self.llm.generate(prompt)).text
        p = self.llm.params
        return {
            "id": f"chatcmpl-sim-{next(self._ids)}",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", "sim"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            # The simulator draws each article's length; the stand-in reports the medians.
            "usage": {
                "prompt_tokens": p.input_tokens,
                "completion_tokens": p.output_tokens,
                "total_tokens": p.input_tokens + p.output_tokens,
            },
        }

    async def _embed(self, request: dict[str, Any]) -> dict[str, Any]:
        from perflab.embedders import HashingEmbedder
        from perflab.embedders.openai import MODEL_DIMS

        texts = request["input"]
        texts = [texts] if isinstance(texts, str) else [str(t) for t in texts]
        model = str(request.get("model", "text-embedding-3-small"))
        dim = int(request.get("dimensions") or MODEL_DIMS.get(model, 1536))
        await self.embeddings.embed(len(texts))
        embedder = self._embedders.setdefault(dim, HashingEmbedder(dim=dim))
        vectors = embedder.embed(texts).astype("<f4")
        as_base64 = request.get("encoding_format") == "base64"  # the SDK asks for this by default
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": base64.b64encode(row.tobytes()).decode()
                if as_base64
                else [float(x) for x in row],
            }
            for i, row in enumerate(vectors)
        ]
        tokens = int(len(texts) * self.embeddings.params.tokens_per_text)
        return {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    async def _search(self, request: dict[str, Any]) -> dict[str, Any]:
        query = str(request["query"])
        depth = str(request.get("search_depth", "basic"))
        if depth not in ("basic", "advanced"):
            raise _HTTPError(
                400, {"detail": {"error": f"search_depth must be basic or advanced, got {depth!r}"}}
            )
        loop = asyncio.get_running_loop()
        start = loop.time()
        text = (await self.search.search(query, depth)).text
        n = max(1, min(int(request.get("max_results", 5)), 20))
        slug = "-".join(query.lower().split())[:60] or "query"
        results = [
            {
                "title": f"{query} ({i + 1})",
                "url": f"https://example.com/sim/{slug}/{i + 1}",
                "content": text,
                "score": round(float(np.clip(0.95 - 0.07 * i, 0, 1)), 2),
                "raw_content": None,
            }
            for i in range(n)
        ]
        return {
            "query": query,
            "answer": None,
            "images": [],
            "follow_up_questions": None,
            "results": results,
            "response_time": round(loop.time() - start, 3),
        }

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "stopped"
        return (
            f"<StandInServer {state} [llm {self.llm.stats().calls} calls, embeddings "
            f"{self.embeddings.stats().calls}, search {self.search.stats().calls}]>"
        )


def _error_body(tavily: bool, message: str, code: str) -> dict[str, Any]:
    """OpenAI's ``{"error": {...}}`` or Tavily's ``{"detail": {"error": ...}}``."""
    if tavily:
        return {"detail": {"error": message}}
    kind = "requests" if code == "rate_limit_exceeded" else code
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}

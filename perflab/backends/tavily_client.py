"""The real Tavily search API behind ``SimSearch``'s interface, on httpx.

``TavilySearch.search(query, depth)`` is what ``SimSearch.search`` is: a ``Reply`` with
the research text for a keyword, its credits and its price. One ``POST /search`` per call, authenticated with
``Authorization: Bearer <TAVILY_API_KEY>``. The results' titles, URLs and contents
are joined into the research notes the article is written from.

Failures become perflab's errors, as for the OpenAI adapters: 429 -> ``RateLimited``
(with Retry-After), 5xx / timeouts / refused connections -> ``ServiceError``, 401 and
403 -> ``ConfigError``, Tavily's plan limits (432, 433) -> ``ServiceError`` with that
status. No retries here: the engine's ``Retry`` decides. Costs are booked in credits
(``SearchParams``: basic 1, advanced 2) at the pay-as-you-go price.

``base_url`` may point at ``perflab sim serve``, which answers like Tavily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perflab.clock import Clock, default_clock
from perflab.errors import ConfigError, ServiceError, SimulationError
from perflab.http_errors import error_for_status
from perflab.secret import reveal
from perflab.services import Reply, SearchParams, ServiceAccount, ServiceStats

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = ["TAVILY_URL", "TavilySearch", "format_results"]

TAVILY_URL = "https://api.tavily.com"


def format_results(body: dict[str, Any]) -> str:
    """Research notes from a Tavily response: the answer (if any), then each result."""
    parts = []
    if body.get("answer"):
        parts.append(str(body["answer"]))
    for result in body.get("results") or []:
        parts.append(
            f"{result.get('title', '')} ({result.get('url', '')})\n{result.get('content', '')}"
        )
    return "\n\n".join(parts)


class TavilySearch:
    """Web search through Tavily: ``await search(query, depth)`` returns research text.

    Args:
        api_key: TAVILY_API_KEY (SecretStr or str).
        base_url: the API root (default https://api.tavily.com).
        timeout: seconds per request.
        max_results: results per search (Tavily allows up to 20).
        params: credit costs and price (default ``SearchParams()``).
        clock: times calls for ``stats().busy_s``.
    """

    def __init__(
        self,
        api_key: SecretStr | str | None,
        *,
        base_url: str = TAVILY_URL,
        timeout: float = 30.0,
        max_results: int = 5,
        params: SearchParams | None = None,
        clock: Clock | None = None,
    ) -> None:
        import httpx

        key = reveal(api_key) or ""
        if not key:
            raise ConfigError(
                "TAVILY_API_KEY is not set (needed for PERFLAB_SEARCH_BACKEND=tavily)"
            )
        if not 1 <= max_results <= 20:
            raise ValueError(f"max_results ({max_results}) must be within 1..20")
        self.base_url = base_url.rstrip("/")
        self.max_results = max_results
        self.params = params if params is not None else SearchParams()
        # The key lives in the client's default headers only: never in repr, logs or errors.
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={"Authorization": f"Bearer {key}"},
        )
        self._clock = default_clock(clock)
        self._account = ServiceAccount("search")

    async def search(self, query: str, depth: str = "basic") -> Reply:
        """Search the web for ``query``; ``depth`` is ``basic`` or ``advanced`` (2 credits).

        Raises:
            RateLimited: HTTP 429 (``retry_after`` from the response).
            ServiceError: 5xx, 432/433 plan limits, a timeout, or no connection.
            ConfigError: the key was refused.
        """
        import httpx

        if depth not in ("basic", "advanced"):
            raise SimulationError(f"depth ({depth!r}) must be 'basic' or 'advanced'")
        payload = {"query": query, "search_depth": depth, "max_results": self.max_results}
        with self._account.call(self._clock):
            try:
                response = await self._http.post("/search", json=payload)
            except httpx.TimeoutException as exc:
                raise ServiceError("tavily search timed out") from exc
            except httpx.HTTPError as exc:
                raise ServiceError(
                    f"tavily search could not be reached ({type(exc).__name__})"
                ) from exc
            if response.status_code >= 400:
                raise error_for_status(
                    "tavily search",
                    response.status_code,
                    response.headers.get("Retry-After"),
                    _detail(response),
                    key_name="TAVILY_API_KEY",
                )
            body = response.json()
        p = self.params
        credits = p.basic_credits if depth == "basic" else p.advanced_credits
        self._account.charge(credits * p.usd_per_credit, credits)
        return Reply(format_results(body), credits, credits * p.usd_per_credit)

    def stats(self) -> ServiceStats:
        """Calls, errors, 429s, credits spent and time spent."""
        return self._account.stats()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    def __repr__(self) -> str:
        s = self._account
        return f"<TavilySearch {self.base_url} [calls {s.calls}, errors {s.errors}, 429s {s.rate_limited}]>"


def _detail(response: Any) -> str:
    """Tavily's error text (``{"detail": {"error": ...}}``), short; never the request headers."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return ""
    if isinstance(detail, dict):
        detail = detail.get("error")
    return str(detail)[:200] if detail else ""

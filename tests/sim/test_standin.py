"""The real OpenAI SDK and the Tavily adapter over real HTTP, against the simulator-driven stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import pytest

from perflab.backends.openai_client import OpenAIEmbeddingsAPI, OpenAILLM
from perflab.backends.tavily_client import TavilySearch
from perflab.breaker import CircuitBreaker
from perflab.clock import FakeClock
from perflab.errors import CircuitOpen, ConfigError, RateLimited, ServiceError
from perflab.sim.services import EmbeddingParams, LLMParams, SearchParams
from perflab.sim.standin import StandInConfig, StandInServer

T = TypeVar("T")
FAST = 0.001  # latency_scale: the simulated seconds become milliseconds


def _serve(config: StandInConfig, body: Callable[[StandInServer], Awaitable[T]]) -> T:
    async def main() -> T:
        async with StandInServer(config) as server:
            return await body(server)

    return asyncio.run(main())


def test_openai_sdk_chat_and_embeddings() -> None:
    """The official SDK gets a chat completion and unit-length embeddings of the model's size."""
    import openai

    async def body(server: StandInServer) -> tuple[str, Any, np.ndarray]:
        client = openai.AsyncOpenAI(api_key="sk-any", base_url=server.url + "/v1", max_retries=0)
        chat = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "python tips"}]
        )
        emb = await client.embeddings.create(model="text-embedding-3-small", input=["a", "b c"])
        await client.close()
        vectors = np.asarray([d.embedding for d in emb.data])
        return str(chat.choices[0].message.content), chat.usage, vectors

    text, usage, vectors = _serve(StandInConfig(latency_scale=FAST), body)
    assert (
        "python tips" in text
        and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    )
    assert vectors.shape == (2, 1536)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_adapters_book_the_same_accounting_as_the_simulator() -> None:
    """OpenAILLM, OpenAIEmbeddingsAPI and TavilySearch report ServiceStats with costs from the sim's prices."""

    async def body(server: StandInServer) -> list[Any]:
        llm = OpenAILLM(api_key="sk-any", base_url=server.url + "/v1")
        emb = OpenAIEmbeddingsAPI(api_key="sk-any", base_url=server.url + "/v1")
        search = TavilySearch("tvly-any", base_url=server.url)
        assert "article" in (await llm.generate("keyword")).text
        assert (await emb.embed(["x", "y", "z"])).shape == (3, 1536)
        reply = await search.search("keyword", "advanced")
        assert "research notes on keyword" in reply.text and reply.units == 2.0
        stats = [llm.stats(), emb.stats(), search.stats()]
        for client in (llm, emb, search):
            await client.aclose()
        return stats

    llm, emb, search = _serve(StandInConfig(latency_scale=FAST), body)
    p = LLMParams()
    assert (llm.calls, llm.ok) == (1, 1)
    assert llm.cost_usd == pytest.approx((p.input_tokens * 0.15 + p.output_tokens * 0.60) / 1e6)
    assert emb.units == 3 * EmbeddingParams().tokens_per_text
    assert (search.units, search.cost_usd) == (
        2.0,
        pytest.approx(2 * SearchParams().usd_per_credit),
    )


def test_429_carries_retry_after_through_the_sdk() -> None:
    """Over the simulated RPM the SDK sees HTTP 429, and the adapter raises RateLimited with its wait."""

    async def body(server: StandInServer) -> RateLimited:
        llm = OpenAILLM(api_key="sk-any", base_url=server.url + "/v1")
        await llm.generate("first")  # the minute's one request
        with pytest.raises(RateLimited) as caught:
            await llm.generate("second")
        assert llm.stats().rate_limited == 1
        await llm.aclose()
        return caught.value

    limited = _serve(StandInConfig(llm=LLMParams(rpm=1), latency_scale=FAST), body)
    assert limited.retry_after is not None and 50 < limited.retry_after <= 60


def test_500_is_a_service_error_and_opens_the_breaker() -> None:
    """With every call failing, the adapter raises ServiceError(500) and the engine's breaker opens."""

    async def body(server: StandInServer) -> int:
        llm = OpenAILLM(api_key="sk-any", base_url=server.url + "/v1")
        breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30, clock=FakeClock())
        for _ in range(2):
            with pytest.raises(ServiceError) as caught:
                await breaker.acall(llm.generate, "x")
            assert caught.value.status == 500
        with pytest.raises(CircuitOpen):
            await breaker.acall(llm.generate, "x")
        await llm.aclose()
        return server.llm.stats().calls

    assert _serve(StandInConfig(llm=LLMParams(error_rate=1.0), latency_scale=FAST), body) == 2


@pytest.mark.slow
def test_a_slow_answer_times_out_as_a_service_error() -> None:
    """A response slower than the client's timeout becomes ServiceError('timed out')."""

    async def body(server: StandInServer) -> None:
        llm = OpenAILLM(api_key="sk-any", base_url=server.url + "/v1", timeout=0.2)
        with pytest.raises(ServiceError, match="timed out"):
            await llm.generate("x")  # the simulated model takes seconds
        await llm.aclose()

    _serve(StandInConfig(llm=LLMParams(ttft_median_s=5.0, ttft_sigma=0.0)), body)


def test_tavily_errors_map_to_engine_errors() -> None:
    """Tavily's 429 -> RateLimited, 500 -> ServiceError, a refused key -> ConfigError."""

    async def body(server: StandInServer) -> None:
        search = TavilySearch("tvly-right", base_url=server.url)
        await search.search("one")
        with pytest.raises(RateLimited) as limited:
            await search.search("two")
        assert limited.value.retry_after is not None and limited.value.retry_after > 0
        wrong = TavilySearch("tvly-wrong", base_url=server.url)
        with pytest.raises(ConfigError, match="TAVILY_API_KEY") as refused:
            await wrong.search("three")
        assert "tvly-wrong" not in str(refused.value) and "tvly-wrong" not in repr(wrong)
        for client in (search, wrong):
            await client.aclose()

    _serve(
        StandInConfig(search=SearchParams(rpm=1), latency_scale=FAST, api_key="tvly-right"), body
    )

    async def failing(server: StandInServer) -> None:
        search = TavilySearch("tvly-any", base_url=server.url)
        with pytest.raises(ServiceError) as caught:
            await search.search("x")
        assert caught.value.status == 500
        await search.aclose()

    _serve(StandInConfig(search=SearchParams(error_rate=1.0), latency_scale=FAST), failing)


def test_unknown_routes_and_bad_bodies_get_api_shaped_errors() -> None:
    """A wrong path is a 404 and a malformed body a 400, with OpenAI's error shape."""
    import httpx

    async def body(server: StandInServer) -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url) as client:
            missing = await client.post("/v1/nothing", json={})
            bad = await client.post("/v1/chat/completions", json={"model": "m"})
        return missing, bad

    missing, bad = _serve(StandInConfig(latency_scale=FAST), body)
    assert missing.status_code == 404 and "error" in missing.json()
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"


def test_no_key_means_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OPENAI_API_KEY or TAVILY_API_KEY the adapters refuse with ConfigError naming the variable."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAILLM()
    with pytest.raises(ConfigError, match="TAVILY_API_KEY"):
        TavilySearch(None)

"""The simulated services: costs, limits, faults."""

from __future__ import annotations

import pytest

from perflab.errors import RateLimited, ServiceError
from perflab.sim.faults import Fault, FaultKind, service_rng
from perflab.sim.loop import run_virtual
from perflab.sim.services import (
    DatabaseParams,
    EmbeddingParams,
    LLMParams,
    SearchParams,
    SimDatabase,
    SimEmbeddingsAPI,
    SimLLM,
    SimSearch,
    Window,
)


def test_search_charges_credits_by_depth() -> None:
    """A basic search costs 1 credit and an advanced one 2, at the per-credit price."""

    async def main() -> tuple[float, float]:
        search = SimSearch(SearchParams(error_rate=0.0), service_rng(1, "search"))
        basic = await search.search("q", "basic")
        advanced = await search.search("q", "advanced")
        return basic.cost_usd, advanced.cost_usd

    assert run_virtual(main()) == pytest.approx((0.008, 0.016))


def test_llm_price_per_million_tokens() -> None:
    """An article's cost is input and output tokens at gpt-4o-mini's per-million prices."""

    async def main() -> tuple[float, float]:
        llm = SimLLM(LLMParams(error_rate=0.0, output_sigma=0.0), service_rng(1, "llm"))
        reply = await llm.generate("topic")
        return reply.cost_usd, asyncio_now()

    cost, elapsed = run_virtual(main())
    assert cost == pytest.approx((2500 * 0.15 + 600 * 0.60) / 1e6)
    assert elapsed > 600 / 80 * 0.3  # TTFT + tokens / speed took virtual time


def asyncio_now() -> float:
    import asyncio

    return asyncio.get_running_loop().time()


def test_llm_answers_429_with_retry_after_over_rpm() -> None:
    """Beyond the requests-per-minute allowance the LLM raises RateLimited with retry_after."""

    async def main() -> RateLimited:
        llm = SimLLM(LLMParams(rpm=2.0, error_rate=0.0), service_rng(1, "llm"))
        await llm.generate("a")
        await llm.generate("b")
        with pytest.raises(RateLimited) as info:
            await llm.generate("c")
        return info.value

    exc = run_virtual(main())
    assert exc.retry_after is not None and exc.retry_after > 0


def test_window_refills_per_minute() -> None:
    """A per-minute window refills at limit / 60 per second."""
    window = Window(60.0)
    assert window.take(60.0, 0.0) == 0.0
    assert window.take(1.0, 0.0) == pytest.approx(1.0)
    assert window.take(1.0, 1.0) == 0.0


def test_database_refuses_beyond_max_connections() -> None:
    """Past max_connections the database refuses new connections (53300)."""

    async def main() -> int | None:
        db = SimDatabase(DatabaseParams(max_connections=2), service_rng(1, "database"))
        await db.connect()
        await db.connect()
        with pytest.raises(ServiceError) as info:
            await db.connect()
        return info.value.status

    assert run_virtual(main()) == 53300


def test_connect_costs_about_150_ms() -> None:
    """A fresh connection takes about the guide's 150 ms."""

    async def main() -> float:
        db = SimDatabase(DatabaseParams(connect_sigma=0.0), service_rng(1, "database"))
        await db.connect()
        return asyncio_now()

    assert run_virtual(main()) == pytest.approx(0.150)


def test_embedding_batch_over_max_is_refused() -> None:
    """A batch larger than max_batch is a 400."""

    async def main() -> None:
        api = SimEmbeddingsAPI(EmbeddingParams(max_batch=4), service_rng(1, "embeddings"))
        await api.embed(5)

    with pytest.raises(ServiceError, match="max_batch"):
        run_virtual(main())


@pytest.mark.parametrize(
    ("fault", "fails"),
    [
        (Fault(FaultKind.OUTAGE, 0.0, 10.0), True),
        (Fault(FaultKind.ERROR_BURST, 0.0, 10.0, error_rate=1.0), True),
        (Fault(FaultKind.SLOWDOWN, 0.0, 10.0, factor=3.0), False),
    ],
)
def test_faults_apply_inside_their_window(fault: Fault, fails: bool) -> None:
    """Outages and bursts fail calls inside the window; a slowdown stretches latency."""

    async def main() -> tuple[bool, float]:
        search = SimSearch(
            SearchParams(error_rate=0.0, sigma=0.0), service_rng(1, "search"), (fault,)
        )
        try:
            await search.search("q")
        except ServiceError:
            return True, asyncio_now()
        return False, asyncio_now()

    failed, elapsed = run_virtual(main())
    assert failed is fails
    if fault.kind is FaultKind.SLOWDOWN:
        assert elapsed == pytest.approx(3.0)


def test_streams_are_keyed_by_service_name() -> None:
    """Each service's random stream depends on the seed and its name only."""
    assert service_rng(5, "llm").random() == service_rng(5, "llm").random()
    assert service_rng(5, "llm").random() != service_rng(5, "search").random()

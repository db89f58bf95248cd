"""The same pipeline on the real clock, with real services: ``run_live(settings=...)``.

Composition, not simulation: this module puts the simulator's pipeline together with
the real clients of ``perflab.backends``, so it sits above both (it was
``perflab.sim.live``; docs/architecture.md shows the layers).

``simulate`` runs the article pipeline against simulated services on virtual time.
``run_live`` runs the *same* ``Pipeline`` (cache, pool, breaker, limiter, retry,
batcher) on a normal asyncio loop, where ``LoopClock`` reads real monotonic time, and
swaps in the real services the settings select:

- ``PERFLAB_LLM_BACKEND=openai``: ``OpenAILLM`` (OPENAI_API_KEY, OPENAI_MODEL,
  OPENAI_BASE_URL),
- ``PERFLAB_SEARCH_BACKEND=tavily``: ``TavilySearch`` (TAVILY_API_KEY, TAVILY_BASE_URL),
- ``PERFLAB_EMBEDDER=openai``: ``OpenAIEmbeddingsAPI`` (OPENAI_EMBEDDING_MODEL); its
  vectors then feed the exact LRU and semantic caches.

Whatever is not selected stays simulated (and says so: its latencies are the
simulator's, spent as real waits). The database is always the simulated one here.
Point OPENAI_BASE_URL and TAVILY_BASE_URL at ``perflab sim serve`` to practise offline.

The result is a ``SimResult`` like ``simulate``'s, so a notebook compares a simulated
run and a real one column by column. Unlike ``simulate`` it is not reproducible: real
services answer differently every time.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING

from perflab.aio import run_blocking
from perflab.config import Settings, load_settings
from perflab.sim.pipeline import Backends, ServiceParams, Switches
from perflab.sim.run import SimResult, asimulate, summarise_run
from perflab.sim.workload import Workload

if TYPE_CHECKING:
    from perflab.sim.pipeline import Pipeline

__all__ = ["aclose_backends", "build_backends", "run_live"]


def build_backends(settings: Settings) -> Backends:
    """The real services ``settings`` select (``None`` for each one left simulated).

    Keys are handed to the clients as they are and never printed.

    Raises:
        ConfigError: a real service is selected but its key is not set.
    """
    llm = search = embeddings = None
    if settings.perflab_llm_backend == "openai":
        from perflab.backends.openai_client import OpenAILLM

        llm = OpenAILLM(
            api_key=settings.openai_api_key,
            model=settings.openai_model,
            base_url=settings.openai_base_url,
        )
    if settings.perflab_search_backend == "tavily":
        from perflab.backends.tavily_client import TAVILY_URL, TavilySearch

        search = TavilySearch(
            settings.tavily_api_key, base_url=settings.tavily_base_url or TAVILY_URL
        )
    if settings.perflab_embedder == "openai":
        from perflab.backends.openai_client import OpenAIEmbeddingsAPI

        embeddings = OpenAIEmbeddingsAPI(
            api_key=settings.openai_api_key,
            model=settings.openai_embedding_model,
            base_url=settings.openai_base_url,
        )
    return Backends(
        search=search,
        llm=llm,
        embeddings=embeddings,
        embeddings_name=f"openai/{settings.openai_embedding_model}",
    )


async def aclose_backends(backends: Backends) -> None:
    """Close the HTTP clients of the real services in ``backends``."""
    for service in (backends.search, backends.llm, backends.embeddings):
        close = getattr(service, "aclose", None)
        if close is not None:
            await close()


def run_live(
    profile: str = "baseline",
    *,
    requests: int = 10,
    seed: int = 0,
    settings: Settings | None = None,
    workload: Workload | None = None,
    switches: Switches | None = None,
    services: ServiceParams | None = None,
    backends: Backends | None = None,
    close_backends: bool | None = None,
) -> SimResult:
    """Run ``requests`` articles through the pipeline on the real clock.

    Args:
        profile: a profile name for the tuning values (``baseline``: none); ignored
            when ``settings`` is given (except as the label).
        requests: how many articles (>= 1); ignored when ``workload`` is given.
        seed: fixes the workload and the simulated parts (not the real services).
        settings: the settings (default: ``load_settings`` with the profile, i.e. the
            environment and ``.env``, where the keys live).
        workload: how requests arrive (default: closed loop, ``PARALLEL_WORKERS`` clients).
        switches: engine pieces on/off.
        services: parameters of the services that stay simulated.
        backends: real services (default: ``build_backends(settings)``).
        close_backends: close the services' HTTP clients afterwards (default: only
            when they were built here; ones you pass are yours to close).

    Returns:
        A ``SimResult``; its ``services`` hold the real services' accounting.

    Raises:
        ConfigError: a selected real service has no key.
    """
    if settings is None:
        settings = load_settings(None if profile == "baseline" else profile)
    if workload is None:
        workload = Workload(requests=requests, workers=settings.parallel_workers)
    reqs = workload.build(seed)
    owned = backends is None if close_backends is None else close_backends
    chosen = build_backends(settings) if backends is None else backends

    async def main() -> tuple[Pipeline, float]:
        try:
            return await asimulate(
                settings,
                switches or Switches(),
                services if services is not None else ServiceParams(),
                seed,
                workload,
                reqs,
                backends=chosen,
            )
        finally:
            if owned:
                await aclose_backends(chosen)

    # asyncio.run, or, inside a running loop (Jupyter), the same in a worker thread.
    pipe, start = run_blocking(functools.partial(asyncio.run, main()), thread_name="perflab-live")
    return summarise_run(profile, seed, pipe, start)

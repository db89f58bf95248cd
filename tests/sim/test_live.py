"""run_live: the pipeline on the real clock with real services, over real HTTP to the stand-in."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator

import numpy as np
import pytest

from perflab.config import Settings, load_settings
from perflab.errors import ConfigError, SimulationError
from perflab.live import build_backends, run_live
from perflab.sim import (
    COLUMNS,
    Backends,
    DatabaseParams,
    ServiceParams,
    Switches,
    Workload,
    simulate,
)
from perflab.sim.remote import FetchedVectors
from perflab.sim.standin import StandInConfig, StandInServer

FAST = 0.001  # the stand-in's and the simulated database's latencies, in milliseconds
OPENAI_TEST_KEY = "sk-test-LEAKCHECK123"
TAVILY_TEST_KEY = "tvly-test-LEAKCHECK456"


@pytest.fixture
def standin() -> Iterator[StandInServer]:
    """The OpenAI + Tavily stand-in on 127.0.0.1, in its own thread, answering in milliseconds."""
    with StandInServer(StandInConfig(latency_scale=FAST, api_key=None)) as server:
        yield server


@pytest.fixture
def live_env(standin: StandInServer, monkeypatch: pytest.MonkeyPatch) -> StandInServer:
    """The environment a learner sets to run the real pipeline against the stand-in, with fake keys."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.setenv("PERFLAB_LLM_BACKEND", "openai")
    monkeypatch.setenv("PERFLAB_SEARCH_BACKEND", "tavily")
    monkeypatch.setenv("PERFLAB_EMBEDDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", standin.url + "/v1")
    monkeypatch.setenv("TAVILY_API_KEY", TAVILY_TEST_KEY)
    monkeypatch.setenv("TAVILY_BASE_URL", standin.url)
    return standin


def _fast_db() -> ServiceParams:
    return ServiceParams(database=DatabaseParams(latency_scale=FAST))


def test_live_pipeline_runs_over_http_against_the_standin(live_env: StandInServer) -> None:
    """With the real backends selected by environment alone, 10 articles go through the stand-in and every record is complete."""
    result = run_live(requests=10, settings=load_settings(env_file=None), services=_fast_db())
    frame, summary = result.frame, result.summary
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 10
    assert summary.completed == 10 and frame["error"].isna().all()
    assert np.isfinite(frame["latency_s"]).all() and (frame["latency_s"] > 0).all()
    misses = int((~frame["cache_hit"]).sum())
    # Every call the pipeline booked reached the stand-in over HTTP, and nothing else did.
    assert live_env.llm.stats().calls == summary.calls_by_service["llm"] == misses
    assert live_env.search.stats().calls == summary.calls_by_service["search"] == misses
    assert live_env.embeddings.stats().calls == summary.calls_by_service["embeddings"] >= 1
    assert result.services["llm"].cost_usd > 0 and summary.cost_usd > 0
    assert all(
        not math.isnan(frame.loc[i, "generate_s"])
        for i in frame.index
        if not frame.loc[i, "cache_hit"]
    )


def test_live_repeated_query_hits_the_cache_with_real_vectors(live_env: StandInServer) -> None:
    """The API's vectors feed the caches: a repeated keyword is an exact-LRU and a semantic-cache hit."""
    result = run_live(
        settings=load_settings(env_file=None),
        workload=Workload(requests=12, workers=1, intents=1, zipf_s=0.0),
        services=_fast_db(),
    )
    frame = result.frame
    assert frame["cache_hit"].any() and frame["embedding_cached"].any()
    assert result.summary.calls_by_service["llm"] == int((~frame["cache_hit"]).sum())


def test_only_selected_services_are_real(
    live_env: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PERFLAB_SEARCH_BACKEND=sim keeps search simulated while the LLM goes to the stand-in."""
    monkeypatch.setenv("PERFLAB_SEARCH_BACKEND", "sim")
    monkeypatch.setenv("PERFLAB_EMBEDDER", "hashing")
    backends = build_backends(load_settings(env_file=None))
    assert backends.real_names() == ["llm"]
    fast = ServiceParams(
        search=dataclasses.replace(ServiceParams().search, latency_scale=FAST),
        embeddings=dataclasses.replace(ServiceParams().embeddings, latency_scale=FAST),
        database=DatabaseParams(latency_scale=FAST),
    )
    result = run_live(
        requests=4,
        settings=load_settings(env_file=None),
        services=fast,
        switches=Switches(embedder="hashing"),
    )
    assert result.summary.completed == 4
    assert live_env.search.stats().calls == 0 and live_env.llm.stats().calls >= 1


def test_simulate_refuses_real_services_and_points_at_run_live() -> None:
    """simulate() with PERFLAB_LLM_BACKEND=openai refuses: real calls cannot run on virtual time."""
    settings = load_settings(
        env_file=None, perflab_llm_backend="openai", perflab_search_backend="tavily"
    )
    with pytest.raises(SimulationError) as info:
        simulate(settings=settings, requests=5)
    message = str(info.value)
    assert "PERFLAB_LLM_BACKEND=openai and PERFLAB_SEARCH_BACKEND=tavily" in message
    assert "virtual clock" in message and "run_live" in message


def test_missing_key_for_a_selected_service_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PERFLAB_SEARCH_BACKEND=tavily without TAVILY_API_KEY names the missing variable."""
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="TAVILY_API_KEY"):
        build_backends(load_settings(env_file=None, perflab_search_backend="tavily"))


def test_default_backends_are_all_simulated() -> None:
    """Backends() means every service is simulated, and the default settings build no real one."""
    assert Backends().is_simulated
    assert build_backends(load_settings(env_file=None)).is_simulated


def test_fetched_vectors_hand_out_only_what_the_api_sent() -> None:
    """FetchedVectors returns each loaded vector once and refuses a text the API never embedded."""
    fetched = FetchedVectors("openai/test")
    fetched.load(["a", "b"], np.eye(2, 3, dtype=np.float32))
    assert fetched.dim == 3
    np.testing.assert_array_equal(fetched.embed(["b"]), [[0.0, 1.0, 0.0]])
    with pytest.raises(SimulationError, match="no vector was fetched"):
        fetched.embed(["b"])


@pytest.mark.skipif(
    not (os.environ.get("OPENAI_API_KEY") and os.environ.get("TAVILY_API_KEY")),
    reason="needs OPENAI_API_KEY and TAVILY_API_KEY (real, paid calls: 3 articles)",
)
def test_live_pipeline_against_the_real_apis(monkeypatch: pytest.MonkeyPatch) -> None:
    """With real keys, three articles go through the real OpenAI and Tavily APIs."""
    for name in ("OPENAI_BASE_URL", "TAVILY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(
        env_file=None,
        perflab_llm_backend="openai",
        perflab_search_backend="tavily",
        perflab_embedder="openai",
    )
    result = run_live(requests=3, settings=settings, services=_fast_db())
    assert len(result.frame) == 3 and result.summary.completed == 3
    assert result.summary.calls_by_service["llm"] >= 1 and result.summary.cost_usd > 0

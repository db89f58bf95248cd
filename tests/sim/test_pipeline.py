"""The simulated pipeline: reproducible, faithful to Amdahl, and strict about bad input."""

from __future__ import annotations

import asyncio
import math

import pytest

from perflab.errors import SimulationError
from perflab.formulas import amdahl_speedup
from perflab.sim import (
    COLUMNS,
    DatabaseParams,
    EmbeddingParams,
    Fault,
    FaultKind,
    LLMParams,
    SearchParams,
    ServiceParams,
    Switches,
    Workload,
    simulate,
)


def test_same_seed_gives_identical_records() -> None:
    """Two runs with one seed produce the same DataFrame, value for value."""
    a = simulate("baseline", requests=300, seed=11).frame
    b = simulate("baseline", requests=300, seed=11).frame
    assert list(a.columns) == list(COLUMNS)
    assert a.equals(b)


def test_other_seed_gives_other_records() -> None:
    """A different seed draws different keywords and latencies."""
    a = simulate("baseline", requests=200, seed=1).frame
    b = simulate("baseline", requests=200, seed=2).frame
    assert not a.equals(b)


def test_runs_inside_a_running_loop_like_jupyter() -> None:
    """simulate() called from a running event loop gives the same records as from plain Python."""

    async def cell() -> object:
        return simulate("agency", requests=150, seed=4).frame

    inside = asyncio.run(cell())
    assert simulate("agency", requests=150, seed=4).frame.equals(inside)


def _no_errors() -> ServiceParams:
    return ServiceParams(
        search=SearchParams(error_rate=0.0),
        llm=LLMParams(error_rate=0.0),
        embeddings=EmbeddingParams(error_rate=0.0),
        database=DatabaseParams(error_rate=0.0),
    )


@pytest.mark.parametrize("speedup", [2.0, 4.0])
def test_speeding_one_stage_follows_amdahl(speedup: float) -> None:
    """Making the LLM S times faster changes end-to-end time as Amdahl predicts (within 5%)."""
    workload = Workload(requests=200, workers=1)  # one request at a time: latency, not queueing
    base_params = _no_errors()
    base = simulate("baseline", seed=3, workload=workload, services=base_params)
    total = base.frame["latency_s"].sum()
    p = base.frame["generate_s"].sum() / total
    faster = ServiceParams(
        base_params.search,
        LLMParams(error_rate=0.0, latency_scale=1.0 / speedup),
        base_params.embeddings,
        base_params.database,
    )
    fast = simulate("baseline", seed=3, workload=workload, services=faster)  # same draws
    predicted = total / amdahl_speedup(p, speedup)
    assert fast.frame["latency_s"].sum() == pytest.approx(predicted, rel=0.05)
    assert 0.3 < p < 0.99  # the LLM really is the bottleneck here


def test_open_loop_latency_counts_from_intended_start() -> None:
    """In open loop every latency is end minus intended start, so queueing delay shows."""
    workload = Workload(requests=300, mode="open", rate_per_s=2.0)
    frame = simulate("budget", seed=5, workload=workload).frame
    assert frame["intended_start"].notna().all()
    assert (frame["latency_s"] - (frame["end"] - frame["intended_start"])).abs().max() < 1e-9
    assert (frame["start"] >= frame["intended_start"] - 1e-9).all()


def test_llm_outage_shows_as_errors_in_its_window() -> None:
    """An LLM outage makes requests fail at the generate stage; the breaker fails them fast."""
    faults = {"llm": [Fault(FaultKind.OUTAGE, start_s=20.0, end_s=200.0)]}
    result = simulate("agency", requests=400, seed=6, faults=faults)
    errors = result.frame["error"].dropna()
    assert len(errors) > 0
    assert errors.str.startswith("generate").all()
    assert result.summary.error_rate == pytest.approx(len(errors) / 400)
    assert "CircuitOpen" in " ".join(errors)


def test_pool_off_pays_a_connection_per_query() -> None:
    """Without a pool every lookup pays a fresh ~150 ms connection."""
    pooled = simulate("baseline", requests=200, seed=7)
    unpooled = simulate("baseline", requests=200, seed=7, switches=Switches(pool=False))
    assert unpooled.frame["lookup_s"].median() > 0.1
    assert pooled.frame["lookup_s"].median() < 0.05
    assert unpooled.pool is None and math.isnan(unpooled.summary.pool_saturation)


def test_tight_llm_rate_limit_causes_retries() -> None:
    """An LLM allowing few requests per minute answers 429s that the client retries."""
    services = ServiceParams(llm=LLMParams(rpm=3.0))
    result = simulate(
        "agency", requests=100, seed=8, services=services, switches=Switches(rate_limiter=False)
    )
    assert result.services["llm"].rate_limited > 0
    assert result.summary.retries > 0


def test_summary_keys_match_the_cli_contract() -> None:
    """The summary carries the keys `perflab sim run --json` promises."""
    keys = simulate("realtime", requests=100, seed=9).summary.as_dict()
    for key in (
        "latency",
        "p50_latency_s",
        "p95_latency_s",
        "p99_latency_s",
        "throughput_per_hour",
        "cost_per_article_usd",
        "hit_rate",
        "false_hits_per_hit",
        "false_hit_rate",
        "error_rate",
        "pool_wait_p95_s",
        "pool_saturation",
        "calls_by_service",
    ):
        assert key in keys


def test_lower_threshold_hits_more_and_falsely_more() -> None:
    """A looser cache threshold (realtime 0.6) serves more hits, some of them wrong."""
    strict = simulate("baseline", requests=1500, seed=10).summary
    loose = simulate("realtime", requests=1500, seed=10).summary
    assert loose.hit_rate > strict.hit_rate
    assert loose.false_hits_per_hit >= strict.false_hits_per_hit


def test_unknown_profile_is_refused_by_name() -> None:
    """An unknown profile names the parameter and lists the allowed values."""
    with pytest.raises(SimulationError, match=r"profile \('turbo'\).*baseline, budget"):
        simulate("turbo", requests=10)


@pytest.mark.parametrize("requests", [0, -5])
def test_zero_requests_are_refused(requests: int) -> None:
    """A request count below 1 is refused with a message naming it."""
    with pytest.raises(SimulationError, match="requests"):
        simulate("baseline", requests=requests)


def test_fault_window_outside_the_run_is_refused() -> None:
    """A fault that starts after the run ended is refused, naming faults[...].start_s."""
    faults = {"search": [Fault(FaultKind.SLOWDOWN, start_s=1e7, end_s=2e7)]}
    with pytest.raises(SimulationError, match=r"faults\['search'\]\[0\]\.start_s"):
        simulate("baseline", requests=20, seed=1, faults=faults)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Fault(FaultKind.OUTAGE, start_s=-1.0, end_s=5.0), "start_s"),
        (lambda: Fault(FaultKind.OUTAGE, start_s=5.0, end_s=5.0), "end_s"),
        (lambda: ServiceParams(faults={"cdn": []}), "unknown service"),
        (lambda: LLMParams(tokens_per_s=0.0), "tokens_per_s"),
        (lambda: SearchParams(error_rate=1.5), "error_rate"),
        (lambda: DatabaseParams(max_connections=0), "max_connections"),
        (lambda: Workload(rate_per_s=-1.0), "rate_per_s"),
        (lambda: Workload(workers=0), "workers"),
    ],
)
def test_bad_parameters_name_themselves(make: object, name: str) -> None:
    """Impossible service, fault or workload parameters are refused by name."""
    with pytest.raises(SimulationError, match=name):
        make()  # type: ignore[operator]


def _over_the_llm_limit(**switches: object) -> object:
    """Sixteen workers against a gpt-4o-mini tier-1 TPM: well over the limit."""
    from perflab.sim import scenario_settings

    settings = scenario_settings("baseline").model_copy(update={"parallel_workers": 16})
    return simulate(
        "baseline",
        settings=settings,
        workload=Workload(requests=400, workers=32),
        switches=Switches(semantic_cache=False, **switches),  # type: ignore[arg-type]
        seed=1,
    )


def test_rate_limits_do_not_open_the_breaker() -> None:
    """429s are back-pressure: they are retried after Retry-After and never trip the breaker."""
    result = _over_the_llm_limit()
    assert result.services["llm"].rate_limited > 0
    errors = " ".join(result.frame["error"].dropna())
    assert "CircuitOpen" not in errors


def test_breaker_can_be_told_to_count_rate_limits() -> None:
    """With breaker_counts_rate_limits, a run of 429s opens the breaker and calls fail fast."""
    result = _over_the_llm_limit(breaker_counts_rate_limits=True)
    assert "CircuitOpen" in " ".join(result.frame["error"].dropna())


def test_a_simulation_summary_reads_as_engine_metrics() -> None:
    """SimSummary.metrics() uses the engine's names, so the alert rules read a run directly."""
    from perflab.alerts import default_rules, evaluate
    from perflab.metrics import LatencySummary
    from perflab.sim import simulate

    result = simulate("agency", requests=60, seed=2)
    s = result.summary
    assert s.latency == LatencySummary.of(result.frame["latency_s"])  # the engine's summary
    m = s.metrics()
    assert {k: m[k] for k in LatencySummary.__dataclass_fields__} == s.latency.as_dict()
    assert (m["hit_rate"], m["false_hits_per_hit"]) == (s.hit_rate, s.false_hits_per_hit)
    rules = [r for r in default_rules(max_p95_s=1e9) if r.metric == "p95_s"]
    assert evaluate(m, rules) == []
    rules = [r for r in default_rules(max_p95_s=s.latency.p95_s / 2) if r.metric == "p95_s"]
    assert [a.name for a in evaluate(m, rules)] == ["slow_p95"]
    # The rules read the summary, or the whole result, directly.
    assert evaluate(s, rules) == evaluate(result, rules) == evaluate(m, rules)


def test_old_summary_names_are_silent_aliases(recwarn: pytest.WarningsRecorder) -> None:
    """The deprecated names read the new fields' values and print no warning."""
    from perflab.sim.run import DEPRECATED_SUMMARY_NAMES

    s = simulate("agency", requests=40, seed=3).summary
    assert (s.p50_latency_s, s.p95_latency_s, s.p99_latency_s, s.mean_latency_s) == (
        s.latency.p50_s,
        s.latency.p95_s,
        s.latency.p99_s,
        s.latency.mean_s,
    )
    assert s.false_hit_rate == s.false_hits_per_hit
    d = s.as_dict()
    assert all(d[old] == getattr(s, old) for old in DEPRECATED_SUMMARY_NAMES)
    assert len(recwarn) == 0

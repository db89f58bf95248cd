"""Run a scenario: ``simulate("agency", requests=500, seed=1)`` -> ``SimResult``.

A run builds the pipeline from a profile's settings, drives it with a workload
(closed or open loop) on the virtual-time loop, and returns every request's record as
a pandas DataFrame plus a ``SimSummary`` of the figures the guide talks about.
The same seed gives the same records, bit for bit, on any machine.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.config import PROFILES, Settings, load_settings
from perflab.errors import SimulationError
from perflab.metrics import LatencySummary, hit_rate, renamed
from perflab.pool import PoolStats
from perflab.sim.faults import Fault, ServiceStats
from perflab.sim.loop import run_virtual
from perflab.sim.pipeline import COLUMNS, Backends, Pipeline, ServiceParams, Switches
from perflab.sim.workload import Request, Workload

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCENARIOS",
    "SimResult",
    "SimSummary",
    "asimulate",
    "refuse_real_services",
    "scenario_settings",
    "simulate",
]

#: The guide's scenarios, plus the defaults they are compared with.
SCENARIOS = ("baseline", "budget", "agency", "realtime")

_TUNING = (
    "cache_similarity_threshold",
    "cache_ttl_days",
    "connection_pool_min",
    "connection_pool_max",
    "chunk_size",
    "parallel_workers",
    "embedding_batch_size",
    "embedding_cache_size",
    "tavily_search_depth",
)


def scenario_settings(name: str) -> Settings:
    """The settings of scenario ``name``: the defaults plus the profile, nothing else.

    Environment variables and ``.env`` do not leak into a named scenario (so a run is
    the same on every machine); pass ``settings=`` to ``simulate`` to use your own.

    Raises:
        SimulationError: for an unknown name (the message lists the allowed ones).
    """
    key = name.strip().lower()
    if key != "baseline" and key not in PROFILES:
        allowed = ", ".join(["baseline", *PROFILES])
        raise SimulationError(f"profile ({name!r}) is unknown; allowed: {allowed}")
    values = {f: Settings.model_fields[f].default for f in _TUNING}
    values.update(PROFILES.get(key, {}))
    return load_settings(None if key == "baseline" else key, env_file=None, **values)


@dataclass(frozen=True)
class SimSummary:
    """A run's headline figures (JSON keys of ``perflab sim run --json``).

    Attributes:
        profile: the scenario's name.
        seed: the seed.
        requests: requests sent.
        completed: articles delivered (requests without an error).
        duration_s: virtual seconds from the first (intended) start to the last end.
        latency: the request latencies' ``LatencySummary`` (``latency.p95_s`` is the
            P95; from the intended start, in open loop): the engine's one summary.
        share_under_5s: share of requests done within 5 s (errors count as not).
        throughput_per_hour: articles delivered per hour of virtual time.
        cost_usd: what the run spent on APIs.
        cost_per_article_usd: ``cost_usd / completed``.
        hit_rate: semantic-cache hits / lookups.
        false_hits_per_hit: hits whose cached intent differs from the query's / hits
            (0.0 with no hits).
        error_rate: requests that ended in an error / requests.
        retries: retried calls over the run.
        pool_wait_p95_s: 95th percentile wait for a database connection (the
            ``PoolStats`` field of the same name).
        pool_saturation: share of the run every connection was taken while someone waited.
        calls_by_service: calls made to each service, failed ones included.

    The old names still read (deprecated, no warning; CHANGELOG.md): ``p50_latency_s``,
    ``p95_latency_s``, ``p99_latency_s``, ``mean_latency_s`` (``latency.p50_s`` ...) and
    ``false_hit_rate`` (``false_hits_per_hit``).
    """

    profile: str
    seed: int
    requests: int
    completed: int
    duration_s: float
    latency: LatencySummary
    share_under_5s: float
    throughput_per_hour: float
    cost_usd: float
    cost_per_article_usd: float
    hit_rate: float
    false_hits_per_hit: float
    error_rate: float
    retries: int
    pool_wait_p95_s: float
    pool_saturation: float
    calls_by_service: dict[str, int] = field(default_factory=dict)

    # Deprecated names (CHANGELOG.md "Deprecated"): silent aliases, so notebooks that
    # read them print what they printed. The lead's notebook sweep retires them.
    p50_latency_s = renamed("latency.p50_s")
    p95_latency_s = renamed("latency.p95_s")
    p99_latency_s = renamed("latency.p99_s")
    mean_latency_s = renamed("latency.mean_s")
    false_hit_rate = renamed("false_hits_per_hit")

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain, JSON-ready dict (NaN becomes ``None``).

        ``latency`` is a nested dict of ``LatencySummary`` fields. The deprecated flat
        keys (``p50_latency_s``, ``p95_latency_s``, ``p99_latency_s``,
        ``mean_latency_s``, ``false_hit_rate``) follow, with the same values.
        """
        out = asdict(self)
        out.update({old: getattr(self, old) for old in DEPRECATED_SUMMARY_NAMES})
        ready: dict[str, Any] = _json_ready(out)
        return ready

    def metrics(self) -> dict[str, float]:
        """The run under the engine's metric names: the dict ``perflab.alerts.evaluate`` reads.

        The request latency's ``LatencySummary`` fields (``count``, ``mean_s``,
        ``p50_s``, ``p95_s``, ``p99_s``, ``max_s``), then ``hit_rate``,
        ``false_hits_per_hit``, ``error_rate``, ``pool_wait_p95_s``, ``pool_saturation``,
        ``share_under_5s``, ``throughput_per_hour``, ``cost_per_article_usd``: each
        name means what it means everywhere in perflab (docs/engine-reference.md).
        ``evaluate`` also takes the summary or the ``SimResult`` itself.

        >>> from perflab.alerts import default_rules, evaluate
        >>> summary = simulate("agency", requests=50, seed=1).summary
        >>> rules = [r for r in default_rules() if r.metric != "memory_percent"]
        >>> [alert.name for alert in evaluate(summary.metrics(), rules)]
        ['low_hit_rate', 'slow_p95']
        """
        return {
            **self.latency.as_dict(),
            "hit_rate": self.hit_rate,
            "false_hits_per_hit": self.false_hits_per_hit,
            "error_rate": self.error_rate,
            "pool_wait_p95_s": self.pool_wait_p95_s,
            "pool_saturation": self.pool_saturation,
            "share_under_5s": self.share_under_5s,
            "throughput_per_hour": self.throughput_per_hour,
            "cost_per_article_usd": self.cost_per_article_usd,
        }


#: Deprecated ``SimSummary`` names -> the one name each quantity has now.
DEPRECATED_SUMMARY_NAMES: dict[str, str] = {
    "p50_latency_s": "latency.p50_s",
    "p95_latency_s": "latency.p95_s",
    "p99_latency_s": "latency.p99_s",
    "mean_latency_s": "latency.mean_s",
    "false_hit_rate": "false_hits_per_hit",
}


def _json_ready(value: Any) -> Any:
    """NaN -> ``None``, in nested dicts too."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


@dataclass(frozen=True)
class SimResult:
    """Everything a run measured.

    Attributes:
        summary: the headline figures.
        frame: one row per request (columns in ``perflab.sim.pipeline.COLUMNS``).
        services: each service's accounting.
        stages: per-stage latency summaries (the spans).
        pool: the connection pool's stats (``None`` with the pool switched off).
        settings: the settings the run used.
    """

    summary: SimSummary
    frame: pd.DataFrame
    services: dict[str, ServiceStats]
    stages: dict[str, Any]
    pool: PoolStats | None
    settings: Settings

    def metrics(self) -> dict[str, float]:
        """``summary.metrics()``: so ``perflab.alerts.evaluate(result)`` reads a run directly."""
        return self.summary.metrics()

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<SimResult {s.profile} seed={s.seed} [{s.completed}/{s.requests} articles, "
            f"p95 {s.latency.p95_s:.2f} s, ${s.cost_per_article_usd:.5f}/article, "
            f"hit rate {s.hit_rate:.1%}]>"
        )


async def _closed_loop(pipe: Pipeline, requests: Sequence[Request], workers: int) -> None:
    it = iter(requests)

    async def worker() -> None:
        for req in it:  # a shared iterator: each worker takes the next request
            await pipe.handle(req)

    await asyncio.gather(*(worker() for _ in range(min(workers, len(requests)))))


async def _open_loop(pipe: Pipeline, requests: Sequence[Request]) -> None:
    loop = asyncio.get_running_loop()
    origin = loop.time()
    tasks = []
    for req in requests:
        delay = origin + req.intended_start - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(pipe.handle(req)))
    await asyncio.gather(*tasks)


async def asimulate(
    settings: Settings,
    switches: Switches,
    services: ServiceParams,
    seed: int,
    workload: Workload,
    requests: Sequence[Request],
    progress: Any = None,
    *,
    backends: Backends | None = None,
) -> tuple[Pipeline, float]:
    """Build the pipeline on the running loop and drive it with ``requests``.

    The loop is the virtual-time one for ``simulate``; ``perflab.live.run_live``
    passes real ``backends`` and runs this on a normal (real-time) loop.

    Returns:
        The pipeline (its records and services) and the virtual time the first request
        could start (after the pool's warm-up).
    """
    pipe = Pipeline(settings, switches, services, seed, backends=backends)
    await pipe.open()
    start = pipe.origin = asyncio.get_running_loop().time()
    if progress is not None:
        handle = pipe.handle

        async def counted(req: Request) -> None:
            await handle(req)
            progress.update(1)

        pipe.handle = counted  # type: ignore[method-assign]
    try:
        if workload.mode == "open":
            await _open_loop(pipe, requests)
        else:
            await _closed_loop(pipe, requests, workload.workers)
    finally:
        await pipe.close()
    return pipe, start


def simulate(
    profile: str = "baseline",
    *,
    requests: int = 500,
    seed: int = 0,
    workload: Workload | None = None,
    settings: Settings | None = None,
    switches: Switches | None = None,
    services: ServiceParams | None = None,
    faults: Mapping[str, Sequence[Fault]] | None = None,
    speed: float | None = None,
    progress: bool | None = None,
) -> SimResult:
    """Simulate ``requests`` articles through the pipeline under a scenario.

    Args:
        profile: ``baseline`` (the defaults), ``budget``, ``agency``, ``realtime``, ``dev``
            or ``prod``; ignored when ``settings`` is given (except as the label).
        requests: how many articles (>= 1); ignored when ``workload`` is given.
        seed: fixes every random draw.
        workload: how requests arrive (default: closed loop, 20 clients, Zipf 1.0).
        settings: explicit settings instead of the profile's.
        switches: engine pieces on/off (default: all on).
        services: service parameters (default: docs/sim.md).
        faults: scheduled faults by service name (``{"llm": [Fault(...)]}``).
        speed: ``None`` as fast as possible; else virtual seconds per wall second.
        progress: show a progress bar (default: only in real-time mode).

    Raises:
        SimulationError: an unknown profile, ``requests`` < 1, a fault window that
            starts after the run ended, settings that select a real service
            (PERFLAB_LLM_BACKEND=openai, PERFLAB_SEARCH_BACKEND=tavily: use
            ``perflab.live.run_live``), or another impossible parameter.
    """
    settings = settings if settings is not None else scenario_settings(profile)
    refuse_real_services(settings)
    if workload is None:
        workload = Workload(requests=requests)
    params = services if services is not None else ServiceParams()
    if faults:
        params = ServiceParams(
            params.search, params.llm, params.embeddings, params.database, faults
        )
    reqs = workload.build(seed)
    bar = None
    if progress or (progress is None and speed is not None):
        from tqdm.auto import tqdm

        bar = tqdm(total=len(reqs), desc=f"simulating {profile}", unit="article")
    try:
        pipe, start = run_virtual(
            asimulate(settings, switches or Switches(), params, seed, workload, reqs, bar),
            speed=speed,
        )
    finally:
        if bar is not None:
            bar.close()
    return summarise_run(profile, seed, pipe, start)


def refuse_real_services(settings: Settings) -> None:
    """Refuse settings that select a real LLM or search API for a virtual-time run.

    The virtual loop moves its clock to the next timer whenever nothing is ready, so
    while a real HTTP answer is on its way, virtual time leaps ahead: timeouts fire
    early, retry back-offs take no time, latencies come out as nonsense. And a real
    service cannot be replayed from a seed. Real services run on the real clock.

    Raises:
        SimulationError: naming the variable and pointing at ``run_live``.
    """
    real = [
        f"{name}={value}"
        for name, value, sim in (
            ("PERFLAB_LLM_BACKEND", settings.perflab_llm_backend, "sim"),
            ("PERFLAB_SEARCH_BACKEND", settings.perflab_search_backend, "sim"),
        )
        if value != sim
    ]
    if real:
        raise SimulationError(
            f"{' and '.join(real)} selects a real service, which cannot run on the "
            "simulator's virtual clock (a virtual second passes in microseconds; a real "
            "call takes real ones, and no seed replays it): use "
            "perflab.live.run_live(settings=...) to run the pipeline on the real clock, "
            "or set the backend back to sim"
        )


def summarise_run(profile: str, seed: int, pipe: Pipeline, start: float) -> SimResult:
    """The ``SimResult`` of a finished run: its table, summary, services, stages, pool.

    Args:
        profile: the run's label.
        seed: its seed.
        pipe: the pipeline after ``asimulate`` returned.
        start: the time the first request could start (``asimulate``'s second value).
    """
    import pandas as pd

    frame = pd.DataFrame.from_records(pipe.rows, columns=list(COLUMNS))
    frame = frame.sort_values("request", kind="stable").reset_index(drop=True)
    frame["correct_hit"] = frame["correct_hit"].astype("boolean")
    frame["start"] -= start
    frame["end"] -= start
    end = float(frame["end"].max())
    _check_faults(pipe.params, end)
    first = float(np.nanmin(np.r_[frame["intended_start"].to_numpy(), frame["start"].min()]))
    duration = end - min(0.0, first)
    lat = frame["latency_s"].to_numpy()
    ok = frame["error"].isna().to_numpy()
    completed = int(ok.sum())
    hits = int(frame["cache_hit"].sum())
    lookups = int(frame["lookup_s"].notna().sum())
    false_hits = int((frame["correct_hit"] == False).sum())
    services = {
        "search": pipe.search.stats(),
        "llm": pipe.llm.stats(),
        "embeddings": pipe.embed_api.stats(),
        "database": pipe.db.stats(),
    }
    cost = sum(s.cost_usd for s in services.values())
    pool = pipe.pool.stats() if pipe.pool is not None else None
    if pool is not None:
        wait_p95, saturation = (
            pool.pool_wait_p95_s,
            pool.saturated_s / duration if duration else 0.0,
        )
    else:
        wait_p95 = float(np.percentile(frame["pool_wait_s"], 95))
        saturation = math.nan
    summary = SimSummary(
        profile=profile,
        seed=seed,
        requests=len(frame),
        completed=completed,
        duration_s=duration,
        latency=LatencySummary.of(lat),  # the engine's summary: one P50/P95/P99 everywhere
        share_under_5s=float(np.mean((lat <= 5.0) & ok)),
        throughput_per_hour=completed / duration * 3600.0 if duration > 0 else math.nan,
        cost_usd=cost,
        cost_per_article_usd=cost / completed if completed else math.nan,
        hit_rate=hit_rate(hits, lookups),
        false_hits_per_hit=false_hits / hits if hits else 0.0,
        error_rate=1.0 - completed / len(frame),
        retries=int(frame["retries"].sum()),
        pool_wait_p95_s=wait_p95,
        pool_saturation=saturation,
        calls_by_service={name: s.calls for name, s in services.items()},
    )
    stages = pipe.spans.summary()
    return SimResult(summary, frame, services, stages, pool, pipe.settings)


def _check_faults(params: ServiceParams, end: float) -> None:
    """Refuse a fault that starts after the run ended: it never happened."""
    for name, faults in params.faults.items():
        for i, fault in enumerate(faults):
            if fault.start_s >= end:
                raise SimulationError(
                    f"faults[{name!r}][{i}].start_s ({fault.start_s:g} s) is outside the run, "
                    f"which lasted {end:.1f} virtual seconds: start it within 0..{end:.1f} s "
                    "or send more requests"
                )

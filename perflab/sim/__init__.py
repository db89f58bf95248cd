"""perflab.sim: the guide's content pipeline, simulated on a virtual clock.

>>> from perflab.sim import simulate
>>> result = simulate("agency", requests=200, seed=1)   # milliseconds of wall time
>>> result.summary.completed
200

``simulate`` runs a scenario (a profile of ``perflab.config``) through the real engine
pieces (cache, pool, breaker, limiter, retry, batcher) against simulated services
(web search, LLM, embeddings API, database) on a virtual-time asyncio loop; it works
from plain Python and inside Jupyter. ``compare`` judges the guide's claims;
``simulate_mmc`` checks the machinery against Erlang C. ``perflab.live.run_live``
(outside this package, since it uses the real backends) runs the same pipeline on the
real clock with the real services the settings select (OpenAI, Tavily). See docs/sim.md.
"""

from __future__ import annotations

from perflab.sim.faults import Fault, FaultKind, ServiceStats
from perflab.sim.loop import VirtualClock, VirtualTimeLoop, in_running_loop, run_virtual
from perflab.sim.pipeline import COLUMNS, STAGES, Backends, ServiceParams, Switches
from perflab.sim.queueing import MMcResult, simulate_mmc
from perflab.sim.run import SCENARIOS, SimResult, SimSummary, scenario_settings, simulate
from perflab.sim.services import DatabaseParams, EmbeddingParams, LLMParams, SearchParams
from perflab.sim.workload import (
    Catalogue,
    Constant,
    DailyCycle,
    Ramp,
    Request,
    Spike,
    Workload,
    load_catalogue,
)

__all__ = [
    "COLUMNS",
    "SCENARIOS",
    "STAGES",
    "Backends",
    "Catalogue",
    "Constant",
    "DailyCycle",
    "DatabaseParams",
    "EmbeddingParams",
    "Fault",
    "FaultKind",
    "LLMParams",
    "MMcResult",
    "Ramp",
    "Request",
    "SearchParams",
    "ServiceParams",
    "ServiceStats",
    "SimResult",
    "SimSummary",
    "Spike",
    "Switches",
    "VirtualClock",
    "VirtualTimeLoop",
    "Workload",
    "in_running_loop",
    "load_catalogue",
    "run_virtual",
    "scenario_settings",
    "simulate",
    "simulate_mmc",
]

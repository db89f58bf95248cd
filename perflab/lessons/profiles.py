"""One config for every environment? Lesson 14's ``dev`` and ``prod`` profiles, side by side.

The guide's pitfall 4, "one-size-fits-all config", says development and production need
different settings. ``perflab.config.PROFILES`` has both (``dev``: 1-5 connections, 2
workers, a 1-day TTL; ``prod``: 5-20 warm connections, a larger embedding cache), and
``PROFILE_NOTES`` says why. This module runs each profile in a named *situation* (a
workload and the simulated services it meets) and returns one row per run, so a lesson
can show what each profile delivers, what it costs, and where it does not even start.

A profile can fail before the first request: ``prod`` opens ``connection_pool_min`` warm
connections when the pool opens, and a database that accepts fewer refuses the extra ones
("too many clients"). :func:`run_profile` catches that ``ServiceError`` and returns a row
with ``started=False`` and the error, instead of raising.

Example::

    laptop = Situation("laptop", Workload(requests=50, workers=1), db_connections=3)
    for row in compare_profiles(["dev", "prod"], [laptop], seed=0):
        print(row.profile, row.started, row.error)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from perflab.errors import ServiceError
from perflab.services import DatabaseParams
from perflab.sim import ServiceParams, Workload, simulate

__all__ = ["ProfileRun", "Situation", "compare_profiles", "run_profile"]


@dataclass(frozen=True)
class Situation:
    """Where a profile runs.

    Attributes:
        name: a label ("production", "laptop").
        workload: how requests arrive (``perflab.sim.Workload``).
        db_connections: connections the database accepts from this app
            (``DatabaseParams.max_connections``).
    """

    name: str
    workload: Workload
    db_connections: int = DatabaseParams.max_connections


@dataclass(frozen=True)
class ProfileRun:
    """One profile in one situation (every figure simulated).

    Attributes:
        profile: the profile's name.
        situation: the situation's name.
        started: False when the pipeline could not open (``error`` says why).
        error: the start-up error's message, or "".
        articles_per_hour: articles delivered per hour of virtual time (0 if not started).
        p95_s: 95th-percentile latency in seconds (nan if not started).
        cost_per_article_usd: API cost per delivered article (nan if not started).
        pool_wait_p95_s: 95th-percentile wait for a database connection (nan if not started).
        duration_s: virtual seconds the run lasted (0 if not started).
    """

    profile: str
    situation: str
    started: bool
    error: str
    articles_per_hour: float
    p95_s: float
    cost_per_article_usd: float
    pool_wait_p95_s: float
    duration_s: float


def run_profile(profile: str, situation: Situation, *, seed: int = 0) -> ProfileRun:
    """Simulate ``profile`` in ``situation``; a refused start becomes ``started=False``."""
    services = ServiceParams(database=DatabaseParams(max_connections=situation.db_connections))
    try:
        result = simulate(profile, seed=seed, workload=situation.workload, services=services)
    except ServiceError as err:
        nan = float("nan")
        return ProfileRun(profile, situation.name, False, str(err), 0.0, nan, nan, nan, 0.0)
    s = result.summary
    return ProfileRun(
        profile=profile,
        situation=situation.name,
        started=True,
        error="",
        articles_per_hour=s.throughput_per_hour,
        p95_s=s.latency.p95_s,
        cost_per_article_usd=s.cost_per_article_usd,
        pool_wait_p95_s=s.pool_wait_p95_s,
        duration_s=s.duration_s,
    )


def compare_profiles(
    profiles: Sequence[str], situations: Sequence[Situation], *, seed: int = 0
) -> list[ProfileRun]:
    """Every profile in every situation, on the same seed (the same keywords and draws)."""
    return [run_profile(p, s, seed=seed) for s in situations for p in profiles]

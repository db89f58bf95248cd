"""The guide's three scenarios, their claimed results, and whether they held.

The guide promises: budget, "80% cost reduction"; agency, "5x throughput increase";
realtime, "95% requests under 5s". ``compare`` runs each scenario and the baseline (the
defaults) on the *same* workload and seed, and says plainly, for each claim, whether
it held *in this simulation*: a simulated figure, from the documented service
parameters, not a measurement of the real world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import SimulationError
from perflab.sim.run import SimResult, scenario_settings, simulate
from perflab.sim.workload import Workload

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CLAIMS", "Claim", "ClaimCheck", "Comparison", "compare"]


@dataclass(frozen=True)
class Claim:
    """A claimed result: ``metric`` should reach ``target`` (at least)."""

    text: str
    metric: str
    target: float


#: The guide's claims, by scenario.
CLAIMS: dict[str, Claim] = {
    "budget": Claim("80% cost reduction", "cost_reduction", 0.80),
    "agency": Claim("5x throughput increase", "throughput_ratio", 5.0),
    "realtime": Claim("95% requests under 5s", "share_under_5s", 0.95),
}


@dataclass(frozen=True)
class ClaimCheck:
    """One scenario's claim beside the measurement.

    Attributes:
        profile: the scenario.
        claim: the guide's words ("" when the scenario claims nothing).
        metric: what was measured (``cost_reduction`` = 1 - cost per article / baseline's,
            ``throughput_ratio`` = articles per hour / baseline's, ``share_under_5s``).
        target: the value the claim needs.
        measured: the simulated value.
        held: whether ``measured >= target`` (``None`` without a claim).
    """

    profile: str
    claim: str
    metric: str
    target: float | None
    measured: float | None
    held: bool | None

    @property
    def verdict(self) -> str:
        """A plain sentence on the claim."""
        if self.held is None:
            return "no claim"
        return "held in the simulation" if self.held else "did NOT hold in the simulation"


@dataclass(frozen=True)
class Comparison:
    """The runs and the claim checks of ``compare``."""

    results: dict[str, SimResult]
    checks: list[ClaimCheck]
    workload: Workload
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario: the claim, the measurement and the main figures."""
        import pandas as pd

        rows = []
        for check in self.checks:
            s = self.results[check.profile].summary
            rows.append(
                {
                    **asdict(check),
                    "p95_s": s.latency.p95_s,
                    "throughput_per_hour": s.throughput_per_hour,
                    "cost_per_article_usd": s.cost_per_article_usd,
                    "hit_rate": s.hit_rate,
                    "false_hits_per_hit": s.false_hits_per_hit,
                    "share_under_5s": s.share_under_5s,
                }
            )
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the workload, seed, checks and each run's summary."""
        return {
            "seed": self.seed,
            "requests": self.workload.requests,
            "checks": [{**asdict(c), "verdict": c.verdict} for c in self.checks],
            "summaries": {name: r.summary.as_dict() for name, r in self.results.items()},
        }


def _measure(metric: str, result: SimResult, baseline: SimResult) -> float:
    s, b = result.summary, baseline.summary
    if metric == "cost_reduction":
        return 1.0 - s.cost_per_article_usd / b.cost_per_article_usd
    if metric == "throughput_ratio":
        return s.throughput_per_hour / b.throughput_per_hour
    return s.share_under_5s


def compare(
    profiles: Sequence[str] = ("baseline", "budget", "agency", "realtime"),
    *,
    requests: int = 500,
    seed: int = 0,
    workload: Workload | None = None,
) -> Comparison:
    """Run ``profiles`` (and the baseline) on one workload and judge the guide's claims.

    Args:
        profiles: scenario names; ``baseline`` is added if missing (claims are relative).
        requests: articles per scenario (ignored when ``workload`` is given).
        seed: the same seed for every scenario (common random numbers).
        workload: how requests arrive (default: closed loop, 20 clients).

    Raises:
        SimulationError: an unknown profile or a bad request count.
    """
    names = list(dict.fromkeys(p.strip().lower() for p in profiles))
    if not names:
        raise SimulationError("profiles is empty; give at least one of baseline, budget, ...")
    for name in names:
        scenario_settings(name)  # refuse an unknown name before running anything
    if "baseline" not in names:
        names.insert(0, "baseline")
    workload = workload if workload is not None else Workload(requests=requests)
    results = {name: simulate(name, seed=seed, workload=workload) for name in names}
    checks = []
    for name in names:
        claim = CLAIMS.get(name)
        if claim is None:
            checks.append(ClaimCheck(name, "", "", None, None, None))
            continue
        measured = _measure(claim.metric, results[name], results["baseline"])
        checks.append(
            ClaimCheck(
                name, claim.text, claim.metric, claim.target, measured, measured >= claim.target
            )
        )
    return Comparison(results, checks, workload, seed)

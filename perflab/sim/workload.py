"""Workloads: which keywords arrive, how popular each is, and when they arrive.

The keyword catalogue (``perflab/sim/data/keywords.json``, docs/sim.md) holds intents,
five paraphrases each, and *hard negatives*: pairs of intents that share words but mean
different things ("python snake care" / "python list comprehension"). A request picks
an intent with Zipf popularity (rank k has weight 1 / k**s), then one paraphrase
uniformly, so a semantic cache meets both rephrasings (hits it should serve) and
look-alikes (hits it should refuse).

Two ways to load a system:

* closed loop: ``workers`` clients, each sending its next request when the previous
  one finishes. Simple, but it slows down when the system does, so it hides queueing.
* open loop: requests arrive on their own schedule (Poisson, possibly time-varying:
  ``Ramp``, ``Spike``, ``DailyCycle``), and latency is measured from each request's
  *intended* start, so a stall shows in every request it delayed (no coordinated
  omission).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from perflab.errors import SimulationError
from perflab.sim.faults import service_rng

__all__ = [
    "Catalogue",
    "Constant",
    "DailyCycle",
    "LoadShape",
    "Query",
    "Ramp",
    "Request",
    "Spike",
    "Workload",
    "load_catalogue",
]


@dataclass(frozen=True)
class Query:
    """One keyword of the catalogue and the intent it expresses."""

    text: str
    intent: str
    topic: str


@dataclass(frozen=True)
class Catalogue:
    """The keyword catalogue: queries grouped by intent, and the hard-negative pairs."""

    queries: tuple[Query, ...]
    intents: tuple[str, ...]
    hard_negatives: tuple[tuple[str, str], ...]

    def paraphrases(self, intent: str) -> list[str]:
        """Every query text of ``intent``."""
        return [q.text for q in self.queries if q.intent == intent]

    def __len__(self) -> int:
        return len(self.queries)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Read the shipped catalogue (cached; it is read-only)."""
    raw = json.loads(
        resources.files("perflab.sim").joinpath("data/keywords.json").read_text("utf-8")
    )
    queries = tuple(
        Query(text, intent["intent"], topic["topic"])
        for topic in raw["topics"]
        for intent in topic["intents"]
        for text in intent["queries"]
    )
    intents = tuple(dict.fromkeys(q.intent for q in queries))
    pairs = tuple((a, b) for a, b in raw["hard_negatives"])
    return Catalogue(queries, intents, pairs)


# ------------------------------------------------------------------ load shapes
class LoadShape(Protocol):
    """How the arrival rate varies: ``factor(t)`` multiplies the base rate at time t."""

    def factor(self, t: float) -> float:
        """The rate multiplier at virtual time ``t`` (>= 0)."""
        ...

    @property
    def max_factor(self) -> float:
        """The largest ``factor`` ever returns (for thinning)."""
        ...


@dataclass(frozen=True)
class Constant:
    """A steady rate."""

    def factor(self, t: float) -> float:
        return 1.0

    @property
    def max_factor(self) -> float:
        return 1.0


@dataclass(frozen=True)
class Ramp:
    """The rate goes linearly from ``start`` x base to ``end`` x base over ``duration_s``."""

    start: float = 0.1
    end: float = 1.0
    duration_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < 0 or max(self.start, self.end) <= 0:
            raise SimulationError(f"Ramp start ({self.start}) and end ({self.end}) must be >= 0")
        if not self.duration_s > 0:
            raise SimulationError(f"Ramp duration_s ({self.duration_s}) must be > 0")

    def factor(self, t: float) -> float:
        return self.start + (self.end - self.start) * min(1.0, t / self.duration_s)

    @property
    def max_factor(self) -> float:
        return max(self.start, self.end)


@dataclass(frozen=True)
class Spike:
    """The base rate, times ``height`` during ``[at_s, at_s + duration_s)``."""

    at_s: float = 600.0
    duration_s: float = 60.0
    height: float = 5.0

    def __post_init__(self) -> None:
        if self.at_s < 0 or not self.duration_s > 0 or not self.height > 0:
            raise SimulationError(
                f"Spike needs at_s >= 0, duration_s > 0 and height > 0 "
                f"(got {self.at_s}, {self.duration_s}, {self.height})"
            )

    def factor(self, t: float) -> float:
        return self.height if self.at_s <= t < self.at_s + self.duration_s else 1.0

    @property
    def max_factor(self) -> float:
        return max(1.0, self.height)


@dataclass(frozen=True)
class DailyCycle:
    """A day of traffic: ``1 + amplitude * cos(2 pi (t - peak_s) / period_s)``."""

    amplitude: float = 0.6
    peak_s: float = 14 * 3600.0
    period_s: float = 86_400.0

    def __post_init__(self) -> None:
        if not 0 <= self.amplitude <= 1:
            raise SimulationError(f"DailyCycle amplitude ({self.amplitude}) must be within 0..1")
        if not self.period_s > 0:
            raise SimulationError(f"DailyCycle period_s ({self.period_s}) must be > 0")

    def factor(self, t: float) -> float:
        return 1.0 + self.amplitude * math.cos(2 * math.pi * (t - self.peak_s) / self.period_s)

    @property
    def max_factor(self) -> float:
        return 1.0 + self.amplitude


# ------------------------------------------------------------------ requests
@dataclass(frozen=True)
class Request:
    """One article to write.

    Attributes:
        index: position in the workload (0-based).
        query: the keyword.
        intent: its true intent (to audit cache hits).
        intended_start: open loop: when it was meant to start; closed loop: ``nan``.
    """

    index: int
    query: str
    intent: str
    intended_start: float


@dataclass(frozen=True)
class Workload:
    """How many requests, which keywords, and how they arrive.

    Args:
        requests: number of requests (>= 1).
        zipf_s: Zipf exponent of intent popularity (0 = uniform; ~1 is typical of search).
        mode: ``"closed"`` (``workers`` clients back to back) or ``"open"`` (arrivals).
        workers: clients of the closed loop (>= 1).
        rate_per_s: open loop: base arrival rate per second (> 0).
        shape: open loop: how the rate varies (default constant).
        intents: use only the first ``intents`` intents of the catalogue (None: all).
    """

    requests: int = 500
    zipf_s: float = 1.0
    mode: Literal["closed", "open"] = "closed"
    workers: int = 20
    rate_per_s: float = 1.0
    shape: LoadShape | None = None
    intents: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.requests, bool) or not isinstance(self.requests, int):
            raise SimulationError(f"requests ({self.requests!r}) must be an integer >= 1")
        if self.requests < 1:
            raise SimulationError(f"requests ({self.requests}) must be >= 1")
        if not (self.zipf_s >= 0 and math.isfinite(self.zipf_s)):
            raise SimulationError(f"zipf_s ({self.zipf_s}) must be a finite number >= 0")
        if self.mode not in ("closed", "open"):
            raise SimulationError(f"mode ({self.mode!r}) must be 'closed' or 'open'")
        if self.workers < 1:
            raise SimulationError(f"workers ({self.workers}) must be >= 1")
        if not (self.rate_per_s > 0 and math.isfinite(self.rate_per_s)):
            raise SimulationError(f"rate_per_s ({self.rate_per_s}) must be a finite number > 0")
        if self.intents is not None and not 1 <= self.intents:
            raise SimulationError(f"intents ({self.intents}) must be >= 1 or None")

    def popularity(self, n_intents: int) -> npt.NDArray[np.float64]:
        """Zipf probabilities of ranks 1..n_intents."""
        weights: npt.NDArray[np.float64] = np.arange(1, n_intents + 1, dtype=np.float64)
        weights = weights**-self.zipf_s
        total = float(weights.sum())
        return weights / total

    def build(self, seed: int, catalogue: Catalogue | None = None) -> list[Request]:
        """Draw the requests for ``seed`` (from the workload's own random stream)."""
        cat = catalogue if catalogue is not None else load_catalogue()
        rng = service_rng(seed, "workload")
        intents = list(cat.intents[: self.intents] if self.intents else cat.intents)
        order = rng.permutation(len(intents))  # which intent is most popular: seeded
        ranked = [intents[i] for i in order]
        by_intent = {i: cat.paraphrases(i) for i in ranked}
        picks = rng.choice(len(ranked), size=self.requests, p=self.popularity(len(ranked)))
        variants = rng.random(self.requests)
        starts = self._arrivals(rng) if self.mode == "open" else [math.nan] * self.requests
        out = []
        for i, (k, u, t) in enumerate(zip(picks.tolist(), variants.tolist(), starts)):
            intent = ranked[k]
            texts = by_intent[intent]
            out.append(Request(i, texts[int(u * len(texts))], intent, float(t)))
        return out

    def _arrivals(self, rng: np.random.Generator) -> list[float]:
        """Arrival times of a (possibly time-varying) Poisson process, by thinning."""
        shape = self.shape if self.shape is not None else Constant()
        peak = self.rate_per_s * shape.max_factor
        times: list[float] = []
        t = 0.0
        while len(times) < self.requests:
            t += float(rng.exponential(1.0 / peak))
            if rng.random() * shape.max_factor < shape.factor(t):
                times.append(t)
            if t > 1e9:
                raise SimulationError("the load shape's rate stays at 0: no arrivals")
        return times

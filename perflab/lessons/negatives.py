"""Easy and hard negatives: what a semantic-cache benchmark's "wrong" pairs were.

A threshold benchmark needs pairs that *should* hit (two wordings of one intent, the
positives) and pairs that should not (the negatives). Which negatives it uses decides
what it reports:

* **easy negatives** are random pairs of queries with different intents ("jaguar car
  models" / "how to feed a sourdough starter"). They share nothing, score low under any
  embedder, and almost never hit, so nearly every threshold looks safe.
* **hard negatives** are look-alikes with another intent ("python list comprehension" /
  "python snake care"). They share words, score higher, and are the pairs a real cache
  serves a wrong answer for.

This module takes the shipped keyword catalogue (``perflab.sim.load_catalogue``: intents
with five paraphrases each, and pairs of intents marked as hard negatives), embeds every
query once, and returns the three sets of similarities, so one threshold can be scored
against both kinds of negatives side by side.

Example::

    sets = catalogue_similarities(WordLlamaEmbedder(), seed=0)
    for row in compare_negatives(sets, [0.5, 0.8]):
        print(row.threshold, row.recall, row.easy_false_hit_rate, row.hard_false_hit_rate)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perflab.embedders.base import Embedder, l2_normalise
from perflab.sim.workload import Catalogue, load_catalogue

__all__ = [
    "NegativeSets",
    "NegativesRow",
    "catalogue_similarities",
    "compare_negatives",
    "format_negatives_table",
    "lowest_safe_threshold",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NegativeSets:
    """Cosine similarities of the three kinds of labelled pairs.

    Attributes:
        embedder: the embedder's name.
        positives: every pair of queries with the same intent (should hit).
        easy: random pairs of queries with different intents that are not marked as
            look-alikes (should not hit).
        hard: every pair of queries across a hard-negative pair of intents (should not
            hit, and look like they should).
        seed: the seed that drew the easy pairs.
    """

    embedder: str
    positives: FloatArray
    easy: FloatArray
    hard: FloatArray
    seed: int


@dataclass(frozen=True)
class NegativesRow:
    """One threshold, scored once against the easy and once against the hard negatives.

    Attributes:
        threshold: pairs with similarity >= threshold are hits.
        recall: share of positive pairs that hit (the same for both benchmarks).
        easy_false_hit_rate: share of easy negatives that hit (each a wrong answer).
        hard_false_hit_rate: share of hard negatives that hit.
        easy_precision: right hits / all hits on positives + easy negatives
            (NaN when nothing hits).
        hard_precision: the same on positives + hard negatives.
    """

    threshold: float
    recall: float
    easy_false_hit_rate: float
    hard_false_hit_rate: float
    easy_precision: float
    hard_precision: float


def _pair_similarities(vectors: FloatArray, pairs: Sequence[tuple[int, int]]) -> FloatArray:
    if not pairs:
        return np.zeros(0, dtype=np.float64)
    a, b = np.array(pairs, dtype=np.int64).T
    sims: FloatArray = np.einsum("ij,ij->i", vectors[a], vectors[b]).astype(np.float64)
    return sims


def catalogue_similarities(
    embedder: Embedder,
    *,
    seed: int = 0,
    n_easy: int | None = None,
    catalogue: Catalogue | None = None,
) -> NegativeSets:
    """Embed the catalogue's queries and score its positive, easy and hard pairs.

    Args:
        embedder: any perflab embedder (``embed`` returns one row per text).
        seed: seeds the draw of easy negatives, so a run is reproducible.
        n_easy: how many easy pairs to draw, without repeats; ``None`` draws as many as
            there are hard pairs, so both benchmarks have the same number of negatives.
        catalogue: the queries and hard-negative intent pairs; ``None`` uses the shipped
            catalogue.

    Returns:
        The three sets of similarities.

    Raises:
        ValueError: ``n_easy`` is not between 1 and the number of possible easy pairs.
    """
    cat = catalogue if catalogue is not None else load_catalogue()
    texts = [q.text for q in cat.queries]
    intents = [q.intent for q in cat.queries]
    vectors = l2_normalise(embedder.embed(texts)).astype(np.float64)

    by_intent: dict[str, list[int]] = {}
    for i, intent in enumerate(intents):
        by_intent.setdefault(intent, []).append(i)
    look_alikes = {frozenset(p) for p in cat.hard_negatives}

    positives = [p for rows in by_intent.values() for p in itertools.combinations(rows, 2)]
    hard = [(a, b) for x, y in cat.hard_negatives for a in by_intent[x] for b in by_intent[y]]
    candidates = [
        (a, b)
        for a, b in itertools.combinations(range(len(texts)), 2)
        if intents[a] != intents[b] and frozenset((intents[a], intents[b])) not in look_alikes
    ]
    n = len(hard) if n_easy is None else n_easy
    if not 1 <= n <= len(candidates):
        raise ValueError(
            f"n_easy ({n}) must be between 1 and {len(candidates)}, the easy pairs there are"
        )
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(candidates), size=n, replace=False).tolist())
    easy = [candidates[i] for i in picked]
    return NegativeSets(
        embedder=embedder.name,
        positives=_pair_similarities(vectors, positives),
        easy=_pair_similarities(vectors, easy),
        hard=_pair_similarities(vectors, hard),
        seed=seed,
    )


def _precision(true_hits: int, false_hits: int) -> float:
    hits = true_hits + false_hits
    return math.nan if hits == 0 else true_hits / hits


def compare_negatives(sets: NegativeSets, thresholds: Sequence[float]) -> list[NegativesRow]:
    """Score each threshold against the easy and against the hard negatives.

    Args:
        sets: the similarities from :func:`catalogue_similarities`.
        thresholds: the thresholds to score, each between -1 and 1.

    Returns:
        One row per threshold, in the order given.

    Raises:
        ValueError: a threshold is outside [-1, 1].
    """
    rows = []
    for t in thresholds:
        if not -1.0 <= t <= 1.0:
            raise ValueError(
                f"threshold {t} is not a cosine similarity; use a value between -1 and 1"
            )
        true_hits = int(np.sum(sets.positives >= t))
        easy_hits = int(np.sum(sets.easy >= t))
        hard_hits = int(np.sum(sets.hard >= t))
        rows.append(
            NegativesRow(
                threshold=float(t),
                recall=true_hits / len(sets.positives),
                easy_false_hit_rate=easy_hits / len(sets.easy),
                hard_false_hit_rate=hard_hits / len(sets.hard),
                easy_precision=_precision(true_hits, easy_hits),
                hard_precision=_precision(true_hits, hard_hits),
            )
        )
    return rows


def lowest_safe_threshold(negatives: npt.ArrayLike, thresholds: Sequence[float]) -> float | None:
    """The lowest threshold of ``thresholds`` at which none of ``negatives`` is a hit.

    Args:
        negatives: similarities of pairs that should not hit.
        thresholds: the candidate thresholds.

    Returns:
        That threshold, or ``None`` if every candidate lets a negative through.
    """
    top = float(np.max(np.asarray(negatives, dtype=np.float64), initial=-np.inf))
    safe = [float(t) for t in thresholds if t > top]
    return min(safe) if safe else None


def format_negatives_table(rows: Sequence[NegativesRow]) -> str:
    """The rows as a plain-text table, rates as percentages, precision to 2 decimals."""

    def prec(p: float) -> str:
        return "n/a" if math.isnan(p) else f"{p:.2f}"

    lines = [
        f"{'threshold':>9s} {'recall':>7s} | {'easy: false hits':>16s} {'precision':>9s} | "
        + f"{'hard: false hits':>16s} {'precision':>9s}"
    ]
    for r in rows:
        lines.append(
            f"{r.threshold:9.2f} {r.recall:7.1%} | {r.easy_false_hit_rate:16.1%} "
            f"{prec(r.easy_precision):>9s} | {r.hard_false_hit_rate:16.1%} {prec(r.hard_precision):>9s}"
        )
    return "\n".join(lines)

"""Threshold calibration: choose the cache threshold from labelled pairs, with error bars.

Take pairs of queries, each labelled *same intent* (serving one's answer for the other
is right) or not, and their cosine similarity under your embedder. At threshold ``t``
every pair with similarity >= t would be a hit, so:

    precision(t) = same-intent hits / hits          (how often a hit is right)
    recall(t)    = same-intent hits / same-intent pairs   (how many right hits we get)
    hit_rate(t)  = hits / pairs

Lowering ``t`` raises recall and hit rate and, past some point, lowers precision. The
calibrated threshold is the *lowest* one whose precision reaches a target (say 0.95):
the most hits you can have while staying that accurate.

A precision measured on 40 pairs is not a fact, so each comes with a Wilson score
interval, and the chosen threshold with a bootstrap interval (pairs resampled with a
seeded numpy Generator, the choice redone each time). ``method="lower_bound"`` picks
the lowest threshold whose Wilson *lower* bound reaches the target: the cautious choice
for a small labelled set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from perflab.embedders.base import Embedder

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Calibration",
    "ThresholdCurve",
    "ThresholdPoint",
    "calibrate_threshold",
    "score_pairs",
    "threshold_curve",
    "wilson_interval",
]

Method = Literal["point", "lower_bound"]


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (good at small n and near 0 or 1).

    Returns ``(0.0, 1.0)`` when there are no trials: nothing is known.
    """
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    low = 0.0 if successes == 0 else max(0.0, float(centre - half))  # exact ends, no rounding dust
    high = 1.0 if successes == trials else min(1.0, float(centre + half))
    return low, high


@dataclass(frozen=True)
class ThresholdPoint:
    """The cache's behaviour on the labelled pairs at one threshold.

    ``precision`` is NaN when nothing hits; ``recall`` is NaN with no same-intent pairs.
    """

    threshold: float
    hits: int
    true_hits: int
    false_hits: int
    missed: int
    precision: float
    precision_low: float
    precision_high: float
    recall: float
    hit_rate: float


@dataclass(frozen=True)
class ThresholdCurve:
    """Precision, recall and hit rate over a range of thresholds (ascending)."""

    points: tuple[ThresholdPoint, ...]
    n_pairs: int
    n_same: int
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        """The points as a pandas DataFrame, one row per threshold."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.points])


@dataclass(frozen=True)
class Calibration:
    """The lowest threshold that reaches a target precision, and how sure we are.

    Attributes:
        threshold: the calibrated threshold, or ``None`` if no threshold reaches the target.
        reached: whether one does.
        precision, precision_low, precision_high: precision at ``threshold`` and its
            Wilson interval (NaN when not reached).
        recall, hit_rate: at ``threshold``.
        threshold_low, threshold_high: bootstrap percentile interval of the chosen
            threshold (``None`` without bootstrap or if resamples never reach it).
        bootstrap_reached: share of resamples in which the target was reachable.
        curve: the whole precision/recall/hit-rate curve.
    """

    target_precision: float
    confidence: float
    method: Method
    threshold: float | None
    reached: bool
    precision: float
    precision_low: float
    precision_high: float
    recall: float
    hit_rate: float
    threshold_low: float | None
    threshold_high: float | None
    bootstrap_reached: float | None
    n_pairs: int
    n_same: int
    curve: ThresholdCurve

    def as_dict(self) -> dict[str, Any]:
        """The summary fields as a plain dict (the curve left out)."""
        return {k: v for k, v in asdict(self).items() if k != "curve"}

    def to_frame(self) -> pd.DataFrame:
        """The curve as a DataFrame, with a boolean ``chosen`` column marking the threshold."""
        frame = self.curve.to_frame()
        frame["chosen"] = frame["threshold"] == self.threshold
        return frame


def _as_arrays(
    similarities: npt.ArrayLike, same_intent: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    sims = np.asarray(similarities, dtype=np.float64).ravel()
    same = np.asarray(same_intent, dtype=bool).ravel()
    if sims.shape != same.shape:
        raise ValueError(f"got {sims.size} similarities but {same.size} labels")
    if sims.size == 0:
        raise ValueError("need at least one labelled pair")
    if not np.all(np.isfinite(sims)):
        raise ValueError("similarities must be finite numbers")
    return sims, same


def _counts(
    sims: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], thresholds: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(hits, true hits) at each threshold: one sort, one searchsorted, no loop."""
    order = np.argsort(sims, kind="stable")
    sorted_sims = sims[order]
    # suffix[i] = same-intent pairs among the i-th smallest similarity and above
    suffix = np.concatenate([np.cumsum(same[order][::-1])[::-1], [0]]).astype(np.int64)
    first = np.searchsorted(sorted_sims, thresholds, side="left")
    return (sims.size - first).astype(np.int64), suffix[first]


def _choose(
    thresholds: npt.NDArray[np.float64],
    hits: npt.NDArray[np.int64],
    true_hits: npt.NDArray[np.int64],
    target: float,
    method: Method,
    z: float,
) -> int | None:
    """Index of the lowest threshold meeting the target, or None."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(hits > 0, true_hits / np.maximum(hits, 1), np.nan)
        if method == "lower_bound":
            n = np.maximum(hits, 1)
            denom = 1 + z * z / n
            p = (p + z * z / (2 * n) - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / denom
    ok = np.flatnonzero((hits > 0) & (p >= target - 1e-12))
    return int(ok[np.argmin(thresholds[ok])]) if ok.size else None


def threshold_curve(
    similarities: npt.ArrayLike,
    same_intent: npt.ArrayLike,
    *,
    thresholds: npt.ArrayLike | None = None,
    confidence: float = 0.95,
) -> ThresholdCurve:
    """Precision, recall and hit rate at each threshold.

    Args:
        similarities: cosine similarity of each pair.
        same_intent: whether each pair has the same intent.
        thresholds: where to evaluate; default every distinct similarity (the exact
            curve: it only changes there).
        confidence: level of the Wilson intervals.
    """
    sims, same = _as_arrays(similarities, same_intent)
    grid = (
        np.unique(sims)
        if thresholds is None
        else np.unique(np.asarray(thresholds, dtype=np.float64))
    )
    hits, true_hits = _counts(sims, same, grid)
    n_same = int(same.sum())
    points = []
    for t, h, tp in zip(grid.tolist(), hits.tolist(), true_hits.tolist()):
        low, high = wilson_interval(tp, h, confidence)
        points.append(
            ThresholdPoint(
                threshold=t,
                hits=h,
                true_hits=tp,
                false_hits=h - tp,
                missed=n_same - tp,
                precision=tp / h if h else float("nan"),
                precision_low=low,
                precision_high=high,
                recall=tp / n_same if n_same else float("nan"),
                hit_rate=h / sims.size,
            )
        )
    return ThresholdCurve(tuple(points), int(sims.size), n_same, confidence)


def calibrate_threshold(
    similarities: npt.ArrayLike,
    same_intent: npt.ArrayLike,
    *,
    target_precision: float = 0.95,
    confidence: float = 0.95,
    method: Method = "point",
    thresholds: npt.ArrayLike | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> Calibration:
    """Find the lowest threshold whose precision reaches ``target_precision``.

    Args:
        similarities: cosine similarity of each labelled pair.
        same_intent: whether each pair has the same intent.
        target_precision: the precision a hit must have (0..1).
        confidence: level of the Wilson and bootstrap intervals.
        method: ``"point"`` uses measured precision; ``"lower_bound"`` its Wilson
            lower bound (more cautious on few pairs).
        thresholds: candidate thresholds; default every distinct similarity.
        n_bootstrap: resamples for the threshold's interval (0 skips it).
        seed: seed of the numpy Generator that draws the resamples.

    Returns:
        A ``Calibration``; ``reached`` is False when no threshold reaches the target.
    """
    if not 0 < target_precision <= 1:
        raise ValueError(f"target_precision ({target_precision}) must be within (0, 1]")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence ({confidence}) must be within (0, 1)")
    if method not in ("point", "lower_bound"):
        raise ValueError(f"method ({method!r}) must be 'point' or 'lower_bound'")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap ({n_bootstrap}) must be >= 0")
    sims, same = _as_arrays(similarities, same_intent)
    curve = threshold_curve(sims, same, thresholds=thresholds, confidence=confidence)
    grid = np.array([p.threshold for p in curve.points])
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    hits, true_hits = _counts(sims, same, grid)
    chosen = _choose(grid, hits, true_hits, target_precision, method, z)

    low = high = reached_share = None
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        picks = []
        for _ in range(n_bootstrap):
            rows = rng.integers(0, sims.size, sims.size)
            s, y = sims[rows], same[rows]
            g = np.unique(s) if thresholds is None else grid
            h, tp = _counts(s, y, g)
            i = _choose(g, h, tp, target_precision, method, z)
            if i is not None:
                picks.append(g[i])
        reached_share = len(picks) / n_bootstrap
        if picks:
            alpha = (1 - confidence) / 2
            low, high = (float(v) for v in np.quantile(picks, [alpha, 1 - alpha]))

    nan = float("nan")
    point = curve.points[chosen] if chosen is not None else None
    return Calibration(
        target_precision=target_precision,
        confidence=confidence,
        method=method,
        threshold=point.threshold if point else None,
        reached=point is not None,
        precision=point.precision if point else nan,
        precision_low=point.precision_low if point else nan,
        precision_high=point.precision_high if point else nan,
        recall=point.recall if point else nan,
        hit_rate=point.hit_rate if point else nan,
        threshold_low=low,
        threshold_high=high,
        bootstrap_reached=reached_share,
        n_pairs=curve.n_pairs,
        n_same=curve.n_same,
        curve=curve,
    )


def score_pairs(
    embedder: Embedder, pairs: Sequence[tuple[str, str, bool]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Embed labelled text pairs ``(a, b, same_intent)``; return (similarities, labels).

    All texts go to the embedder in one batch.
    """
    if not pairs:
        raise ValueError("need at least one labelled pair")
    texts = [t for a, b, _ in pairs for t in (a, b)]
    vectors = embedder.embed(texts).astype(np.float64)
    sims = np.einsum("ij,ij->i", vectors[0::2], vectors[1::2])
    return sims, np.array([bool(label) for *_, label in pairs])

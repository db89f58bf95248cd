"""Threshold calibration: the curve, the chosen threshold, and its intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.cache.calibration import (
    calibrate_threshold,
    score_pairs,
    threshold_curve,
    wilson_interval,
)
from perflab.embedders import HashingEmbedder


def two_groups(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Same-intent pairs around 0.85, different-intent pairs around 0.6."""
    rng = np.random.default_rng(seed)
    sims = np.concatenate([rng.normal(0.85, 0.07, n), rng.normal(0.6, 0.1, n)])
    return sims, np.arange(2 * n) < n


SIMS = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5]
SAME = [True, True, True, False, True, False, False, False]


def test_curve_counts_hits_at_each_threshold() -> None:
    """At each threshold the curve counts hits, true and false hits, precision and recall."""
    curve = threshold_curve(SIMS, SAME)
    at = {p.threshold: p for p in curve.points}
    p = at[0.75]
    assert (p.hits, p.true_hits, p.false_hits, p.missed) == (5, 4, 1, 0)
    assert (p.precision, p.recall, p.hit_rate) == (0.8, 1.0, 5 / 8)
    assert at[0.85].precision == 1.0 and at[0.85].recall == 0.75
    assert [pt.threshold for pt in curve.points] == sorted(SIMS)


def test_curve_on_a_grid_with_no_hits_has_nan_precision() -> None:
    """Above every similarity nothing hits: precision is NaN, recall and hit rate 0."""
    point = threshold_curve(SIMS, SAME, thresholds=[0.99]).points[0]
    assert (
        point.hits == 0
        and math.isnan(point.precision)
        and point.recall == 0
        and point.hit_rate == 0
    )


def test_lowest_threshold_reaching_target() -> None:
    """The calibrated threshold is the lowest with precision >= target."""
    c = calibrate_threshold(SIMS, SAME, target_precision=0.8, n_bootstrap=0)
    assert c.reached and c.threshold == 0.75 and c.precision == 0.8
    strict = calibrate_threshold(SIMS, SAME, target_precision=1.0, n_bootstrap=0)
    assert strict.threshold == 0.85 and strict.recall == 0.75


def test_unreachable_target_says_so() -> None:
    """If no threshold reaches the target, threshold is None and reached is False."""
    c = calibrate_threshold([0.9, 0.8], [False, False], target_precision=0.5, n_bootstrap=10)
    assert not c.reached and c.threshold is None and math.isnan(c.precision)
    assert c.bootstrap_reached == 0.0 and c.threshold_low is None


def test_lower_bound_method_is_more_cautious() -> None:
    """Requiring the Wilson lower bound to reach the target picks a threshold at least as high."""
    sims, same = two_groups(1)
    point = calibrate_threshold(sims, same, target_precision=0.9, n_bootstrap=0)
    cautious = calibrate_threshold(
        sims, same, target_precision=0.9, method="lower_bound", n_bootstrap=0
    )
    assert point.threshold is not None and cautious.threshold is not None
    assert cautious.threshold > point.threshold and cautious.precision_low >= 0.9


def test_bootstrap_interval_is_seeded_and_brackets_the_choice() -> None:
    """The same seed gives the same interval, and it contains the chosen threshold."""
    sims, same = two_groups(2)
    a = calibrate_threshold(sims, same, target_precision=0.9, n_bootstrap=200, seed=7)
    b = calibrate_threshold(sims, same, target_precision=0.9, n_bootstrap=200, seed=7)
    assert (a.threshold_low, a.threshold_high) == (b.threshold_low, b.threshold_high)
    assert a.threshold_low is not None and a.threshold_high is not None and a.threshold is not None
    assert a.threshold_low <= a.threshold <= a.threshold_high
    assert a.bootstrap_reached is not None and 0 < a.bootstrap_reached <= 1


def test_to_frame_marks_the_chosen_threshold() -> None:
    """to_frame gives one row per threshold and marks the chosen one."""
    frame = calibrate_threshold(SIMS, SAME, target_precision=0.8, n_bootstrap=0).to_frame()
    assert len(frame) == len(SIMS) and frame.loc[frame["chosen"], "threshold"].tolist() == [0.75]
    assert {"precision", "recall", "hit_rate", "precision_low"} <= set(frame.columns)


def test_wilson_interval_known_value() -> None:
    """Wilson 95% interval for 8/10 matches the textbook value (0.490, 0.943)."""
    low, high = wilson_interval(8, 10, 0.95)
    assert (round(low, 3), round(high, 3)) == (0.49, 0.943)
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_precision": 0}, "target_precision"),
        ({"confidence": 1.0}, "confidence"),
        ({"method": "best"}, "method"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], match: str) -> None:
    """Out-of-range arguments raise ValueError naming the argument."""
    with pytest.raises(ValueError, match=match):
        calibrate_threshold(SIMS, SAME, **kwargs)  # type: ignore[arg-type]


def test_score_pairs_embeds_in_one_batch() -> None:
    """score_pairs returns one cosine similarity and one label per pair."""
    sims, labels = score_pairs(
        HashingEmbedder(dim=64), [("a b", "a b", True), ("a b", "x y", False)]
    )
    assert sims[0] == pytest.approx(1.0) and sims[1] < 1 and labels.tolist() == [True, False]


pairs_strategy = st.lists(st.tuples(st.floats(-1, 1), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(pairs_strategy)
def test_curve_is_monotone(pairs: list[tuple[float, bool]]) -> None:
    """Raising the threshold never raises hits, recall or hit rate; intervals hold the estimate."""
    sims, same = zip(*pairs)
    points = threshold_curve(sims, same).points
    hits = [p.hits for p in points]
    assert hits == sorted(hits, reverse=True)
    for p in points:
        assert 0 <= p.precision_low <= (p.precision if p.hits else 0.5) <= p.precision_high <= 1


@settings(max_examples=60, deadline=None)
@given(pairs_strategy, st.floats(0.05, 1.0))
def test_chosen_threshold_is_the_lowest_that_qualifies(
    pairs: list[tuple[float, bool]], target: float
) -> None:
    """The choice meets the target, and no lower candidate threshold does."""
    sims, same = zip(*pairs)
    c = calibrate_threshold(sims, same, target_precision=target, n_bootstrap=0)
    qualifying = [p.threshold for p in c.curve.points if p.hits and p.precision >= target - 1e-12]
    assert c.threshold == (min(qualifying) if qualifying else None)

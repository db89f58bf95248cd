"""Tests for perflab.lessons.negatives: lesson 05's easy and hard negative pairs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from perflab.lessons.negatives import (
    NegativeSets,
    catalogue_similarities,
    compare_negatives,
    format_negatives_table,
    lowest_safe_threshold,
)
from perflab.sim.workload import Catalogue, Query

# Three intents of two queries each; "a" and "b" are marked as look-alikes.
CATALOGUE = Catalogue(
    queries=tuple(
        Query(text, intent, "t")
        for intent, texts in [("a", ["a1", "a2"]), ("b", ["b1", "b2"]), ("c", ["c1", "c2"])]
        for text in texts
    ),
    intents=("a", "b", "c"),
    hard_negatives=(("a", "b"),),
)
# Unit vectors chosen so each kind of pair has a known cosine similarity.
VECTORS = {
    "a1": [1.0, 0.0, 0.0],
    "a2": [1.0, 0.0, 0.0],
    "b1": [0.6, 0.8, 0.0],
    "b2": [0.6, 0.8, 0.0],
    "c1": [0.0, 0.0, 1.0],
    "c2": [0.0, 0.0, 1.0],
}


class TableEmbedder:
    """An embedder that looks each text up in VECTORS."""

    name = "table/3"
    dim = 3

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return np.array([VECTORS[t] for t in texts], dtype=np.float32)


def _sets() -> NegativeSets:
    return catalogue_similarities(TableEmbedder(), seed=0, catalogue=CATALOGUE)


def test_pairs_are_sorted_into_positives_easy_and_hard() -> None:
    """Same-intent pairs are positives, look-alike intents' pairs hard, the rest easy."""
    sets = _sets()
    assert sets.positives.tolist() == pytest.approx([1.0, 1.0, 1.0])  # one pair per intent
    assert sets.hard.tolist() == pytest.approx([0.6] * 4)  # 2 x 2 queries across a and b
    assert len(sets.easy) == 4  # as many as hard pairs by default
    assert sets.easy.tolist() == pytest.approx([0.0] * 4)  # a or b against c
    assert sets.embedder == "table/3"


def test_easy_pairs_are_seeded_and_distinct() -> None:
    """The same seed draws the same easy pairs; n_easy sets how many."""
    a = catalogue_similarities(TableEmbedder(), seed=3, n_easy=8, catalogue=CATALOGUE)
    b = catalogue_similarities(TableEmbedder(), seed=3, n_easy=8, catalogue=CATALOGUE)
    assert a.easy.tolist() == b.easy.tolist()
    assert len(a.easy) == 8  # every cross pair with c: 4 queries x 2


@pytest.mark.parametrize("n_easy", [0, 9])
def test_n_easy_out_of_range_is_refused(n_easy: int) -> None:
    """Asking for no easy pairs, or more than exist, is a ValueError naming the limit."""
    with pytest.raises(ValueError, match="between 1 and 8"):
        catalogue_similarities(TableEmbedder(), n_easy=n_easy, catalogue=CATALOGUE)


def test_compare_scores_each_negative_kind_separately() -> None:
    """A threshold between the hard and the positive similarities is clean on both."""
    low, mid = compare_negatives(_sets(), [0.5, 0.7])
    assert (low.recall, low.easy_false_hit_rate, low.hard_false_hit_rate) == (1.0, 0.0, 1.0)
    assert low.easy_precision == 1.0
    assert low.hard_precision == pytest.approx(3 / 7)
    assert (mid.hard_false_hit_rate, mid.hard_precision) == (0.0, 1.0)


def test_precision_is_nan_when_nothing_hits() -> None:
    """Above every similarity there are no hits, so precision is undefined."""
    (row,) = compare_negatives(
        NegativeSets("x", np.array([0.5]), np.array([0.1]), np.array([0.2]), 0), [0.9]
    )
    assert math.isnan(row.easy_precision) and math.isnan(row.hard_precision)
    assert "n/a" in format_negatives_table([row])


def test_threshold_outside_cosine_range_is_refused() -> None:
    """A threshold above 1 is a ValueError saying what is allowed."""
    with pytest.raises(ValueError, match="between -1 and 1"):
        compare_negatives(_sets(), [1.5])


def test_lowest_safe_threshold_is_above_the_top_negative() -> None:
    """The first candidate above every negative's similarity; None when there is none."""
    assert lowest_safe_threshold([0.2, 0.61], [0.5, 0.6, 0.7, 0.8]) == 0.7
    assert lowest_safe_threshold([0.95], [0.5, 0.9]) is None


def test_table_prints_rates_as_percentages() -> None:
    """The table has a header and one line per row, rates in percent."""
    text = format_negatives_table(compare_negatives(_sets(), [0.5]))
    header, line = text.splitlines()
    assert "easy: false hits" in header and "hard: false hits" in header
    assert line.split() == ["0.50", "100.0%", "|", "0.0%", "1.00", "|", "100.0%", "0.43"]

"""Tests for perflab.chunking: chunk_text on sentence and word boundaries."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.chunking import chunk_spans, chunk_text, count_units

PROSE = (
    "Caching saves money. A semantic cache answers a query with a stored answer "
    "when the two are close enough! Is 0.8 the right threshold? Measure it.\n\n"
    "Connection pools save time. Opening a connection costs 150 ms; reusing one costs nothing."
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_short_text_is_one_chunk() -> None:
    """A text shorter than size comes back whole (trimmed)."""
    assert chunk_text("  hello world \n") == ["hello world"]


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_gives_no_chunks(text: str) -> None:
    """Empty or all-whitespace text gives an empty list."""
    assert chunk_text(text) == []


def test_prefers_sentence_ends() -> None:
    """Chunks end at sentence ends when one falls in the second half of a chunk."""
    chunks = chunk_text(PROSE, size=120)
    assert all(len(c) <= 120 for c in chunks)
    assert all(c.endswith((".", "!", "?")) for c in chunks)
    assert squash("".join(chunks)) == squash(PROSE)


def test_paragraph_break_is_a_boundary() -> None:
    """A blank line ends a sentence even without punctuation."""
    text = "heading without a full stop\n\nbody text goes here and on"
    assert chunk_text(text, size=40) == [
        "heading without a full stop",
        "body text goes here and on",
    ]


def test_falls_back_to_word_boundaries() -> None:
    """Without a usable sentence end, chunks break between words, never inside one."""
    text = " ".join(f"word{i}" for i in range(50))
    chunks = chunk_text(text, size=30)
    words = set(text.split())
    assert all(set(c.split()) <= words for c in chunks)


def test_cuts_a_word_longer_than_a_chunk() -> None:
    """Only a word longer than a whole chunk is cut, into chunk-sized pieces."""
    assert chunk_text("ab " + "x" * 25 + " cd", size=10) == [
        "ab",
        "xxxxxxxxxx",
        "xxxxxxxxxx",
        "xxxxx cd",
    ]


def test_word_unit_counts_words() -> None:
    """unit='words' caps each chunk's word count."""
    chunks = chunk_text(PROSE, size=12, unit="words")
    assert all(len(c.split()) <= 12 for c in chunks)
    assert [w for c in chunks for w in c.split()] == PROSE.split()


def test_token_unit_counts_regex_tokens() -> None:
    """unit='tokens' counts word runs and punctuation marks as tokens."""
    assert count_units("Hello, world! It's 0.8.", "tokens") == 11
    chunks = chunk_text(PROSE, size=15, unit="tokens")
    assert all(count_units(c, "tokens") <= 15 for c in chunks)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    """With overlap, each chunk starts with the last words of the one before."""
    text = " ".join(str(i) for i in range(20))
    chunks = chunk_text(text, size=5, overlap=2, unit="words")
    assert chunks[:3] == ["0 1 2 3 4", "3 4 5 6 7", "6 7 8 9 10"]
    assert chunks[-1].endswith("19")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"size": 0}, ValueError, "size"),
        ({"size": 10, "overlap": 10}, ValueError, "overlap"),
        ({"overlap": -1}, ValueError, "overlap"),
        ({"unit": "bytes"}, ValueError, "unit"),
    ],
)
def test_rejects_bad_arguments(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    """Bad size, overlap or unit are refused with a message naming them."""
    with pytest.raises(error, match=message):
        chunk_text("some text", **kwargs)  # type: ignore[arg-type]


def test_rejects_non_text() -> None:
    """Passing bytes is a TypeError, not a silent mis-split."""
    with pytest.raises(TypeError):
        chunk_text(b"bytes")  # type: ignore[arg-type]


texts = st.text(alphabet=st.sampled_from(list("abcde .!?\n,'")), max_size=400)


@given(text=texts, size=st.integers(1, 60), unit=st.sampled_from(["chars", "words", "tokens"]))
def test_chunks_fit_and_cover_the_text(text: str, size: int, unit: str) -> None:
    """Without overlap, chunks fit in size, are exact slices, and together hold all the text."""
    chunks = chunk_text(text, size=size, unit=unit)  # type: ignore[arg-type]
    assert all(count_units(c, unit) <= size for c in chunks)  # type: ignore[arg-type]
    assert all(c and c == c.strip() and c in text for c in chunks)
    assert "".join(squash(c) for c in chunks) == squash(text)


@given(
    text=texts,
    size=st.integers(2, 60),
    data=st.data(),
    unit=st.sampled_from(["chars", "words", "tokens"]),
)
def test_overlapping_chunks_fit_and_progress(
    text: str, size: int, data: st.DataObject, unit: str
) -> None:
    """With overlap, chunks still fit, move forward, and together cover every non-space character."""
    overlap = data.draw(st.integers(0, size - 1))
    spans = chunk_spans(text, size=size, overlap=overlap, unit=unit)  # type: ignore[arg-type]
    assert [text[a:b] for a, b in spans] == chunk_text(text, size, overlap, unit)  # type: ignore[arg-type]
    assert all(count_units(text[a:b], unit) <= size for a, b in spans)  # type: ignore[arg-type]
    for (a0, b0), (a1, b1) in itertools.pairwise(spans):
        assert a0 < a1 and b0 < b1
    covered = {i for a, b in spans for i in range(a, b)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_overlap_never_repeats_a_chunk_end() -> None:
    """Backing up to a sentence end never lands inside the overlap (a found regression)."""
    spans = chunk_spans("? ??? a ?", size=5, overlap=3)
    assert all(b0 < b1 for (_, b0), (_, b1) in itertools.pairwise(spans))

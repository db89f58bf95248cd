"""Chunking: cut a long text into pieces an embedder can take whole.

The guide's CHUNK_SIZE is 1000: small enough to "fit in a single embedding", large
enough to keep a thought together ("semantic coherence"). ``chunk_text`` cuts
greedily: each chunk takes as many whole words as fit in ``size``, and then backs up to
the last sentence end in it, if that keeps at least half the chunk. A word is only cut
when it is longer than a whole chunk on its own (a URL, a base64 blob).

``overlap`` repeats the end of each chunk (whole words, at most ``overlap`` units) at
the start of the next, so a sentence cut in two is still found whole in one of them.

Units (``unit=``):

* ``"chars"``: characters of the chunk as it stands in the text (the default, and what
  CHUNK_SIZE means in this project).
* ``"words"``: whitespace-separated words.
* ``"tokens"``: an *approximation* of model tokens: a regex counts each run of letters
  or digits, and each punctuation mark, as one token. Real tokenizers (BPE, as used by
  OpenAI models) split long or rare words further, so for English prose they count
  roughly 10-30 % more tokens than this. Use the model's own tokenizer when a hard
  token limit matters.

Every chunk is an exact slice of the input (inner whitespace and newlines kept, outer
whitespace trimmed).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

__all__ = ["Unit", "chunk_spans", "chunk_text", "count_units"]

Unit = Literal["chars", "words", "tokens"]
UNITS: tuple[str, ...] = ("chars", "words", "tokens")

_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n")


class _Atom(NamedTuple):
    """An uncuttable piece of text: a word, or part of a word too long for one chunk."""

    start: int
    end: int
    weight: int  # words or tokens it counts for (unused for chars)
    sentence_end: bool


def count_units(text: str, unit: Unit = "chars") -> int:
    """How long ``text`` is in ``unit`` (``"chars"``, ``"words"`` or approximate ``"tokens"``)."""
    _check_unit(unit)
    if unit == "chars":
        return len(text)
    pattern = _WORD if unit == "words" else _TOKEN
    return sum(1 for _ in pattern.finditer(text))


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit ({unit!r}) must be one of {', '.join(map(repr, UNITS))}")


def _atoms(text: str, size: int, unit: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        gap = text[end : end + 64]
        ends = bool(_SENTENCE_END.search(match.group())) or bool(_PARAGRAPH.match(gap))
        if unit == "chars":
            # A word longer than a chunk is cut into chunk-sized pieces.
            for piece in range(start, end, size):
                last = piece + size >= end
                atoms.append(_Atom(piece, min(piece + size, end), 1, ends and last))
        elif unit == "words":
            atoms.append(_Atom(start, end, 1, ends))
        else:
            spans = [m.span() for m in _TOKEN.finditer(text, start, end)]
            for first in range(0, len(spans), size):
                group = spans[first : first + size]
                last = first + size >= len(spans)
                atoms.append(_Atom(group[0][0], group[-1][1], len(group), ends and last))
    return atoms


def chunk_text(text: str, size: int = 1000, overlap: int = 0, unit: Unit = "chars") -> list[str]:
    """Split ``text`` into chunks of at most ``size`` units, on sentence or word boundaries.

    Args:
        text: the text to split.
        size: the most units a chunk may hold (CHUNK_SIZE, 1000).
        overlap: units repeated from the end of one chunk at the start of the next
            (whole words only, so often a little less); ``0 <= overlap < size``.
        unit: ``"chars"``, ``"words"`` or ``"tokens"`` (a regex approximation; see
            the module docstring).

    Returns:
        The chunks in order; ``[]`` for an empty or all-whitespace text.

    Raises:
        ValueError: for a non-positive size, an overlap outside ``[0, size)``, or an
            unknown unit.
        TypeError: if ``text`` is not a ``str``.

    >>> chunk_text("One. Two three. Four five six.", size=16)
    ['One. Two three.', 'Four five six.']
    >>> chunk_text("a b c d e", size=3, overlap=1, unit="words")
    ['a b c', 'c d e']
    """
    return [text[start:end] for start, end in chunk_spans(text, size, overlap, unit)]


def chunk_spans(
    text: str, size: int = 1000, overlap: int = 0, unit: Unit = "chars"
) -> list[tuple[int, int]]:
    """Where ``chunk_text`` would cut: ``(start, end)`` offsets into ``text``, in order.

    Handy for highlighting chunks in the original text. Arguments as for ``chunk_text``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if size < 1:
        raise ValueError(f"size ({size}) must be >= 1")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap ({overlap}) must be >= 0 and < size ({size})")
    _check_unit(unit)
    atoms = _atoms(text, size, unit)
    prefix = [0]
    for atom in atoms:
        prefix.append(prefix[-1] + atom.weight)

    def measure(i: int, j: int) -> int:
        """Units in the slice from atom i to atom j, inclusive."""
        if unit == "chars":
            return atoms[j].end - atoms[i].start
        return prefix[j + 1] - prefix[i]

    chunks: list[tuple[int, int]] = []
    n = len(atoms)
    i = 0
    fresh = 0  # first atom not in any chunk yet: each chunk must reach past it
    while i < n:
        j = i
        while j + 1 < n and measure(i, j + 1) <= size:
            j += 1
        if j + 1 < n:  # not the last chunk: back up to a sentence end if one is near
            for k in range(j, max(i, fresh) - 1, -1):
                if atoms[k].sentence_end and 2 * measure(i, k) >= size:
                    j = k
                    break
        chunks.append((atoms[i].start, atoms[j].end))
        if j + 1 >= n:
            break
        fresh = k = j + 1
        while k - 1 > i and measure(k - 1, j) <= overlap:
            k -= 1
        while k <= j and measure(k, j + 1) > size:
            k += 1  # the overlap must leave room for at least one new atom
        i = k
    return chunks

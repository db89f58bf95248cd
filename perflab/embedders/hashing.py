"""A lexical embedder: feature hashing of words and character n-grams.

No model, no download, no dependency beyond numpy, and the same vector for the same
text on every run and machine (the hash is BLAKE2b with a fixed personalisation,
never Python's salted ``hash()``).

It is also a teaching foil. It measures how many *spellings* two texts share, not
what they *mean*: "python snake care" and "python list care" share most of their
letters and score high, while "caring for a pet python" and "how to look after my
python" share almost none. A semantic cache on top of it hits the wrong intent and
misses the right one. Compare it with ``WordLlamaEmbedder`` in lesson 05.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from hashlib import blake2b
from itertools import pairwise

import numpy as np

from perflab.embedders.base import FloatArray, l2_normalise

__all__ = ["HashingEmbedder"]

_WORD = re.compile(r"\w+", re.UNICODE)
_PERSON = b"perflab-hash-v1"  # changing this changes every vector: bump the name's version too


@lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    """Map a feature to (column, sign); the sign keeps collisions unbiased."""
    digest = blake2b(feature.encode("utf-8"), digest_size=8, person=_PERSON).digest()
    h = int.from_bytes(digest, "little")
    return h % dim, (1.0 if h >> 63 else -1.0)


class HashingEmbedder:
    """Feature-hashing embedder over word unigrams, word bigrams and character n-grams.

    Each feature family is hashed into ``dim`` signed buckets, each family's vector is
    normalised, the three are mixed with fixed weights, and the result is normalised
    again. Character n-grams (of each word padded as ``<word>``) make it forgiving of
    typos and plurals; words and bigrams reward shared vocabulary and word order.

    Args:
        dim: number of hash buckets (the vector length).
        char_ngrams: inclusive (low, high) lengths of character n-grams.
        weights: mixing weights of (words, bigrams, char n-grams).

    >>> emb = HashingEmbedder(dim=64)
    >>> emb.embed(["hello world"]).shape
    (1, 64)
    """

    def __init__(
        self,
        dim: int = 384,
        *,
        char_ngrams: tuple[int, int] = (3, 5),
        weights: tuple[float, float, float] = (0.5, 0.2, 0.3),
    ) -> None:
        if dim < 2:
            raise ValueError(f"dim ({dim}) must be >= 2")
        low, high = char_ngrams
        if not 1 <= low <= high:
            raise ValueError(f"char_ngrams ({char_ngrams}) must satisfy 1 <= low <= high")
        if len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"weights ({weights}) must be three non-negative numbers, not all 0")
        self._dim = dim
        self._char_ngrams = (low, high)
        self._weights = tuple(float(w) for w in weights)
        default = (low, high) == (3, 5) and self._weights == (0.5, 0.2, 0.3)
        suffix = "" if default else f"-c{low}{high}-w" + "_".join(f"{w:g}" for w in weights)
        self._name = f"hashing/v1-{dim}{suffix}"

    @property
    def name(self) -> str:
        """``"hashing/v1-<dim>"`` (plus the options when they differ from the defaults)."""
        return self._name

    @property
    def dim(self) -> int:
        """Vector length."""
        return self._dim

    def features(self, text: str) -> tuple[list[str], list[str], list[str]]:
        """Return the (words, bigrams, char n-grams) a text is hashed from: handy in a notebook."""
        words = _WORD.findall(text.lower())
        bigrams = [f"{a} {b}" for a, b in pairwise(words)]
        low, high = self._char_ngrams
        grams: list[str] = []
        for word in words:
            padded = f"<{word}>"
            for n in range(low, high + 1):
                grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return words, bigrams, grams

    def _embed_one(self, text: str, out: FloatArray) -> None:
        for family, (prefix, weight) in zip(
            self.features(text),
            (("w:", self._weights[0]), ("b:", self._weights[1]), ("c:", self._weights[2])),
        ):
            if not family or weight == 0:
                continue
            part = np.zeros(self._dim, dtype=np.float64)
            for feature in family:
                column, sign = _bucket(prefix + feature, self._dim)
                part[column] += sign
            norm = float(np.linalg.norm(part))
            if norm > 0:
                out += (weight / norm) * part

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` into L2-normalised float32 rows (an empty text gives a zero row)."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            self._embed_one(text, out[row])
        return l2_normalise(out)

    def __repr__(self) -> str:
        return f"<HashingEmbedder {self._name}>"

"""The ``Embedder`` protocol: text in, unit vectors out.

An embedder turns a batch of texts into a float32 matrix of shape ``(n, dim)`` whose
rows have length 1, so the dot product of two rows *is* their cosine similarity. The
semantic cache, its threshold and every vector store rely on that: one unit
(cosine similarity) everywhere.

``name`` says which model made a vector (``"hashing/v1-384"``,
``"wordllama/l2_supercat_256"``). The cache files entries under it, so vectors from
two models are never compared and a change of model never serves old answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from perflab.arrays import FloatArray

__all__ = ["AsyncEmbedder", "Embedder", "FloatArray", "l2_normalise"]


@runtime_checkable
class Embedder(Protocol):
    """Anything that embeds a batch of texts into L2-normalised float32 rows.

    Attributes:
        name: the model's identity, used to namespace cache entries.
        dim: the number of columns ``embed`` returns.
    """

    @property
    def name(self) -> str:
        """The model's identity, e.g. ``"wordllama/l2_supercat_256"``."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` into a float32 array of shape ``(len(texts), dim)``, rows of length 1."""
        ...


@runtime_checkable
class AsyncEmbedder(Embedder, Protocol):
    """An embedder that can also be awaited (remote models: one HTTP call per batch)."""

    async def aembed(self, texts: Sequence[str]) -> FloatArray:
        """Like ``embed``, without blocking the event loop."""
        ...


def l2_normalise(matrix: npt.ArrayLike) -> FloatArray:
    """Return ``matrix`` as float32 with each row scaled to length 1.

    An all-zero row (an empty text) stays all zero: its cosine similarity with
    anything is 0, which can never pass a positive threshold.

    Args:
        matrix: a 2-D array-like of shape ``(n, dim)``.

    Returns:
        A new C-contiguous float32 array of the same shape.
    """
    out = np.array(matrix, dtype=np.float32, copy=True, order="C")
    if out.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out

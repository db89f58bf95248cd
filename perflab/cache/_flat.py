"""``FlatBlock``: one growable float32 matrix searched exactly, and the top-k pick.

The building block of ``VectorIndex``: an exact index is one ``FlatBlock`` per
namespace, and an IVF index is a list of them (one per inverted list).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perflab.arrays import FloatArray

__all__ = ["FlatBlock", "top_k"]

IdArray = npt.NDArray[np.int64]
SimArray = npt.NDArray[np.float32]


class FlatBlock:
    """Vectors in a growable matrix plus ids and expiries, row-aligned."""

    def __init__(self, dim: int, capacity: int = 16) -> None:
        self.dim = dim
        self.n = 0
        capacity = max(capacity, 1)
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.expires = np.zeros(capacity, dtype=np.float64)
        self.vectors = np.zeros((capacity, dim), dtype=np.float32)
        self.row: dict[int, int] = {}

    def _grow(self, need: int) -> None:
        capacity = self.ids.shape[0]
        if need <= capacity:
            return
        new = max(need, capacity * 2)  # doubling: amortised O(1) appends
        self.ids = np.resize(self.ids, new)
        self.expires = np.resize(self.expires, new)
        vectors = np.zeros((new, self.dim), dtype=np.float32)
        vectors[: self.n] = self.vectors[: self.n]
        self.vectors = vectors

    def append(
        self, ids: Sequence[int] | IdArray, vectors: FloatArray, expires: Sequence[float]
    ) -> None:
        """Append rows (ids, ``(n, dim)`` unit vectors, expiry times)."""
        count = len(ids)
        self._grow(self.n + count)
        stop = self.n + count
        self.ids[self.n : stop] = ids
        self.expires[self.n : stop] = expires
        self.vectors[self.n : stop] = vectors
        for offset, entry_id in enumerate(ids):
            self.row[int(entry_id)] = self.n + offset
        self.n = stop

    def remove(self, entry_id: int) -> None:
        """Drop a row by swapping the last row into its place."""
        # O(dim), no reshuffle of the matrix; row order carries no meaning.
        row = self.row.pop(entry_id)
        last = self.n - 1
        if row != last:
            moved = int(self.ids[last])
            self.ids[row] = moved
            self.expires[row] = self.expires[last]
            self.vectors[row] = self.vectors[last]
            self.row[moved] = row
        self.n = last

    def set_expiry(self, entry_id: int, expires_at: float) -> None:
        """Change one row's expiry."""
        self.expires[self.row[entry_id]] = expires_at

    def expired(self, now: float) -> list[int]:
        """Ids of rows stale at ``now``."""
        return [int(i) for i in self.ids[: self.n][self.expires[: self.n] <= now]]

    def similarities(self, query: FloatArray, now: float | None) -> SimArray:
        """Cosine similarity of every row to ``query``; stale rows read ``-inf``."""
        sims: SimArray = self.vectors[: self.n] @ query
        if now is not None:
            sims[self.expires[: self.n] <= now] = -np.inf
        return sims

    def search(self, query: FloatArray, k: int, now: float | None) -> list[tuple[int, float]]:
        """Exact top-k (id, similarity), best first, stale rows skipped."""
        return top_k(self.ids[: self.n], self.similarities(query, now), k)

    def nbytes(self) -> int:
        """Bytes of the live rows (vectors, ids, expiries)."""
        return self.n * (self.dim * 4 + 16)


def top_k(ids: IdArray, sims: SimArray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (id, similarity) pairs, best first, skipping ``-inf`` (stale) rows.

    ``argmax`` for k=1 and ``argpartition`` for a small k read the similarities once;
    only the k winners are sorted.
    """
    n = sims.shape[0]
    if n == 0:
        return []
    if k == 1:
        best = np.array([int(np.argmax(sims))])
    elif k >= n:
        best = np.argsort(-sims, kind="stable")
    else:
        top = np.argpartition(-sims, k - 1)[:k]
        best = top[np.argsort(-sims[top], kind="stable")]
    return [(int(ids[row]), float(sims[row])) for row in best[:k] if np.isfinite(sims[row])]
